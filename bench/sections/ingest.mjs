/**
 * ingest: ingestion throughput over HTTP into `vigil serve` in its embedded default (one process:
 * Fastify, the in-process queue, the pipeline, PGlite in a temporary VIGIL_DATA_DIR), as shippers
 * would load it: N concurrent clients, each with one request in flight, POSTing batches of 1,000
 * records of the eight Loghub-2k systems (one source each) to /api/ingest.
 *
 * Every run is a fresh server. After a warm-up (every batch of every source once, then
 * BENCH_INGEST_WARMUP_SECONDS of load, not measured) the clients run for BENCH_INGEST_SECONDS:
 *  - accepted lines/s: records in 200 replies / wall time. A reply comes once the batch is
 *    stored (the service's durability promise), so this is also end-to-end throughput;
 *  - processed lines/s: vigil_processed_records_total (the pipeline's count) over the same time;
 *  - batches rejected (by code: back-pressure 503s, 429s …), request latency p50/p95;
 *  - the server's peak RSS (VmHWM) and CPU (cores busy: its utime+stime / wall time), and lines
 *    processed per second of server CPU time — the number that does not depend on what else
 *    runs on the machine (the 1-minute load average at the end of each run is recorded too).
 * The per-key rate limit is lifted for the run (VIGIL_RATE_LIMIT_PER_MINUTE): it is a policy, not
 * a capacity. The load generator runs in this process and shares the machine's cores.
 *
 * Then, unless BENCH_INGEST_PROFILE=0, one more run of the busiest configuration under
 * `node --cpu-prof`, summarised: where the server's time goes.
 *
 * Target from the issue: ≥ 100,000 lines/s.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeProfile } from '../lib/cpuprofile.mjs';
import { startLoad } from '../lib/load.mjs';
import { BATCH_RECORDS, loghubBatches, metric, percentile, registerProject, startServe } from '../lib/serve.mjs';
import { fmt } from '../lib/vigil.mjs';

export const name = 'ingest';
export const title = 'ingest — HTTP ingestion into `vigil serve` (embedded), NDJSON batches of 1,000 Loghub records';

const TARGET_LINES_PER_SEC = 100_000;
const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 30);
const WARMUP_SECONDS = Number(process.env.BENCH_INGEST_WARMUP_SECONDS ?? 5);
const PROFILE_SECONDS = Number(process.env.BENCH_INGEST_PROFILE_SECONDS ?? 20);
const CONFIGS = (process.env.BENCH_INGEST_CONFIGS ?? 'ndjson:4,ndjson:16,ndjson:64,text:64').split(',').map((c) => {
  const [mode, clients] = c.split(':');
  return { mode, clients: Number(clients) };
});
const SERVER_ENV = { VIGIL_RATE_LIMIT_PER_MINUTE: '10000000' };

/** The stages whose inclusive time the profile reports. */
const STAGES = [
  ['HTTP: Fastify routing, auth, replies (fastify + @fastify)', (f) => /node_modules\/(fastify|@fastify)\//.test(f.url)],
  ['HTTP ingest route: body → records (ingest-body, JSON.parse)', (f) => /dist\/server\/(ingest-body|routes\/ingest-routes)\.js$/.test(f.url)],
  ['pipeline: process (everything per record below)', (f) => f.functionName === 'process' && /dist\/worker\/pipeline\.js$/.test(f.url)],
  ['  header parsing of text lines (LineParser.parse)', (f) => f.functionName === 'parse' && /dist\/core\/parse\/line-parser\.js$/.test(f.url)],
  ['  masking + mining (TemplateMiner.add)', (f) => f.functionName === 'add' && /dist\/core\/mine\/miner\.js$/.test(f.url)],
  ['  detectors (Detector.observe)', (f) => f.functionName === 'observe' && /dist\/core\/detect\//.test(f.url)],
  ['  decision (decide)', (f) => f.functionName === 'decide' && /dist\/core\/analyze\/decision\.js$/.test(f.url)],
  ['  incidents (IncidentTracker.observe)', (f) => f.functionName === 'observe' && /dist\/core\/incidents\/tracker\.js$/.test(f.url)],
  ['hand-over between threads: batches in columns (thread-codec)', (f) => /dist\/worker\/thread-codec\.js$/.test(f.url)],
  ['store: PGlite (JS + WASM), flushes and queries', (f) => /@electric-sql\/pglite|^wasm:/.test(f.url)],
  ['prom-client (metrics)', (f) => /node_modules\/prom-client/.test(f.url)],
];

const threadOf = (file) => Number(file.split('.')[4] ?? 0);

async function measure(ctx, batches, { mode, clients, seconds, nodeArgs = [] }) {
  const server = await startServe(ctx, { env: SERVER_ENV, nodeArgs });
  try {
    const project = await registerProject(server.url, `bench-${mode}-${clients}`);
    // every batch of every source once, in order: formats and templates are learned
    for (let s = 0; s < batches.sources.length; s++) {
      for (let k = 0; k < 2; k++) {
        const res = await fetch(`${server.url}/api/ingest?source=${batches.sources[s]}`, { method: 'POST', headers: { 'x-api-key': project.key, 'content-type': mode === 'ndjson' ? 'application/x-ndjson' : 'text/plain' }, body: mode === 'ndjson' ? batches.ndjsonBody(s, k) : batches.textBody(s, k) });
        if (res.status !== 200) throw new Error(`warm-up batch answered ${res.status}: ${await res.text()}`);
      }
    }
    if (WARMUP_SECONDS > 0) await startLoad({ url: server.url, key: project.key, batches, clients, durationMs: WARMUP_SECONDS * 1000, mode }).done;

    const processed0 = await metric(server.url, 'vigil_processed_records_total');
    const cpu0 = server.cpuSeconds();
    let peakRss = server.rssMB();
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, server.rssMB()); }, 500);
    const t0 = performance.now();
    const windowFromUs = Number(process.hrtime.bigint() / 1000n);
    const load = await startLoad({ url: server.url, key: project.key, batches, clients, durationMs: seconds * 1000, mode }).done;
    const wall = (performance.now() - t0) / 1000;
    const windowToUs = Number(process.hrtime.bigint() / 1000n);
    clearInterval(sampler);
    const processed = (await metric(server.url, 'vigil_processed_records_total')) - processed0;
    const cpu = server.cpuSeconds() - cpu0;
    const lat = load.latenciesMs;
    return {
      mode, clients,
      seconds: Number(wall.toFixed(1)),
      acceptedLinesPerSec: Math.round(load.accepted / wall),
      processedLinesPerSec: Math.round(processed / wall),
      accepted: load.accepted,
      processed,
      requests: load.requests,
      rejectedBatches: load.rejectedBatches,
      rejectedByCode: load.byCode,
      rejectedRecords: load.rejectedRecords,
      latencyP50Ms: Math.round(percentile(lat, 50)),
      latencyP95Ms: Math.round(percentile(lat, 95)),
      serverCpuCores: Number((cpu / wall).toFixed(2)),
      // contention-proof: what one core of server CPU time gets through
      linesPerServerCpuSecond: Math.round(processed / cpu),
      loadAverage1m: Number(loadavg()[0].toFixed(2)),
      serverPeakRssMB: Math.round(Math.max(server.peakRssMB(), peakRss)),
      serverRssDuringMB: Math.round(peakRss),
      pendingAtEnd: await metric(server.url, 'vigil_queue_lag_records'),
      window: { fromUs: windowFromUs, toUs: windowToUs },
    };
  } finally {
    const r = await server.stop();
    if (r.code !== 0 && r.signal !== null) ctx.log(`  server exited with ${r.signal ?? r.code}:\n${server.stderr().slice(-2000)}`);
  }
}

