/**
 * The fleet end to end, with the built CLI (`npm run build` first, as `npm test` does) against the
 * real PostgreSQL and Redis of this machine (skipped with a message when one cannot be reached,
 * unless VIGIL_REQUIRE_SERVICES=1). Each run gets a fresh database and its own stream prefix.
 *
 * - Three `vigil worker`s on one set of streams, one killed with SIGKILL mid-run (after it has
 *   acknowledged entries and while it holds others pending), end with exactly the templates,
 *   counts, volume, incidents — and detector and miner state — that one worker produces alone.
 * - `vigil serve` in fleet mode: ingestion into the streams, a worker's incident in the API, a
 *   person's status change applied through the stream, health and lag.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/adapters/store/open.js';
import type { VigilStore } from '../src/adapters/store/vigil-store.js';
import { connectRedis, CONSUMER_GROUP, RedisIngestPublisher, StreamNames, prepareStreams, pairs } from '../src/adapters/stream/redis-streams.js';
import { generateCorpus } from '../src/core/generate/corpus.js';
import type { IngestBatch } from '../src/worker/queue.js';
import { errorBurst, normalLines } from './service-fixtures.js';
import { SseClient } from './sse-client.js';
import { servicesProblem, TEST_DATABASE_URL, TEST_REDIS_URL } from './services.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'vigil.js');
const SHARDS = 4;
const PROJECTS = 3;
const LINES_PER_PROJECT = 12_000;
const LINES_PER_BATCH = 300;

const problem = await servicesProblem('fleet integration', { redis: true, postgres: true });

// ── processes ──────────────────────────────────────────────────────────────────────────────────

class Proc {
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly name: string, readonly proc: ChildProcess) {
    proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.stderr);
      if (m) return m;
      if (!this.running) throw new Error(`${this.name} exited before ${re}; stderr:\n${this.stderr}`);
      if (Date.now() > end) throw new Error(`${this.name}: no ${re} within ${timeoutMs} ms; stderr:\n${this.stderr}`);
      await sleep(20);
    }
  }

  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.proc.kill(signal);
    return this.exited;
  }
}

const procs: Proc[] = [];
const cleanups: (() => void)[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function vigil(name: string, command: 'worker' | 'serve', env: Record<string, string>): Proc {
  const p = new Proc(name, spawn(process.execPath, [BIN, command], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] }));
  procs.push(p);
  return p;
}

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 40_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

// ── a fleet: a fresh database and stream prefix ────────────────────────────────────────────────

interface Fleet {
  dbName: string;
  databaseUrl: string;
  prefix: string;
  store: VigilStore;
  names: StreamNames;
  env: Record<string, string>;
}

const fleets: Fleet[] = [];
let redis: Redis;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function newFleet(): Promise<Fleet> {
  const tag = randomBytes(5).toString('hex');
  const dbName = `vigil_fleet_${tag}`;
  await admin((c) => c.query(`create database ${dbName}`));
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${dbName}`;
  const databaseUrl = u.toString();
  const { store } = await openStore({ databaseUrl });
  const prefix = `vigil-test-fleet-${tag}`;
  const names = new StreamNames(prefix, SHARDS);
  await prepareStreams(redis, names);
  const env = {
    DATABASE_URL: databaseUrl, REDIS_URL: TEST_REDIS_URL, VIGIL_STREAM_PREFIX: prefix, VIGIL_STREAM_SHARDS: String(SHARDS),
    VIGIL_LEASE_TTL_MS: '1500', VIGIL_CLAIM_IDLE_MS: '2000', VIGIL_SNAPSHOT_INTERVAL_MS: '1000', VIGIL_WORKER_FLUSH_INTERVAL_MS: '100', LOG_LEVEL: 'debug',
  };
  const f = { dbName, databaseUrl, prefix, store, names, env };
  fleets.push(f);
  return f;
}

/** Projects named p0…p{n-1}, on distinct shards (so every worker can get one to work on). */
async function projects(f: Fleet): Promise<string[]> {
  const ids: string[] = [];
  const shards = new Set<number>();
  for (let attempt = 0; ids.length < PROJECTS; attempt++) {
    const p = await f.store.createProject({ name: `p${ids.length}-${attempt}`, passwordHash: 'x', notifications: {} }, { hash: randomBytes(16).toString('hex'), prefix: 'vgl_x' });
    if (shards.has(f.names.shardOf(p.id))) continue;
    shards.add(f.names.shardOf(p.id));
    ids.push(p.id);
  }
  return ids;
}

