import { describe, expect, it } from 'vitest';
import { ConfigError, parseServeConfig, parseWorkerConfig } from './config.js';

describe('parseServeConfig', () => {
  it('has a default for everything but the database URL and the JWT secret', () => {
    const c = parseServeConfig({});
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', dataDir: './data', databaseUrl: undefined, jwtSecret: undefined, logLevel: 'info' });
    expect(c.limits).toEqual({ maxBodyBytes: 10 * 1024 * 1024, maxLineBytes: 64 * 1024, maxRecordsPerRequest: 50_000, rateLimitPerMinute: 600, queueMaxRecords: 200_000 });
    expect(c.incidents.windowMs).toBe(120_000);
    expect(c.pipeline).toEqual({ flushIntervalMs: 250, flushMaxRecords: 20_000, snapshotIntervalMs: 30_000, thread: true, threadMaxHeapMb: undefined });
  });

  it('runs the pipeline on its own thread unless told not to; its heap bound is optional', () => {
    expect(parseServeConfig({ VIGIL_PIPELINE_THREAD: '0' }).pipeline.thread).toBe(false);
    expect(parseServeConfig({ VIGIL_PIPELINE_THREAD: 'off' }).pipeline.thread).toBe(false);
    expect(parseServeConfig({ VIGIL_PIPELINE_THREAD: 'true' }).pipeline.thread).toBe(true);
    expect(parseServeConfig({ VIGIL_PIPELINE_THREAD_MAX_HEAP_MB: '512' }).pipeline.threadMaxHeapMb).toBe(512);
    expect(() => parseServeConfig({ VIGIL_PIPELINE_THREAD: 'maybe' })).toThrow(/VIGIL_PIPELINE_THREAD/);
    expect(() => parseServeConfig({ VIGIL_PIPELINE_THREAD_MAX_HEAP_MB: '4' })).toThrow(/VIGIL_PIPELINE_THREAD_MAX_HEAP_MB/);
  });

  it('reads the environment, treating empty variables as unset', () => {
    const c = parseServeConfig({ PORT: '0', VIGIL_DATA_DIR: '/var/lib/vigil', DATABASE_URL: '', JWT_SECRET: 's'.repeat(32), VIGIL_INCIDENT_WINDOW_MS: '60000', UNRELATED: 'x' });
    expect(c).toMatchObject({ port: 0, dataDir: '/var/lib/vigil', databaseUrl: undefined, jwtSecret: 's'.repeat(32), incidents: { windowMs: 60_000 } });
    expect(parseServeConfig({ DATABASE_URL: 'postgres://u@db:5432/vigil' }).databaseUrl).toBe('postgres://u@db:5432/vigil');
  });

  it('names every bad variable and why', () => {
    let err: unknown;
    try {
      parseServeConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', JWT_SECRET: 'short', VIGIL_MAX_BODY_BYTES: '10' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    for (const name of ['PORT', 'DATABASE_URL', 'JWT_SECRET', 'VIGIL_MAX_BODY_BYTES']) expect(msg).toContain(name);
    expect((err as ConfigError).code).toBe('VIGIL_CONFIG_INVALID');
    expect(() => parseServeConfig({ PORT: '70000' })).toThrow(/PORT/);
  });

  it('turns the syslog listener on only with a port, and then needs the API key', () => {
    expect(parseServeConfig({}).syslog).toBeUndefined();
    expect(parseServeConfig({ VIGIL_SYSLOG_PORT: '5514', VIGIL_SYSLOG_API_KEY: 'vgl_x' }).syslog).toEqual({ port: 5514, apiKey: 'vgl_x' });
    expect(() => parseServeConfig({ VIGIL_SYSLOG_PORT: '5514' })).toThrow(/VIGIL_SYSLOG_API_KEY/);
    expect(() => parseServeConfig({ VIGIL_SYSLOG_PORT: 'syslog', VIGIL_SYSLOG_API_KEY: 'vgl_x' })).toThrow(/VIGIL_SYSLOG_PORT/);
  });
});

describe('the fleet configuration', () => {
  it('turns vigil serve into the fleet\'s API only with both DATABASE_URL and REDIS_URL', () => {
    expect(parseServeConfig({}).fleet).toBeUndefined();
    expect(parseServeConfig({ DATABASE_URL: 'postgres://db/v', REDIS_URL: 'redis://r:6379' }).fleet).toEqual({ redisUrl: 'redis://r:6379', prefix: 'vigil', shards: 16, maxPendingRecords: 10_000_000 });
    expect(parseServeConfig({ DATABASE_URL: 'postgres://db/v', REDIS_URL: 'redis://r', VIGIL_STREAM_PREFIX: 'prod-eu', VIGIL_STREAM_SHARDS: '32', VIGIL_FLEET_MAX_PENDING_RECORDS: '1000' }).fleet).toEqual({ redisUrl: 'redis://r', prefix: 'prod-eu', shards: 32, maxPendingRecords: 1_000 });
    expect(() => parseServeConfig({ REDIS_URL: 'redis://r' })).toThrow(/REDIS_URL: the fleet needs DATABASE_URL too/);
    expect(() => parseServeConfig({ DATABASE_URL: 'postgres://db/v', REDIS_URL: 'http://r' })).toThrow(/REDIS_URL: expected a redis:\/\//);
    expect(() => parseServeConfig({ VIGIL_STREAM_SHARDS: '0' })).toThrow(/VIGIL_STREAM_SHARDS/);
  });

  it('gives vigil worker its defaults and needs both URLs', () => {
    const c = parseWorkerConfig({ DATABASE_URL: 'postgres://db/v', REDIS_URL: 'redis://r' });
    expect(c).toMatchObject({ databaseUrl: 'postgres://db/v', fleet: { redisUrl: 'redis://r', prefix: 'vigil', shards: 16 }, claimIdleMs: 60_000, leaseTtlMs: 15_000, workerName: undefined, metrics: undefined });
    expect(c.pipeline).toEqual({ flushIntervalMs: 1_000, flushMaxRecords: 20_000, snapshotIntervalMs: 30_000 });
    expect(parseWorkerConfig({ DATABASE_URL: 'postgres://db/v', REDIS_URL: 'redis://r', VIGIL_CLAIM_IDLE_MS: '5000', VIGIL_LEASE_TTL_MS: '3000', VIGIL_WORKER_NAME: 'w-1' })).toMatchObject({ claimIdleMs: 5_000, leaseTtlMs: 3_000, workerName: 'w-1' });
    expect(parseWorkerConfig({ DATABASE_URL: 'postgres://db/v', REDIS_URL: 'redis://r', VIGIL_WORKER_METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(() => parseWorkerConfig({ DATABASE_URL: 'postgres://db/v', REDIS_URL: 'redis://r', VIGIL_WORKER_METRICS_PORT: 'metrics' })).toThrow(/VIGIL_WORKER_METRICS_PORT/);
    let err: unknown;
    try {
      parseWorkerConfig({ REDIS_URL: '' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^DATABASE_URL and REDIS_URL: required by vigil worker/);
    expect(() => parseWorkerConfig({ DATABASE_URL: 'postgres://db/v' })).toThrow(/^REDIS_URL: required/);
    expect(() => parseWorkerConfig({ DATABASE_URL: 'postgres://db/v', REDIS_URL: 'redis://r', VIGIL_LEASE_TTL_MS: '10' })).toThrow(/VIGIL_LEASE_TTL_MS/);
  });
});
