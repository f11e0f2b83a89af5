/**
 * The service configuration (`vigil serve`, `vigil worker`): one schema (zod) per command over the
 * environment, every default defined once with the reason for it, parsed once by the command.
 * Values are strings in the environment; numbers are checked for range, and a bad value is an
 * error naming the variable.
 *
 * Not here yet (later issues): LLM and notification settings.
 */
import { z } from 'zod';

export class ConfigError extends Error {
  readonly code = 'VIGIL_CONFIG_INVALID';
}

const int = (min: number, max: number, fallback: number) =>
  z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(min).max(max)).optional().transform((v) => v ?? fallback);

const MiB = 1024 * 1024;

const databaseUrl = z.string().trim().regex(/^postgres(?:ql)?:\/\//, 'expected a postgres:// or postgresql:// URL');
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** What `vigil serve` and `vigil worker` must agree on to share one fleet. */
const FleetEnv = {
  // Redis for the fleet's streams (with DATABASE_URL: serve only ingests, `vigil worker`s process)
  REDIS_URL: z.string().trim().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL').optional(),
  // every key the fleet uses starts with this (several fleets, or test runs, can share one Redis)
  VIGIL_STREAM_PREFIX: z.string().trim().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'expected 1–64 letters, digits or _.:-').default('vigil'),
  // 16 shards: a project's entries are processed in order by one worker at a time, so shards bound
  // how many workers can share the load; 16 is plenty for a handful of workers and cheap to read.
  // Every process of a fleet must use the same number (checked at start)
  VIGIL_STREAM_SHARDS: int(1, 1024, 16),
};

const shared = {
  // the dedup window of incidents (see src/core/incidents/tracker.ts)
  VIGIL_INCIDENT_WINDOW_MS: int(1_000, 7 * 24 * 3_600_000, 120_000),
  // …or until this many records are waiting, whichever comes first
  VIGIL_FLUSH_MAX_RECORDS: int(1, 10_000_000, 20_000),
  // 30 s between checkpoints (detector and miner state; at shutdown too): what a crash makes a
  // restarted service re-learn, or what a worker taking a shard over replays
  VIGIL_SNAPSHOT_INTERVAL_MS: int(1_000, 3_600_000, 30_000),
};

export const ServeEnvSchema = z.object({
  // 8080: the usual unprivileged HTTP port; 0 picks a free one (printed at start)
  PORT: int(0, 65_535, 8080),
  // all interfaces: the service is meant to be reached by shippers on other machines
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  // embedded storage (PGlite) and the generated JWT secret live here
  VIGIL_DATA_DIR: z.string().trim().min(1).default('./data'),
  // PostgreSQL instead of the embedded database (same schema, same queries)
  DATABASE_URL: databaseUrl.optional(),
  // signs web sessions; when absent one is generated and kept in the data folder
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: logLevel,
  ...FleetEnv,

  // 10 MiB per request (after gzip is undone): a shipper's batch, not a file upload
  VIGIL_MAX_BODY_BYTES: int(1024, 1024 * MiB, 10 * MiB),
  // 64 KiB per record, the same bound `vigil analyze` keeps of a line; longer ones are rejected alone
  VIGIL_MAX_LINE_BYTES: int(256, 16 * MiB, 64 * 1024),
  // 50,000 records per request: bounds the work one request holds in memory at once
  VIGIL_MAX_RECORDS_PER_REQUEST: int(1, 10_000_000, 50_000),
  // 600 requests a minute per API key: ten a second, plenty for a shipper batching its lines
  VIGIL_RATE_LIMIT_PER_MINUTE: int(1, 10_000_000, 600),
  // 200,000 records waiting in the in-process queue at most; more is back-pressure (503)
  VIGIL_QUEUE_MAX_RECORDS: int(1, 100_000_000, 200_000),
  // fleet mode: 10,000,000 records published and not yet acknowledged by the workers at most (about
  // 2 GB of Redis memory for typical lines); more is back-pressure (503 VIGIL_INGEST_QUEUE_FULL).
  // Workers acknowledge at their checkpoints: keep it well above the fleet's lines/s times
  // VIGIL_SNAPSHOT_INTERVAL_MS
  VIGIL_FLEET_MAX_PENDING_RECORDS: int(1, 1_000_000_000, 10_000_000),
  // 250 ms: an ingest request waits at most about this long for its batch to be stored
  VIGIL_FLUSH_INTERVAL_MS: int(10, 60_000, 250),
  // on: the pipeline runs on a worker thread of its own, so HTTP and body parsing keep the main
  // thread (two cores used); off (0/false): everything on the main thread, as one core would
  VIGIL_PIPELINE_THREAD: z.enum(['1', '0', 'true', 'false', 'on', 'off']).default('1').transform((v) => v === '1' || v === 'true' || v === 'on'),
  // unset: V8's default. A bound on the pipeline thread's heap (MB): past it the thread dies and the
  // server exits (for its supervisor to restart it) instead of the machine swapping
  VIGIL_PIPELINE_THREAD_MAX_HEAP_MB: z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(16).max(1_048_576)).optional(),
  ...shared,
  // off unless set: a syslog listener (UDP and TCP, RFC 5424/3164) on this port (0: any free port), on HOST
  VIGIL_SYSLOG_PORT: z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(0).max(65_535)).optional(),
  // the project API key syslog records are ingested under (required with VIGIL_SYSLOG_PORT)
  VIGIL_SYSLOG_API_KEY: z.string().trim().min(1).optional(),
});

