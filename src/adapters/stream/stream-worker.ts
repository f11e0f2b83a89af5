/**
 * The consuming side of the fleet (`vigil worker`): shard leases, reading the leased shards through
 * the consumer group, taking over a dead worker's entries, and acknowledging what the pipeline
 * stored.
 *
 * Leases. A worker holds a shard while its lease key (`SET <p>:lease:<n> <worker> NX PX ttl`) is
 * its own; it renews every ttl/3 (compare-and-expire) and releases at a graceful stop
 * (compare-and-delete). A shard is read only while the lease is surely valid: a blocking read
 * starts only if it ends, with a margin, before the lease could expire by this process's clock,
 * and no entry is processed after that point. A renewal that finds the key gone or someone else's
 * stops that shard at once: its state is dropped from the pipeline (its unacknowledged entries stay
 * pending for the new owner).
 *
 * Balance, kept simple and deterministic: with W live workers (heartbeat keys) and S shards, a
 * worker holds at most ceil(S / W); one holding more releases its highest-numbered extras
 * (after a checkpoint, so nothing of them is pending); one holding fewer tries free shards starting
 * at a position derived from its name.
 *
 * Taking a shard over: first its entries still pending for other consumers are claimed — at once
 * when their consumer is dead (no heartbeat: the lease guarantees nobody else processes them), by
 * XAUTOCLAIM once idle for `claimIdleMs` otherwise — and nothing new is read until none is left.
 * Then this worker's own pending entries are processed in stream order (XREADGROUP from 0), then
 * new ones ('>', blocking). The pipeline decides, per entry, to process it, replay it into the
 * state only, or acknowledge it as already done (see src/worker/pipeline.ts).
 *
 * Acknowledgements are batched (XACK per shard) and sent as the pipeline settles deliveries; a
 * failed delivery (the pipeline threw its work away) makes its shard read its pending entries again
 * from the start. The holder of a shard trims its stream (XTRIM MINID) every `trimIntervalMs` to
 * the oldest entry some consumer group still needs (pending, or not yet delivered). An entry that cannot be decoded, or fails `maxAttempts` times, goes to the dead
 * letter stream and is acknowledged, so one bad entry never stops a shard.
 */
import type { Redis } from 'ioredis';
import { comparePositions, type CommandDelivery, type Delivery, type IngestBatch, type StatusCommand } from '../../worker/queue.js';
import { CONSUMER_GROUP, decodeMessage, pairs, StreamError, type StreamNames } from './redis-streams.js';

/** What the worker feeds (the pipeline). */
export interface StreamSink {
  handle(d: Delivery): Promise<void>;
  handleCommand(d: CommandDelivery): Promise<void>;
  /** Stores everything processed (with a checkpoint) and acknowledges it. */
  checkpoint(): Promise<void>;
  /** Drops the state of the projects selected (another worker owns them now). */
  forget(which: (projectId: string) => boolean): Promise<void>;
}

