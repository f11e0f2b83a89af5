/**
 * mine: parse + mask + mine, no output, over the mixed Loghub corpus (8 sources, each mined by its
 * own StreamMiner). Throughput against the floor (read + split on white space, same read loop),
 * and peak RSS at 1M and 5M lines to show memory stays flat. Every measurement is a fresh process.
 */
import { join } from 'node:path';
import { ensureCorpus } from '../lib/corpus.mjs';
import { median } from '../lib/child.mjs';

export const name = 'mine';
export const title = 'mine — parse + mask + mine, no output (one StreamMiner per source)';

/** [total lines, runs per mode]: 1M is measured several times (median), 5M once (for memory). */
const SIZES = [
  { label: '1M', lines: 1_000_000, runs: Number(process.env.BENCH_RUNS ?? 3) },
  { label: '5M', lines: 5_000_000, runs: 1 },
];

const fmt = (n) => Math.round(n).toLocaleString('en-US');

export async function run(ctx) {
  const worker = join(ctx.benchDir, 'mine-worker.mjs');
  const rows = [];
  for (const size of SIZES) {
    const corpus = ensureCorpus(ctx, size.lines);
    const files = corpus.sources.map((s) => s.file);
    const mine = [];
    const floor = [];
    // alternate floor and mine so drift (thermal, noisy neighbours) hits both alike
    for (let i = 0; i < size.runs; i++) {
      const f = await ctx.runWorker(worker, ['--floor', ...files]);
      floor.push(f);
      ctx.log(`  ${size.label} floor run ${i + 1}/${size.runs}: ${fmt(f.linesPerSec)} lines/s, peak RSS ${f.peakRssMB} MB`);
      const m = await ctx.runWorker(worker, files);
      mine.push(m);
      ctx.log(`  ${size.label} mine  run ${i + 1}/${size.runs}: ${fmt(m.linesPerSec)} lines/s (CPU time: ${fmt(m.cpuLinesPerSec)} lines/s), peak RSS ${m.peakRssMB} MB, ${m.templates} templates, load ${m.load1}`);
      if (m.lines !== corpus.totalLines || f.lines !== corpus.totalLines) {
        throw new Error(`line count mismatch: corpus ${corpus.totalLines}, mine ${m.lines}, floor ${f.lines}`);
      }
    }
    const mineRate = median(mine.map((r) => r.linesPerSec));
    const mineCpuRate = median(mine.map((r) => r.cpuLinesPerSec));
    const floorRate = median(floor.map((r) => r.linesPerSec));
    rows.push({
      corpus: size.label,
      lines: corpus.totalLines,
      sources: corpus.sources.length,
      linesPerSource: corpus.linesPerSource,
      corpusMB: Number((corpus.bytes / 1e6).toFixed(1)),
      runs: size.runs,
      mineLinesPerSec: Math.round(mineRate),
      mineCpuLinesPerSec: Math.round(mineCpuRate),
      load1: mine.map((r) => r.load1),
      floorLinesPerSec: Math.round(floorRate),
      ratioMineToFloor: Number((mineRate / floorRate).toFixed(3)),
      minePeakRssMB: Math.max(...mine.map((r) => r.peakRssMB)),
      floorPeakRssMB: Math.max(...floor.map((r) => r.peakRssMB)),
      baseRssMB: mine[0].baseRssMB,
      mineRunsLinesPerSec: mine.map((r) => r.linesPerSec),
      floorRunsLinesPerSec: floor.map((r) => r.linesPerSec),
      templates: mine[mine.length - 1].templates,
      templatesBySource: mine[mine.length - 1].templatesBySource,
    });
  }

  ctx.table(
    ['corpus', 'lines', 'MB', 'mine lines/s', 'mine lines/CPU-s', 'floor lines/s', 'mine/floor', 'mine peak RSS MB', 'floor peak RSS MB', 'templates'],
    rows.map((r) => [r.corpus, fmt(r.lines), fmt(r.corpusMB), fmt(r.mineLinesPerSec), fmt(r.mineCpuLinesPerSec), fmt(r.floorLinesPerSec), r.ratioMineToFloor.toFixed(2), String(r.minePeakRssMB), String(r.floorPeakRssMB), String(r.templates)]),
  );
  const [small, big] = rows;
  const growth = big.minePeakRssMB - small.minePeakRssMB;
  const range = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
  ctx.print(`mine/floor = mine throughput as a share of the floor (same read loop + white-space split, no parsing).`);
  ctx.print(`lines/CPU-s = lines per second of the process's CPU time (all threads): what the machine's other load does not change as much.`);
  ctx.print(`1-minute load average at the end of each mine run: ${rows.map((r) => `${r.corpus} ${r.load1.join(', ')}`).join('; ')}.`);
  ctx.print(`lines/s = median of ${small.runs} run(s) at 1M (mine ${range(small.mineRunsLinesPerSec)}, floor ${range(small.floorRunsLinesPerSec)}), 1 run at 5M.`);
  ctx.print(`memory: mine peak RSS ${small.minePeakRssMB} MB at 1M lines, ${big.minePeakRssMB} MB at 5M lines (${growth >= 0 ? '+' : ''}${growth} MB for 5× the lines; node baseline ${small.baseRssMB} MB).`);
  ctx.print(`templates by source (1M): ${Object.entries(small.templatesBySource).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return { rows };
}
