/**
 * The fleet's transport: Redis Streams. `vigil serve` publishes each ingest batch (and each status
 * change people make) to its project's shard stream; `vigil worker`s consume the shards through one
 * consumer group (stream-worker.ts).
 *
 * Why shards: detection is stateful per project (detectors) and per source (miner), so a project's
 * entries must be processed by one worker at a time, in order. A project always maps to the same
 * shard (`hash(projectId) % shards`), a shard is read by the one worker holding its lease, and a
 * worker holds several shards: order per project, parallelism across projects.
 *
 * Keys, under a prefix (`vigil` by default):
 *   <p>:ingest:<shard>        the stream of shard <shard>, consumer group `vigil-workers`
 *   <p>:lease:<shard>         the worker holding the shard (SET NX PX, renewed)
 *   <p>:worker:<name>         a live worker's heartbeat (PX); <p>:workers the set of names
 *   <p>:config                the shard count every process must agree on
 *   <p>:records:published / acked   record counters (queue lag in records)
 *   <p>:dead                  entries that could not be decoded or processed, kept for people
 */
import { Redis } from 'ioredis';
import type { LogRecord } from '../../core/parse/record.js';
import { QueueError, type BatchRecord, type IngestBatch, type IngestQueue, type QueueStats, type StatusCommand } from '../../worker/queue.js';

export const CONSUMER_GROUP = 'vigil-workers';

export class StreamError extends Error {
  constructor(readonly code: 'VIGIL_STREAM_SHARDS_MISMATCH' | 'VIGIL_STREAM_UNAVAILABLE' | 'VIGIL_STREAM_ENTRY_INVALID', message: string) {
    super(message);
  }
}

/** Names of every key the fleet uses. */
export class StreamNames {
  constructor(
    readonly prefix: string,
    readonly shards: number,
  ) {
    if (!(Number.isInteger(shards) && shards >= 1)) throw new RangeError(`shards must be a positive integer, got ${shards}`);
  }

  stream(shard: number): string {
    return `${this.prefix}:ingest:${shard}`;
  }
  lease(shard: number): string {
    return `${this.prefix}:lease:${shard}`;
  }
  worker(name: string): string {
    return `${this.prefix}:worker:${name}`;
  }
  get workers(): string {
    return `${this.prefix}:workers`;
  }
  get config(): string {
    return `${this.prefix}:config`;
  }
  get published(): string {
    return `${this.prefix}:records:published`;
  }
  get acked(): string {
    return `${this.prefix}:records:acked`;
  }
  get dead(): string {
    return `${this.prefix}:dead`;
  }
  /** The shard of a project: FNV-1a of its id, so every process agrees. */
  shardOf(projectId: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < projectId.length; i++) {
      h ^= projectId.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h % this.shards;
  }
}

// ── entries ────────────────────────────────────────────────────────────────────────────────────

/** What a stream entry carries. */
export type StreamMessage = { kind: 'batch'; batch: IngestBatch } | { kind: 'status'; command: StatusCommand };

const ENTRY_VERSION = '1';

/** A record in an entry: a line as its text, a structured record as `{r}`. */
type WireRecord = string | { r: LogRecord };

export function encodeMessage(m: StreamMessage): string[] {
  if (m.kind === 'status') return ['v', ENTRY_VERSION, 'k', 'status', 'd', JSON.stringify(m.command)];
  const b = m.batch;
  const records: WireRecord[] = b.records.map((r) => (r.kind === 'line' ? r.text : { r: r.record }));
  return ['v', ENTRY_VERSION, 'k', 'batch', 'd', JSON.stringify({ id: b.id, projectId: b.projectId, source: b.source, receivedAtMs: b.receivedAtMs, records })];
}

/** Reads an entry's fields; throws StreamError (VIGIL_STREAM_ENTRY_INVALID) on anything else. */
export function decodeMessage(fields: readonly string[]): StreamMessage {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  if (f.v !== ENTRY_VERSION) throw new StreamError('VIGIL_STREAM_ENTRY_INVALID', `entry version ${JSON.stringify(f.v)} is not supported (this build reads ${ENTRY_VERSION})`);
  let d: unknown;
  try {
    d = JSON.parse(f.d ?? '');
  } catch (err) {
    throw new StreamError('VIGIL_STREAM_ENTRY_INVALID', `entry data is not JSON: ${(err as Error).message}`);
  }
  const o = d as Record<string, unknown>;
  if (f.k === 'status') {
    if (typeof o.id !== 'string' || typeof o.projectId !== 'string' || typeof o.source !== 'string' || typeof o.incidentId !== 'string' || !['open', 'closed', 'ignored'].includes(o.status as string)) {
      throw new StreamError('VIGIL_STREAM_ENTRY_INVALID', 'status entry without id, projectId, source, incidentId and status');
    }
    return { kind: 'status', command: o as unknown as StatusCommand };
  }
  if (f.k !== 'batch') throw new StreamError('VIGIL_STREAM_ENTRY_INVALID', `unknown entry kind ${JSON.stringify(f.k)}`);
  if (typeof o.id !== 'string' || typeof o.projectId !== 'string' || typeof o.source !== 'string' || typeof o.receivedAtMs !== 'number' || !Array.isArray(o.records)) {
    throw new StreamError('VIGIL_STREAM_ENTRY_INVALID', 'batch entry without id, projectId, source, receivedAtMs and records');
  }
  const records: BatchRecord[] = (o.records as WireRecord[]).map((r) => (typeof r === 'string' ? { kind: 'line', text: r } : { kind: 'record', record: r.r }));
  return { kind: 'batch', batch: { id: o.id, projectId: o.projectId, source: o.source, receivedAtMs: o.receivedAtMs, records } };
}

