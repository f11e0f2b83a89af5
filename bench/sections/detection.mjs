/**
 * detection: how well `vigil analyze` (every detector on, default configuration) finds the
 * anomalies injected by `vigil generate`, at anomaly rates of 2%, 5% and 15%, next to the classic
 * baseline — TF-IDF + Isolation Forest with contamination 0.05 (src/core/detect/baseline.ts) fed
 * the raw lines of the same app.log.
 *
 * Scoring is line-level against labels.jsonl (bench/lib/score.mjs has the definitions): overall
 * precision, recall and F1; per kind the recall, and a precision that charges each kind its share
 * of the false positives (P_k = TP_k / (TP_k + FP·n_k/n): the precision on a corpus of the same
 * anomaly rate holding only that kind). Targets from the issue: overall F1 ≥ 0.9 at every rate,
 * and F1 above the baseline's for every kind.
 *
 * The baseline is run twice on each corpus: on the raw lines (the check the issue asks for; the
 * header — timestamps, levels, the JSON keys of JSON-lines services — is part of each document,
 * as in the scikit-learn scripts it stands for) and, for a fairer comparison, on the messages
 * `vigil mine --format jsonl` extracts from the same lines (header removed). Both are scored; the
 * "above the baseline" check is reported against each.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readLabels, readLogLines, scoreLines, vigilPredictions } from '../lib/score.mjs';
import { ensureGenerated, runVigil } from '../lib/vigil.mjs';

export const name = 'detection';
export const title = 'detection — line-level P/R/F1 on generated corpora, Vigil vs TF-IDF + Isolation Forest';

const RATES = [0.02, 0.05, 0.15];
const LINES = Number(process.env.BENCH_DETECTION_LINES ?? 100_000);
const SEED = 20261120;
const BASELINE_CONTAMINATION = 0.05;
const TARGET_F1 = 0.9;

const f3 = (x) => x.toFixed(3);
const mark = (ok) => (ok ? '✓' : '✗');

/** Line numbers (1-based) the baseline flags, given one document per line. */
function baselinePredictions(baseline, documents) {
  const flags = baseline(documents, { contamination: BASELINE_CONTAMINATION });
  const lines = new Set();
  flags.forEach((f, i) => f && lines.add(i + 1));
  return lines;
}

/** The message of every line (header removed) per `vigil mine --format jsonl`; the raw line where none is given. */
async function minedMessages(ctx, log, logLines) {
  const messages = [...logLines];
  const r = await runVigil(ctx, ['mine', log, '--format', 'jsonl']);
  for (const l of r.stdout.split('\n')) {
    if (l === '') continue;
    const { line, message } = JSON.parse(l);
    if (line >= 1 && line <= messages.length && typeof message === 'string') messages[line - 1] = message;
  }
  return messages;
}

