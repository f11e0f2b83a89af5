/**
 * latency: from ingest to the incident appearing in the API, in `vigil serve` (embedded), while
 * background load runs.
 *
 * A fresh server; one project takes the background load (Loghub NDJSON batches of 1,000 paced to
 * BENCH_LATENCY_LOAD lines/s, default 10,000, by 8 clients); another project holds the probes: its
 * source `checkout` is first warmed up (3,000 ordinary lines over the 20 minutes before now, so the
 * new-template detector is past its warm-up), then every ~300 ms one new error is sent — a message
 * made of random words, so each is a template never seen before and opens a new incident. For
 * each probe (BENCH_LATENCY_SAMPLES, default 60), from the moment its request starts:
 *  - api (poll): until GET /api/incidents?q=<its first random word> lists it (polled every 50 ms,
 *    so up to 50 ms of this is the poll interval);
 *  - stream: until its `created` event arrives on GET /api/incidents/stream (published once the
 *    flush storing it has committed; then GET /api/incidents/:id is checked to answer 200);
 *  - ingest reply: until POST /api/ingest answers (it answers once the batch is stored).
 * p50 / p95 / max of each. Target from the issue: p95 ≤ 1 s.
 */
import { call, loghubBatches, percentile, registerProject, startServe } from '../lib/serve.mjs';
import { startLoad } from '../lib/load.mjs';
import { fmt } from '../lib/vigil.mjs';

export const name = 'latency';
export const title = 'latency — ingest → incident visible in the API (poll and SSE), under background load';

const SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 60);
const LOAD = Number(process.env.BENCH_LATENCY_LOAD ?? 10_000);
const POLL_MS = 50;
const GAP_MS = 300;
const PROBE_TIMEOUT_MS = 15_000;
const TARGET_P95_MS = 1_000;

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
function word(rnd, len = 7) {
  let w = '';
  for (let i = 0; i < len; i++) w += LETTERS[Math.floor(rnd() * 26)];
  return w;
}

function seeded(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Reads a Server-Sent Events response; calls onEvent({ id, event, data }). */
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true }));
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const e = { id: undefined, event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) e.id = line.slice(4);
        else if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('data: ')) e.data += line.slice(6);
      }
      if (e.data) onEvent(e);
    }
  }
}

const stats = (xs) => ({ p50: Math.round(percentile(xs, 50)), p95: Math.round(percentile(xs, 95)), max: Math.round(Math.max(...xs)), n: xs.length });