export interface StreamWorkerLog {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface StreamWorkerOptions {
  /** Commands (leases, acks, claims). */
  redis: Redis;
  /** A dedicated connection for the blocking reads. */
  blocking: Redis;
  names: StreamNames;
  sink: StreamSink;
  /** This worker's consumer name (unique in the fleet). */
  consumer: string;
  leaseTtlMs: number;
  claimIdleMs: number;
  /** Longest blocking read (ms). */
  blockMs?: number;
  /** Entries per read. */
  readCount?: number;
  /** Attempts before an entry that keeps failing goes to the dead letter stream. */
  maxAttempts?: number;
  /** How often the held streams are trimmed of entries every group is done with (default 30 s). */
  trimIntervalMs?: number;
  log?: StreamWorkerLog;
}

type Phase = 'claiming' | 'backlog' | 'live';

interface Shard {
  n: number;
  key: string;
  phase: Phase;
  /** Backlog: the last pending entry read. */
  cursor: string;
  /** Bumped by every rewind: a read begun before stops handing entries over. */
  gen: number;
  /** performance.now() until which the lease is surely ours. */
  validUntil: number;
  lost: boolean;
  releasing: boolean;
  nextClaimAt: number;
}

type RawEntry = [string, string[] | null];

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Replies of XREADGROUP / XAUTOCLAIM: [[key, [[id, fields] …]] …] or null. */
function streamsOf(reply: unknown): Map<string, RawEntry[]> {
  const out = new Map<string, RawEntry[]>();
  if (!Array.isArray(reply)) return out;
  for (const [key, entries] of reply as [string, RawEntry[]][]) out.set(String(key), entries ?? []);
  return out;
}

export interface StreamWorkerStats {
  shards: number[];
  processed: number;
  acked: number;
  deadLettered: number;
  claimed: number;
  trimmed: number;
}

export class StreamWorker {
  private readonly held = new Map<number, Shard>();
  private readonly acks = new Map<number, string[]>();
  private ackedRecords = 0;
  private ackFlush: Promise<void> | undefined;
  private readonly attempts = new Map<string, number>();
  private renewTimer: ReturnType<typeof setInterval> | undefined;
  private maintaining: Promise<void> | undefined;
  private loopDone: Promise<void> | undefined;
  private stopping = false;
  private abandoned = false;
  private readonly blockMs: number;
  private readonly readCount: number;
  private readonly maxAttempts: number;
  private readonly margin: number;
  private readonly counters = { processed: 0, acked: 0, deadLettered: 0, claimed: 0, trimmed: 0 };
  private lastTrimMs = performance.now();

  constructor(private readonly o: StreamWorkerOptions) {
    this.blockMs = o.blockMs ?? Math.max(50, Math.min(2_000, Math.floor(o.leaseTtlMs / 5)));
    this.readCount = o.readCount ?? 64;
    this.maxAttempts = o.maxAttempts ?? 5;
    // a read must end this long before the lease could expire (clock rates differ a little)
    this.margin = Math.max(100, Math.floor(o.leaseTtlMs / 10));
    if (this.blockMs + this.margin >= o.leaseTtlMs / 2) throw new RangeError(`lease ttl ${o.leaseTtlMs} ms is too short for reads of ${this.blockMs} ms`);
  }

  stats(): StreamWorkerStats {
    return { shards: [...this.held.keys()].sort((a, b) => a - b), ...this.counters };
  }

  /** Announces this worker, takes its first leases and starts reading. */
  async start(): Promise<void> {
    await this.maintain();
    this.renewTimer = setInterval(() => {
      this.maintaining ??= this.maintain().catch((err: unknown) => this.o.log?.warn({ err: (err as Error).message }, 'lease maintenance failed; retrying')).finally(() => { this.maintaining = undefined; });
    }, Math.max(20, Math.floor(this.o.leaseTtlMs / 3)));
    this.loopDone = this.loop();
  }

  /**
   * Stops reading and renewing at once, storing and acknowledging nothing (tests: a crash). The
   * leases and the heartbeat expire on their own; the entries in hand stay pending.
   */
  async abandon(): Promise<void> {
    this.stopping = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.abandoned = true;
    await this.loopDone;
  }