export async function run(ctx) {
  const batches = await loghubBatches(ctx);
  ctx.log(`  sources: ${batches.sources.join(', ')}; ${BATCH_RECORDS} records per batch`);
  const rows = [];
  for (const c of CONFIGS) {
    const r = await measure(ctx, batches, { ...c, seconds: SECONDS });
    rows.push(r);
    ctx.log(`  ${c.mode} × ${c.clients} clients: ${fmt(r.acceptedLinesPerSec)} lines/s accepted, ${fmt(r.processedLinesPerSec)} processed, ${r.rejectedBatches} batches rejected, p95 ${r.latencyP95Ms} ms, server ${r.serverCpuCores} cores, peak RSS ${r.serverPeakRssMB} MB`);
  }
  ctx.table(
    ['body', 'clients', 'accepted lines/s', 'processed lines/s', 'batches (rejected)', 'latency p50/p95 ms', 'server CPU cores', 'lines per server CPU-s', 'server peak RSS MB', 'load avg'],
    rows.map((r) => [r.mode, String(r.clients), fmt(r.acceptedLinesPerSec), fmt(r.processedLinesPerSec), `${fmt(r.requests)} (${r.rejectedBatches})`, `${r.latencyP50Ms} / ${r.latencyP95Ms}`, r.serverCpuCores.toFixed(2), fmt(r.linesPerServerCpuSecond), String(r.serverPeakRssMB), r.loadAverage1m.toFixed(1)]),
  );
  const best = rows.reduce((a, b) => (b.acceptedLinesPerSec > a.acceptedLinesPerSec ? b : a));
  ctx.print(`best: ${fmt(best.acceptedLinesPerSec)} lines/s (${best.mode}, ${best.clients} clients); target ${fmt(TARGET_LINES_PER_SEC)} lines/s: ${best.acceptedLinesPerSec >= TARGET_LINES_PER_SEC ? 'met' : 'NOT met'}`);
  for (const r of rows) if (r.rejectedBatches > 0) ctx.print(`rejected (${r.mode} × ${r.clients}): ${JSON.stringify(r.rejectedByCode)}`);

  let profile = null;
  if (process.env.BENCH_INGEST_PROFILE !== '0') {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-prof-'));
    const busiest = CONFIGS.find((c) => c.mode === best.mode && c.clients === best.clients);
    ctx.log(`  profiling ${busiest.mode} × ${busiest.clients} clients for ${PROFILE_SECONDS} s under --cpu-prof …`);
    const r = await measure(ctx, batches, { ...busiest, seconds: PROFILE_SECONDS, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    // one profile per thread: CPU.<date>.<pid>.<thread id>.<seq>.cpuprofile (0: the main thread)
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort((a, b) => threadOf(a) - threadOf(b));
    if (files.length === 0) throw new Error(`no profile written in ${dir}`);
    const threads = files.map((file) => ({
      thread: threadOf(file) === 0 ? 'main thread' : `thread ${threadOf(file)} (pipeline)`,
      ...summarizeProfile(join(dir, file), { root: ctx.repoRoot, stages: STAGES, topN: 25, ...r.window }),
    }));
    rmSync(dir, { recursive: true, force: true });
    const lines = r.processed;
    profile = { run: r, threads };
    for (const t of threads) {
      ctx.print(`\nprofile of the server's ${t.thread} over the measured ${PROFILE_SECONDS} s (${busiest.mode} × ${busiest.clients} clients; ${fmt(r.acceptedLinesPerSec)} lines/s while profiled): busy ${fmt(t.busyMs)} ms of ${fmt(t.totalMs)} ms (${((t.busyMs * 1000) / lines).toFixed(2)} µs per record)`);
      ctx.table(['self time by area', 'ms', 'µs per record', 'share of busy'], t.areas.map((a) => [a.area, fmt(a.ms), ((a.ms * 1000) / lines).toFixed(2), `${(a.share * 100).toFixed(1)}%`]));
      ctx.print('');
      ctx.table(['stage (inclusive)', 'ms', 'µs per record', 'share of busy'], t.inclusive.map((a) => [a.stage, fmt(a.ms), ((a.ms * 1000) / lines).toFixed(2), `${(a.share * 100).toFixed(1)}%`]));
      ctx.print('');
      ctx.table(['function (self time)', 'where', 'ms', 'share'], t.top.map((x) => [x.fn, x.where, fmt(x.ms), `${(x.share * 100).toFixed(1)}%`]));
    }
  }
  return { targetLinesPerSec: TARGET_LINES_PER_SEC, secondsPerRun: SECONDS, warmupSeconds: WARMUP_SECONDS, batchRecords: BATCH_RECORDS, rows, profile };
}