/** The epoch ms of a stream entry id. */
export const positionMs = (id: string): number => Number(id.slice(0, id.indexOf('-')));

// ── setup ──────────────────────────────────────────────────────────────────────────────────────

/**
 * Checks that this process agrees with the fleet on the shard count (the first process records it)
 * and creates every shard's stream and consumer group. A different count would send a project's
 * entries to two shards, and two workers: VIGIL_STREAM_SHARDS_MISMATCH.
 */
export async function prepareStreams(redis: Redis, names: StreamNames): Promise<void> {
  await redis.call('HSETNX', names.config, 'shards', String(names.shards));
  const recorded = Number(await redis.call('HGET', names.config, 'shards'));
  if (recorded !== names.shards) {
    throw new StreamError('VIGIL_STREAM_SHARDS_MISMATCH', `the fleet under prefix "${names.prefix}" uses ${recorded} shards but VIGIL_STREAM_SHARDS is ${names.shards}; use ${recorded} (changing it needs every stream drained, then \`DEL ${names.config}\`)`);
  }
  const p = redis.pipeline();
  for (let s = 0; s < names.shards; s++) p.call('XGROUP', 'CREATE', names.stream(s), CONSUMER_GROUP, '0', 'MKSTREAM');
  const results = (await p.exec()) ?? [];
  for (const [err] of results) if (err && !/BUSYGROUP/.test(err.message)) throw err;
}

/** Opens a connection and waits until it answers (or fails with VIGIL_STREAM_UNAVAILABLE). */
export async function connectRedis(url: string, name: string, timeoutMs = 5_000): Promise<Redis> {
  const redis = new Redis(url, { connectionName: name, lazyConnect: true, maxRetriesPerRequest: null, connectTimeout: timeoutMs });
  // errors surface on the commands; without a listener ioredis would print each reconnection attempt
  let last: Error | undefined;
  redis.on('error', (err: Error) => { last = err; });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new StreamError('VIGIL_STREAM_UNAVAILABLE', `cannot reach Redis at ${describeRedisUrl(url)}: ${(last ?? (err as Error)).message}`);
  }
}

/** The server part of a Redis URL, without credentials (for messages). */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return 'redis';
  }
}

// ── publishing (`vigil serve`) ─────────────────────────────────────────────────────────────────

export interface FleetQueueStats extends QueueStats {
  /** Entries not yet delivered to any worker, over all shards. */
  undelivered: number;
  /** Entries delivered and not yet acknowledged (processed work waits for a checkpoint). */
  unacknowledged: number;
  /** When the numbers were read (they are refreshed every few seconds). */
  readAtMs: number;
  /** Why they could not be read, the last time. */
  error?: string;
}

/**
 * The serving side of the stream: publish resolves once Redis has the entry, so the reply to the
 * client means "durable" (as durable as Redis is configured to be: use AOF in production).
 * Nothing is consumed here.
 */