  /**
   * Graceful stop: finishes the entry in hand, stores everything with a checkpoint, acknowledges it,
   * releases the leases and the heartbeat. The connections stay open (the caller closes them).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loopDone;
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.maintaining;
    await this.o.sink.checkpoint();
    await this.flushAcks();
    const { redis, names, consumer } = this.o;
    const p = redis.pipeline();
    for (const s of this.held.values()) p.eval(RELEASE, 1, names.lease(s.n), consumer);
    p.del(names.worker(consumer));
    p.srem(names.workers, consumer);
    await p.exec();
    // forget this consumer's name where it has nothing pending (DELCONSUMER would drop pending entries)
    const q = redis.pipeline();
    for (let s = 0; s < names.shards; s++) q.call('XPENDING', names.stream(s), CONSUMER_GROUP, '-', '+', '1', consumer);
    const pending = (await q.exec().catch(() => null)) ?? [];
    const d = redis.pipeline();
    pending.forEach(([err, rows], s) => {
      if (!err && Array.isArray(rows) && rows.length === 0) d.call('XGROUP', 'DELCONSUMER', names.stream(s), CONSUMER_GROUP, consumer);
    });
    await d.exec().catch(() => {});
    this.held.clear();
  }

  // ── leases ─────────────────────────────────────────────────────────────────────────────────

  /** Heartbeat, lease renewal, balance. Runs every ttl/3 (and once at start). */
  private async maintain(): Promise<void> {
    const { redis, names, consumer, leaseTtlMs } = this.o;
    const started = performance.now();
    // the heartbeat first: it expires before the leases renewed after it, so a dead worker's
    // shards are free only once it is seen dead (its entries are then claimed at once)
    const p = redis.pipeline();
    p.set(names.worker(consumer), String(Date.now()), 'PX', leaseTtlMs);
    p.sadd(names.workers, consumer);
    const mine = [...this.held.values()].filter((s) => !s.lost);
    for (const s of mine) p.eval(RENEW, 1, names.lease(s.n), consumer, leaseTtlMs);
    const r = (await p.exec()) ?? [];
    mine.forEach((s, i) => {
      const [err, ok] = r[2 + i] ?? [new Error('no reply'), 0];
      if (err) return; // unknown: the lease stays valid until validUntil, no longer
      if (Number(ok) === 1) s.validUntil = started + leaseTtlMs;
      else if (!s.lost) {
        s.lost = true;
        this.o.log?.warn({ shard: s.n }, 'lease lost; this shard is no longer read here');
      }
    });
    if (this.stopping) return;
    if (performance.now() - this.lastTrimMs >= (this.o.trimIntervalMs ?? 30_000)) {
      this.lastTrimMs = performance.now();
      await this.trim().catch((err: unknown) => this.o.log?.warn({ err: (err as Error).message }, 'could not trim the streams'));
    }

    // balance
    const members = (await redis.smembers(names.workers)) ?? [];
    const alive = await this.aliveOf(members);
    const dead = members.filter((m) => !alive.has(m));
    if (dead.length > 0) await redis.srem(names.workers, ...dead);
    const live = Math.max(1, alive.size);
    const fair = Math.ceil(names.shards / live);
    const active = [...this.held.values()].filter((s) => !s.lost && !s.releasing).sort((a, b) => a.n - b.n);
    if (active.length > fair) {
      for (const s of active.slice(fair)) s.releasing = true;
      this.o.log?.info({ shards: active.slice(fair).map((s) => s.n), workers: live }, 'releasing shards to other workers');
      return;
    }
    let want = fair - active.length;
    if (want <= 0) return;
    const offset = this.o.names.shardOf(consumer);
    for (let i = 0; i < names.shards && want > 0; i++) {
      const n = (offset + i) % names.shards;
      if (this.held.has(n)) continue;
      const at = performance.now();
      const got = await redis.set(names.lease(n), consumer, 'PX', leaseTtlMs, 'NX');
      if (got !== 'OK') continue;
      this.held.set(n, { n, key: names.stream(n), phase: 'claiming', cursor: '0-0', gen: 0, validUntil: at + leaseTtlMs, lost: false, releasing: false, nextClaimAt: 0 });
      want--;
      this.o.log?.info({ shard: n }, 'shard taken');
    }
  }

  /**
   * Removes from each held stream the entries every consumer group is done with: those before the
   * oldest pending entry, or before the last delivered one when none is pending. Returns how many.
   */
  async trim(): Promise<number> {
    const { redis } = this.o;
    let removed = 0;
    for (const s of [...this.held.values()].filter((x) => !x.lost)) {
      const groups = ((await redis.call('XINFO', 'GROUPS', s.key)) as unknown[][]).map(pairs);
      let keep: string | undefined;
      for (const g of groups) {
        let oldest = String(g['last-delivered-id']);
        if (Number(g.pending) > 0) {
          const [, minPending] = (await redis.call('XPENDING', s.key, String(g.name))) as [number, string | null];
          if (minPending) oldest = minPending;
        }
        if (keep === undefined || comparePositions(oldest, keep) < 0) keep = oldest;
      }
      if (keep === undefined || keep === '0-0') continue;
      removed += Number(await redis.call('XTRIM', s.key, 'MINID', keep));
    }
    this.counters.trimmed += removed;
    return removed;
  }

