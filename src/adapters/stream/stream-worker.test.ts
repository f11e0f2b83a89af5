/**
 * The Redis Streams transport against the real Redis of this machine (skipped with a message when
 * it cannot be reached, unless VIGIL_REQUIRE_SERVICES=1), with the real pipeline over an in-memory
 * store. Every test uses its own key prefix.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burst, quiet, T0 } from '../../../test/pipeline-fixtures.js';
import { servicesProblem, TEST_REDIS_URL } from '../../../test/services.js';
import { openStore } from '../store/open.js';
import type { VigilStore } from '../store/vigil-store.js';
import { Pipeline } from '../../worker/pipeline.js';
import { MemoryQueue, type IngestBatch } from '../../worker/queue.js';
import { connectRedis, CONSUMER_GROUP, decodeMessage, encodeMessage, prepareStreams, RedisIngestPublisher, StreamNames } from './redis-streams.js';
import { StreamWorker } from './stream-worker.js';

const until = async (what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('stream entries', () => {
  it('carry batches (lines and structured records) and status commands, and refuse anything else', () => {
    const batch: IngestBatch = { id: 'b1', projectId: 'p', source: 'api', receivedAtMs: T0, records: [{ kind: 'line', text: 'hello' }, { kind: 'record', record: { message: 'm', level: 'error', timestamp: T0 } }] };
    expect(decodeMessage(encodeMessage({ kind: 'batch', batch }))).toEqual({ kind: 'batch', batch });
    const command = { id: 'status:1', projectId: 'p', source: 'api', incidentId: 'i', status: 'closed' as const };
    expect(decodeMessage(encodeMessage({ kind: 'status', command }))).toEqual({ kind: 'status', command });
    expect(() => decodeMessage(['v', '2', 'k', 'batch', 'd', '{}'])).toThrow(/version "2"/);
    expect(() => decodeMessage(['v', '1', 'k', 'batch', 'd', '{'])).toThrow(/not JSON/);
    expect(() => decodeMessage(['v', '1', 'k', 'batch', 'd', '{}'])).toThrow(/without id/);
    expect(() => decodeMessage(['v', '1', 'k', 'what', 'd', '{}'])).toThrow(/unknown entry kind/);
  });

  it('send a project to the same shard in every process', () => {
    const names = new StreamNames('x', 16);
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const shards = ids.map((id) => names.shardOf(id));
    expect(ids.map((id) => new StreamNames('y', 16).shardOf(id))).toEqual(shards);
    expect(new Set(shards).size).toBe(16);
    expect(shards.every((s) => s >= 0 && s < 16)).toBe(true);
  });
});

const problem = await servicesProblem('Redis stream transport', { redis: true });

describe.skipIf(problem !== undefined)('the Redis stream transport', () => {
  let redis: Redis;
  let store: VigilStore;
  const prefixes: string[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];
  const prefix = (): string => {
    const p = `vigil-test-${randomBytes(5).toString('hex')}`;
    prefixes.push(p);
    return p;
  };
  const connect = async (name: string): Promise<Redis> => {
    const r = await connectRedis(TEST_REDIS_URL, name);
    cleanup.push(async () => r.disconnect());
    return r;
  };

  beforeAll(async () => {
    redis = await connectRedis(TEST_REDIS_URL, 'vigil-test');
    ({ store } = await openStore({}));
  });

  afterAll(async () => {
    for (const c of cleanup) await c().catch(() => {});
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}:*`);
      if (keys.length) await redis.del(...keys);
    }
    redis?.disconnect();
    await store?.close();
  });

  const newProject = async (): Promise<string> => (await store.createProject({ name: `p-${randomUUID()}`, passwordHash: 'x', notifications: {} }, { hash: randomUUID(), prefix: 'vgl_x' })).id;
  const batch = (projectId: string, lines: string[], id: string = randomUUID()): IngestBatch => ({ id, projectId, source: 'app', receivedAtMs: T0 + 3_600_000, records: lines.map((text) => ({ kind: 'line', text })) });
  const settled = async (names: StreamNames): Promise<boolean> => {
    for (let s = 0; s < names.shards; s++) {
      const [pending] = (await redis.call('XPENDING', names.stream(s), CONSUMER_GROUP)) as [number];
      const groups = (await redis.call('XINFO', 'GROUPS', names.stream(s))) as unknown[][];
      const lag = Number(groups[0]![groups[0]!.indexOf('lag') + 1]);
      if (Number(pending) > 0 || lag > 0) return false;
    }
    return true;
  };

  it('agrees on the shard count with the fleet, or refuses to start', async () => {
    const p = prefix();
    await prepareStreams(redis, new StreamNames(p, 4));
    await prepareStreams(redis, new StreamNames(p, 4));
    await expect(prepareStreams(redis, new StreamNames(p, 8))).rejects.toMatchObject({ code: 'VIGIL_STREAM_SHARDS_MISMATCH' });
    expect(await redis.exists(new StreamNames(p, 4).stream(3))).toBe(1);
  });

  it('publishes a batch into its project\'s shard and reports the lag', async () => {
    const names = new StreamNames(prefix(), 4);
    await prepareStreams(redis, names);
    const publisher = new RedisIngestPublisher(redis, names);
    const pid = randomUUID();
    await publisher.publish(batch(pid, quiet(5, T0)));
    await publisher.publish(batch(pid, quiet(3, T0)));
    const entries = (await redis.call('XRANGE', names.stream(names.shardOf(pid)), '-', '+')) as [string, string[]][];
    expect(entries).toHaveLength(2);
    expect(decodeMessage(entries[0]![1])).toMatchObject({ kind: 'batch', batch: { projectId: pid, records: { length: 5 } } });
    await publisher.refreshStats();
    expect(publisher.stats()).toMatchObject({ undelivered: 2, unacknowledged: 0, pendingBatches: 2, pendingRecords: 8 });
    expect(publisher.stats().oldestPendingMs).toBeGreaterThanOrEqual(0);
    publisher.close();
    await expect(publisher.publish(batch(pid, ['x']))).rejects.toMatchObject({ code: 'VIGIL_SHUTTING_DOWN' });
  });

  it('refuses batches with VIGIL_INGEST_QUEUE_FULL once the workers are that many records behind, and takes them again when they caught up', async () => {
    const names = new StreamNames(prefix(), 2);
    await prepareStreams(redis, names);
    const publisher = new RedisIngestPublisher(redis, names, { maxPendingRecords: 2_500 });
    const pid = randomUUID();
    // no worker runs: the bound counts what this server published before the statistics know it
    await publisher.publish(batch(pid, quiet(1_000, T0)));
    await publisher.publish(batch(pid, quiet(1_000, T0)));
    await expect(publisher.publish(batch(pid, quiet(1_000, T0)))).rejects.toMatchObject({ code: 'VIGIL_INGEST_QUEUE_FULL', message: expect.stringMatching(/2000 records are waiting for the workers \(at most 2500\)/) });
    await publisher.publish(batch(pid, quiet(400, T0))); // a smaller batch still fits
    // counted once: after a statistics read it is the streams' count, not that plus this server's
    await publisher.refreshStats();
    expect(publisher.stats().pendingRecords).toBe(2_400);
    await expect(publisher.publish(batch(pid, quiet(200, T0)))).rejects.toMatchObject({ code: 'VIGIL_INGEST_QUEUE_FULL' });
    // a worker catches up (acknowledging what it handled): batches are taken again
    const sink = { handle: async (d: { ack(): void }) => d.ack(), handleCommand: async () => {}, checkpoint: async () => {}, forget: async () => {} };
    const worker = new StreamWorker({ redis: await connect('bp'), blocking: await connect('bp-read'), names, sink, consumer: 'bp', leaseTtlMs: 1_000, claimIdleMs: 500 });
    await worker.start();
    await until('the worker to acknowledge everything', async () => {
      await publisher.refreshStats();
      return publisher.stats().pendingRecords === 0;
    });
    await publisher.publish(batch(pid, quiet(1_000, T0)));
    await worker.stop();
    publisher.close();
  });

  it('balances shards across workers, and stops reading a shard at once when its lease is lost', async () => {
    const names = new StreamNames(prefix(), 4);
    await prepareStreams(redis, names);
    const sink = { handle: async () => {}, handleCommand: async () => {}, checkpoint: async () => {}, forget: async () => {} };
    const mk = async (consumer: string): Promise<StreamWorker> => new StreamWorker({ redis: await connect(consumer), blocking: await connect(`${consumer}-read`), names, sink, consumer, leaseTtlMs: 1_000, claimIdleMs: 500 });
    const a = await mk('a');
    await a.start();
    expect(a.stats().shards).toEqual([0, 1, 2, 3]);
    const b = await mk('b');
    await b.start();
    await until('two shards each', () => a.stats().shards.length === 2 && b.stats().shards.length === 2);
    expect([...a.stats().shards, ...b.stats().shards].sort()).toEqual([0, 1, 2, 3]);
    // someone else holds one of b's shards now (as after b stalled past its lease)
    const stolen = b.stats().shards[0]!;
    await redis.set(names.lease(stolen), 'intruder', 'PX', 60_000);
    await until('b to drop the stolen shard', () => !b.stats().shards.includes(stolen));
    expect(a.stats().shards).not.toContain(stolen);
    await a.stop();
    await until('b to take the free shards', () => b.stats().shards.length === 3);
    await b.stop();
    expect(await redis.exists(names.lease(b.stats().shards[0] ?? 0))).toBe(0);
  });

  it('a worker taking over a dead one\'s shard replays what was stored but not acknowledged, so nothing counts twice and the result equals an uninterrupted run', async () => {
    const names = new StreamNames(prefix(), 2);
    await prepareStreams(redis, names);
    const publisher = new RedisIngestPublisher(redis, names);
    const pid = await newProject();
    const reference = await newProject();
    const batches = [
      quiet(300, T0), quiet(200, T0 + 300_000), burst(12, T0 + 500_000), quiet(100, T0 + 520_000),
      burst(30, T0 + 900_000), quiet(150, T0 + 1_000_000), burst(5, T0 + 2_000_000), quiet(50, T0 + 2_010_000),
    ].map((lines, i) => batch(pid, lines, `b${i}`));

    // the reference: one pipeline, never interrupted (a second copy of b3 included)
    const queue = new MemoryQueue(1_000_000);
    const ref = new Pipeline({ store, now: Date.now, newId: randomUUID, flushIntervalMs: 10 });
    ref.start(queue);
    for (const [i, b] of batches.entries()) {
      await queue.publish({ ...b, projectId: reference });
      if (i === 3) await queue.publish({ ...b, projectId: reference });
    }
    queue.close();
    await ref.stop();

    // worker a: checkpoints after b0–b2, stores the results of b3–b5 (and sees b3 twice), then dies
    const pipeA = new Pipeline({ store, now: Date.now, newId: randomUUID, ackOn: 'checkpoint', flushMaxRecords: 1_000_000 });
    const a = new StreamWorker({ redis: await connect('a'), blocking: await connect('a-read'), names, sink: pipeA, consumer: 'a', leaseTtlMs: 1_000, claimIdleMs: 60_000 });
    await a.start();
    for (const b of batches.slice(0, 3)) await publisher.publish(b);
    await until('a to read b0–b2', () => a.stats().processed === 3);
    await pipeA.checkpoint();
    for (const b of [...batches.slice(3, 6), batches[3]!]) await publisher.publish(b);
    await until('a to read b3–b5 and the copy of b3', () => a.stats().processed === 7);
    await pipeA.flush();
    await a.flushAcks();
    expect(a.stats().acked).toBe(3);
    expect(await store.isBatchProcessed(pid, 'b5')).toBe(true);
    await a.abandon();

    // worker b takes the shard once a's lease expires; a is dead, so its entries are claimed at once
    const pipeB = new Pipeline({ store, now: Date.now, newId: randomUUID, ackOn: 'checkpoint', flushIntervalMs: 20, snapshotIntervalMs: 1_000 });
    const b = new StreamWorker({ redis: await connect('b'), blocking: await connect('b-read'), names, sink: pipeB, consumer: 'b', leaseTtlMs: 1_000, claimIdleMs: 60_000 });
    pipeB.run();
    await b.start();
    for (const x of batches.slice(6)) await publisher.publish(x);
    await until('every entry acknowledged', () => settled(names));
    // everything is acknowledged: the stream keeps only the last delivered entry
    const shard = names.stream(names.shardOf(pid));
    expect(await redis.xlen(shard)).toBe(9);
    expect(await b.trim()).toBe(8);
    expect(await redis.xlen(shard)).toBe(1);
    await b.stop();
    await pipeB.stop();
    expect(b.stats().claimed).toBe(4);

    const view = async (projectId: string) => ({
      templates: (await store.listTemplates(projectId, { limit: 1_000 })).map(({ source, templateId, template, count, firstSeen, lastSeen }) => ({ source, templateId, template, count, firstSeen, lastSeen })),
      incidents: (await store.listIncidents(projectId, { limit: 1_000 })).map(({ id: _i, projectId: _p, createdAtMs: _c, updatedAtMs: _u, ...rest }) => rest),
      volume: await store.volume(projectId, 0, T0 * 2),
      // the detectors' whole state, as a digest (equal states, equal digests)
      detectors: createHash('sha256').update(JSON.stringify((await store.projectState(projectId)).detectors)).digest('hex'),
    });
    const got = await view(pid);
    const want = await view(reference);
    expect(got.templates.reduce((n, t) => n + t.count, 0)).toBe(847);
    expect(got.incidents.length).toBeGreaterThan(0);
    expect(got).toEqual(want);
  });
});
