/**
 * One measurement, in its own process: `node bench/mine-worker.mjs [--floor] FILE...`.
 *
 * mine:   each file is one source with its own StreamMiner (parse + mask + mine, no output); all
 *         miners stay alive until the end, as in a service holding one miner per source.
 * --floor: the same read loop, but each line is only split into white-space tokens.
 *
 * Imports Vigil from ../dist/, or from $VIGIL_BENCH_DIST (bench/run.mjs points it at a snapshot of
 * dist/ taken at start, so a rebuild during the bench cannot mix two builds in one report).
 *
 * Prints one JSON line: { mode, lines, seconds, linesPerSec, cpuSeconds, cpuLinesPerSec, load1,
 * peakRssMB, baseRssMB, templates, templatesBySource }. Time covers reading and processing only
 * (not module loading). cpuSeconds is the process's CPU time over the same span (user + system, all
 * its threads: the JIT compiler and GC helpers too): on a machine shared with other work, wall time
 * includes waiting for a core and CPU time does not. load1 is the 1-minute load average at the end.
 */
import os from 'node:os';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.VIGIL_BENCH_DIST ? pathToFileURL(resolve(process.env.VIGIL_BENCH_DIST) + '/').href : new URL('../dist/', import.meta.url).href;
const { openInput, readLineBatches } = await import(new URL('adapters/line-source.js', dist).href);
const { StreamMiner } = await import(new URL('core/mine/stream-miner.js', dist).href);

const MAX_LINE_CHARS = 1 << 20; // same as `vigil mine`

const args = process.argv.slice(2);
const floor = args[0] === '--floor';
const files = floor ? args.slice(1) : args;
if (files.length === 0) {
  console.error('usage: node bench/mine-worker.mjs [--floor] FILE...');
  process.exit(2);
}

const maxRssMB = () => process.resourceUsage().maxRSS / 1024;

/** White-space tokenisation only: the least any per-line work could cost. */
function splitTokens(s) {
  const tokens = [];
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13);
    if (space) {
      if (start >= 0) {
        tokens.push(s.slice(start, i));
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  if (start >= 0) tokens.push(s.slice(start));
  return tokens;
}

const baseRssMB = maxRssMB();
const defaultYear = new Date().getUTCFullYear();
const miners = [];
let lines = 0;
let tokens = 0;
const emit = () => {
  lines++;
};

const started = process.hrtime.bigint();
const cpuStarted = process.cpuUsage();
for (const file of files) {
  const input = openInput(file);
  if (floor) {
    for await (const batch of readLineBatches(input, { maxLineChars: MAX_LINE_CHARS })) {
      for (const l of batch) {
        tokens += splitTokens(l.text).length;
        lines++;
      }
    }
  } else {
    const stream = new StreamMiner({ defaultYear });
    miners.push({ name: basename(file).replace(/\.log$/, ''), stream });
    for await (const batch of readLineBatches(input, { maxLineChars: MAX_LINE_CHARS })) {
      for (const l of batch) stream.push(l.text, emit);
    }
    stream.end(emit);
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuStarted);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;

const templatesBySource = Object.fromEntries(miners.map((m) => [m.name, m.stream.miner.templateCount]));
const result = {
  mode: floor ? 'floor' : 'mine',
  lines,
  seconds: Number(seconds.toFixed(3)),
  linesPerSec: Math.round(lines / seconds),
  cpuSeconds: Number(cpuSeconds.toFixed(3)),
  cpuLinesPerSec: Math.round(lines / cpuSeconds),
  load1: Number(os.loadavg()[0].toFixed(2)),
  peakRssMB: Math.round(maxRssMB()),
  baseRssMB: Math.round(baseRssMB),
  templates: floor ? null : Object.values(templatesBySource).reduce((a, b) => a + b, 0),
  templatesBySource: floor ? null : templatesBySource,
  tokens: floor ? tokens : undefined,
};
process.stdout.write(JSON.stringify(result) + '\n');