  private async aliveOf(names: string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const p = this.o.redis.pipeline();
    for (const m of names) p.exists(this.o.names.worker(m));
    const r = (await p.exec()) ?? [];
    return new Set(names.filter((_, i) => Number(r[i]?.[1] ?? 0) === 1));
  }

  /** True while the lease is surely valid for a read lasting `forMs` more. */
  private readable(s: Shard, forMs: number): boolean {
    return !s.lost && !s.releasing && performance.now() + forMs + this.margin < s.validUntil;
  }

  // ── the loop ───────────────────────────────────────────────────────────────────────────────

  private async loop(): Promise<void> {
    let backoff = 0;
    while (!this.stopping) {
      try {
        await this.settleShards();
        const claiming = [...this.held.values()].filter((s) => s.phase === 'claiming' && this.readable(s, 0) && s.nextClaimAt <= performance.now());
        for (const s of claiming) await this.claim(s);
        const backlog = [...this.held.values()].find((s) => s.phase === 'backlog' && this.readable(s, 0));
        if (backlog) {
          await this.readBacklog(backlog);
        } else {
          const live = [...this.held.values()].filter((s) => s.phase === 'live' && this.readable(s, this.blockMs));
          if (live.length > 0) await this.readLive(live);
          else await sleep(Math.min(100, this.blockMs));
        }
        backoff = 0;
      } catch (err) {
        backoff = Math.min(5_000, backoff ? backoff * 2 : 100);
        this.o.log?.error({ err: (err as Error).message, retryInMs: backoff }, 'stream read failed; retrying');
        // what was read and not handled is read again from the shards' pending entries
        for (const s of this.held.values()) if (s.phase === 'live') this.rewind(s);
        await sleep(backoff);
      }
    }
  }

  /** Lost shards are dropped; shards being released are checkpointed, acknowledged and given back. */
  private async settleShards(): Promise<void> {
    const lost = [...this.held.values()].filter((s) => s.lost);
    if (lost.length > 0) {
      const gone = new Set(lost.map((s) => s.n));
      await this.o.sink.forget((projectId) => gone.has(this.o.names.shardOf(projectId)));
      for (const s of lost) {
        this.held.delete(s.n);
        this.acks.delete(s.n);
      }
    }
    const releasing = [...this.held.values()].filter((s) => s.releasing && !s.lost);
    if (releasing.length === 0) return;
    await this.o.sink.checkpoint();
    await this.flushAcks();
    const gone = new Set(releasing.map((s) => s.n));
    await this.o.sink.forget((projectId) => gone.has(this.o.names.shardOf(projectId)));
    const p = this.o.redis.pipeline();
    for (const s of releasing) p.eval(RELEASE, 1, this.o.names.lease(s.n), this.o.consumer);
    await p.exec();
    for (const s of releasing) {
      this.held.delete(s.n);
      this.o.log?.info({ shard: s.n }, 'shard released');
    }
  }

