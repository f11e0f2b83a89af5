/**
 * Line-level scoring of anomaly predictions against the labels of a `vigil generate` corpus.
 *
 * Unit: a physical line of app.log. A labelled line (labels.jsonl) is a positive of its kind;
 * every other line is negative. Predictions are a set of line numbers.
 *
 * Overall: TP = predicted ∩ labelled, FP = predicted − labelled, FN = labelled − predicted;
 * P = TP/(TP+FP), R = TP/(TP+FN), F1 = 2PR/(P+R) (0 when undefined).
 *
 * Per kind k: predictions carry no kind, so only recall is directly defined: R_k = TP_k / n_k,
 * where TP_k counts predicted lines labelled k. Per-kind precision is defined as the precision
 * the same predictions would have on a corpus with the same anomaly rate whose anomalies are all
 * of kind k: that corpus holds the n_k lines of kind k plus the share n_k/n of the normal lines
 * (n = all labelled lines), which hold, in expectation, FP·n_k/n of the false positives. So
 *     P_k = TP_k / (TP_k + FP·n_k/n),   F1_k = 2·P_k·R_k / (P_k + R_k).
 * The false positives are split over the kinds in proportion to their labelled lines
 * (Σ_k TP_k = TP and Σ_k FP·n_k/n = FP), so a detector cannot buy a kind's precision with
 * another kind's false alarms, and a kind it never finds has P_k = R_k = F1_k = 0.
 */
import { readFileSync } from 'node:fs';

/** labels.jsonl → Map(line → kind). */
export function readLabels(file) {
  const labels = new Map();
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (l.trim() === '') continue;
    const { line, kind } = JSON.parse(l);
    labels.set(line, kind);
  }
  return labels;
}

/** The physical lines of a log file, without terminators (a final newline ends the last line). */
export function readLogLines(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/**
 * The lines `vigil analyze` flagged, from anomalies.json rows. A row names the first line of its
 * record; a multi-line record (continuation lines joined to it, message parts separated by "\n")
 * covers the following physical lines too. Line L+j is counted when it holds the record's j-th
 * message part, so a part that was masked (a secret) or a newline that came from inside a JSON
 * string stops the expansion rather than claiming lines the record does not cover.
 * Returns { lines: Set, rows, expanded } (expanded = continuation lines added).
 */
export function vigilPredictions(anomaliesFile, logLines) {
  const rows = JSON.parse(readFileSync(anomaliesFile, 'utf8'));
  const lines = new Set();
  let expanded = 0;
  for (const row of rows) {
    lines.add(row.line);
    const parts = String(row.message).split('\n');
    for (let j = 1; j < parts.length; j++) {
      const physical = logLines[row.line - 1 + j];
      const part = parts[j].trim();
      if (physical === undefined || !physical.includes(part) || (part === '' && physical.trim() !== '')) break;
      if (!lines.has(row.line + j)) expanded++;
      lines.add(row.line + j);
    }
  }
  return { lines, rows: rows.length, expanded };
}

const f1 = (p, r) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);
const round = (x) => Number(x.toFixed(4));

/** Scores a set of predicted line numbers; `kinds` fixes the order of the per-kind rows. */
export function scoreLines(predicted, labels, kinds) {
  const n = labels.size;
  const nByKind = Object.fromEntries(kinds.map((k) => [k, 0]));
  for (const k of labels.values()) nByKind[k] = (nByKind[k] ?? 0) + 1;
  const tpByKind = Object.fromEntries(Object.keys(nByKind).map((k) => [k, 0]));
  let tp = 0;
  let fp = 0;
  for (const line of predicted) {
    const k = labels.get(line);
    if (k === undefined) fp++;
    else {
      tp++;
      tpByKind[k]++;
    }
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = n > 0 ? tp / n : 0;
  const byKind = {};
  for (const k of Object.keys(nByKind)) {
    const nk = nByKind[k];
    const tpk = tpByKind[k];
    const fpk = n > 0 ? (fp * nk) / n : 0;
    const p = tpk + fpk > 0 ? tpk / (tpk + fpk) : 0;
    const r = nk > 0 ? tpk / nk : 0;
    byKind[k] = { labelled: nk, tp: tpk, fpShare: Number(fpk.toFixed(1)), precision: round(p), recall: round(r), f1: round(f1(p, r)) };
  }
  return {
    predicted: predicted.size,
    labelled: n,
    tp,
    fp,
    fn: n - tp,
    precision: round(precision),
    recall: round(recall),
    f1: round(f1(precision, recall)),
    byKind,
  };
}
