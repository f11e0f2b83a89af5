/**
 * `vigil worker`'s own small HTTP endpoint (on when VIGIL_WORKER_METRICS_PORT is set), for the
 * Prometheus that scrapes the fleet and the supervisor that restarts it:
 *
 * - `GET /metrics`: the pipeline's counters as `vigil serve` reports them (VigilMetrics: records
 *   processed, anomalies, duplicate batches, incident events, flush times and failures, incidents by
 *   status, the fleet's queue lag as the streams show it), plus this worker's own: shards held and
 *   stream entries by outcome (processed, acknowledged, claimed from others, dead-lettered).
 * - `GET /healthz`: 200 while the pipeline's last flush succeeded, 503 otherwise, with the details.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge } from 'prom-client';
import type { StreamWorkerStats } from '../adapters/stream/stream-worker.js';
import type { VigilMetrics } from './metrics.js';

export interface WorkerEndpointOptions {
  port: number;
  host: string;
  metrics: VigilMetrics;
  worker: () => StreamWorkerStats;
  /** Whether the worker is healthy, and what /healthz shows of it. */
  health: () => { ok: boolean } & Record<string, unknown>;
}

export interface WorkerEndpoint {
  url: string;
  close(): Promise<void>;
}

const OUTCOMES = ['processed', 'acked', 'claimed', 'deadLettered'] as const;
const OUTCOME_LABELS: Record<(typeof OUTCOMES)[number], string> = { processed: 'processed', acked: 'acknowledged', claimed: 'claimed', deadLettered: 'dead_lettered' };

/** Adds the worker's own metrics to the registry and serves it; resolves once listening. */
export async function serveWorkerEndpoint(o: WorkerEndpointOptions): Promise<WorkerEndpoint> {
  const registers = [o.metrics.registry];
  new Gauge({
    name: 'vigil_worker_shards', help: 'Stream shards this worker holds the lease of', registers,
    collect() { this.set(o.worker().shards.length); },
  });
  new Counter({
    name: 'vigil_worker_entries_total', help: 'Stream entries by outcome: processed, acknowledged, claimed from another worker, dead-lettered', labelNames: ['outcome'], registers,
    collect() {
      const s = o.worker();
      this.reset();
      for (const k of OUTCOMES) this.inc({ outcome: OUTCOME_LABELS[k] }, s[k]);
    },
  });

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'application/json', JSON.stringify({ error: { code: 'VIGIL_METHOD_NOT_ALLOWED', message: 'only GET /metrics and GET /healthz' } }));
    if (path === '/metrics') {
      o.metrics.registry.metrics().then(
        (text) => send(200, o.metrics.registry.contentType, text),
        (err: unknown) => send(500, 'application/json', JSON.stringify({ error: { code: 'VIGIL_METRICS_FAILED', message: (err as Error).message } })),
      );
      return;
    }
    if (path === '/healthz') {
      const h = o.health();
      return send(h.ok ? 200 : 503, 'application/json', JSON.stringify(h));
    }
    send(404, 'application/json', JSON.stringify({ error: { code: 'VIGIL_NOT_FOUND', message: `no ${path} here: a worker serves GET /metrics and GET /healthz` } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