  /** Claims the entries other consumers left pending on a shard just taken; backlog once none is left. */
  private async claim(s: Shard): Promise<void> {
    const { redis, consumer } = this.o;
    const summary = (await redis.call('XPENDING', s.key, CONSUMER_GROUP)) as [number, string | null, string | null, [string, string][] | null];
    const others = (summary[3] ?? []).filter(([name]) => name !== consumer).map(([name]) => name);
    if (others.length > 0) {
      const alive = await this.aliveOf(others);
      // a dead consumer's entries: at once (the lease says nobody else works on this shard)
      for (const name of others.filter((m) => !alive.has(m))) {
        for (;;) {
          const rows = (await redis.call('XPENDING', s.key, CONSUMER_GROUP, '-', '+', '500', name)) as [string, string, number, number][];
          if (rows.length === 0) break;
          await redis.call('XCLAIM', s.key, CONSUMER_GROUP, consumer, '0', ...rows.map((r) => r[0]), 'JUSTID');
          this.counters.claimed += rows.length;
        }
        await redis.call('XGROUP', 'DELCONSUMER', s.key, CONSUMER_GROUP, name);
      }
      // a live consumer's (it lost the lease, or is stuck): once idle long enough
      if (others.some((m) => alive.has(m))) {
        let start = '0-0';
        do {
          const [next, entries] = (await redis.call('XAUTOCLAIM', s.key, CONSUMER_GROUP, consumer, String(this.o.claimIdleMs), start, 'COUNT', '500', 'JUSTID')) as [string, string[], string[]?];
          this.counters.claimed += entries.length;
          start = next;
        } while (start !== '0-0');
      }
      const after = (await redis.call('XPENDING', s.key, CONSUMER_GROUP)) as [number, string | null, string | null, [string, string][] | null];
      if ((after[3] ?? []).some(([name]) => name !== consumer)) {
        s.nextClaimAt = performance.now() + Math.min(1_000, Math.max(50, this.o.claimIdleMs / 10));
        return;
      }
    }
    s.phase = 'backlog';
    s.cursor = '0-0';
  }

  /** This consumer's pending entries of one shard, in order (XREADGROUP from the cursor). */
  private async readBacklog(s: Shard): Promise<void> {
    const reply = await this.o.redis.call('XREADGROUP', 'GROUP', CONSUMER_GROUP, this.o.consumer, 'COUNT', String(this.readCount), 'STREAMS', s.key, s.cursor);
    const entries = streamsOf(reply).get(s.key) ?? [];
    if (entries.length === 0) {
      s.phase = 'live';
      return;
    }
    const gen = s.gen;
    for (const e of entries) {
      if (!this.held.has(s.n) || s.gen !== gen || !this.readable(s, 0)) return;
      if (!(await this.deliver(s, e)) || s.gen !== gen) return;
      s.cursor = e[0];
    }
  }

  /** New entries of every live shard, one blocking read. */
  private async readLive(shards: Shard[]): Promise<void> {
    const reply = await this.o.blocking.call('XREADGROUP', 'GROUP', CONSUMER_GROUP, this.o.consumer, 'COUNT', String(this.readCount), 'BLOCK', String(this.blockMs), 'STREAMS', ...shards.map((s) => s.key), ...shards.map(() => '>'));
    const byKey = streamsOf(reply);
    for (const s of shards) {
      const gen = s.gen;
      for (const e of byKey.get(s.key) ?? []) {
        // not processed now: they stay pending here and are read again from the backlog (or by
        // the shard's next owner)
        if (!this.held.has(s.n) || s.gen !== gen || !this.readable(s, 0)) {
          if (this.held.has(s.n) && !s.lost) this.rewind(s);
          break;
        }
        if (!(await this.deliver(s, e)) || s.gen !== gen) break;
      }
    }
  }

  /** Reads the shard's pending entries again from the start. */
  private rewind(s: Shard): void {
    s.gen++;
    if (s.phase === 'claiming') return;
    s.phase = 'backlog';
    s.cursor = '0-0';
  }