export async function run(ctx) {
  const { tfidfIsolationForestBaseline } = await import(pathToFileURL(join(ctx.distDir, 'core', 'detect', 'baseline.js')).href);
  const results = [];
  for (const rate of RATES) {
    const corpus = await ensureGenerated(ctx, { lines: LINES, anomalyRate: rate, seed: SEED });
    const kinds = Object.keys(corpus.manifest.counts);
    const labels = readLabels(corpus.labels);
    const logLines = readLogLines(corpus.log);
    if (logLines.length !== corpus.manifest.lines) throw new Error(`${corpus.log}: ${logLines.length} lines, manifest says ${corpus.manifest.lines}`);

    const out = join(ctx.corpusDir, `detection-out-${rate}`);
    rmSync(out, { recursive: true, force: true });
    const run = await runVigil(ctx, ['analyze', '--input', corpus.log, '--output', out, '--quiet']);
    const pred = vigilPredictions(join(out, 'anomalies.json'), logLines);
    const vigil = scoreLines(pred.lines, labels, kinds);
    ctx.log(`  rate ${rate}: vigil analyze ${run.wallSeconds.toFixed(1)} s, ${pred.rows} anomaly rows (+${pred.expanded} continuation lines)`);

    const t0 = Date.now();
    const baseline = scoreLines(baselinePredictions(tfidfIsolationForestBaseline, logLines), labels, kinds);
    const baselineSeconds = (Date.now() - t0) / 1000;
    ctx.log(`  rate ${rate}: baseline on raw lines ${baselineSeconds.toFixed(1)} s, ${baseline.predicted} lines flagged`);
    const messages = await minedMessages(ctx, corpus.log, logLines);
    const baselineMessages = scoreLines(baselinePredictions(tfidfIsolationForestBaseline, messages), labels, kinds);
    ctx.log(`  rate ${rate}: baseline on messages: ${baselineMessages.predicted} lines flagged`);

    const aboveBaseline = Object.fromEntries(kinds.map((k) => [k, vigil.byKind[k].f1 > baseline.byKind[k].f1]));
    const aboveBaselineMessages = Object.fromEntries(kinds.map((k) => [k, vigil.byKind[k].f1 > baselineMessages.byKind[k].f1]));
    results.push({
      anomalyRate: rate,
      achievedRate: corpus.manifest.achievedRate,
      lines: corpus.manifest.lines,
      seed: SEED,
      corpusReused: corpus.reused,
      vigilSeconds: Number(run.wallSeconds.toFixed(2)),
      vigilRows: pred.rows,
      vigilContinuationLines: pred.expanded,
      baselineSeconds,
      vigil,
      baseline,
      baselineOnMessages: baselineMessages,
      checks: {
        overallF1AtLeastTarget: vigil.f1 >= TARGET_F1,
        aboveBaselineEveryKind: Object.values(aboveBaseline).every(Boolean),
        aboveBaselineByKind: aboveBaseline,
        aboveBaselineOnMessagesEveryKind: Object.values(aboveBaselineMessages).every(Boolean),
        aboveBaselineOnMessagesByKind: aboveBaselineMessages,
      },
    });
  }

  for (const r of results) {
    ctx.print(`\nanomaly rate ${r.anomalyRate} (${r.lines.toLocaleString('en-US')} lines, ${r.vigil.labelled.toLocaleString('en-US')} labelled anomalous, seed ${r.seed})`);
    const kinds = Object.keys(r.vigil.byKind);
    const rows = kinds.map((k) => {
      const v = r.vigil.byKind[k];
      const b = r.baseline.byKind[k];
      const m = r.baselineOnMessages.byKind[k];
      return [k, String(v.labelled), f3(v.precision), f3(v.recall), f3(v.f1), f3(b.precision), f3(b.recall), f3(b.f1), mark(r.checks.aboveBaselineByKind[k]), f3(m.precision), f3(m.recall), f3(m.f1), mark(r.checks.aboveBaselineOnMessagesByKind[k])];
    });
    const v = r.vigil;
    const b = r.baseline;
    const m = r.baselineOnMessages;
    rows.push(['overall', String(v.labelled), f3(v.precision), f3(v.recall), f3(v.f1), f3(b.precision), f3(b.recall), f3(b.f1), mark(v.f1 > b.f1), f3(m.precision), f3(m.recall), f3(m.f1), mark(v.f1 > m.f1)]);
    ctx.table(['kind', 'lines', 'vigil P', 'R', 'F1', 'baseline P', 'R', 'F1', '>', 'base(msg) P', 'R', 'F1', '>'], rows);
    ctx.print(`flagged: vigil ${v.predicted} lines (TP ${v.tp}, FP ${v.fp}); baseline ${b.predicted} (TP ${b.tp}, FP ${b.fp}); baseline on messages ${m.predicted} (TP ${m.tp}, FP ${m.fp})`);
    ctx.print(`${mark(r.checks.overallF1AtLeastTarget)} overall F1 ≥ ${TARGET_F1} (${f3(v.f1)})   ${mark(r.checks.aboveBaselineEveryKind)} F1 above the baseline for every kind   ${mark(r.checks.aboveBaselineOnMessagesEveryKind)} … and above the baseline on messages`);
  }
  ctx.print('');
  ctx.print('Line-level scoring against labels.jsonl. A flagged multi-line record counts for the continuation lines it holds.');
  ctx.print('Per kind: R = labelled lines of the kind found; P = TP_k / (TP_k + FP·n_k/n), i.e. the false positives are charged');
  ctx.print('to kinds in proportion to their labelled lines (the precision on a same-rate corpus holding only that kind).');
  ctx.print(`Baseline: TF-IDF (masked, scikit-learn weighting) + Isolation Forest (100 trees × 256 lines), contamination ${BASELINE_CONTAMINATION},`);
  ctx.print('fed the raw lines ("baseline", the issue\'s check) or the messages `vigil mine` extracts from them ("base(msg)").');
  const allOk = results.every((r) => r.checks.overallF1AtLeastTarget && r.checks.aboveBaselineEveryKind);
  ctx.print(`${mark(results.every((r) => r.checks.overallF1AtLeastTarget))} overall F1 ≥ ${TARGET_F1} at every rate   ${mark(results.every((r) => r.checks.aboveBaselineEveryKind))} above the baseline for every kind at every rate   ${mark(results.every((r) => r.checks.aboveBaselineOnMessagesEveryKind))} … and above the baseline on messages`);
  return { target: { overallF1: TARGET_F1, baselineContamination: BASELINE_CONTAMINATION }, allTargetsMet: allOk, rates: results };
}
