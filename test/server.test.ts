/**
 * The HTTP API through `inject`, on the real pipeline and an in-memory PGlite: auth, isolation
 * between projects, ingestion limits and partial acceptance, gzip, NDJSON, incident actions.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/adapters/store/open.js';
import type { VigilStore } from '../src/adapters/store/vigil-store.js';
import { errorBurst, normalLines, startService, TEST_LIMITS, type TestService } from './service-fixtures.js';

let store: VigilStore;
let svc: TestService;
let seq = 0;

beforeAll(async () => {
  ({ store } = await openStore({}));
  svc = await startService(store);
});

afterAll(async () => {
  await svc?.close();
  await store?.close();
});

interface Registered {
  id: string;
  name: string;
  apiKey: string;
}

async function register(s: TestService = svc, name = `project-${++seq}`): Promise<Registered> {
  const res = await s.app.inject({ method: 'POST', url: '/api/auth/register', payload: { name, password: 'correct horse battery' } });
  expect(res.statusCode).toBe(201);
  const body = res.json();
  return { id: body.project.id, name, apiKey: body.apiKey };
}

async function login(p: Registered): Promise<string> {
  const res = await svc.app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: p.name, password: 'correct horse battery' } });
  expect(res.statusCode).toBe(200);
  return res.json().token;
}

function ingest(key: string, body: string | Buffer, opts: { source?: string; type?: string; headers?: Record<string, string>; s?: TestService } = {}) {
  return (opts.s ?? svc).app.inject({
    method: 'POST',
    url: `/api/ingest${opts.source ? `?source=${encodeURIComponent(opts.source)}` : ''}`,
    headers: { 'x-api-key': key, 'content-type': opts.type ?? 'text/plain', ...(opts.headers ?? {}) },
    payload: body,
  });
}

const get = (url: string, headers: Record<string, string>) => svc.app.inject({ method: 'GET', url, headers });
const keyHeader = (p: Registered) => ({ 'x-api-key': p.apiKey });

describe('auth', () => {
  it('registers a project once: the key is shown, a second registration of the name is a 409', async () => {
    const res = await svc.app.inject({ method: 'POST', url: '/api/auth/register', payload: { name: 'acme', password: 'correct horse battery', notifications: { email: 'ops@acme.test' } } });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.project).toMatchObject({ name: 'acme', notifications: { email: 'ops@acme.test' } });
    expect(body.apiKey).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
    const again = await svc.app.inject({ method: 'POST', url: '/api/auth/register', payload: { name: 'acme', password: 'another long one' } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ error: { code: 'VIGIL_AUTH_NAME_TAKEN', message: expect.stringContaining('acme') } });
  });

  it('rejects a malformed registration with a JSON error', async () => {
    const res = await svc.app.inject({ method: 'POST', url: '/api/auth/register', payload: { name: 'short-pass', password: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VIGIL_BAD_REQUEST');
    const notJson = await svc.app.inject({ method: 'POST', url: '/api/auth/register', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('VIGIL_BAD_REQUEST');
  });

  it('logs in with the right password only, and the same error for an unknown project', async () => {
    const p = await register();
    expect(await login(p)).toMatch(/^ey/);
    const wrong = await svc.app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: p.name, password: 'wrong password!' } });
    const unknown = await svc.app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: 'nobody-here', password: 'wrong password!' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().error.code).toBe('VIGIL_AUTH_INVALID_CREDENTIALS');
  });

  it('needs a credential on every project route and names what is wrong with a bad one', async () => {
    const p = await register();
    const token = await login(p);
    expect((await get('/api/incidents', {})).json().error.code).toBe('VIGIL_AUTH_REQUIRED');
    const badKey = await get('/api/incidents', { 'x-api-key': 'vgl_not-a-real-key' });
    expect(badKey.statusCode).toBe(401);
    expect(badKey.json().error.code).toBe('VIGIL_AUTH_INVALID_KEY');
    const badToken = await get('/api/incidents', { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad' });
    expect(badToken.statusCode).toBe(401);
    expect(badToken.json().error.code).toBe('VIGIL_AUTH_INVALID_TOKEN');
    expect((await get('/api/incidents', { authorization: `Bearer ${token}` })).statusCode).toBe(200);
    expect((await get('/api/incidents', { authorization: `Bearer ${p.apiKey}` })).statusCode).toBe(200);
    expect((await get('/api/incidents', keyHeader(p))).statusCode).toBe(200);
    // ingestion is for API keys, not sessions
    const bySession = await svc.app.inject({ method: 'POST', url: '/api/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, payload: 'hello' });
    expect(bySession.statusCode).toBe(401);
  });

  it('rotates the API key with a session: the new key works, the old one stops at once', async () => {
    const p = await register();
    const token = await login(p);
    expect((await ingest(p.apiKey, 'warming the key cache')).statusCode).toBe(200);
    const byKey = await svc.app.inject({ method: 'POST', url: '/api/keys/rotate', headers: keyHeader(p) });
    expect(byKey.statusCode).toBe(401);
    const res = await svc.app.inject({ method: 'POST', url: '/api/keys/rotate', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const { apiKey, revoked } = res.json();
    expect(revoked).toBe(1);
    expect(apiKey).not.toBe(p.apiKey);
    const old = await ingest(p.apiKey, 'a line');
    expect(old.statusCode).toBe(401);
    expect(old.json().error.code).toBe('VIGIL_AUTH_INVALID_KEY');
    expect((await ingest(apiKey, 'a line')).statusCode).toBe(200);
  });
});

describe('ingestion', () => {
  it('turns a burst of a new error after quiet traffic into one incident, stored by the time the request is answered', async () => {
    const p = await register();
    const res = await ingest(p.apiKey, [...normalLines(300), ...errorBurst(20)].join('\n') + '\n', { source: 'api' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 320, rejected: 0, errors: [] });
    const list = (await get('/api/incidents', keyHeader(p))).json();
    expect(list.incidents).toHaveLength(1);
    const inc = list.incidents[0];
    expect(inc).toMatchObject({ source: 'api', status: 'open', occurrences: 20, severity: expect.stringMatching(/high|critical/), title: 'connection refused to <*> after <*> retries' });
    expect(inc.samples).toHaveLength(10);
    expect(inc.milestones.map((m: { occurrences: number }) => m.occurrences)).toEqual([1, 5, 10, 20]);
    const templates = (await get('/api/templates?source=api', keyHeader(p))).json().templates;
    expect(templates.map((t: { count: number }) => t.count)).toEqual([300, 20]);
    const vol = (await get('/api/stats/volume?from=2026-01-15T10:00:00Z&to=2026-01-15T11:00:00Z', keyHeader(p))).json();
    expect(vol.minutes.reduce((n: number, m: { records: number }) => n + m.records, 0)).toBe(320);
    expect(vol.minutes.reduce((n: number, m: { anomalies: number }) => n + m.anomalies, 0)).toBe(20);
  });

  it('reads NDJSON records and rejects bad ones alone, with their index and code', async () => {
    const p = await register();
    const lines = [
      JSON.stringify({ message: 'user 1 logged in', timestamp: '2026-01-15T10:00:00Z', level: 'info', service: 'auth', host: 'h1', attributes: { request_id: 'req-000000001' } }),
      '{"message": "broken',
      JSON.stringify({ msg: 'no message key' }),
      JSON.stringify({ message: 'x'.repeat(TEST_LIMITS.maxLineBytes + 10) }),
      '',
      JSON.stringify({ message: 'user 2 logged in', timestamp: 1768471201000, level: 30 }),
      '[1, 2]',
    ];
    const res = await ingest(p.apiKey, lines.join('\n'), { type: 'application/x-ndjson', source: 'auth' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 2, rejected: 4 });
    expect(body.errors.map((e: { index: number; code: string }) => [e.index, e.code])).toEqual([
      [1, 'VIGIL_BAD_REQUEST'], [2, 'VIGIL_BAD_REQUEST'], [3, 'VIGIL_INGEST_LINE_TOO_LONG'], [6, 'VIGIL_BAD_REQUEST'],
    ]);
    const templates = (await get('/api/templates?source=auth', keyHeader(p))).json().templates;
    expect(templates).toEqual([expect.objectContaining({ template: 'user <*> logged in', count: 2, firstSeen: '2026-01-15T10:00:00.000Z' })]);
  });

  it('rejects an over-long text line alone and keeps its neighbours', async () => {
    const p = await register();
    const res = await ingest(p.apiKey, ['first line 1', 'y'.repeat(5000), 'third line 3'].join('\r\n'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 2, rejected: 1, errors: [{ index: 1, code: 'VIGIL_INGEST_LINE_TOO_LONG' }] });
  });

  it('answers 400 with the per-record outcome when no record is acceptable', async () => {
    const p = await register();
    const res = await ingest(p.apiKey, 'not json\n{also not', { type: 'application/x-ndjson' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'VIGIL_BAD_REQUEST' }, accepted: 0, rejected: 2 });
  });

  it('undoes gzip, and refuses a body that is too large compressed or decompressed', async () => {
    const p = await register();
    const gz = gzipSync(Buffer.from(normalLines(50).join('\n')));
    const ok = await ingest(p.apiKey, gz, { headers: { 'content-encoding': 'gzip' }, source: 'gz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().accepted).toBe(50);
    const bomb = gzipSync(Buffer.from(('z'.repeat(100) + '\n').repeat(5000)));
    expect(bomb.length).toBeLessThan(TEST_LIMITS.maxBodyBytes);
    const big = await ingest(p.apiKey, bomb, { headers: { 'content-encoding': 'gzip' } });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('VIGIL_INGEST_BODY_TOO_LARGE');
    const raw = await ingest(p.apiKey, 'a'.repeat(TEST_LIMITS.maxBodyBytes + 1));
    expect(raw.statusCode).toBe(413);
    expect(raw.json().error.code).toBe('VIGIL_INGEST_BODY_TOO_LARGE');
    const garbage = await ingest(p.apiKey, Buffer.from('not gzip at all'), { headers: { 'content-encoding': 'gzip' } });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().error.code).toBe('VIGIL_BAD_REQUEST');
    const br = await ingest(p.apiKey, 'x', { headers: { 'content-encoding': 'br' } });
    expect(br.statusCode).toBe(415);
  });

  it('refuses a request with too many records, and an unknown media type', async () => {
    const p = await register();
    const res = await ingest(p.apiKey, Array.from({ length: TEST_LIMITS.maxRecordsPerRequest + 1 }, (_, i) => `l${i}`).join('\n'));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('VIGIL_INGEST_TOO_MANY_RECORDS');
    const xml = await ingest(p.apiKey, '<log/>', { type: 'application/xml' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe('VIGIL_UNSUPPORTED_MEDIA_TYPE');
    const badSource = await ingest(p.apiKey, 'x', { source: '../../etc' });
    expect(badSource.statusCode).toBe(400);
  });

  it('counts a batch retried with the same Idempotency-Key once', async () => {
    const p = await register();
    const body = normalLines(30).join('\n');
    const headers = { 'idempotency-key': 'batch-0001' };
    const first = await ingest(p.apiKey, body, { headers, source: 'idem' });
    const second = await ingest(p.apiKey, body, { headers, source: 'idem' });
    expect(first.json().batchId).toBe('key:batch-0001');
    expect(second.statusCode).toBe(200);
    const templates = (await get('/api/templates?source=idem', keyHeader(p))).json().templates;
    expect(templates[0].count).toBe(30);
    // the same key in another project is another batch
    const q = await register();
    await ingest(q.apiKey, body, { headers, source: 'idem' });
    expect((await get('/api/templates?source=idem', keyHeader(q))).json().templates[0].count).toBe(30);
  });

  it('limits requests per API key, and login attempts per address, with a 429 and a stable code', async () => {
    const limited = await startService(store, { limits: { ...TEST_LIMITS, rateLimitPerMinute: 3 }, loginRateLimitPerMinute: 3 });
    try {
      const a = await register(limited);
      const b = await register(limited);
      for (let i = 0; i < 3; i++) expect((await ingest(a.apiKey, `line ${i}`, { s: limited })).statusCode).toBe(200);
      const over = await ingest(a.apiKey, 'one too many', { s: limited });
      expect(over.statusCode).toBe(429);
      expect(over.json().error.code).toBe('VIGIL_RATE_LIMITED');
      expect(over.headers['retry-after']).toBeDefined();
      expect((await ingest(b.apiKey, 'another key', { s: limited })).statusCode).toBe(200);
      // login attempts are limited per address: three wrong guesses, then a 429 instead of a fourth answer
      for (let i = 0; i < 3; i++) {
        const guess = await limited.app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: a.name, password: `guess number ${i}` } });
        expect(guess.statusCode).toBe(401);
      }
      const blocked = await limited.app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: a.name, password: 'guess number 4' } });
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().error.code).toBe('VIGIL_RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });
});

describe('incidents', () => {
  let a: Registered;
  let b: Registered;
  let incidentId: string;

  beforeAll(async () => {
    a = await register();
    b = await register();
    await ingest(a.apiKey, [...normalLines(300), ...errorBurst(12)].join('\n'), { source: 'web' });
    incidentId = (await get('/api/incidents', keyHeader(a))).json().incidents[0].id;
  });

  it('never lets another project read or change an incident, its templates or its volume', async () => {
    const tokenB = await login(b);
    for (const headers of [keyHeader(b), { authorization: `Bearer ${tokenB}` }]) {
      expect((await get('/api/incidents', headers)).json().incidents).toEqual([]);
      const one = await get(`/api/incidents/${incidentId}`, headers);
      expect(one.statusCode).toBe(404);
      expect(one.json().error.code).toBe('VIGIL_NOT_FOUND');
      for (const action of ['close', 'ignore', 'reopen']) {
        const res = await svc.app.inject({ method: 'POST', url: `/api/incidents/${incidentId}/${action}`, headers });
        expect(res.statusCode).toBe(404);
      }
      expect((await get('/api/templates', headers)).json().templates).toEqual([]);
      expect((await get('/api/stats/volume?from=2026-01-15T00:00:00Z&to=2026-01-16T00:00:00Z', headers)).json().minutes).toEqual([]);
    }
    expect((await get(`/api/incidents/${incidentId}`, keyHeader(a))).json().status).toBe('open');
    // the same traffic in B makes B's own incident
    await ingest(b.apiKey, [...normalLines(300), ...errorBurst(12)].join('\n'), { source: 'web' });
    const mine = (await get('/api/incidents', keyHeader(b))).json().incidents;
    expect(mine).toHaveLength(1);
    expect(mine[0].id).not.toBe(incidentId);
    expect((await get(`/api/incidents/${incidentId}`, keyHeader(a))).json().occurrences).toBe(12);
  });

  it('closes an incident, reopens it when it recurs, and keeps counting one that is ignored', async () => {
    const close = await svc.app.inject({ method: 'POST', url: `/api/incidents/${incidentId}/close`, headers: keyHeader(a) });
    expect(close.statusCode).toBe(200);
    expect(close.json().status).toBe('closed');
    expect((await get('/api/incidents?status=closed', keyHeader(a))).json().incidents.map((i: { id: string }) => i.id)).toEqual([incidentId]);
    // an hour later the error is back: whichever of its lines the detectors call anomalous count
    await ingest(a.apiKey, errorBurst(3, Date.UTC(2026, 0, 15, 11, 0, 0)).join('\n'), { source: 'web' });
    const reopened = (await get(`/api/incidents/${incidentId}`, keyHeader(a))).json();
    expect(reopened.status).toBe('open');
    expect(reopened.occurrences).toBeGreaterThan(12);
    const ignore = await svc.app.inject({ method: 'POST', url: `/api/incidents/${incidentId}/ignore`, headers: keyHeader(a) });
    expect(ignore.json().status).toBe('ignored');
    await ingest(a.apiKey, [...normalLines(200, Date.UTC(2026, 0, 15, 12, 0, 0)), ...errorBurst(30, Date.UTC(2026, 0, 15, 12, 4, 0))].join('\n'), { source: 'web' });
    const quiet = (await get(`/api/incidents/${incidentId}`, keyHeader(a))).json();
    expect(quiet.status).toBe('ignored');
    expect(quiet.occurrences).toBeGreaterThan(reopened.occurrences);
    // no milestone is recorded while ignored
    expect(quiet.milestones).toEqual(reopened.milestones);
    const reopen = await svc.app.inject({ method: 'POST', url: `/api/incidents/${incidentId}/reopen`, headers: keyHeader(a) });
    expect(reopen.json().status).toBe('open');
    expect((await get('/api/incidents/not-a-uuid', keyHeader(a))).statusCode).toBe(404);
  });

  it('filters and pages the list, and rejects a cursor it did not give out', async () => {
    const list = (await get('/api/incidents?severity=high&q=connection&limit=1', keyHeader(a))).json();
    expect(list.incidents.length).toBeLessThanOrEqual(1);
    const all = (await get('/api/incidents?limit=1', keyHeader(a))).json();
    expect(all.incidents).toHaveLength(1);
    const bad = await get('/api/incidents?cursor=garbage', keyHeader(a));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VIGIL_BAD_REQUEST');
    const badLimit = await get('/api/incidents?limit=100000', keyHeader(a));
    expect(badLimit.statusCode).toBe(400);
  });
});

describe('operations', () => {
  it('reports health, metrics and an OpenAPI document, and answers unknown routes with a JSON 404', async () => {
    const health = await svc.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', storage: { ok: true, kind: 'pglite' }, queue: { ok: true } });
    const metrics = await svc.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    for (const name of ['vigil_ingested_records_total', 'vigil_rejected_records_total{reason="VIGIL_INGEST_LINE_TOO_LONG"}', 'vigil_queue_lag_records', 'vigil_incidents{status="open"}', 'vigil_flush_duration_seconds_bucket']) {
      expect(metrics.body).toContain(name);
    }
    const doc = (await svc.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/auth/register', '/api/auth/login', '/api/keys/rotate', '/api/ingest', '/api/incidents', '/api/incidents/{id}', '/api/incidents/{id}/close', '/api/templates', '/api/stats/volume', '/healthz', '/metrics']));
    const missing = await svc.app.inject({ method: 'GET', url: '/api/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'VIGIL_NOT_FOUND', message: 'no route GET /api/nope' } });
  });
});
