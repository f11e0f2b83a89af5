/**
 * The load generator of the service sections: `clients` concurrent HTTP clients, each with one
 * request in flight, POSTing 1,000-record batches of the Loghub sources to /api/ingest until
 * `durationMs` is up (or `stop()` is called). Optionally paced to `linesPerSec` in total.
 *
 * A rejected batch (any status but 200) is counted by its error code and the client backs off
 * 100 ms, as a shipper would; it is not retried (so "accepted" counts only what got in).
 */
import { BATCH_RECORDS } from './serve.mjs';

export function startLoad({ url, key, batches, clients, durationMs = Infinity, mode = 'ndjson', linesPerSec, onLatency }) {
  const started = performance.now();
  const deadline = started + durationMs;
  const stats = { requests: 0, accepted: 0, rejectedBatches: 0, rejectedRecords: 0, byCode: {}, latenciesMs: [] };
  let stopped = false;
  let next = 0;
  const type = mode === 'ndjson' ? 'application/x-ndjson' : 'text/plain';
  // pacing: batch n may start at started + n × interval
  const intervalMs = linesPerSec ? (BATCH_RECORDS / linesPerSec) * 1000 : 0;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function client(c) {
    let k = c;
    while (!stopped && performance.now() < deadline) {
      const n = next++;
      if (intervalMs > 0) {
        const wait = started + n * intervalMs - performance.now();
        if (wait > 0) await sleep(wait);
        if (stopped || performance.now() >= deadline) break;
      }
      const source = n % batches.sources.length;
      const body = mode === 'ndjson' ? batches.ndjsonBody(source, k++) : batches.textBody(source, k++);
      const t0 = performance.now();
      let res;
      try {
        res = await fetch(`${url}/api/ingest?source=${batches.sources[source]}`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': type }, body });
      } catch (err) {
        stats.rejectedBatches++;
        stats.byCode[err.cause?.code ?? 'NETWORK'] = (stats.byCode[err.cause?.code ?? 'NETWORK'] ?? 0) + 1;
        await sleep(100);
        continue;
      }
      const text = await res.text();
      const ms = performance.now() - t0;
      stats.requests++;
      stats.latenciesMs.push(ms);
      onLatency?.(ms);
      if (res.status === 200) {
        const r = JSON.parse(text);
        stats.accepted += r.accepted;
        stats.rejectedRecords += r.rejected;
      } else {
        stats.rejectedBatches++;
        let code = `HTTP_${res.status}`;
        try {
          code = JSON.parse(text).error.code;
        } catch {
          // not our JSON
        }
        stats.byCode[code] = (stats.byCode[code] ?? 0) + 1;
        await sleep(100);
      }
    }
  }

  const done = Promise.all(Array.from({ length: clients }, (_, c) => client(c))).then(() => ({ ...stats, seconds: (performance.now() - started) / 1000 }));
  return {
    stats,
    done,
    stop() {
      stopped = true;
      return done;
    },
  };
}
