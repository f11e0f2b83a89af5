/**
 * The incident stream (`GET /api/incidents/stream`, Server-Sent Events) over real HTTP: the app
 * listens on a free port, the real pipeline runs on an in-memory PGlite, and a streaming fetch
 * client reads the events as a browser's EventSource would.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/adapters/store/open.js';
import type { VigilStore } from '../src/adapters/store/vigil-store.js';
import { buildApp } from '../src/server/app.js';
import { MemoryIncidentFeed, mergeObservers, PipelineFeedPublisher } from '../src/server/incident-feed.js';
import { VigilMetrics } from '../src/server/metrics.js';
import { streamTokenKey } from '../src/server/routes/stream-routes.js';
import { Pipeline } from '../src/worker/pipeline.js';
import { ThreadedPipeline } from '../src/worker/threaded-pipeline.js';
import { MemoryQueue } from '../src/worker/queue.js';
import { errorBurst, normalLines, TEST_LIMITS } from './service-fixtures.js';
import { SseClient } from './sse-client.js';

const SECRET = 'stream-test-secret-'.padEnd(48, 'x');
const COALESCE_MS = 100;
const HEARTBEAT_MS = 150;
const MAX_STREAMS = 3;

interface Service {
  app: Awaited<ReturnType<typeof buildApp>>;
  feed: MemoryIncidentFeed;
  base: string;
  close(): Promise<void>;
}

async function startService(store: VigilStore): Promise<Service> {
  const queue = new MemoryQueue(100_000);
  const metrics = new VigilMetrics({ queue: () => queue.stats(), incidentsByStatus: () => store.incidentCountsByStatus() }, { defaultMetrics: false });
  const feed = new MemoryIncidentFeed();
  const publisher = new PipelineFeedPublisher(feed, { coalesceMs: COALESCE_MS });
  const observer = mergeObservers(metrics.pipelineObserver(), publisher.observer());
  // VIGIL_TEST_PIPELINE_THREAD=1 (test/service-threaded.test.ts): on a worker thread, as `vigil serve` runs it
  const pipeline = process.env.VIGIL_TEST_PIPELINE_THREAD === '1'
    ? new ThreadedPipeline({ store, incidentWindowMs: 120_000, flushIntervalMs: 20, flushMaxRecords: 20_000, snapshotIntervalMs: 30_000, observer, onDeath: (err) => { throw err; } })
    : new Pipeline({ store, now: Date.now, newId: randomUUID, flushIntervalMs: 20, observer });
  const app = await buildApp({
    store, queue, incidents: pipeline, metrics, feed, jwtSecret: SECRET, limits: TEST_LIMITS, loginRateLimitPerMinute: 1_000,
    stream: { heartbeatMs: HEARTBEAT_MS, maxStreamsPerProject: MAX_STREAMS },
  });
  pipeline.start(queue);
  if (pipeline instanceof ThreadedPipeline) await pipeline.ready;
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app, feed, base,
    async close() {
      await app.close();
      queue.close();
      await queue.drained();
      await pipeline.stop();
      publisher.close();
      await feed.close();
    },
  };
}

let store: VigilStore;
let svc: Service;
const clients: SseClient[] = [];

beforeAll(async () => {
  ({ store } = await openStore({}));
  svc = await startService(store);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await svc?.close();
  await store?.close();
});

interface Project {
  id: string;
  key: string;
  session: string;
}

let seq = 0;
async function register(): Promise<Project> {
  const name = `stream-${++seq}`;
  const password = 'correct horse battery';
  const reg = await call('POST', '/api/auth/register', { json: { name, password } });
  expect(reg.status).toBe(201);
  const login = await call('POST', '/api/auth/login', { json: { name, password } });
  return { id: reg.body.project.id, key: reg.body.apiKey, session: login.body.token };
}

async function call(method: string, path: string, opts: { key?: string; session?: string; json?: unknown; text?: string } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (opts.key) headers['x-api-key'] = opts.key;
  if (opts.session) headers.authorization = `Bearer ${opts.session}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.text !== undefined) {
    headers['content-type'] = 'text/plain';
    body = opts.text;
  }
  const res = await fetch(svc.base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function ingest(p: Project, lines: string[]): Promise<void> {
  const r = await call('POST', '/api/ingest?source=web', { key: p.key, text: lines.join('\n') });
  expect(r.status).toBe(200);
}

async function open(path: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const c = await SseClient.open(svc.base + path, headers);
  clients.push(c);
  return c;
}

const openFor = (p: Project, headers: Record<string, string> = {}) => open('/api/incidents/stream', { 'x-api-key': p.key, ...headers });
const incidentEvents = (c: SseClient) => c.of('incident');
const createdIn = (c: SseClient) => incidentEvents(c).find((e) => e.data.kind === 'created');

/**
 * Quiet traffic, then a burst of a new error: one incident. The reply comes once it is stored,
 * so the incident as returned is final; its events were published before the reply.
 */