  /** Hands one entry to the pipeline; false when the shard must stop here (it was rewound). */
  private async deliver(s: Shard, [id, fields]: RawEntry): Promise<boolean> {
    if (fields === null) {
      // trimmed from the stream while pending: nothing to process
      this.ack(s.n, id, 0);
      return true;
    }
    let message;
    try {
      message = decodeMessage(fields);
    } catch (err) {
      await this.deadLetter(s, id, fields, (err as Error).message);
      return true;
    }
    let failed: Error | undefined;
    // the closures below keep only these: the batch is not held until the checkpoint acknowledges it
    const records = message.kind === 'batch' ? message.batch.records.length : 0;
    const settle = {
      position: id,
      ack: () => this.ack(s.n, id, records),
      fail: (err: Error) => {
        failed ??= err;
        // processing was thrown away: this shard reads its pending entries again
        const held = this.held.get(s.n);
        if (held) this.rewind(held);
      },
    };
    try {
      if (message.kind === 'batch') {
        const delivery = new StreamDelivery(message.batch, settle);
        await this.o.sink.handle(delivery);
        delivery.release();
      } else {
        await this.o.sink.handleCommand({ command: message.command as StatusCommand, ...settle });
      }
      this.counters.processed++;
      this.attempts.delete(id);
      return failed === undefined;
    } catch (err) {
      const n = (this.attempts.get(id) ?? 0) + 1;
      this.attempts.set(id, n);
      this.o.log?.error({ shard: s.n, entry: id, attempt: n, err: (err as Error).message }, 'entry failed');
      // what this shard's projects hold may be half-changed: reload them and read the entries again
      await this.o.sink.forget((projectId) => this.o.names.shardOf(projectId) === s.n);
      if (n >= this.maxAttempts) {
        this.attempts.delete(id);
        await this.deadLetter(s, id, fields, (err as Error).message);
      }
      this.rewind(s);
      if (n < this.maxAttempts) await sleep(Math.min(5_000, 100 * 2 ** n));
      return false;
    }
  }

  private async deadLetter(s: Shard, id: string, fields: string[], why: string): Promise<void> {
    this.o.log?.error({ shard: s.n, entry: id, why }, 'entry moved to the dead letter stream');
    await this.o.redis.call('XADD', this.o.names.dead, 'MAXLEN', '~', '10000', '*', 'shard', String(s.n), 'entry', id, 'why', why, ...fields);
    this.counters.deadLettered++;
    this.ack(s.n, id, 0);
    await this.flushAcks();
  }

  // ── acknowledgements ───────────────────────────────────────────────────────────────────────

  private ack(shard: number, id: string, records: number): void {
    if (this.abandoned) return;
    let list = this.acks.get(shard);
    if (!list) this.acks.set(shard, (list = []));
    list.push(id);
    this.ackedRecords += records;
    this.ackFlush ??= Promise.resolve().then(() => this.sendAcks());
  }

  private async sendAcks(): Promise<void> {
    const batches = [...this.acks];
    const records = this.ackedRecords;
    this.acks.clear();
    this.ackedRecords = 0;
    this.ackFlush = undefined;
    if (batches.length === 0) return;
    const p = this.o.redis.pipeline();
    for (const [shard, ids] of batches) p.call('XACK', this.o.names.stream(shard), CONSUMER_GROUP, ...ids);
    if (records > 0) p.incrby(this.o.names.acked, records);
    try {
      await p.exec();
      const n = batches.reduce((sum, [, ids]) => sum + ids.length, 0);
      this.counters.acked += n;
      this.o.log?.debug?.({ entries: n, shards: batches.map(([shard]) => shard) }, 'acknowledged');
    } catch (err) {
      // not fatal: the entries stay pending and are acknowledged as duplicates when read again
      this.o.log?.warn({ err: (err as Error).message }, 'acknowledgement failed');
    }
  }

  /** Waits until every acknowledgement so far is sent. */
  async flushAcks(): Promise<void> {
    while (this.ackFlush) await this.ackFlush;
  }
}

/** A delivery whose batch is released once handled (the pipeline keeps only its ack until a checkpoint). */
class StreamDelivery implements Delivery {
  private held: IngestBatch | undefined;

  constructor(
    batch: IngestBatch,
    private readonly settle: { position: string; ack(): void; fail(err: Error): void },
  ) {
    this.held = batch;
  }

  get batch(): IngestBatch {
    if (!this.held) throw new Error('the batch of this delivery was released after it was handled');
    return this.held;
  }

  /** Handled: the records are not needed any more. */
  release(): void {
    this.held = undefined;
  }

  get position(): string {
    return this.settle.position;
  }

  ack(): void {
    this.settle.ack();
  }

  fail(err: Error): void {
    this.settle.fail(err);
  }
}

export { StreamError };
