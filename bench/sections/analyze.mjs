/**
 * analyze: `vigil analyze` end to end with every detector on (default configuration) over labelled
 * corpora from `vigil generate` (anomaly rate 0.05) of 1,000,000 and 5,000,000 lines. Each run is
 * a fresh process running the CLI exactly as a user would (`vigil analyze --input FILE --output
 * DIR --quiet`), all six reports written.
 *
 * lines/s (end to end) = input lines / wall time of the whole child process: Node start-up, module
 * loading, reading, detecting and writing summary.json, anomalies.json, the CSV, alerts.txt,
 * report.html and dashboard.png. "pipeline lines/s" is what the CLI itself reports in summary.json
 * (read + detect + stream anomalies, before the reports are rendered).
 * Peak RSS is the child's maxRSS at exit (whole run, reports included); summary.json's peakRssMB
 * is taken before the reports are rendered.
 *
 * Targets from the issue: ≥ 200,000 lines/s end to end at 1M lines; peak RSS flat from 1M to 5M
 * lines, taken here as the 5M peak within 25% of the 1M peak.
 * BENCH_ANALYZE_5M=0 skips the 5M run; BENCH_ANALYZE_RUNS (default 1) repeats the 1M run (median).
 * BENCH_ANALYZE_10M=1 adds a 10M run: state keyed by template grows until its caps (10,000
 * templates by default), which the generated corpora reach between 5M and 10M lines, so 5M vs 10M
 * shows whether memory stays bounded once they are reached (within 10%).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../lib/child.mjs';
import { ensureGenerated, fmt, runVigil } from '../lib/vigil.mjs';

export const name = 'analyze';
export const title = 'analyze — `vigil analyze` end to end, every detector on, 1M vs 5M lines';

const SEED = 20261121;
const RATE = 0.05;
const TARGET_LINES_PER_SEC = 200_000;
const FLAT_FACTOR = 1.25;
const BOUNDED_FACTOR = 1.1;

export async function run(ctx) {
  const sizes = [{ label: '1M', lines: 1_000_000, runs: Math.max(1, Number(process.env.BENCH_ANALYZE_RUNS ?? 1)) }];
  if (process.env.BENCH_ANALYZE_5M !== '0') sizes.push({ label: '5M', lines: 5_000_000, runs: 1 });
  if (process.env.BENCH_ANALYZE_10M === '1') sizes.push({ label: '10M', lines: 10_000_000, runs: 1 });
  const rows = [];
  for (const size of sizes) {
    const corpus = await ensureGenerated(ctx, { lines: size.lines, anomalyRate: RATE, seed: SEED });
    const out = join(ctx.corpusDir, `analyze-out-${size.label}`);
    const runs = [];
    for (let i = 0; i < size.runs; i++) {
      rmSync(out, { recursive: true, force: true });
      const r = await runVigil(ctx, ['analyze', '--input', corpus.log, '--output', out, '--quiet']);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      if (summary.lines.original !== corpus.manifest.lines) throw new Error(`analyze read ${summary.lines.original} lines of ${corpus.log}, the corpus has ${corpus.manifest.lines}`);
      const m = {
        wallSeconds: Number(r.wallSeconds.toFixed(2)),
        linesPerSec: Math.round(summary.lines.original / r.wallSeconds),
        pipelineSeconds: Number(summary.processing.seconds.toFixed(2)),
        pipelineLinesPerSec: summary.processing.linesPerSecond,
        peakRssMB: r.maxRssMB,
        pipelinePeakRssMB: Math.round(summary.processing.peakRssMB),
        cpuSeconds: r.cpuSeconds === null ? null : Number(r.cpuSeconds.toFixed(1)),
        anomalies: summary.anomalies.lines,
        templates: summary.templates.unique,
      };
      runs.push(m);
      ctx.log(`  ${size.label} run ${i + 1}/${size.runs}: ${m.wallSeconds} s, ${fmt(m.linesPerSec)} lines/s end to end (pipeline ${fmt(m.pipelineLinesPerSec)}), peak RSS ${m.peakRssMB} MB, ${fmt(m.anomalies)} anomalies`);
    }
    const byRate = [...runs].sort((a, b) => a.linesPerSec - b.linesPerSec);
    const mid = byRate[byRate.length >> 1];
    rows.push({
      corpus: size.label,
      lines: corpus.manifest.lines,
      corpusMB: Number((JSON.parse(readFileSync(join(corpus.dir, 'bench-key.json'), 'utf8')).sizes['app.log'] / 1e6).toFixed(1)),
      anomalyRate: RATE,
      seed: SEED,
      runs: runs.length,
      linesPerSec: Math.round(median(runs.map((r) => r.linesPerSec))),
      pipelineLinesPerSec: Math.round(median(runs.map((r) => r.pipelineLinesPerSec))),
      wallSeconds: mid.wallSeconds,
      peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
      pipelinePeakRssMB: Math.max(...runs.map((r) => r.pipelinePeakRssMB)),
      anomalies: mid.anomalies,
      templates: mid.templates,
      runsDetail: runs,
    });
  }

  ctx.table(
    ['corpus', 'lines', 'MB', 'wall s', 'lines/s', 'pipeline lines/s', 'peak RSS MB', 'pipeline peak RSS MB', 'anomalies', 'templates'],
    rows.map((r) => [r.corpus, fmt(r.lines), fmt(r.corpusMB), r.wallSeconds.toFixed(1), fmt(r.linesPerSec), fmt(r.pipelineLinesPerSec), String(r.peakRssMB), String(r.pipelinePeakRssMB), fmt(r.anomalies), String(r.templates)]),
  );
  const [small, big, huge] = rows;
  const throughputOk = small.linesPerSec >= TARGET_LINES_PER_SEC;
  ctx.print('lines/s = input lines / wall time of the whole `vigil analyze` process (start-up and all six reports included);');
  ctx.print('pipeline = the CLI\'s own figure in summary.json (read + detect, before the reports are rendered). Peak RSS = the process\'s maxRSS.');
  ctx.print(`${throughputOk ? '✓' : '✗'} end-to-end throughput at 1M lines ≥ ${fmt(TARGET_LINES_PER_SEC)} lines/s (${fmt(small.linesPerSec)}${small.runs > 1 ? `, median of ${small.runs}` : ''})`);
  let flat = null;
  if (big) {
    const growth = big.peakRssMB - small.peakRssMB;
    flat = big.peakRssMB <= small.peakRssMB * FLAT_FACTOR;
    ctx.print(`${flat ? '✓' : '✗'} peak RSS flat: ${small.peakRssMB} MB at 1M lines, ${big.peakRssMB} MB at 5M lines (${growth >= 0 ? '+' : ''}${growth} MB for 5× the lines; flat = within ${Math.round((FLAT_FACTOR - 1) * 100)}%)`);
  } else {
    ctx.print('5M run skipped (BENCH_ANALYZE_5M=0): memory flatness not measured');
  }
  let bounded = null;
  if (big && huge) {
    bounded = huge.peakRssMB <= big.peakRssMB * BOUNDED_FACTOR;
    ctx.print(`${bounded ? '✓' : '✗'} peak RSS bounded once the template caps are reached: ${big.peakRssMB} MB at 5M lines (${fmt(big.templates)} templates), ${huge.peakRssMB} MB at 10M (${fmt(huge.templates)}); within ${Math.round((BOUNDED_FACTOR - 1) * 100)}%`);
  }
  return { target: { linesPerSec: TARGET_LINES_PER_SEC, flatRssFactor: FLAT_FACTOR, boundedRssFactor: BOUNDED_FACTOR }, checks: { throughput: throughputOk, flatRss: flat, boundedRss: bounded }, rows };
}