async function makeIncident(p: Project): Promise<{ id: string; occurrences: number; milestones: number[] }> {
  await ingest(p, [...normalLines(300), ...errorBurst(20)]);
  const list = await call('GET', '/api/incidents', { key: p.key });
  expect(list.body.incidents).toHaveLength(1);
  const one = await call('GET', `/api/incidents/${list.body.incidents[0].id}`, { key: p.key });
  return { id: one.body.id, occurrences: one.body.occurrences, milestones: one.body.milestones.map((m: { occurrences: number }) => m.occurrences) };
}

/** Waits until the stream has every event the incident's milestones stand for (created, then reanalyze). */
async function untilMilestones(s: SseClient, milestones: number[]): Promise<void> {
  const last = milestones.at(-1)!;
  await s.until(() => incidentEvents(s).some((e) => e.data.milestone === last), 10_000, `milestone ${last}`);
}

describe('the incident stream', () => {
  it('sends a created event (then the milestones) once the new incident is stored, so fetching it finds it', async () => {
    const p = await register();
    const s = await openFor(p);
    expect(s.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const ready = await s.until(() => s.of('ready')[0]);
    expect(ready.id).toMatch(/^[a-z0-9]+-0$/);
    expect(s.retryMs).toBe(3_000);

    const stored = await makeIncident(p);
    const created = await s.until(() => createdIn(s), 10_000, 'created');
    expect(created.id).toMatch(/^[a-z0-9]+-1$/);
    expect(created.data).toMatchObject({ kind: 'created', milestone: 1, incident: { id: stored.id, source: 'web', status: 'open', title: 'connection refused to <*> after <*> retries' } });
    expect(created.data.incident).not.toHaveProperty('samples');
    expect(stored.milestones.length).toBeGreaterThan(1);
    await untilMilestones(s, stored.milestones);
    expect(incidentEvents(s).filter((e) => e.data.kind === 'reanalyze').map((e) => e.data.milestone)).toEqual(stored.milestones.slice(1));
    // every event carries the incident as stored when it went out: the last has the final count
    expect(incidentEvents(s).at(-1)!.data.incident.occurrences).toBe(stored.occurrences);
    const ids = s.events.map((e) => Number(e.id!.split('-')[1]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('coalesces a flood of occurrences into at most one update per incident per window, ending with the stored count', async () => {
    const p = await register();
    await ingest(p, normalLines(300));
    const s = await openFor(p);
    // binary lines are always anomalous: every one counts on the same incident
    const batches = 25;
    for (let b = 0; b < batches; b++) await ingest(p, Array.from({ length: 4 }, (_, i) => `\u0000\u0001\u0002 blob ${b}-${i}`));
    const created = await s.until(() => createdIn(s), 10_000, 'created');
    const id = created.data.incident.id;
    const final = await call('GET', `/api/incidents/${id}`, { key: p.key });
    expect(final.body.occurrences).toBe(batches * 4);
    await s.until(() => incidentEvents(s).some((e) => e.data.incident.occurrences === batches * 4), 5_000, 'the final count');
    const updates = incidentEvents(s).filter((e) => e.data.kind === 'updated' && e.data.incident.id === id);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.length).toBeLessThan(batches);
    const times = updates.map((e) => Date.parse(e.data.at));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(COALESCE_MS - 2);
    const counts = incidentEvents(s).map((e) => e.data.incident.occurrences);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it('sends status changes made by people, saying whether a session or a key made them', async () => {
    const p = await register();
    const { id } = await makeIncident(p);
    const s = await openFor(p);
    await s.until(() => s.of('ready')[0]);
    expect((await call('POST', `/api/incidents/${id}/close`, { session: p.session })).status).toBe(200);
    expect((await call('POST', `/api/incidents/${id}/reopen`, { key: p.key })).status).toBe(200);
    expect((await call('POST', `/api/incidents/${id}/ignore`, { key: p.key })).status).toBe(200);
    await s.until(() => incidentEvents(s).length >= 3, 5_000, 'three status events');
    expect(incidentEvents(s).map((e) => [e.data.kind, e.data.by, e.data.incident.id, e.data.incident.status])).toEqual([
      ['status', 'session', id, 'closed'],
      ['status', 'api_key', id, 'open'],
      ['status', 'api_key', id, 'ignored'],
    ]);
  });

  it('never shows a project another project’s events, live or on resume', async () => {
    const a = await register();
    const b = await register();
    const sa = await openFor(a);
    const sb = await openFor(b, {});
    await sb.until(() => sb.of('ready')[0]);
    const stored = await makeIncident(a);
    await untilMilestones(sa, stored.milestones);
    const aIncident = createdIn(sa)!.data.incident.id;
    // B's incident list and stream know nothing of A's
    expect((await call('GET', `/api/incidents/${aIncident}`, { key: b.key })).status).toBe(404);
    expect((await call('POST', `/api/incidents/${aIncident}/close`, { key: b.key })).status).toBe(404);
    await new Promise((r) => setTimeout(r, 200));
    expect(sb.events.map((e) => e.event)).toEqual(['ready']);
    // presenting A's last id to B's stream replays nothing of A's
    const lastA = sa.events.at(-1)!.id!;
    const sb2 = await openFor(b, { 'last-event-id': lastA });
    const first = await sb2.until(() => sb2.events[0]);
    expect(first.event).toBe('reset');
    expect(sb2.events.filter((e) => e.event === 'incident')).toEqual([]);
  });

  it('replays what a reconnecting client missed after its Last-Event-ID, and resets one whose id it cannot place', async () => {
    const p = await register();
    const s1 = await openFor(p);
    const stored = await makeIncident(p);
    const created = await s1.until(() => createdIn(s1), 10_000, 'created');
    await untilMilestones(s1, stored.milestones);
    const seenIds = s1.events.map((e) => e.id);
    const lastSeen = s1.events.at(-1)!.id!;
    s1.close();
    await waitFor(() => svc.feed.subscribers(p.id) === 0);

    const id = created.data.incident.id;
    await call('POST', `/api/incidents/${id}/close`, { key: p.key });
    await call('POST', `/api/incidents/${id}/reopen`, { key: p.key });

    const s2 = await openFor(p, { 'last-event-id': lastSeen });
    await s2.until(() => s2.of('ready')[0]);
    expect(s2.events.map((e) => e.event)).toEqual(['incident', 'incident', 'ready']);
    expect(s2.of('incident').map((e) => e.data.incident.status)).toEqual(['closed', 'open']);
    for (const e of s2.events) expect(seenIds).not.toContain(e.id);
    expect(s2.of('ready')[0]!.data).toEqual({ lastEventId: s2.events[1]!.id, replayed: 2 });

    // ?lastEventId= does the same for a browser opening a new EventSource (which cannot set the header)
    const s3 = await openFor(p, {});
    s3.close();
    const s4 = await open(`/api/incidents/stream?lastEventId=${encodeURIComponent(s2.events[0]!.id!)}`, { 'x-api-key': p.key });
    await s4.until(() => s4.of('ready')[0]);
    expect(s4.of('incident').map((e) => e.data.incident.status)).toEqual(['open']);

    const s5 = await openFor(p, { 'last-event-id': 'somewhere-else-7' });
    const reset = await s5.until(() => s5.of('reset')[0]);
    expect(reset.id).toBe(s2.of('ready')[0]!.id);
    expect(reset.data.reason).toMatch(/not one this feed gave out/);
  });

  it('sends heartbeats and forgets a client once it disconnects', async () => {
    const p = await register();
    const s = await openFor(p);
    await s.until(() => s.comments.filter((c) => c === 'heartbeat').length >= 2, 3_000, 'two heartbeats');
    expect(svc.feed.subscribers(p.id)).toBe(1);
    const metrics = await (await fetch(`${svc.base}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_incident_streams [1-9]/m);
    s.close();
    await waitFor(() => svc.feed.subscribers(p.id) === 0);
  });

  it('holds at most the configured number of streams per project', async () => {
    const p = await register();
    const other = await register();
    const open3 = await Promise.all(Array.from({ length: MAX_STREAMS }, () => openFor(p)));
    const refused = await openFor(p).catch((e: { status: number; body: string }) => e);
    expect(refused).toMatchObject({ status: 429 });
    expect(JSON.parse((refused as { body: string }).body).error.code).toBe('VIGIL_STREAM_LIMIT');
    await openFor(other);
    open3[0]!.close();
    await waitFor(() => svc.feed.subscribers(p.id) === MAX_STREAMS - 1);
    await openFor(p);
  });

  it('wants credentials: none is a 401, and a session or key opens it', async () => {
    const p = await register();
    const none = await fetch(`${svc.base}/api/incidents/stream`);
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe('VIGIL_AUTH_REQUIRED');
    const s = await openFor(p);
    s.close();
    const bySession = await open('/api/incidents/stream', { authorization: `Bearer ${p.session}` });
    await bySession.until(() => bySession.of('ready')[0]);
  });

  it('opens from a browser with a short-lived stream token that is good for nothing else', async () => {
    const p = await register();
    const minted = await call('POST', '/api/auth/stream-token', { session: p.session });
    expect(minted.status).toBe(200);
    expect(minted.body.expiresIn).toBe(60);
    expect(minted.body.url).toBe(`/api/incidents/stream?token=${minted.body.token}`);
    const s = await open(minted.body.url);
    await s.until(() => s.of('ready')[0]);
    expect(svc.feed.subscribers(p.id)).toBe(1);
    // an API key may mint one too (for tools that cannot send headers)
    expect((await call('POST', '/api/auth/stream-token', { key: p.key })).status).toBe(200);

    // not a session
    const asSession = await call('GET', '/api/incidents', { session: minted.body.token });
    expect(asSession.status).toBe(401);
    expect((await call('POST', '/api/keys/rotate', { session: minted.body.token })).status).toBe(401);
    // and a session is not a stream token, nor is an API key
    const sessionInUrl = await fetch(`${svc.base}/api/incidents/stream?token=${p.session}`);
    expect(sessionInUrl.status).toBe(401);
    expect((await fetch(`${svc.base}/api/incidents/stream?token=${p.key}`)).status).toBe(401);
    // expired
    const expired = svc.app.jwt.sign({ sub: p.id, name: '' }, { key: streamTokenKey(SECRET), expiresIn: 60, aud: 'vigil:incident-stream', clockTimestamp: Date.now() - 120_000 });
    const late = await fetch(`${svc.base}/api/incidents/stream?token=${expired}`);
    expect(late.status).toBe(401);
    expect((await late.json()).error).toEqual({ code: 'VIGIL_AUTH_INVALID_TOKEN', message: expect.stringMatching(/expired/) });
  });

  it('keeps stream tokens out of the request log', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const queue = new MemoryQueue(10);
    const metrics = new VigilMetrics({ queue: () => queue.stats(), incidentsByStatus: () => store.incidentCountsByStatus() }, { defaultMetrics: false });
    const app = await buildApp({ store, queue, incidents: { setIncidentStatus: async () => undefined }, metrics, jwtSecret: SECRET, limits: TEST_LIMITS, logger: { level: 'info', stream } });
    const res = await app.inject({ method: 'GET', url: '/api/incidents/stream?lastEventId=x-1&token=abc.def.ghi' });
    expect(res.statusCode).toBe(401);
    await app.close();
    const log = lines.join('');
    expect(log).toContain('token=[redacted]');
    expect(log).not.toContain('abc.def.ghi');
  });

  it('ends open streams when the server closes, so closing never waits on them', async () => {
    const other = await startService(store);
    const reg = await fetch(`${other.base}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'closing', password: 'correct horse battery' }) });
    const key = (await reg.json()).apiKey as string;
    const s = await SseClient.open(`${other.base}/api/incidents/stream`, { 'x-api-key': key });
    await s.until(() => s.of('ready')[0]);
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    await s.until(() => s.ended, 5_000, 'the end of the stream').catch(() => undefined);
    expect(s.ended).toBe(true);
  });
});

async function waitFor(test: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ── a real browser: EventSource cannot send headers, so it opens the stream with a stream token ──

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable) {
  const msg = `incident-stream: Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.VIGIL_REQUIRE_SERVICES === '1') throw new Error(`${msg}; required because VIGIL_REQUIRE_SERVICES=1`);
  console.warn(`${msg}: skipping the EventSource test`);
}

interface Seen {
  id: string;
  kind: string;
  incidentId: string;
}

declare global {
  interface Window {
    vigilSeen: Seen[];
    vigilReady: number;
    vigilStream: EventSource;
  }
}

describe.skipIf(!chromiumAvailable)('the incident stream in headless Chromium', () => {
  it('a page’s EventSource opens it with a stream token, gets the created event, and resumes after its last id', { timeout: 60_000 }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const p = await register();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // any page of the server's origin: the stream is same-origin, as for the dashboard
      await page.goto(`${svc.base}/healthz`);
      const listen = async (url: string): Promise<void> => {
        await page.evaluate((u) => {
          window.vigilSeen ??= [];
          window.vigilReady = 0;
          const es = new EventSource(u);
          es.addEventListener('incident', (e) => {
            const m = e as MessageEvent<string>;
            const d = JSON.parse(m.data) as { kind: string; incident: { id: string } };
            window.vigilSeen.push({ id: m.lastEventId, kind: d.kind, incidentId: d.incident.id });
          });
          es.addEventListener('ready', () => { window.vigilReady++; });
          window.vigilStream = es;
        }, url);
        await page.waitForFunction(() => window.vigilReady > 0, undefined, { timeout: 10_000 });
      };
      const token = async (): Promise<string> => (await call('POST', '/api/auth/stream-token', { session: p.session })).body.url as string;

      await listen(await token());
      const made = await makeIncident(p);
      await page.waitForFunction((n) => window.vigilSeen.length >= n, made.milestones.length, { timeout: 10_000 });
      const live = await page.evaluate(() => window.vigilSeen.splice(0));
      expect(live[0]).toMatchObject({ kind: 'created', incidentId: made.id });
      expect(live.filter((e) => e.kind === 'reanalyze')).toHaveLength(made.milestones.length - 1);

      // the page reconnects with a fresh token and the first id it saw: the rest are replayed
      await page.evaluate(() => window.vigilStream.close());
      await listen(`${await token()}&lastEventId=${encodeURIComponent(live[0]!.id)}`);
      const replayed = await page.evaluate(() => window.vigilSeen.splice(0));
      expect(replayed.map((e) => e.id)).toEqual(live.slice(1).map((e) => e.id));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
