/**
 * The judging half of `vigil analyze`, on whichever thread judges: detectors → decision →
 * statistics, anomalous lines streamed to anomalies.json and anomaly_report.csv, and at the end
 * summary.json and the rendered reports. Kept apart from analyze.ts so that the judge's thread
 * loads only what it runs (not the command line, YAML, zod or the line readers).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalyzeConfig } from '../core/analyze/analyze-config.js';
import { Judge, type FrontStats } from '../core/analyze/analyzer.js';
import { createDetectors } from '../core/analyze/detectors.js';
import type { AnalysisReport, AnomalyRow } from '../core/analyze/report-types.js';
import { anomalyCsvHeader, anomalyCsvRow } from '../adapters/report/csv.js';
import { TextFileSink } from '../adapters/report/text-sink.js';
import { VERSION } from './version.js';

export interface JudgeSetup {
  config: AnalyzeConfig;
  output: string;
  /** process.hrtime.bigint() when the run started (the same clock on every thread). */
  started: bigint;
  /** Detectors the front runs (by name); the judge runs the others. */
  front: string[];
}

/** Streams anomalous lines to anomalies.json and anomaly_report.csv as they are found. */
export class AnomalyWriters {
  private readonly json: TextFileSink;
  private readonly csv: TextFileSink;
  private first = true;

  constructor(dir: string) {
    this.json = new TextFileSink(join(dir, 'anomalies.json'));
    this.csv = new TextFileSink(join(dir, 'anomaly_report.csv'));
    this.json.write('[\n');
    this.csv.write(anomalyCsvHeader());
  }

  /** Writes one row; returns its JSON text (the judge keeps the highest-scoring rows as text). */
  add(row: AnomalyRow): string {
    if (this.first) this.first = false;
    else this.json.write(',\n');
    const json = JSON.stringify(row);
    this.json.write(json);
    this.csv.write(anomalyCsvRow(row));
    return json;
  }

  async flush(): Promise<void> {
    await Promise.all([this.json.flush(), this.csv.flush()]);
  }

  async close(): Promise<void> {
    this.json.write(this.first ? ']\n' : '\n]\n');
    await Promise.all([this.json.close(), this.csv.close()]);
  }
}

/** What a finished run hands on: the report to render, and the console summary. */
export interface JudgeResult {
  report: AnalysisReport;
  console: string;
}

/** Runs the judge: detectors → decision → statistics, anomalies streamed to the output folder. */
export class JudgeRun {
  readonly writers: AnomalyWriters;
  readonly judge: Judge;
  /** What the end took, for VIGIL_ANALYZE_TIMINGS. */
  timings = '';

  constructor(private readonly setup: JudgeSetup) {
    this.writers = new AnomalyWriters(setup.output);
    const detectors = createDetectors(setup.config).map((d) => (setup.front.includes(d.name) ? undefined : d));
    this.judge = new Judge({ config: setup.config, detectors, vigilVersion: VERSION }, (row) => this.writers.add(row));
  }

  /**
   * Ends the run: the report, anomalies.json and the CSV closed, summary.json written. The other
   * reports are rendered from the report by the caller (renderReports in analyze.ts), once this
   * thread's detectors are gone.
   */
  async finish(front: FrontStats): Promise<JudgeResult> {
    const seconds = Number(process.hrtime.bigint() - this.setup.started) / 1e9;
    const t0 = performance.now();
    const report = this.judge.finish(front, seconds, process.resourceUsage().maxRSS / 1024);
    report.summary.generatedAt = new Date().toISOString();
    const t1 = performance.now();
    const dir = this.setup.output;
    await this.writers.close();
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(report.summary, null, 2) + '\n');
    this.timings = `judge: finish ${(t1 - t0).toFixed(0)} ms, anomalies closed and summary.json ${(performance.now() - t1).toFixed(0)} ms\n`;
    return { report, console: consoleSummary(report, dir) };
  }
}

function consoleSummary(report: AnalysisReport, dir: string): string {
  const s = report.summary;
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const out: string[] = [];
  out.push(`\n${s.lines.original.toLocaleString('en-US')} lines (${s.lines.records.toLocaleString('en-US')} records) from ${s.files.length} file(s) in ${s.processing.seconds.toFixed(1)} s (${s.processing.linesPerSecond.toLocaleString('en-US')} lines/s)`);
  out.push(`${s.anomalies.lines.toLocaleString('en-US')} anomalous lines (${pct(s.anomalies.ratio)}), ${s.templates.unique} templates, error rate ${pct(s.time.errorRate)}`);
  const det = Object.entries(s.anomalies.byDetector).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  if (det) out.push(`by detector: ${det}`);
  const skipped = Object.entries(s.lines.skipped).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  if (skipped.length || s.lines.truncated) out.push(`set aside: ${[...skipped, s.lines.truncated ? `truncated ${s.lines.truncated}` : ''].filter(Boolean).join(', ')}`);
  if (s.security.findings) out.push(`security: ${s.security.findings} finding(s) of sensitive data (masked in the reports)`);
  for (const a of report.topAnomalies.slice(0, 5)) out.push(`  ${a.severity.padEnd(8)} ${a.score.toFixed(2)}  ${a.file}:${a.line}  ${a.reason.slice(0, 120)}`);
  out.push(`reports in ${dir}/: summary.json anomalies.json anomaly_report.csv alerts.txt report.html dashboard.png\n`);
  return out.join('\n') + '\n';
}