/** Project i's corpus in batches (the same for every fleet), with one batch sent twice. */
function batchesOf(i: number, projectId: string): IngestBatch[] {
  const lines = [...generateCorpus({ lines: LINES_PER_PROJECT, anomalyRate: 0.05, seed: 100 + i, startMs: Date.UTC(2026, 10, 20, 8), services: 6 })].map((l) => l.line);
  const out: IngestBatch[] = [];
  for (let k = 0; k * LINES_PER_BATCH < lines.length; k++) {
    out.push({ id: `b${k}`, projectId, source: i === 1 ? 'edge' : 'app', receivedAtMs: Date.UTC(2026, 10, 20, 12), records: lines.slice(k * LINES_PER_BATCH, (k + 1) * LINES_PER_BATCH).map((text) => ({ kind: 'line', text })) });
  }
  // a client retry: the same batch id published again, later
  out.splice(Math.floor(out.length / 2), 0, { ...out[3]! });
  return out;
}

/** Every entry of every shard read and acknowledged. */
async function settled(names: StreamNames): Promise<boolean> {
  for (let s = 0; s < names.shards; s++) {
    const [pending] = (await redis.call('XPENDING', names.stream(s), CONSUMER_GROUP)) as [number];
    const group = pairs(((await redis.call('XINFO', 'GROUPS', names.stream(s))) as unknown[][])[0]!);
    if (Number(pending) > 0 || Number(group.lag) > 0) return false;
  }
  return true;
}

const digest = (x: unknown): string => createHash('sha256').update(JSON.stringify(x)).digest('hex').slice(0, 16);

