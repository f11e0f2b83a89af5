/**
 * `vigil worker`: one of the fleet's processing workers. It leases shards of the Redis streams
 * `vigil serve` publishes into (src/adapters/stream/), runs the pipeline over their entries and
 * stores the results in PostgreSQL; run as many as the load needs. Configured by environment
 * variables (src/config.ts), parsed once here. SIGINT/SIGTERM stop it gracefully: the entry in hand
 * is finished, everything is stored with a checkpoint and acknowledged, the leases are released.
 * With VIGIL_WORKER_METRICS_PORT set it serves its own GET /metrics and /healthz
 * (src/server/worker-endpoint.ts); `vigil serve`'s show the queue's lag too.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { parseWorkerConfig, type WorkerConfig } from '../config.js';
import { openStore } from '../adapters/store/open.js';
import { describeUrl } from '../adapters/store/postgres.js';
import type { VigilStore } from '../adapters/store/vigil-store.js';
import { connectRedis, describeRedisUrl, prepareStreams, RedisIngestPublisher, StreamNames } from '../adapters/stream/redis-streams.js';
import { StreamWorker, type StreamWorkerLog } from '../adapters/stream/stream-worker.js';
import { mergeObservers, PipelineFeedPublisher } from '../server/incident-feed.js';
import { RedisIncidentFeed } from '../server/redis-incident-feed.js';
import { VigilMetrics } from '../server/metrics.js';
import { serveWorkerEndpoint } from '../server/worker-endpoint.js';
import { Pipeline } from '../worker/pipeline.js';
import { VigilError } from './errors.js';
import { handleStopSignals } from './graceful-stop.js';

const SHUTDOWN_TIMEOUT_MS = 30_000;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** JSON lines on stderr, the shape of the server's (pino) logs. */
function jsonLog(level: WorkerConfig['logLevel'], name: string): StreamWorkerLog {
  const min = LEVELS.indexOf(level);
  const write = (lvl: (typeof LEVELS)[number], obj: object, msg: string): void => {
    if (LEVELS.indexOf(lvl) < min) return;
    process.stderr.write(`${JSON.stringify({ level: lvl, time: Date.now(), worker: name, ...obj, msg })}\n`);
  };
  return {
    debug: (o, m) => write('debug', o, m),
    info: (o, m) => write('info', o, m),
    warn: (o, m) => write('warn', o, m),
    error: (o, m) => write('error', o, m),
  };
}

export async function runWorker(env: NodeJS.ProcessEnv): Promise<void> {
  const config = parseWorkerConfig(env);
  const consumer = config.workerName ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const log = jsonLog(config.logLevel, consumer);
  let store: VigilStore | undefined;
  const closers: (() => Promise<unknown> | void)[] = [];
  try {
    // Redis first: nothing is created in the database of a fleet this worker cannot join
    const redis = await connectRedis(config.fleet.redisUrl, `vigil-worker:${consumer}`);
    closers.push(() => redis.quit());
    const blocking = await connectRedis(config.fleet.redisUrl, `vigil-worker:${consumer}:read`);
    closers.push(() => blocking.disconnect());
    const names = new StreamNames(config.fleet.prefix, config.fleet.shards);
    await prepareStreams(redis, names);
    try {
      ({ store } = await openStore({ databaseUrl: config.databaseUrl }));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('VIGIL_')) throw err;
      throw new VigilError('VIGIL_STORE_UNAVAILABLE', `could not open the database at ${describeUrl(config.databaseUrl)}: ${(err as Error).message}`);
    }
    // live incident changes for every `vigil serve` of the fleet
    const feed = await RedisIncidentFeed.connect({ url: config.fleet.redisUrl, keyPrefix: `${config.fleet.prefix}:`, relay: false, onError: (err) => log.warn({ err: err.message }, 'incident feed') });
    closers.push(() => feed.close());
    const feedPublisher = new PipelineFeedPublisher(feed, { onError: (err) => log.warn({ err: (err as Error).message }, 'incident feed') });
    closers.push(() => feedPublisher.close());

    // VIGIL_WORKER_METRICS_PORT: the pipeline's counters, and the fleet's lag as the streams show
    // it (read only: this process publishes nothing)
    let exposed: { at: NonNullable<WorkerConfig['metrics']>; metrics: VigilMetrics } | undefined;
    if (config.metrics) {
      const lag = new RedisIngestPublisher(redis, names);
      lag.startStats();
      closers.push(() => lag.close());
      const s = store;
      exposed = { at: config.metrics, metrics: new VigilMetrics({ queue: () => lag.stats(), incidentsByStatus: () => s.incidentCountsByStatus() }) };
    }
    const pipeline = new Pipeline({
      store,
      now: Date.now,
      newId: randomUUID,
      incidentWindowMs: config.incidents.windowMs,
      flushIntervalMs: config.pipeline.flushIntervalMs,
      flushMaxRecords: config.pipeline.flushMaxRecords,
      snapshotIntervalMs: config.pipeline.snapshotIntervalMs,
      ackOn: 'checkpoint',
      observer: mergeObservers(feedPublisher.observer(), exposed?.metrics.pipelineObserver() ?? {}, {
        checkpointed: (projects, seconds) => {
          if (seconds > 1) log.warn({ projects, seconds }, 'slow checkpoint');
          else log.debug?.({ projects, seconds }, 'checkpoint stored');
        },
        replayed: (b) => log.debug?.({ projectId: b.projectId, batch: b.id }, 'replayed into the state (stored before the last owner\'s checkpoint)'),
        duplicate: (b) => log.debug?.({ projectId: b.projectId, batch: b.id }, 'duplicate batch acknowledged'),
      }),
      log,
    });
    const worker = new StreamWorker({ redis, blocking, names, sink: pipeline, consumer, leaseTtlMs: config.leaseTtlMs, claimIdleMs: config.claimIdleMs, log });
    pipeline.run();
    await worker.start();
    process.stderr.write(`vigil: worker ${consumer} consuming ${names.shards} shards of "${names.prefix}" at ${describeRedisUrl(config.fleet.redisUrl)} into ${store.db.location}\n`);
    if (exposed) {
      const endpoint = await serveWorkerEndpoint({
        ...exposed.at,
        metrics: exposed.metrics,
        worker: () => worker.stats(),
        health: () => ({ ok: pipeline.healthy, worker: consumer, ...worker.stats(), pipeline: pipeline.stats() }),
      });
      closers.push(() => endpoint.close());
      process.stderr.write(`vigil: worker metrics on ${endpoint.url}/metrics\n`);
    }

    const s = store;
    handleStopSignals({
      timeoutMs: SHUTDOWN_TIMEOUT_MS,
      doing: 'finishing the entry in hand, storing state, releasing shards',
      unstored: { again: ' (another worker will redo it)', timedOut: ' (another worker will redo what was not stored)' },
      stop: async () => {
        await worker.stop();
        await pipeline.stop();
        for (const close of closers.reverse()) await close();
        await s.close();
        const st = worker.stats();
        return `stopped (${st.processed} entries processed, ${st.acked} acknowledged)`;
      },
    });
  } catch (err) {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
    await store?.close().catch(() => {});
    throw err;
  }
}
