/**
 * Summaries of a V8 .cpuprofile (`node --cpu-prof`): where the time of a process went.
 *
 * summarizeProfile(path, root) → { totalMs, idleMs, areas: [{ area, ms, share }], top: [{ fn, where,
 * ms, share }], inclusive: [{ fn, ms, share }] }. Shares are of the busy time (total minus idle).
 * Self time is grouped by area — the part of Vigil (or the library, or V8) the code belongs to;
 * `inclusive` is the time spent in and under a few functions that mark the stages of the service.
 * `fromUs`/`toUs` keep the samples of a window only: sample times are V8's monotonic clock in µs,
 * the clock of `process.hrtime` (CLOCK_MONOTONIC on Linux), so another process can name the window.
 */
import { readFileSync } from 'node:fs';

/** [area, test on the script URL] in order; the first that matches wins. */
const AREAS = [
  ['vigil: detectors', (u) => /\/dist\/core\/detect\//.test(u)],
  ['vigil: decision + analyze glue', (u) => /\/dist\/core\/analyze\//.test(u)],
  ['vigil: mine (mask + template)', (u) => /\/dist\/core\/mine\//.test(u)],
  ['vigil: parse (header, timestamps, mask)', (u) => /\/dist\/core\/parse\//.test(u)],
  ['vigil: incidents', (u) => /\/dist\/core\/incidents\//.test(u)],
  ['vigil: other core', (u) => /\/dist\/core\//.test(u)],
  ['vigil: pipeline worker', (u) => /\/dist\/worker\//.test(u)],
  ['vigil: HTTP ingest path (server/)', (u) => /\/dist\/server\//.test(u)],
  ['vigil: store adapter', (u) => /\/dist\/adapters\//.test(u)],
  ['PGlite (JS + WASM)', (u) => /@electric-sql\/pglite|^wasm:/.test(u)],
  ['Fastify + plugins', (u) => /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|ajv|toad-cache|fast-jwt|secure-json-parse|process-warning)/.test(u)],
  ['prom-client', (u) => /node_modules\/(prom-client|tdigest|bintrees)/.test(u)],
  ['pino (logging)', (u) => /node_modules\/(pino|sonic-boom|thread-stream)/.test(u)],
  ['other packages', (u) => /node_modules\//.test(u)],
  ['Node: http / net / streams', (u) => /^node:(internal\/)?(http|_http|net|stream|internal\/streams|internal\/http|zlib|buffer|events|internal\/event_target|internal\/webstreams|internal\/url)/.test(u)],
  ['Node: other internals', (u) => /^node:/.test(u)],
];

const SPECIAL = { '(garbage collector)': 'V8: garbage collector', '(program)': 'V8: program (native, compiling, runtime)', '(idle)': 'idle', '(root)': 'idle' };

function areaOf(frame) {
  const special = SPECIAL[frame.functionName];
  if (special && frame.url === '') return special;
  const url = frame.url || '';
  for (const [area, test] of AREAS) if (test(url)) return area;
  if (url === '') return 'V8: builtins (JSON.parse, RegExp, strings …)';
  return 'other';
}

function shortUrl(url, root) {
  if (!url) return '(native)';
  let u = url.replace(/^file:\/\//, '');
  if (root && u.startsWith(root)) u = u.slice(root.length + 1);
  return u.replace(/^bench\/\.corpus\/dist\//, 'dist/').replace(/^.*node_modules\//, '');
}

/**
 * `stages`: [label, test(frame)] — the inclusive time of each (a sample counts once per stage
 * however deep the recursion).
 */
export function summarizeProfile(path, { root, stages = [], topN = 20, fromUs = -Infinity, toUs = Infinity } = {}) {
  const prof = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map();
  for (const n of prof.nodes) byId.set(n.id, n);
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const stageMs = new Map(stages.map(([label]) => [label, 0]));
  let totalMs = 0;
  let idleMs = 0;
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const delta = prof.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs || t > toUs) continue;
    const ms = delta / 1000;
    const node = byId.get(prof.samples[i]);
    if (!node) continue;
    totalMs += ms;
    const area = areaOf(node.callFrame);
    if (area === 'idle') {
      idleMs += ms;
      continue;
    }
    self.set(node.id, (self.get(node.id) ?? 0) + ms);
    if (stages.length > 0) {
      const hit = new Set();
      for (let id = node.id; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id).callFrame;
        for (const [label, test] of stages) if (!hit.has(label) && test(f)) hit.add(label);
      }
      for (const label of hit) stageMs.set(label, stageMs.get(label) + ms);
    }
  }
  const busy = totalMs - idleMs;
  const areas = new Map();
  const fns = new Map();
  for (const [id, ms] of self) {
    const f = byId.get(id).callFrame;
    const area = areaOf(f);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const key = `${f.functionName || '(anonymous)'}\u0000${shortUrl(f.url, root)}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
  }
  const share = (ms) => Number((ms / busy).toFixed(4));
  return {
    totalMs: Math.round(totalMs),
    idleMs: Math.round(idleMs),
    busyMs: Math.round(busy),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, ms]) => ({ area, ms: Math.round(ms), share: share(ms) })),
    top: [...fns].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([k, ms]) => {
      const [fn, where] = k.split('\u0000');
      return { fn, where, ms: Math.round(ms), share: share(ms) };
    }),
    inclusive: stages.map(([label]) => ({ stage: label, ms: Math.round(stageMs.get(label)), share: share(stageMs.get(label)) })),
  };
}