/** What a project ended with, without ids and wall-clock times. */
async function outcome(f: Fleet, projectId: string) {
  const s = f.store;
  const state = await s.projectState(projectId);
  const processed = await s.db.query<{ n: number }>('select count(*)::int as n from processed_batches where project_id = $1', [projectId]);
  return {
    templates: (await s.listTemplates(projectId, { limit: 1_000 })).map(({ source, templateId, template, count, firstSeen, lastSeen }) => ({ source, templateId, template, count, firstSeen: firstSeen.getTime(), lastSeen: lastSeen.getTime() })),
    incidents: (await s.listIncidents(projectId, { limit: 1_000 }))
      .map(({ id: _id, projectId: _p, createdAtMs: _c, updatedAtMs: _u, ...rest }) => rest)
      .sort((a, b) => (a.source + a.signature < b.source + b.signature ? -1 : 1)),
    volume: (await s.volume(projectId, 0, Date.UTC(2030, 0, 1))).map((v) => ({ ...v, minute: v.minute.getTime() })),
    processedBatches: processed.rows[0]!.n,
    detectorState: digest(state.detectors),
    sourceState: digest([...state.sources].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

describe.skipIf(problem !== undefined)('the fleet on PostgreSQL and Redis', () => {
  beforeAll(async () => {
    redis = await connectRedis(TEST_REDIS_URL, 'vigil-fleet-test');
  });

  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    for (const c of cleanups) c();
    for (const f of fleets) {
      await f.store.close().catch(() => {});
      if (!process.env.KEEP_FLEET_DB) await admin((c) => c.query(`drop database if exists ${f.dbName} with (force)`)).catch(() => {});
      const keys = await redis.keys(`${f.prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
    redis?.disconnect();
  });

  it('three workers, one killed mid-run, end with exactly the incidents and counts one worker produces', { timeout: 90_000 }, async () => {
    // one worker, uninterrupted
    const one = await newFleet();
    const oneProjects = await projects(one);
    const publisherOne = new RedisIngestPublisher(redis, one.names);
    const corpora = oneProjects.map((pid, i) => batchesOf(i, pid));
    for (const batches of corpora) for (const b of batches) await publisherOne.publish(b);
    const solo = vigil('solo', 'worker', { ...one.env, VIGIL_WORKER_NAME: 'solo' });
    await until('the single worker to finish', () => settled(one.names), 60_000);
    expect((await solo.stop('SIGTERM')).code).toBe(0);
    const want = await Promise.all(oneProjects.map((pid) => outcome(one, pid)));
    expect(want.every((w) => w.incidents.length > 0 && w.processedBatches === corpora[0]!.length - 1)).toBe(true);

    // three workers; the corpus arrives while they run; one is killed
    const three = await newFleet();
    const threeProjects = await projects(three);
    const publisher = new RedisIngestPublisher(redis, three.names);
    const workers = ['w1', 'w2', 'w3'].map((name) => vigil(name, 'worker', { ...three.env, VIGIL_WORKER_NAME: name }));
    for (const w of workers) await w.waitFor(/consuming \d+ shards/);
    const batches = threeProjects.map((pid, i) => batchesOf(i, pid));
    let published = 0;
    const publishing = (async () => {
      for (let k = 0; k < batches[0]!.length; k++) {
        for (const list of batches) if (list[k]) await publisher.publish(list[k]!);
        published = k + 1;
        await sleep(120);
      }
    })();

    // the victim: a worker that has acknowledged entries and holds others pending right now, some
    // of them with their results stored already (so its successor must replay them, not count them).
    // Each candidate is frozen (SIGSTOP) while it is looked at, so what is seen is what it dies with.
    let victim: Proc | undefined;
    await until('a worker with acknowledged, pending and stored-but-pending entries', async () => {
      for (const w of workers) {
        if (!/"msg":"acknowledged"/.test(w.stderr) || !w.running) continue;
        w.proc.kill('SIGSTOP');
        const pending: string[] = [];
        for (let s = 0; s < SHARDS; s++) {
          const rows = (await redis.call('XPENDING', three.names.stream(s), CONSUMER_GROUP, '-', '+', '1000', w.name)) as [string][];
          pending.push(...rows.map((r) => r[0]));
        }
        // stored, and beyond the project's checkpoint (a covered one is only acknowledged, not replayed)
        const stored = pending.length > 0 && (await three.store.db.query(
          `select 1 from processed_batches b left join detector_state d on d.project_id = b.project_id
            where b.entry_id = any($1::text[])
              and (d.covered_ms is null or (split_part(b.entry_id, '-', 1)::bigint, split_part(b.entry_id, '-', 2)::bigint) > (d.covered_ms, d.covered_seq))
            limit 1`, [pending])).rows.length > 0;
        if (stored) {
          victim = w;
          return true;
        }
        w.proc.kill('SIGCONT');
      }
      return false;
    }, 40_000);
    const killedAt = published;
    expect((await victim!.stop('SIGKILL')).signal).toBe('SIGKILL');
    await publishing;
    // the kill came while the corpus was still arriving (mid-run, not after the work was done)
    expect(killedAt).toBeLessThan(batches[0]!.length);
    await until('the two survivors to finish', () => settled(three.names), 60_000);
    const survivors = workers.filter((w) => w !== victim);
    for (const w of survivors) expect((await w.stop('SIGTERM')).code).toBe(0);
    // the dead worker's entries were taken over (and its name forgotten)
    for (const w of survivors) expect(w.stderr).toContain('vigil: stopped');
    expect(survivors.some((w) => /"msg":"shard taken"/.test(w.stderr))).toBe(true);
    expect(survivors.some((w) => /"msg":"replayed into the state/.test(w.stderr))).toBe(true);

    const got = await Promise.all(threeProjects.map((pid) => outcome(three, pid)));
    for (let i = 0; i < PROJECTS; i++) {
      expect(got[i]!.templates, `project ${i}: templates and counts`).toEqual(want[i]!.templates);
      expect(got[i]!.volume, `project ${i}: volume`).toEqual(want[i]!.volume);
      expect(got[i]!.incidents, `project ${i}: incidents`).toEqual(want[i]!.incidents);
      expect(got[i]!.processedBatches, `project ${i}: batches (a batch sent twice counts once)`).toBe(want[i]!.processedBatches);
      expect(got[i]!.detectorState, `project ${i}: detector state`).toBe(want[i]!.detectorState);
      expect(got[i]!.sourceState, `project ${i}: miner and reader state`).toBe(want[i]!.sourceState);
    }
    const count = (re: RegExp): number => survivors.reduce((n, w) => n + (w.stderr.match(re)?.length ?? 0), 0);
    console.log(`fleet: killed ${victim!.name} after ${killedAt} of ${batches[0]!.length} rounds; survivors took ${count(/"msg":"shard taken"/g)} shards, replayed ${count(/"msg":"replayed into the state/g)} stored batches, skipped ${count(/"msg":"duplicate batch/g)} duplicates`);
    const total = got.reduce((n, g) => n + g.templates.reduce((m, t) => m + t.count, 0), 0);
    expect(total).toBeGreaterThan(PROJECTS * LINES_PER_PROJECT * 0.9);
  });

  it('vigil serve in fleet mode ingests into the streams; a worker\'s incidents show in the API and status changes apply through the stream', { timeout: 60_000 }, async () => {
    const f = await newFleet();
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-fleet-serve-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    // back-pressure at 320 records waiting for the workers (the two batches below, then no more)
    const serve = vigil('serve', 'serve', { ...f.env, PORT: '0', HOST: '127.0.0.1', VIGIL_DATA_DIR: dataDir, LOG_LEVEL: 'warn', JWT_SECRET: 'fleet-test-secret-'.padEnd(40, 'x'), VIGIL_FLEET_MAX_PENDING_RECORDS: '320' });
    const url = (await serve.waitFor(/listening on (http:\/\/\S+)/))[1]!;
    expect(serve.stderr).toContain(`ingesting into ${SHARDS} streams`);
    const call = async (method: string, path: string, opts: { key?: string; json?: unknown; text?: string } = {}): Promise<{ status: number; body: any }> => {
      const headers: Record<string, string> = {};
      if (opts.key) headers['x-api-key'] = opts.key;
      if (opts.json !== undefined) headers['content-type'] = 'application/json';
      if (opts.text !== undefined) headers['content-type'] = 'text/plain';
      const res = await fetch(url + path, { method, headers, ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : opts.text !== undefined ? { body: opts.text } : {}) });
      const text = await res.text();
      return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
    };
    const reg = await call('POST', '/api/auth/register', { json: { name: 'fleet', password: 'correct horse battery' } });
    expect(reg.status).toBe(201);
    const key = reg.body.apiKey as string;
    // no worker yet: the batches wait in the stream, and the answer means Redis has them
    for (const chunk of [normalLines(300).join('\n'), errorBurst(20).join('\n')]) expect((await call('POST', '/api/ingest?source=app', { key, text: chunk })).status).toBe(200);
    const refused = await call('POST', '/api/ingest?source=app', { key, text: 'one line too many' });
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'VIGIL_INGEST_QUEUE_FULL' } } });
    await until('the lag to show', async () => /vigil_queue_lag_records \d+/.test((await call('GET', '/metrics')).body) && (await call('GET', '/healthz')).body.pipeline?.stream?.undelivered === 2, 10_000);
    const health = await call('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body.pipeline).toMatchObject({ ok: true, mode: 'fleet', redis: { ok: true } });

    const worker = vigil('fleet-worker', 'worker', { ...f.env, VIGIL_WORKER_NAME: 'fw', VIGIL_WORKER_METRICS_PORT: '0', HOST: '127.0.0.1' });
    const workerUrl = (await worker.waitFor(/worker metrics on (http:\/\/\S+)\/metrics/))[1]!;
    let incident: any;
    await until('the incident', async () => {
      incident = (await call('GET', '/api/incidents', { key })).body.incidents?.[0];
      return incident !== undefined;
    }, 20_000);
    expect(incident).toMatchObject({ source: 'app', status: 'open', title: 'connection refused to <*> after <*> retries' });
    // the worker's own endpoint: what it processed, the shards it holds, its health
    const workerMetrics = await (await fetch(`${workerUrl}/metrics`)).text();
    expect(workerMetrics).toMatch(/^vigil_processed_records_total 320$/m);
    expect(workerMetrics).toMatch(/^vigil_worker_shards 4$/m);
    expect(workerMetrics).toMatch(/^vigil_worker_entries_total\{outcome="processed"\} 2$/m);
    expect(workerMetrics).toMatch(/^vigil_incident_events_total\{kind="created"\} [1-9]/m);
    const workerHealth = await fetch(`${workerUrl}/healthz`);
    expect(workerHealth.status).toBe(200);
    expect(await workerHealth.json()).toMatchObject({ ok: true, worker: 'fw', shards: [0, 1, 2, 3] });
    expect((await fetch(`${workerUrl}/other`)).status).toBe(404);
    // the workers caught up (acknowledged at their checkpoint): the fleet takes batches again
    await until('ingestion to be accepted again', async () => (await call('GET', '/healthz')).body.pipeline?.stream?.pendingRecords === 0, 20_000);

    const live = await SseClient.open(`${url}/api/incidents/stream`, { 'x-api-key': key });
    const closed = await call('POST', `/api/incidents/${incident.id}/close`, { key });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ id: incident.id, status: 'closed' });
    // the live feed hears of it once, from the worker that applied it (so also when the request
    // stopped waiting before a busy worker got there)
    const statusEvents = (): { data: any }[] => live.of('incident').filter((e) => e.data.kind === 'status');
    await live.until(() => statusEvents().length > 0, 10_000, 'the status event');
    await sleep(300);
    expect(statusEvents()).toHaveLength(1);
    expect(statusEvents()[0]!.data).toMatchObject({ kind: 'status', by: 'api_key', incident: { id: incident.id, status: 'closed' } });
    live.close();
    // the worker's own copy is closed too: its next flushes (more traffic) never put the old status back
    expect((await call('POST', '/api/ingest?source=app', { key, text: normalLines(100, Date.UTC(2026, 0, 15, 10, 30, 0)).join('\n') })).status).toBe(200);
    await until('the worker to store the new lines', async () => (await call('GET', '/api/templates?source=app', { key })).body.templates?.[0]?.count === 400, 20_000);
    expect((await call('GET', `/api/incidents/${incident.id}`, { key })).body).toMatchObject({ status: 'closed', occurrences: incident.occurrences });
    expect((await call('POST', `/api/incidents/${incident.id}/reopen`, { key })).body.status).toBe('open');
    expect((await call('POST', '/api/incidents/00000000-0000-4000-8000-000000000000/close', { key })).status).toBe(404);

    // no worker: the request stops waiting (503) but the change is queued; the worker that applies
    // it later stores it and tells the live feed
    expect((await worker.stop('SIGTERM')).code).toBe(0);
    const live2 = await SseClient.open(`${url}/api/incidents/stream`, { 'x-api-key': key });
    const pending = await call('POST', `/api/incidents/${incident.id}/ignore`, { key });
    expect(pending).toMatchObject({ status: 503, body: { error: { code: 'VIGIL_STATUS_PENDING' } } });
    const worker2 = vigil('fleet-worker-2', 'worker', { ...f.env, VIGIL_WORKER_NAME: 'fw2' });
    const ignoredEvent = await live2.until(() => live2.of('incident').find((e) => e.data.kind === 'status'), 20_000, 'the delayed status event');
    expect(ignoredEvent.data).toMatchObject({ by: 'api_key', incident: { id: incident.id, status: 'ignored' } });
    expect((await call('GET', `/api/incidents/${incident.id}`, { key })).body.status).toBe('ignored');
    live2.close();

    expect((await worker2.stop('SIGTERM')).code).toBe(0);
    // (a stream its client dropped can leave a connection open that only the server's 5 s close
    // grace ends — see serve-e2e's test of it; waiting for the server to see the streams go keeps
    // this test quick)
    await until('the streams to close', async () => /^vigil_incident_streams 0$/m.test((await call('GET', '/metrics')).body as string), 5_000);
    const served = await serve.stop('SIGTERM');
    expect(served.code, serve.stderr).toBe(0);
  });

  it('vigil worker names what is missing', async () => {
    const p = vigil('bad-worker', 'worker', { DATABASE_URL: '', REDIS_URL: '' });
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toMatch(/^vigil: VIGIL_CONFIG_INVALID: DATABASE_URL and REDIS_URL: required by vigil worker/);
  });
});
