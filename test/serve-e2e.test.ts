/**
 * `vigil serve` end to end: the built CLI (`npm run build` first, as `npm test` does) as a real
 * process on a free port with a fresh data folder. Register, send quiet traffic and then a burst of
 * a new error, wait for the incident; stop the process (SIGTERM, and in the second test SIGKILL),
 * start it again on the same folder: the incident, its count and the templates are still there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorBurst, normalLines } from './service-fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'vigil.js');
const START_TIMEOUT_MS = 40_000;
const INCIDENT_TIMEOUT_MS = 10_000;

class Server {
  stderr = '';
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    stderrSoFar: string,
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {
    this.stderr = stderrSoFar;
    this.exited = exited;
    proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
  }

  static start(dataDir: string, env: Record<string, string> = {}): Promise<Server> {
    const proc = spawn(process.execPath, [BIN, 'serve'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', VIGIL_DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '', JWT_SECRET: '', VIGIL_PIPELINE_THREAD: '', VIGIL_PIPELINE_THREAD_MAX_HEAP_MB: '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    return new Promise((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`vigil serve did not start within ${START_TIMEOUT_MS} ms; stderr:\n${err}`));
      }, START_TIMEOUT_MS);
      const onData = (d: Buffer): void => {
        err += d.toString();
        const m = /listening on (http:\/\/[^\s]+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          proc.stderr!.off('data', onData);
          resolve(new Server(proc, m[1]!, err, exited));
        }
      };
      proc.stderr!.on('data', onData);
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`vigil serve exited (code ${code}, signal ${signal}) before listening; stderr:\n${err}`));
      });
    });
  }

  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.proc.kill(signal);
    return this.exited;
  }

  /** Resolves when the process ends by itself. */
  ended(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  async call(method: string, path: string, opts: { key?: string; token?: string; json?: unknown; text?: string } = {}): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {};
    if (opts.key) headers['x-api-key'] = opts.key;
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.text !== undefined) {
      headers['content-type'] = 'text/plain';
      body = opts.text;
    }
    const res = await fetch(this.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    return { status: res.status, body: await res.json() };
  }
}

const dirs: string[] = [];
const running: Server[] = [];