export type ServeEnv = z.output<typeof ServeEnvSchema>;

/** The fleet's stream settings. */
export interface FleetConfig {
  redisUrl: string;
  prefix: string;
  shards: number;
  /** serve only: back-pressure bound on records waiting in the streams (see VIGIL_FLEET_MAX_PENDING_RECORDS). */
  maxPendingRecords?: number;
}

export interface ServeConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  jwtSecret: string | undefined;
  logLevel: ServeEnv['LOG_LEVEL'];
  limits: {
    maxBodyBytes: number;
    maxLineBytes: number;
    maxRecordsPerRequest: number;
    rateLimitPerMinute: number;
    queueMaxRecords: number;
  };
  incidents: { windowMs: number };
  pipeline: { flushIntervalMs: number; flushMaxRecords: number; snapshotIntervalMs: number; thread: boolean; threadMaxHeapMb: number | undefined };
  /** The syslog listener, when VIGIL_SYSLOG_PORT is set. */
  syslog: { port: number; apiKey: string } | undefined;
  /** Fleet mode (REDIS_URL with DATABASE_URL): ingest into Redis streams, no pipeline here. */
  fleet: FleetConfig | undefined;
}

/** Only the variables a schema knows; an empty variable (`PORT=`) means unset, as shells and compose files often write it. */
function pick(schema: z.ZodObject, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  return picked;
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`).join('; ');
}

/** Reads the service configuration from an environment (`process.env` in the command). */
export function parseServeConfig(env: Readonly<Record<string, string | undefined>>): ServeConfig {
  const parsed = ServeEnvSchema.safeParse(pick(ServeEnvSchema, env));
  if (!parsed.success) throw new ConfigError(issues(parsed.error));
  const e = parsed.data;
  if (e.VIGIL_SYSLOG_PORT !== undefined && e.VIGIL_SYSLOG_API_KEY === undefined) {
    throw new ConfigError('VIGIL_SYSLOG_API_KEY: required when VIGIL_SYSLOG_PORT is set (the API key of the project syslog records go to)');
  }
  if (e.REDIS_URL !== undefined && e.DATABASE_URL === undefined) {
    throw new ConfigError('REDIS_URL: the fleet needs DATABASE_URL too (servers and workers share PostgreSQL); unset REDIS_URL for the single-process service');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.VIGIL_DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    jwtSecret: e.JWT_SECRET,
    logLevel: e.LOG_LEVEL,
    limits: {
      maxBodyBytes: e.VIGIL_MAX_BODY_BYTES,
      maxLineBytes: e.VIGIL_MAX_LINE_BYTES,
      maxRecordsPerRequest: e.VIGIL_MAX_RECORDS_PER_REQUEST,
      rateLimitPerMinute: e.VIGIL_RATE_LIMIT_PER_MINUTE,
      queueMaxRecords: e.VIGIL_QUEUE_MAX_RECORDS,
    },
    incidents: { windowMs: e.VIGIL_INCIDENT_WINDOW_MS },
    pipeline: { flushIntervalMs: e.VIGIL_FLUSH_INTERVAL_MS, flushMaxRecords: e.VIGIL_FLUSH_MAX_RECORDS, snapshotIntervalMs: e.VIGIL_SNAPSHOT_INTERVAL_MS, thread: e.VIGIL_PIPELINE_THREAD, threadMaxHeapMb: e.VIGIL_PIPELINE_THREAD_MAX_HEAP_MB },
    syslog: e.VIGIL_SYSLOG_PORT !== undefined && e.VIGIL_SYSLOG_API_KEY !== undefined ? { port: e.VIGIL_SYSLOG_PORT, apiKey: e.VIGIL_SYSLOG_API_KEY } : undefined,
    fleet: e.REDIS_URL !== undefined ? { redisUrl: e.REDIS_URL, prefix: e.VIGIL_STREAM_PREFIX, shards: e.VIGIL_STREAM_SHARDS, maxPendingRecords: e.VIGIL_FLEET_MAX_PENDING_RECORDS } : undefined,
  };
}

export const WorkerEnvSchema = z.object({
  DATABASE_URL: databaseUrl.optional(),
  LOG_LEVEL: logLevel,
  ...FleetEnv,
  ...shared,
  // 60 s: an entry another worker read and left unacknowledged that long is claimed (taking over
  // from a worker that is dead is immediate: see VIGIL_LEASE_TTL_MS)
  VIGIL_CLAIM_IDLE_MS: int(100, 24 * 3_600_000, 60_000),
  // 15 s: a dead worker's shards are taken over within about this long; renewed every third of it
  VIGIL_LEASE_TTL_MS: int(1_000, 600_000, 15_000),
  // 1 s: results reach the API about this long after the batch is read (ingestion does not wait for it)
  VIGIL_WORKER_FLUSH_INTERVAL_MS: int(10, 60_000, 1_000),
  // off unless set: this worker serves Prometheus GET /metrics and GET /healthz on this port (0: any
  // free port, printed at start), on HOST
  VIGIL_WORKER_METRICS_PORT: z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(0).max(65_535)).optional(),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  // this worker's consumer name in the group (default: host, pid and a random suffix)
  VIGIL_WORKER_NAME: z.string().trim().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'expected 1–100 letters, digits or _.:-').optional(),
});

export interface WorkerConfig {
  databaseUrl: string;
  logLevel: ServeEnv['LOG_LEVEL'];
  fleet: FleetConfig;
  claimIdleMs: number;
  leaseTtlMs: number;
  workerName: string | undefined;
  /** Where GET /metrics and /healthz are served; undefined: nowhere. */
  metrics: { port: number; host: string } | undefined;
  incidents: { windowMs: number };
  pipeline: { flushIntervalMs: number; flushMaxRecords: number; snapshotIntervalMs: number };
}

/** Reads `vigil worker`'s configuration; DATABASE_URL and REDIS_URL are required. */
export function parseWorkerConfig(env: Readonly<Record<string, string | undefined>>): WorkerConfig {
  const parsed = WorkerEnvSchema.safeParse(pick(WorkerEnvSchema, env));
  if (!parsed.success) throw new ConfigError(issues(parsed.error));
  const e = parsed.data;
  const missing = [e.DATABASE_URL === undefined ? 'DATABASE_URL' : '', e.REDIS_URL === undefined ? 'REDIS_URL' : ''].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError(`${missing.join(' and ')}: required by vigil worker (the PostgreSQL and the Redis the fleet's \`vigil serve\` uses)`);
  }
  return {
    databaseUrl: e.DATABASE_URL!,
    logLevel: e.LOG_LEVEL,
    fleet: { redisUrl: e.REDIS_URL!, prefix: e.VIGIL_STREAM_PREFIX, shards: e.VIGIL_STREAM_SHARDS },
    claimIdleMs: e.VIGIL_CLAIM_IDLE_MS,
    leaseTtlMs: e.VIGIL_LEASE_TTL_MS,
    workerName: e.VIGIL_WORKER_NAME,
    metrics: e.VIGIL_WORKER_METRICS_PORT !== undefined ? { port: e.VIGIL_WORKER_METRICS_PORT, host: e.HOST } : undefined,
    incidents: { windowMs: e.VIGIL_INCIDENT_WINDOW_MS },
    pipeline: { flushIntervalMs: e.VIGIL_WORKER_FLUSH_INTERVAL_MS, flushMaxRecords: e.VIGIL_FLUSH_MAX_RECORDS, snapshotIntervalMs: e.VIGIL_SNAPSHOT_INTERVAL_MS },
  };
}