export class RedisIngestPublisher implements IngestQueue {
  private closed = false;
  private cached: FleetQueueStats = { pendingBatches: 0, pendingRecords: 0, oldestPendingMs: 0, undelivered: 0, unacknowledged: 0, readAtMs: 0 };
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    readonly names: StreamNames,
    private readonly opts: {
      statsIntervalMs?: number;
      now?: () => number;
      /**
       * Back-pressure: records published and not yet acknowledged by the workers (as of the last
       * statistics read, plus what this process published since) past which batches are refused
       * with VIGIL_INGEST_QUEUE_FULL, so a fleet whose workers stopped or fell behind answers 503
       * rather than filling Redis's memory. Default: no bound.
       */
      maxPendingRecords?: number;
    } = {},
  ) {}

  /** Records this process published since the statistics were last read (they are not in them yet). */
  private publishedSinceRead = 0;

  /** Starts refreshing the queue statistics in the background. */
  startStats(): void {
    if (this.timer) return;
    void this.refreshStats();
    this.timer = setInterval(() => void this.refreshStats(), this.opts.statsIntervalMs ?? 5_000);
    this.timer.unref();
  }

  async publish(batch: IngestBatch): Promise<void> {
    const max = this.opts.maxPendingRecords;
    if (max !== undefined && !this.closed) {
      const pending = this.cached.pendingRecords + this.publishedSinceRead;
      if (pending + batch.records.length > max && pending > 0) {
        throw new QueueError('VIGIL_INGEST_QUEUE_FULL', `${pending} records are waiting for the workers (at most ${max}); retry shortly, and check that \`vigil worker\`s are running and keeping up`);
      }
    }
    await this.append(batch.projectId, { kind: 'batch', batch }, batch.records.length);
    this.publishedSinceRead += batch.records.length;
  }

  /** Sends a person's status change to the worker that owns the project. */
  async publishCommand(command: StatusCommand): Promise<void> {
    await this.append(command.projectId, { kind: 'status', command }, 0);
  }

  private async append(projectId: string, m: StreamMessage, records: number): Promise<string> {
    if (this.closed) throw new QueueError('VIGIL_SHUTTING_DOWN', 'the server is shutting down; retry against another instance or later');
    const p = this.redis.multi();
    p.call('XADD', this.names.stream(this.names.shardOf(projectId)), '*', ...encodeMessage(m));
    if (records > 0) p.incrby(this.names.published, records);
    const results = await p.exec();
    const [err, id] = results?.[0] ?? [new Error('no reply from Redis'), undefined];
    if (err) throw err;
    return String(id);
  }

  consume(): void {
    throw new Error('RedisIngestPublisher only publishes; `vigil worker` consumes');
  }

  stats(): FleetQueueStats {
    return this.cached;
  }

  /** Reads lag and pending counts of every shard (XINFO GROUPS, XPENDING); cheap: one round trip. */
  refreshStats(): Promise<void> {
    this.refreshing ??= this.readStats().finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  private async readStats(): Promise<void> {
    const now = (this.opts.now ?? Date.now)();
    // what is published from here on may or may not be in this read: counted again until the next
    const publishedBefore = this.publishedSinceRead;
    try {
      const p = this.redis.pipeline();
      for (let s = 0; s < this.names.shards; s++) {
        p.call('XINFO', 'GROUPS', this.names.stream(s));
        p.call('XPENDING', this.names.stream(s), CONSUMER_GROUP);
      }
      p.mget(this.names.published, this.names.acked);
      const r = (await p.exec()) ?? [];
      let undelivered = 0;
      let unacknowledged = 0;
      let oldest = Infinity;
      const firstUndelivered: { shard: number; after: string }[] = [];
      for (let s = 0; s < this.names.shards; s++) {
        const [e1, groups] = r[2 * s]!;
        const [e2, pending] = r[2 * s + 1]!;
        if (e1) throw e1;
        if (e2) throw e2;
        const g = (groups as unknown[][]).map(pairs).find((x) => x.name === CONSUMER_GROUP);
        const lag = Number(g?.lag ?? 0);
        undelivered += lag;
        if (lag > 0 && typeof g?.['last-delivered-id'] === 'string') firstUndelivered.push({ shard: s, after: g['last-delivered-id'] });
        const pend = pending as [number, string | null, string | null, unknown];
        unacknowledged += Number(pend[0]);
      }
      // the oldest entry no worker has read yet: how far behind the fleet is
      if (firstUndelivered.length > 0) {
        const q = this.redis.pipeline();
        for (const f of firstUndelivered) q.call('XRANGE', this.names.stream(f.shard), `(${f.after}`, '+', 'COUNT', '1');
        for (const [err, rows] of (await q.exec()) ?? []) {
          const id = !err ? (rows as [string, string[]][])[0]?.[0] : undefined;
          if (id) oldest = Math.min(oldest, positionMs(id));
        }
      }
      const [, counters] = r[2 * this.names.shards]!;
      const [published, acked] = (counters as (string | null)[]).map((x) => Number(x ?? 0));
      this.cached = {
        pendingBatches: undelivered + unacknowledged,
        pendingRecords: Math.max(0, published! - acked!),
        oldestPendingMs: oldest === Infinity ? 0 : Math.max(0, now - oldest),
        undelivered,
        unacknowledged,
        readAtMs: now,
      };
      this.publishedSinceRead -= publishedBefore;
    } catch (err) {
      this.cached = { ...this.cached, error: (err as Error).message };
    }
  }

  /** PING with a deadline (for /healthz). */
  async ping(timeoutMs = 2_000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }
}

/** A flat [k, v, k, v …] reply as an object. */
export function pairs(flat: unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[String(flat[i])] = flat[i + 1];
  return o;
}