afterAll(async () => {
  for (const s of running) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, env: Record<string, string> = {}): Promise<Server> {
  const s = await Server.start(dir, env);
  running.push(s);
  return s;
}

/** Registers, sends 300 quiet lines in three requests and a burst of 20 errors, waits for the incident. */
async function feed(s: Server): Promise<{ key: string; token: string; incident: any }> {
  const reg = await s.call('POST', '/api/auth/register', { json: { name: 'e2e', password: 'correct horse battery' } });
  expect(reg.status).toBe(201);
  const key = reg.body.apiKey as string;
  const login = await s.call('POST', '/api/auth/login', { json: { name: 'e2e', password: 'correct horse battery' } });
  expect(login.status).toBe(200);
  const lines = normalLines(300);
  for (let i = 0; i < 300; i += 100) {
    const r = await s.call('POST', '/api/ingest?source=app', { key, text: lines.slice(i, i + 100).join('\n') });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(100);
  }
  const burst = await s.call('POST', '/api/ingest?source=app', { key, text: errorBurst(20).join('\n') });
  expect(burst.body.accepted).toBe(20);
  const deadline = Date.now() + INCIDENT_TIMEOUT_MS;
  for (;;) {
    const list = await s.call('GET', '/api/incidents', { key });
    if (list.body.incidents.length > 0) return { key, token: login.body.token, incident: list.body.incidents[0] };
    if (Date.now() > deadline) throw new Error('no incident within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('vigil serve', () => {
  it('refuses a bad configuration with the variable named, before touching any data', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: { ...process.env, PORT: 'eighty', VIGIL_DATA_DIR: join(tmpdir(), 'vigil-never-created') }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vigil: VIGIL_CONFIG_INVALID: PORT: expected a whole number/);
  });

  it('keeps incidents, counts, templates and sessions across a graceful restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-serve-'));
    dirs.push(dir);
    const first = await start(dir);
    const { key, token, incident } = await feed(first);
    expect(incident).toMatchObject({ source: 'app', status: 'open', title: 'connection refused to <*> after <*> retries' });
    expect(incident.occurrences).toBeGreaterThanOrEqual(10);
    const health = await first.call('GET', '/healthz');
    expect(health.body.status).toBe('ok');

    const exit = await first.stop('SIGTERM');
    expect(exit.code).toBe(0);
    expect(first.stderr).toContain('vigil: stopped');

    const second = await start(dir);
    // one process per data folder
    const third = spawnSync(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', VIGIL_DATA_DIR: dir }, encoding: 'utf8', timeout: 20_000 });
    expect(third.status).toBe(2);
    expect(third.stderr).toContain('VIGIL_DATA_DIR_LOCKED');
    const again = await second.call('GET', `/api/incidents/${incident.id}`, { key });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: incident.id, occurrences: incident.occurrences, status: 'open' });
    // the session from before the restart still works: the generated secret was kept
    expect((await second.call('GET', '/api/incidents', { token })).status).toBe(200);
    const templates = (await second.call('GET', '/api/templates?source=app', { key })).body.templates;
    expect(templates.map((t: { count: number }) => t.count)).toEqual([300, 20]);
    // the miner came back from its snapshot: a known line joins its template, no new one appears
    await second.call('POST', '/api/ingest?source=app', { key, text: normalLines(1, Date.UTC(2026, 0, 15, 11, 0, 0))[0]! });
    const after = (await second.call('GET', '/api/templates?source=app', { key })).body.templates;
    expect(after.map((t: { templateId: string; count: number }) => [t.templateId, t.count])).toEqual([[templates[0].templateId, 301], [templates[1].templateId, 20]]);
    expect((await second.stop('SIGTERM')).code).toBe(0);
  });

  it('stops within its grace period, not its 20 s timeout, after a live-stream client went away', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-sse-'));
    dirs.push(dir);
    const s = await start(dir);
    const reg = await s.call('POST', '/api/auth/register', { json: { name: 'sse', password: 'correct horse battery' } });
    // a Node fetch client that reads the stream a little and goes away (seen to leave a connection
    // the server would wait on forever)
    const ac = new AbortController();
    const res = await fetch(`${s.url}/api/incidents/stream`, { headers: { 'x-api-key': reg.body.apiKey as string, accept: 'text/event-stream' }, signal: ac.signal });
    await res.body!.getReader().read();
    ac.abort();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const exit = await s.stop('SIGTERM');
    expect(exit.code, s.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(s.stderr).toContain('vigil: stopped');
  });

  it('loses nothing acknowledged when killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-serve-kill-'));
    dirs.push(dir);
    const first = await start(dir);
    const { key, incident } = await feed(first);
    // every ingest above was answered: its batch was stored before the answer
    const before = (await first.call('GET', `/api/incidents/${incident.id}`, { key })).body;
    const exit = await first.stop('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');

    const second = await start(dir);
    const got = await second.call('GET', `/api/incidents/${incident.id}`, { key });
    expect(got.status).toBe(200);
    expect(got.body.occurrences).toBe(before.occurrences);
    const templates = (await second.call('GET', '/api/templates?source=app', { key })).body.templates;
    expect(templates.map((t: { count: number }) => t.count)).toEqual([300, 20]);
    const vol = (await second.call('GET', '/api/stats/volume?from=2026-01-15T10:00:00Z&to=2026-01-15T11:00:00Z', { key })).body;
    expect(vol.minutes.reduce((n: number, m: { records: number }) => n + m.records, 0)).toBe(320);
    expect((await second.stop('SIGTERM')).code).toBe(0);
  });

  it('runs the pipeline on a thread of its own by default, and on the main thread with VIGIL_PIPELINE_THREAD=0, to the same results', async () => {
    const results = [];
    for (const thread of ['', '0']) {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-serve-thread-'));
      dirs.push(dir);
      const s = await start(dir, { VIGIL_PIPELINE_THREAD: thread });
      const { key, incident } = await feed(s);
      const health = await s.call('GET', '/healthz');
      expect(health.status).toBe(200);
      expect(health.body.pipeline.thread).toBe(thread === '' ? 'running' : undefined);
      const templates = (await s.call('GET', '/api/templates?source=app', { key })).body.templates.map((t: { template: string; count: number }) => [t.template, t.count]);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      const processed = /^vigil_processed_records_total (\d+)/m.exec(metrics)?.[1];
      results.push({ templates, incident: [incident.title, incident.severity], processed });
      expect((await s.stop('SIGTERM')).code).toBe(0);
    }
    expect(results[0]!.processed).toBe('320');
    expect(results[0]).toEqual(results[1]);
  });

  it('exits 1 when the pipeline thread dies, refusing (503) what it had not stored; what was acknowledged survives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-serve-thread-dies-'));
    dirs.push(dir);
    // a heap the pipeline thread outgrows as soon as it must hold thousands of new templates
    const first = await start(dir, { VIGIL_PIPELINE_THREAD_MAX_HEAP_MB: '16' });
    const reg = await first.call('POST', '/api/auth/register', { json: { name: 'dies', password: 'correct horse battery' } });
    const key = reg.body.apiKey as string;
    const ok = await first.call('POST', '/api/ingest?source=app', { key, text: normalLines(50).join('\n') });
    expect(ok.status).toBe(200);
    const word = (): string => Math.random().toString(36).slice(2, 10);
    const refused: { status: number; code: string }[] = [];
    let ended: { code: number | null } | undefined;
    void first.ended().then((e) => { ended = e; });
    for (let i = 0; i < 50 && ended === undefined && refused.length === 0; i++) {
      const text = Array.from({ length: 5_000 }, () => `${word()} ${word()} ${word()} ${word()} ${word()} ${word()}`).join('\n');
      const r = await first.call('POST', `/api/ingest?source=s${i}`, { key, text }).catch(() => undefined);
      if (r && r.status !== 200) refused.push({ status: r.status, code: r.body.error?.code });
    }
    expect(refused[0]).toEqual({ status: 503, code: 'VIGIL_INGEST_UNAVAILABLE' });
    const exit = await first.ended();
    expect(exit.code).toBe(1);
    expect(first.stderr).toMatch(/VIGIL_PIPELINE_THREAD_DIED: the pipeline thread died/);

    const second = await start(dir);
    const templates = (await second.call('GET', '/api/templates?source=app', { key })).body.templates;
    expect(templates.reduce((n: number, t: { count: number }) => n + t.count, 0)).toBe(50);
    expect((await second.stop('SIGTERM')).code).toBe(0);
  });
});
