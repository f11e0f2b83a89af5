/**
 * `vigil serve`: the service in one process — the HTTP API, an in-process queue and the pipeline
 * worker — on embedded storage (PGlite in VIGIL_DATA_DIR) or PostgreSQL (DATABASE_URL). With
 * REDIS_URL too it is the fleet's API: ingestion goes into Redis streams and `vigil worker`s run the
 * pipeline (src/server/fleet-ingest.ts). Configured by environment variables (src/config.ts),
 * parsed once here. SIGINT/SIGTERM stop it gracefully: requests in flight finish, what is in
 * memory is stored, then the database is closed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseServeConfig, type ServeConfig } from '../config.js';
import { openStore } from '../adapters/store/open.js';
import { describeUrl } from '../adapters/store/postgres.js';
import { buildApp } from '../server/app.js';
import { openFleetIngest, type FleetIngest } from '../server/fleet-ingest.js';
import { describeRedisUrl } from '../adapters/stream/redis-streams.js';
import type { IngestQueue } from '../worker/queue.js';
import type { IncidentFeed } from '../server/incident-feed.js';
import { MemoryIncidentFeed, mergeObservers, PipelineFeedPublisher } from '../server/incident-feed.js';
import { VigilMetrics } from '../server/metrics.js';
import { startSyslogIngest, SyslogIngestError } from '../server/syslog-ingest.js';
import type { SyslogListener } from '../adapters/syslog/listener.js';
import { Pipeline, type PipelineLog } from '../worker/pipeline.js';
import { MemoryQueue } from '../worker/queue.js';
import { ThreadedPipeline } from '../worker/threaded-pipeline.js';
import { VigilError } from './errors.js';
import { handleStopSignals } from './graceful-stop.js';

/** Batch ids are remembered this long: redeliveries and client retries come well within it. */
const PROCESSED_BATCH_RETENTION_MS = 7 * 24 * 3_600_000;
const PRUNE_INTERVAL_MS = 6 * 3_600_000;
const SHUTDOWN_TIMEOUT_MS = 20_000;
/** How long requests in flight may take to finish when the server stops, before connections are closed. */
const CLOSE_GRACE_MS = 5_000;