export async function run(ctx) {
  const batches = await loghubBatches(ctx);
  const server = await startServe(ctx, { env: { VIGIL_RATE_LIMIT_PER_MINUTE: '10000000' } });
  let load;
  const controller = new AbortController();
  try {
    const bg = await registerProject(server.url, 'bench-background');
    const probe = await registerProject(server.url, 'bench-probes');

    // warm-up of the probe source: ordinary lines over the 20 minutes before now
    const now = Date.now();
    const warm = [];
    for (let i = 0; i < 3_000; i++) {
      const t = new Date(now - 20 * 60_000 + i * 380).toISOString();
      warm.push(JSON.stringify({ timestamp: t, level: 'info', service: 'checkout', message: `GET /api/cart/${(i * 37) % 997} 200 ${(i * 13) % 90 + 3}ms user=${(i * 7) % 50}` }));
    }
    for (let i = 0; i < warm.length; i += 1_000) {
      const res = await fetch(`${server.url}/api/ingest?source=checkout`, { method: 'POST', headers: { 'x-api-key': probe.key, 'content-type': 'application/x-ndjson' }, body: warm.slice(i, i + 1_000).join('\n') });
      if (res.status !== 200) throw new Error(`warm-up answered ${res.status}: ${await res.text()}`);
    }

    // the probe project's stream
    const created = new Map();
    const stream = await fetch(`${server.url}/api/incidents/stream`, { headers: { 'x-api-key': probe.key, accept: 'text/event-stream' }, signal: controller.signal });
    if (stream.status !== 200) throw new Error(`stream answered ${stream.status}`);
    void readEvents(stream, (e) => {
      if (e.event !== 'incident') return;
      const d = JSON.parse(e.data);
      if (d.kind === 'created') created.set(d.incident.title, { at: performance.now(), id: d.incident.id });
    });

    ctx.log(`  background load: ${fmt(LOAD)} lines/s of Loghub NDJSON (8 clients) in another project`);
    load = startLoad({ url: server.url, key: bg.key, batches, clients: 8, mode: 'ndjson', linesPerSec: LOAD });
    await new Promise((r) => setTimeout(r, 5_000));

    const rnd = seeded(20261121);
    const poll = [];
    const sse = [];
    const reply = [];
    let missed = 0;
    let notFoundAfterEvent = 0;
    const cpu0 = server.cpuSeconds();
    const t0 = performance.now();
    for (let i = 0; i < SAMPLES; i++) {
      const words = [word(rnd), word(rnd), word(rnd), word(rnd)];
      const message = `payment provider ${words[0]} rejected ${words[1]} because ${words[2]} ${words[3]}`;
      const body = JSON.stringify({ timestamp: new Date().toISOString(), level: 'error', service: 'checkout', message });
      const started = performance.now();
      const ingest = fetch(`${server.url}/api/ingest?source=checkout`, { method: 'POST', headers: { 'x-api-key': probe.key, 'content-type': 'application/x-ndjson' }, body })
        .then(async (res) => {
          await res.text();
          reply.push(performance.now() - started);
        });
      let seenPoll;
      while (performance.now() - started < PROBE_TIMEOUT_MS) {
        const r = await call(server.url, 'GET', `/api/incidents?limit=5&q=${words[0]}`, { key: probe.key });
        if (r.status === 200 && r.body.incidents.some((x) => x.title.includes(words[0]))) {
          seenPoll = performance.now() - started;
          break;
        }
        await new Promise((r2) => setTimeout(r2, POLL_MS));
      }
      await ingest;
      const deadline = started + PROBE_TIMEOUT_MS;
      let ev;
      while (!(ev = [...created].find(([title]) => title.includes(words[0]))?.[1]) && performance.now() < deadline) await new Promise((r2) => setTimeout(r2, 5));
      if (seenPoll === undefined || !ev) {
        missed++;
        ctx.log(`  probe ${i + 1}: no incident within ${PROBE_TIMEOUT_MS / 1000} s (poll ${seenPoll !== undefined}, stream ${Boolean(ev)})`);
      } else {
        poll.push(seenPoll);
        sse.push(ev.at - started);
        const check = await call(server.url, 'GET', `/api/incidents/${ev.id}`, { key: probe.key });
        if (check.status !== 200) notFoundAfterEvent++;
      }
      await new Promise((r2) => setTimeout(r2, GAP_MS));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = (server.cpuSeconds() - cpu0) / seconds;
    const loadStats = await load.stop();
    load = undefined;
    const result = {
      samples: SAMPLES,
      missed,
      notFoundAfterEvent,
      backgroundTargetLinesPerSec: LOAD,
      backgroundLinesPerSec: Math.round(loadStats.accepted / loadStats.seconds),
      backgroundRejectedBatches: loadStats.rejectedBatches,
      backgroundLatencyP95Ms: Math.round(percentile(loadStats.latenciesMs, 95)),
      serverCpuCores: Number(cpu.toFixed(2)),
      serverPeakRssMB: Math.round(server.peakRssMB()),
      apiPollMs: stats(poll),
      streamMs: stats(sse),
      ingestReplyMs: stats(reply),
      pollIntervalMs: POLL_MS,
      targetP95Ms: TARGET_P95_MS,
    };
    ctx.table(
      ['from ingest to …', 'p50 ms', 'p95 ms', 'max ms', 'samples'],
      [
        ['incident listed by GET /api/incidents (polled every 50 ms)', ...['p50', 'p95', 'max', 'n'].map((k) => String(result.apiPollMs[k]))],
        ['`created` event on the SSE stream', ...['p50', 'p95', 'max', 'n'].map((k) => String(result.streamMs[k]))],
        ['ingest reply (batch stored)', ...['p50', 'p95', 'max', 'n'].map((k) => String(result.ingestReplyMs[k]))],
      ],
    );
    ctx.print(`background: ${fmt(result.backgroundLinesPerSec)} lines/s accepted (target ${fmt(LOAD)}), ${result.backgroundRejectedBatches} batches rejected, its request p95 ${result.backgroundLatencyP95Ms} ms; server ${result.serverCpuCores} cores, peak RSS ${result.serverPeakRssMB} MB`);
    ctx.print(`probes without an incident: ${missed}; incident not found right after its event: ${notFoundAfterEvent}`);
    ctx.print(`p95 target ${TARGET_P95_MS} ms: ${result.apiPollMs.p95 <= TARGET_P95_MS ? 'met' : 'NOT met'} (API poll), ${result.streamMs.p95 <= TARGET_P95_MS ? 'met' : 'NOT met'} (stream)`);
    return result;
  } finally {
    controller.abort();
    await load?.stop();
    await server.stop();
  }
}
