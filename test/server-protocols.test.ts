/**
 * The shipper protocols and the simulator through the HTTP API (`inject`) on the real pipeline and
 * an in-memory PGlite: OTLP/HTTP JSON, Loki push, the syslog listener of `vigil serve` (a real
 * UDP datagram), and the per-project log simulator.
 */
import dgram from 'node:dgram';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/adapters/store/open.js';
import type { VigilStore } from '../src/adapters/store/vigil-store.js';
import { startSyslogIngest } from '../src/server/syslog-ingest.js';
import { startService, type TestService } from './service-fixtures.js';

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

async function register(): Promise<Registered> {
  const name = `proto-${++seq}`;
  const res = await svc.app.inject({ method: 'POST', url: '/api/auth/register', payload: { name, password: 'correct horse battery' } });
  expect(res.statusCode).toBe(201);
  return { id: res.json().project.id, name, apiKey: res.json().apiKey };
}

const keyHeader = (p: Registered) => ({ 'x-api-key': p.apiKey });
const get = (url: string, headers: Record<string, string>) => svc.app.inject({ method: 'GET', url, headers });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the project's templates of a source until `ok` holds (or about 5 s pass). */
async function templatesOf(p: Registered, source: string, ok: (t: { template: string; count: number }[]) => boolean) {
  let templates: { template: string; count: number }[] = [];
  for (let i = 0; i < 100; i++) {
    templates = (await get(`/api/templates?source=${encodeURIComponent(source)}`, keyHeader(p))).json().templates;
    if (ok(templates)) break;
    await sleep(50);
  }
  return templates;
}

const T = 1768471200000; // 2026-01-15T10:00:00Z
const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** An ExportLogsServiceRequest as the OpenTelemetry JS SDK's http/json exporter writes it. */
function otlpBody(service: string | undefined, n: number) {
  return {
    resourceLogs: [{
      resource: { attributes: [...(service ? [attr('service.name', service)] : []), attr('host.name', 'web-1'), attr('telemetry.sdk.language', 'nodejs')], droppedAttributesCount: 0 },
      scopeLogs: [{
        scope: { name: 'checkout-logger', version: '1.0.0' },
        logRecords: Array.from({ length: n }, (_, i) => ({
          timeUnixNano: String(BigInt(T + i * 1000) * 1_000_000n),
          observedTimeUnixNano: String(BigInt(T + i * 1000) * 1_000_000n),
          severityNumber: 9,
          severityText: 'INFO',
          body: { stringValue: `order ${i} placed for customer ${i * 7}` },
          attributes: [attr('http.route', '/orders')],
          droppedAttributesCount: 0,
          flags: 1,
          traceId: '5b8efff798038103d269b633813fc60c',
          spanId: 'eee19b7ec3c1b174',
        })),
      }],
    }],
  };
}

