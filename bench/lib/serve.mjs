/**
 * `vigil serve` as a benchmark subject: the CLI from the dist/ snapshot (bench/lib/vigil-cli.mjs,
 * i.e. `node bin/vigil.js serve`) in its own process with a fresh temporary VIGIL_DATA_DIR
 * (embedded PGlite) on a free port; plus the traffic the service sections send it.
 *
 * startServe(ctx, { env, nodeArgs }) resolves to { url, pid, stderr(), rssMB(), peakRssMB(),
 * cpuSeconds(), stop() }. Memory and CPU are read from /proc (Linux): VmRSS, VmHWM (peak RSS) and
 * utime + stime of the server process alone, so the load generator's own work is not counted.
 *
 * loghubBatches(ctx) turns each Loghub-2k sample into records the way a shipper sends them: each
 * line split by Vigil's own line parser (ahead of time, not measured) into message, level,
 * service and host, serialised once; `ndjsonBody(source, k)` builds the k-th 1,000-record NDJSON
 * body of a source with the current time as every record's timestamp (the records are live), and
 * `textBody(source, k)` the same lines raw for text/plain.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { listSamples } from './corpus.mjs';

const CLI = join(dirname(fileURLToPath(import.meta.url)), 'vigil-cli.mjs');
const START_TIMEOUT_MS = 60_000;
const CLK_TCK = 100;

function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMB: NaN, hwmMB: NaN };
  }
}

function procCpuSeconds(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

export async function startServe(ctx, { env = {}, nodeArgs = [] } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-serve-'));
  const proc = spawn(process.execPath, [...nodeArgs, CLI, 'serve'], {
    cwd: ctx.repoRoot,
    env: {
      ...process.env,
      VIGIL_BENCH_DIST: ctx.distDir,
      PORT: '0',
      HOST: '127.0.0.1',
      VIGIL_DATA_DIR: dataDir,
      DATABASE_URL: '',
      JWT_SECRET: 'bench-secret-'.padEnd(48, 'x'),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const url = await new Promise((resolveUrl, reject) => {
    const fail = (err) => {
      proc.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`vigil serve did not start in ${START_TIMEOUT_MS / 1000} s:\n${stderr}`)), START_TIMEOUT_MS);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        proc.stderr.off('data', onData);
        resolveUrl(m[1]);
      }
    };
    proc.stderr.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`vigil serve exited (${signal ?? code}) before listening:\n${stderr}`));
    });
  });
  return {
    url,
    pid: proc.pid,
    dataDir,
    stderr: () => stderr,
    rssMB: () => procStatus(proc.pid).rssMB,
    peakRssMB: () => procStatus(proc.pid).hwmMB,
    cpuSeconds: () => procCpuSeconds(proc.pid),
    /** SIGTERM (a graceful stop: a --cpu-prof profile is written at exit), then removes the data folder. */
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const r = await exited;
      clearTimeout(killer);
      rmSync(dataDir, { recursive: true, force: true });
      return r;
    },
  };
}

/** JSON over HTTP; resolves to { status, body }. */
export async function call(url, method, path, { key, token, json } = {}) {
  const headers = {};
  if (key) headers['x-api-key'] = key;
  if (token) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + path, { method, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

export async function registerProject(url, name) {
  const password = 'correct horse battery staple';
  const reg = await call(url, 'POST', '/api/auth/register', { json: { name, password } });
  if (reg.status !== 201) throw new Error(`register answered ${reg.status}: ${JSON.stringify(reg.body)}`);
  const login = await call(url, 'POST', '/api/auth/login', { json: { name, password } });
  return { id: reg.body.project.id, key: reg.body.apiKey, token: login.body.token };
}

/** A counter from the Prometheus text (summed over labels). */
export async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export const BATCH_RECORDS = 1_000;

export async function loghubBatches(ctx) {
  const dist = pathToFileURL(resolve(ctx.distDir) + '/').href;
  const { detectFormat, LineParser, FORMAT_SAMPLE_LINES } = await import(new URL('core/parse/line-parser.js', dist).href);
  const year = new Date().getUTCFullYear();
  const sources = [];
  for (const s of listSamples(ctx.datasetsDir)) {
    const lines = readFileSync(s.file, 'utf8').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.trim() !== '');
    const parser = new LineParser(detectFormat(lines.slice(0, FORMAT_SAMPLE_LINES), year), year);
    // each record serialised once, without its opening brace: the timestamp is put in front per batch
    const records = lines.map((line) => {
      const { record: r } = parser.parse(line);
      const o = { message: r.message };
      if (r.level) o.level = r.level;
      if (r.component) o.service = r.component;
      if (r.host) o.host = r.host;
      return JSON.stringify(o).slice(1);
    });
    sources.push({ name: s.name, lines, records });
  }
  const slice = (arr, k) => {
    const out = [];
    const start = (k * BATCH_RECORDS) % arr.length;
    for (let i = 0; i < BATCH_RECORDS; i++) out.push(arr[(start + i) % arr.length]);
    return out;
  };
  return {
    sources: sources.map((s) => s.name),
    ndjsonBody(source, k) {
      const s = sources[source];
      const ts = `{"timestamp":"${new Date().toISOString()}",`;
      return slice(s.records, k).map((r) => ts + r).join('\n');
    },
    textBody(source, k) {
      return slice(sources[source].lines, k).join('\n');
    },
  };
}

/** Percentile (nearest rank) of numbers. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
