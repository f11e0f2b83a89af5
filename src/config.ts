/**
 * The service configuration (`vigil serve`): one schema (zod) over the environment, every default
 * defined once with the reason for it, parsed once by the command. Values are strings in the
 * environment; numbers are checked for range, and a bad value is an error naming the variable.
 *
 * Not here yet (later issues): REDIS_URL (the fleet's stream transport), LLM and notification
 * settings.
 */
import { z } from 'zod';

export class ConfigError extends Error {
  readonly code = 'VIGIL_CONFIG_INVALID';
}

const int = (min: number, max: number, fallback: number) =>
  z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(min).max(max)).optional().transform((v) => v ?? fallback);

const MiB = 1024 * 1024;

export const ServeEnvSchema = z.object({
  // 8080: the usual unprivileged HTTP port; 0 picks a free one (printed at start)
  PORT: int(0, 65_535, 8080),
  // all interfaces: the service is meant to be reached by shippers on other machines
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  // embedded storage (PGlite) and the generated JWT secret live here
  VIGIL_DATA_DIR: z.string().trim().min(1).default('./data'),
  // PostgreSQL instead of the embedded database (same schema, same queries)
  DATABASE_URL: z.string().trim().regex(/^postgres(?:ql)?:\/\//, 'expected a postgres:// or postgresql:// URL').optional(),
  // signs web sessions; when absent one is generated and kept in the data folder
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

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
  // the dedup window of incidents (see src/core/incidents/tracker.ts)
  VIGIL_INCIDENT_WINDOW_MS: int(1_000, 7 * 24 * 3_600_000, 120_000),
  // 250 ms: an ingest request waits at most about this long for its batch to be stored
  VIGIL_FLUSH_INTERVAL_MS: int(10, 60_000, 250),
  // …or until this many records are waiting, whichever comes first
  VIGIL_FLUSH_MAX_RECORDS: int(1, 10_000_000, 20_000),
  // 30 s between miner snapshots (and at shutdown): what a crash can make the miner re-learn
  VIGIL_SNAPSHOT_INTERVAL_MS: int(1_000, 3_600_000, 30_000),
  // off unless set: a syslog listener (UDP and TCP, RFC 5424/3164) on this port (0: any free port), on HOST
  VIGIL_SYSLOG_PORT: z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(0).max(65_535)).optional(),
  // the project API key syslog records are ingested under (required with VIGIL_SYSLOG_PORT)
  VIGIL_SYSLOG_API_KEY: z.string().trim().min(1).optional(),
});

export type ServeEnv = z.output<typeof ServeEnvSchema>;

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
  pipeline: { flushIntervalMs: number; flushMaxRecords: number; snapshotIntervalMs: number };
  /** The syslog listener, when VIGIL_SYSLOG_PORT is set. */
  syslog: { port: number; apiKey: string } | undefined;
}

/** Reads the service configuration from an environment (`process.env` in the command). */
export function parseServeConfig(env: Readonly<Record<string, string | undefined>>): ServeConfig {
  // an empty variable (`PORT=`) means unset, as shells and compose files often write it
  const picked: Record<string, string> = {};
  for (const key of Object.keys(ServeEnvSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = ServeEnvSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`).join('; '));
  }
  const e = parsed.data;
  if (e.VIGIL_SYSLOG_PORT !== undefined && e.VIGIL_SYSLOG_API_KEY === undefined) {
    throw new ConfigError('VIGIL_SYSLOG_API_KEY: required when VIGIL_SYSLOG_PORT is set (the API key of the project syslog records go to)');
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
    pipeline: { flushIntervalMs: e.VIGIL_FLUSH_INTERVAL_MS, flushMaxRecords: e.VIGIL_FLUSH_MAX_RECORDS, snapshotIntervalMs: e.VIGIL_SNAPSHOT_INTERVAL_MS },
    syslog: e.VIGIL_SYSLOG_PORT !== undefined && e.VIGIL_SYSLOG_API_KEY !== undefined ? { port: e.VIGIL_SYSLOG_PORT, apiKey: e.VIGIL_SYSLOG_API_KEY } : undefined,
  };
}
