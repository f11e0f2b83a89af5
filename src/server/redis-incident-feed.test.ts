/**
 * The fleet's incident feed against the real Redis on this machine (127.0.0.1:6379; REDIS_URL to
 * point elsewhere). Every test uses its own key prefix and removes its keys.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FeedSignal, IncidentFeedEvent } from './incident-feed.js';
import { RedisIncidentFeed } from './redis-incident-feed.js';

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const P = 'project-a';
const Q = 'project-b';

let admin: Redis;
const feeds: RedisIncidentFeed[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  admin = new Redis(URL, { lazyConnect: true });
  await admin.connect();
});

afterEach(async () => {
  await Promise.all(feeds.splice(0).map((f) => f.close()));
  for (const p of prefixes.splice(0)) await admin.del(`${p}incident-feed:epoch`, `${p}incident-feed:seq`);
});

afterAll(async () => {
  await admin?.quit();
});

function newPrefix(): string {
  const p = `vigil-test-${randomUUID()}:`;
  prefixes.push(p);
  return p;
}

async function connect(prefix: string, relay: boolean, name = `vigil-feed-test-${randomUUID().slice(0, 8)}`): Promise<RedisIncidentFeed> {
  const f = await RedisIncidentFeed.connect({ url: URL, keyPrefix: prefix, relay, redisOptions: { connectionName: name } });
  feeds.push(f);
  return f;
}

const ev = (n: number): IncidentFeedEvent => ({ n } as unknown as IncidentFeedEvent);

function collect(): { signals: FeedSignal[]; listener: (s: FeedSignal) => void; events(): { id: string; n: number }[] } {
  const signals: FeedSignal[] = [];
  return {
    signals,
    listener: (s) => signals.push(s),
    events: () => signals.flatMap((s) => (s.type === 'event' ? [{ id: s.id, n: JSON.parse(s.data).n as number }] : [])),
  };
}

async function until(test: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('RedisIncidentFeed', () => {
  it('relays what workers publish to every server, with the same ids everywhere, each project to its own subscribers', async () => {
    const prefix = newPrefix();
    const [serveA, serveB, worker1, worker2] = await Promise.all([connect(prefix, true), connect(prefix, true), connect(prefix, false), connect(prefix, false)]);
    const a = collect();
    const b = collect();
    const q = collect();
    serveA.subscribe(P, a.listener);
    serveB.subscribe(P, b.listener);
    serveB.subscribe(Q, q.listener);
    await worker1.publish(P, ev(1));
    await worker2.publish(P, ev(2));
    await worker1.publish(Q, ev(3));
    await worker2.publish(P, ev(4));
    await until(() => a.events().length === 3 && b.events().length === 3 && q.events().length === 1);
    expect(a.events().map((e) => e.n)).toEqual([1, 2, 4]);
    expect(b.events()).toEqual(a.events());
    expect(a.events().map((e) => e.id.split('-')[1])).toEqual(['1', '2', '3']);
    expect(q.events()).toEqual([{ id: expect.stringMatching(/-1$/), n: 3 }]);
    expect(a.signals[0]).toEqual({ type: 'ready', id: expect.stringMatching(/^[a-z0-9]+-0$/), replayed: 0 });
    expect(() => worker1.subscribe(P, () => {})).toThrow(/only publishes/);
  });

  it('lets a client resume on another server from the id it last saw', async () => {
    const prefix = newPrefix();
    const [serveA, serveB, worker] = await Promise.all([connect(prefix, true), connect(prefix, true), connect(prefix, false)]);
    const a = collect();
    const watchB = collect();
    serveA.subscribe(P, a.listener);
    serveB.subscribe(P, watchB.listener);
    for (let n = 1; n <= 5; n++) await worker.publish(P, ev(n));
    await until(() => a.events().length === 5 && watchB.events().length === 5);
    // serveB relayed them too: a client that lost serveA resumes there
    const resumed = collect();
    serveB.subscribe(P, resumed.listener, { lastEventId: a.events()[1]!.id });
    expect(resumed.signals.map((s) => s.type)).toEqual(['event', 'event', 'event', 'ready']);
    expect(resumed.events()).toEqual(a.events().slice(2));
  });

  it('knows every project’s position when it starts: an old id resets, the current one resumes', async () => {
    const prefix = newPrefix();
    const worker = await connect(prefix, false);
    for (let n = 1; n <= 3; n++) await worker.publish(P, ev(n));
    const late = await connect(prefix, true);
    const epoch = (await admin.get(`${prefix}incident-feed:epoch`))!;
    const old = collect();
    late.subscribe(P, old.listener, { lastEventId: `${epoch}-1` });
    expect(old.signals).toEqual([{ type: 'reset', id: `${epoch}-3`, reason: expect.stringMatching(/no longer held/) }]);
    const current = collect();
    late.subscribe(P, current.listener, { lastEventId: `${epoch}-3` });
    expect(current.signals).toEqual([{ type: 'ready', id: `${epoch}-3`, replayed: 0 }]);
    const fresh = collect();
    late.subscribe(P, fresh.listener);
    expect(fresh.signals).toEqual([{ type: 'ready', id: `${epoch}-3`, replayed: 0 }]);
    await worker.publish(P, ev(4));
    await until(() => current.events().length === 1);
    expect(current.events()).toEqual([{ id: `${epoch}-4`, n: 4 }]);
  });

  it('resets live subscribers when a seq never arrived', async () => {
    const prefix = newPrefix();
    const [serve, worker] = await Promise.all([connect(prefix, true), connect(prefix, false)]);
    const c = collect();
    serve.subscribe(P, c.listener);
    await worker.publish(P, ev(1));
    // an event counted and never delivered, as a lost message would be
    await admin.hincrby(`${prefix}incident-feed:seq`, P, 1);
    await worker.publish(P, ev(3));
    await until(() => c.events().length === 2);
    expect(c.signals.slice(1).map((s) => [s.type, s.id.split('-')[1]])).toEqual([['event', '1'], ['reset', '2'], ['event', '3']]);
  });

  it('catches up after its connection drops: subscribers of projects that moved on meanwhile get a reset, then events again', async () => {
    const prefix = newPrefix();
    const name = `vigil-feed-test-${randomUUID().slice(0, 8)}`;
    const [serve, worker] = await Promise.all([connect(prefix, true, name), connect(prefix, false)]);
    const moved = collect();
    const still = collect();
    serve.subscribe(P, moved.listener);
    serve.subscribe(Q, still.listener);
    await worker.publish(P, ev(1));
    await until(() => moved.events().length === 1);
    const list = await admin.client('LIST') as string;
    const id = /id=(\d+) .*name=(\S+)/g;
    const relayIds = [...list.matchAll(id)].filter((m) => m[2] === `${name}-relay`).map((m) => m[1]!);
    expect(relayIds).toHaveLength(1);
    await admin.client('KILL', 'ID', relayIds[0]!);
    // published while the relay is not subscribed: pub/sub does not keep it for the relay
    await worker.publish(P, ev(2));
    await until(() => moved.signals.some((s) => s.type === 'reset'));
    await serve.synced();
    expect(moved.signals.at(-1)).toEqual({ type: 'reset', id: expect.stringMatching(/-2$/), reason: expect.stringMatching(/missed events/) });
    expect(still.signals.map((s) => s.type)).toEqual(['ready']);
    await worker.publish(P, ev(3));
    await until(() => moved.events().length === 2);
    expect(moved.events().at(-1)).toEqual({ id: expect.stringMatching(/-3$/), n: 3 });
  });

  it('resets everyone when Redis lost the counter (a new epoch), instead of replaying the wrong events', async () => {
    const prefix = newPrefix();
    const [serve, worker] = await Promise.all([connect(prefix, true), connect(prefix, false)]);
    const c = collect();
    serve.subscribe(P, c.listener);
    await worker.publish(P, ev(1));
    await until(() => c.events().length === 1);
    const before = c.events()[0]!.id.split('-')[0];
    await admin.del(`${prefix}incident-feed:epoch`, `${prefix}incident-feed:seq`);
    await worker.publish(P, ev(2));
    await until(() => c.events().length === 2);
    const after = c.events()[1]!.id.split('-')[0];
    expect(after).not.toBe(before);
    expect(c.signals.slice(2).map((s) => s.type)).toEqual(['reset', 'event']);
    const resumeOld = collect();
    serve.subscribe(P, resumeOld.listener, { lastEventId: c.events()[0]!.id });
    expect(resumeOld.signals.map((s) => s.type)).toEqual(['reset']);
  });

  it('forgets subscribers on close, and refuses to connect to a Redis that is not there', async () => {
    const prefix = newPrefix();
    const serve = await connect(prefix, true);
    serve.subscribe(P, () => {});
    expect(serve.subscribers()).toBe(1);
    await serve.close();
    expect(serve.subscribers()).toBe(0);
    await expect(RedisIncidentFeed.connect({ url: 'redis://127.0.0.1:1', relay: true, redisOptions: { retryStrategy: () => null } })).rejects.toThrow();
  });
});