/** One process per data folder: PGlite would corrupt a folder two processes write. */
function lockDataDir(dir: string): () => void {
  const path = join(dir, 'vigil.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new VigilError('VIGIL_DATA_DIR_LOCKED', `${dir} is in use by another vigil process (pid ${pid}); stop it, use another VIGIL_DATA_DIR, or delete ${path} if no vigil runs there`);
      }
      // left behind by a process that died: take it over
      rmSync(path, { force: true });
    }
  }
  throw new VigilError('VIGIL_DATA_DIR_LOCKED', `could not lock ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The JWT secret: configured, or generated once and kept (0600) in the data folder. */
function jwtSecret(config: ServeConfig): string {
  if (config.jwtSecret) return config.jwtSecret;
  const path = join(config.dataDir, 'jwt-secret');
  if (!existsSync(path)) {
    try {
      writeFileSync(path, randomBytes(48).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const secret = readFileSync(path, 'utf8').trim();
  if (secret.length < 32) throw new VigilError('VIGIL_CONFIG_INVALID', `${path} holds a secret shorter than 32 characters; delete it to generate a new one`);
  return secret;
}

export async function runServe(env: NodeJS.ProcessEnv): Promise<void> {
  const config = parseServeConfig(env);
  config.dataDir = resolve(config.dataDir);
  mkdirSync(config.dataDir, { recursive: true });
  const unlock = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
  let log: PipelineLog | undefined;
  let store;
  try {
    const secret = jwtSecret(config);
    try {
      ({ store } = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('VIGIL_')) throw err;
      const where = config.databaseUrl ? describeUrl(config.databaseUrl) : join(config.dataDir, 'pglite');
      throw new VigilError('VIGIL_STORE_UNAVAILABLE', `could not open the database at ${where}: ${(err as Error).message}`);
    }
    await store.pruneProcessedBatches(Date.now() - PROCESSED_BATCH_RETENTION_MS);
    const s = store;
    const pruner = setInterval(() => {
      s.pruneProcessedBatches(Date.now() - PROCESSED_BATCH_RETENTION_MS).catch((err: unknown) => log?.warn({ err: (err as Error).message }, 'could not prune processed batch ids'));
    }, PRUNE_INTERVAL_MS);
    pruner.unref();
    // fleet mode: ingestion publishes into the Redis streams, `vigil worker`s run the pipeline
    let fleet: FleetIngest | undefined;
    if (config.fleet) {
      try {
        fleet = await openFleetIngest(s, config.fleet, (err) => log?.warn({ err: err.message }, 'incident feed'));
      } catch (err) {
        clearInterval(pruner);
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && code.startsWith('VIGIL_')) throw err;
        throw new VigilError('VIGIL_STREAM_UNAVAILABLE', `cannot use Redis at ${describeRedisUrl(config.fleet.redisUrl)}: ${(err as Error).message}`);
      }
    }
    const queue: IngestQueue = fleet?.publisher ?? new MemoryQueue(config.limits.queueMaxRecords);
    const metrics = new VigilMetrics({ queue: () => queue.stats(), incidentsByStatus: () => s.incidentCountsByStatus() });
    // live incident changes (GET /api/incidents/stream): in this process, or relayed from the workers
    const feed: IncidentFeed = fleet?.feed ?? new MemoryIncidentFeed();
    const feedPublisher = new PipelineFeedPublisher(feed, { onError: (err) => log?.warn({ err: (err as Error).message }, 'incident feed') });
    const pipelineLog: PipelineLog = { warn: (o, m) => log?.warn(o, m), error: (o, m) => log?.error(o, m) };
    const observer = mergeObservers(metrics.pipelineObserver(), feedPublisher.observer());
    let onThreadDeath: (err: Error) => void = () => {};
    // embedded: the pipeline on a thread of its own by default (VIGIL_PIPELINE_THREAD), the store here
    const pipelineOptions = {
      store,
      incidentWindowMs: config.incidents.windowMs,
      flushIntervalMs: config.pipeline.flushIntervalMs,
      flushMaxRecords: config.pipeline.flushMaxRecords,
      snapshotIntervalMs: config.pipeline.snapshotIntervalMs,
      observer,
      log: pipelineLog,
    };
    const pipeline = fleet ? undefined : config.pipeline.thread ? new ThreadedPipeline({
      ...pipelineOptions,
      onDeath: (err) => onThreadDeath(err),
      ...(config.pipeline.threadMaxHeapMb !== undefined ? { maxHeapMb: config.pipeline.threadMaxHeapMb } : {}),
    }) : new Pipeline({ ...pipelineOptions, now: Date.now, newId: randomUUID });
    if (pipeline instanceof ThreadedPipeline) {
      try {
        await pipeline.ready;
      } catch (err) {
        clearInterval(pruner);
        throw new VigilError('VIGIL_PIPELINE_THREAD_FAILED', `the pipeline thread could not start: ${(pipeline.deathCause ?? (err as Error)).message}`);
      }
    }
    const app = await buildApp({
      store,
      queue,
      incidents: fleet?.commands ?? pipeline!,
      metrics,
      jwtSecret: secret,
      feed,
      limits: config.limits,
      logger: { level: config.logLevel },
      health: fleet ? () => fleet.health() : () => {
        const p = pipeline!.stats();
        return { ok: pipeline!.healthy, ...p, lastFlushError: p.lastFlushError ?? null };
      },
    });
    log = app.log;
    pipeline?.start(queue);
    let address: string;
    try {
      address = await app.listen({ port: config.port, host: config.host });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        await pipeline?.stop().catch(() => {});
        await fleet?.close().catch(() => {});
        throw new VigilError('VIGIL_SERVE_LISTEN_FAILED', `cannot listen on ${config.host}:${config.port} (${code}); set PORT (or HOST) to a free one`);
      }
      throw err;
    }
    process.stderr.write(`vigil: listening on ${address} (storage: ${store.kind} ${store.db.location}${fleet ? `; ingesting into ${fleet.publisher.names.shards} streams "${fleet.publisher.names.prefix}" at ${describeRedisUrl(config.fleet!.redisUrl)} for vigil workers` : ''})\n`);
    let syslog: SyslogListener | undefined;
    if (config.syslog) {
      try {
        const started = await startSyslogIngest({
          store, queue, port: config.syslog.port, host: config.host, apiKey: config.syslog.apiKey,
          maxMessageBytes: config.limits.maxLineBytes,
          onError: (err) => log?.warn({ err: err.message }, 'syslog message dropped'),
        });
        syslog = started.listener;
        process.stderr.write(`vigil: syslog on ${config.host} udp ${started.address.udpPort} tcp ${started.address.tcpPort}\n`);
      } catch (err) {
        await app.close().catch(() => {});
        queue.close();
        await pipeline?.stop().catch(() => {});
        await fleet?.close().catch(() => {});
        if (err instanceof SyslogIngestError) throw new VigilError(err.code, err.message);
        throw err;
      }
    }

    const signals = handleStopSignals({
      timeoutMs: SHUTDOWN_TIMEOUT_MS,
      doing: 'finishing requests, storing state',
      stop: async () => {
        clearInterval(pruner);
        await syslog?.stop();
        // requests in flight get a few seconds to finish (an ingest waits for its flush); then any
        // connection still open is closed: one an event-stream client left behind has been seen
        // to keep Node's server from closing at all
        const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
        await app.close();
        clearTimeout(force);
        queue.close();
        await queue.drained();
        await pipeline?.stop();
        feedPublisher.close();
        await feed.close();
        await fleet?.close();
        await s.close();
        unlock();
        return 'stopped';
      },
    });
    // the pipeline thread died: what it held and had not stored was answered with 503s (clients
    // retry); nothing more can be processed, so say so and exit for a supervisor to restart us
    onThreadDeath = (err) => {
      if (!signals.claim()) return;
      process.stderr.write(`vigil: VIGIL_PIPELINE_THREAD_DIED: the pipeline thread died (${err.message}); batches not yet stored were refused with 503; exiting\n`);
      setTimeout(() => process.exit(1), 5_000).unref();
      clearInterval(pruner);
      void (async () => {
        await syslog?.stop().catch(() => {});
        await app.close().catch(() => {});
        queue.close();
        feedPublisher.close();
        await feed.close().catch(() => {});
        await s.close().catch(() => {});
        unlock();
      })().finally(() => process.exit(1));
    };
    if (pipeline instanceof ThreadedPipeline && pipeline.deathCause) onThreadDeath(pipeline.deathCause);
  } catch (err) {
    await store?.close().catch(() => {});
    unlock();
    throw err;
  }
}