describe('OTLP/HTTP JSON: POST /v1/logs', () => {
  it('accepts an SDK export, stores it under the service name before answering, and reads gzip', async () => {
    const p = await register();
    const res = await svc.app.inject({ method: 'POST', url: '/v1/logs', headers: { ...keyHeader(p), 'content-type': 'application/json' }, payload: JSON.stringify(otlpBody('checkout', 5)) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    const templates = await templatesOf(p, 'checkout', (t) => t.length > 0);
    expect(templates).toEqual([expect.objectContaining({ template: 'order <*> placed for customer <*>', count: 5 })]);
    // Authorization: Bearer <key>, gzip, and no service.name → source "otlp"
    const gz = await svc.app.inject({ method: 'POST', url: '/v1/logs', headers: { authorization: `Bearer ${p.apiKey}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: gzipSync(JSON.stringify(otlpBody(undefined, 3))) });
    expect(gz.statusCode).toBe(200);
    expect((await templatesOf(p, 'otlp', (t) => t.length > 0))[0]?.count).toBe(3);
  });

  it('makes one batch per service and reports rejected records as a partial success', async () => {
    const p = await register();
    const a = otlpBody('billing', 2);
    const b = otlpBody('search', 2);
    const body = { resourceLogs: [...a.resourceLogs, ...b.resourceLogs] };
    body.resourceLogs[1]!.scopeLogs[0]!.logRecords.push({ ...body.resourceLogs[1]!.scopeLogs[0]!.logRecords[0]!, timeUnixNano: 'not a time' });
    const res = await svc.app.inject({ method: 'POST', url: '/v1/logs', headers: { ...keyHeader(p), 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect(res.statusCode).toBe(200);
    expect(res.json().partialSuccess).toMatchObject({ rejectedLogRecords: 1, errorMessage: expect.stringContaining('VIGIL_INGEST_') });
    expect((await templatesOf(p, 'billing', (t) => t.length > 0))[0]?.count).toBe(2);
    expect((await templatesOf(p, 'search', (t) => t.length > 0))[0]?.count).toBe(2);
  });

  it('answers a wrong key with a 401 JSON error, protobuf with 415, and unreadable JSON with 400', async () => {
    const p = await register();
    const bad = await svc.app.inject({ method: 'POST', url: '/v1/logs', headers: { 'x-api-key': 'vgl_not-a-real-key', 'content-type': 'application/json' }, payload: JSON.stringify(otlpBody('x', 1)) });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toEqual({ error: { code: 'VIGIL_AUTH_INVALID_KEY', message: expect.any(String) } });
    const none = await svc.app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(none.json().error.code).toBe('VIGIL_AUTH_REQUIRED');
    const proto = await svc.app.inject({ method: 'POST', url: '/v1/logs', headers: { ...keyHeader(p), 'content-type': 'application/x-protobuf' }, payload: Buffer.from([0x0a, 0x02, 0x08, 0x01]) });
    expect(proto.statusCode).toBe(415);
    expect(proto.json().error.code).toBe('VIGIL_INGEST_UNSUPPORTED_MEDIA_TYPE');
    const broken = await svc.app.inject({ method: 'POST', url: '/v1/logs', headers: { ...keyHeader(p), 'content-type': 'application/json' }, payload: '{"resourceLogs": [' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('VIGIL_INGEST_INVALID_JSON');
  });
});

describe('Loki push: POST /loki/api/v1/push', () => {
  it('accepts a push (204) under the service label, and names rejected entries in text (400)', async () => {
    const p = await register();
    const ns = (i: number) => String(BigInt(T + i * 1000) * 1_000_000n);
    const push = { streams: [{ stream: { service_name: 'payments', level: 'info' }, values: [[ns(0), 'charge 1 settled in 12ms'], [ns(1), 'charge 2 settled in 40ms']] }] };
    const res = await svc.app.inject({ method: 'POST', url: '/loki/api/v1/push', headers: { ...keyHeader(p), 'content-type': 'application/json' }, payload: JSON.stringify(push) });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await templatesOf(p, 'payments', (t) => t.length > 0))[0]).toMatchObject({ count: 2 });
    const partial = { streams: [{ stream: { job: 'cron' }, values: [[ns(2), 'job 7 done'], ['yesterday', 'job 8 done']] }] };
    const res2 = await svc.app.inject({ method: 'POST', url: '/loki/api/v1/push', headers: { ...keyHeader(p), 'content-type': 'application/json' }, payload: JSON.stringify(partial) });
    expect(res2.statusCode).toBe(400);
    expect(res2.headers['content-type']).toMatch(/^text\/plain/);
    expect(res2.body).toMatch(/1 of 2 entries rejected/);
    expect((await templatesOf(p, 'cron', (t) => t.length > 0))[0]?.count).toBe(1);
    const bad = await svc.app.inject({ method: 'POST', url: '/loki/api/v1/push', headers: { 'x-api-key': 'vgl_nope', 'content-type': 'application/json' }, payload: JSON.stringify(push) });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.code).toBe('VIGIL_AUTH_INVALID_KEY');
    const proto = await svc.app.inject({ method: 'POST', url: '/loki/api/v1/push', headers: { ...keyHeader(p), 'content-type': 'application/x-protobuf' }, payload: Buffer.from([1, 2, 3]) });
    expect(proto.statusCode).toBe(415);
  });
});

describe('syslog listener', () => {
  it('ingests a UDP datagram under the configured key, as source syslog-<app>', async () => {
    const p = await register();
    await expect(startSyslogIngest({ store, queue: svc.queue, port: 0, host: '127.0.0.1', apiKey: 'vgl_unknown' })).rejects.toThrow(/VIGIL_SYSLOG_API_KEY/);
    const { listener, address } = await startSyslogIngest({ store, queue: svc.queue, port: 0, host: '127.0.0.1', apiKey: p.apiKey });
    try {
      const sock = dgram.createSocket('udp4');
      const msg = Buffer.from('<134>1 2026-01-15T10:00:00.000Z web-1 nginx 4242 - - GET /index.html 200 in 3ms');
      await new Promise<void>((resolve, reject) => sock.send(msg, address.udpPort!, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      sock.close();
      const templates = await templatesOf(p, 'syslog-nginx', (t) => t.length > 0);
      expect(templates[0]).toMatchObject({ count: 1 });
      // (a record counts as accepted once its batch is acknowledged, which can come a moment after
      // the worker has mined it: on a busy machine the template was visible first)
      for (let i = 0; i < 100 && listener.stats().accepted === 0; i++) await sleep(50);
      expect(listener.stats().accepted).toBe(1);
    } finally {
      await listener.stop();
    }
  });
});

describe('log simulator: /api/log-server', () => {
  it('runs per project: ticks ship lines as source simulator, 409 when running, stop ends it', async () => {
    const a = await register();
    const b = await register();
    const start = await svc.app.inject({ method: 'POST', url: '/api/log-server/start', headers: keyHeader(a), payload: { durationMs: 60_000, ratePerSecond: 200, batchIntervalMs: 100, seed: 7 } });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ state: 'running', running: true, seed: 7, logsGenerated: 0 });
    const again = await svc.app.inject({ method: 'POST', url: '/api/log-server/start', headers: keyHeader(a), payload: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('VIGIL_SIMULATOR_RUNNING');
    // each project sees its own simulator
    const other = (await get('/api/log-server/status', keyHeader(b))).json();
    expect(other).toMatchObject({ state: 'idle', running: false, logsGenerated: 0 });

    let first = 0;
    for (let i = 0; i < 60 && first === 0; i++) {
      await sleep(50);
      first = (await get('/api/log-server/status', keyHeader(a))).json().logsGenerated;
    }
    expect(first).toBeGreaterThan(0);
    let later = first;
    for (let i = 0; i < 60 && later <= first; i++) {
      await sleep(50);
      later = (await get('/api/log-server/status', keyHeader(a))).json().logsGenerated;
    }
    expect(later).toBeGreaterThan(first);
    const stopped = await svc.app.inject({ method: 'POST', url: '/api/log-server/stop', headers: keyHeader(a) });
    expect(stopped.statusCode).toBe(200);
    expect(stopped.json()).toMatchObject({ state: 'stopped', running: false });
    const done = stopped.json().logsGenerated;
    await sleep(300);
    const after = (await get('/api/log-server/status', keyHeader(a))).json();
    expect(after.logsGenerated).toBe(done);
    expect(after.logsShipped).toBeGreaterThan(0);
    const templates = await templatesOf(a, 'simulator', (t) => t.length > 0);
    expect(templates.length).toBeGreaterThan(0);
    expect((await get('/api/templates?source=simulator', keyHeader(b))).json().templates).toEqual([]);
  });

  it('completes on its own, rejects bad options and needs a credential', async () => {
    const p = await register();
    const bad = await svc.app.inject({ method: 'POST', url: '/api/log-server/start', headers: keyHeader(p), payload: { batchIntervalMs: 5 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VIGIL_BAD_REQUEST');
    expect((await svc.app.inject({ method: 'GET', url: '/api/log-server/status' })).json().error.code).toBe('VIGIL_AUTH_REQUIRED');
    const start = await svc.app.inject({ method: 'POST', url: '/api/log-server/start', headers: keyHeader(p) });
    expect(start.statusCode).toBe(200);
    await svc.app.inject({ method: 'POST', url: '/api/log-server/stop', headers: keyHeader(p) });
    const short = await svc.app.inject({ method: 'POST', url: '/api/log-server/start', headers: keyHeader(p), payload: { durationMs: 300, batchIntervalMs: 100, ratePerSecond: 100 } });
    expect(short.statusCode).toBe(200);
    let status = short.json();
    for (let i = 0; i < 40 && status.running; i++) {
      await sleep(50);
      status = (await get('/api/log-server/status', keyHeader(p))).json();
    }
    expect(status).toMatchObject({ state: 'completed', running: false });
    expect(status.logsGenerated).toBeGreaterThan(0);
  });
});
