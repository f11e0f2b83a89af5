/** `vigil analyze`: find what is wrong in a pile of logs and write reports a person can read. */
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { parse as parseYaml } from 'yaml';
import { resolveConfig, type AnalyzeConfig } from '../core/analyze/analyze-config.js';
import { Analyzer } from '../core/analyze/analyzer.js';
import { createDetectors, DETECTOR_SPECS } from '../core/analyze/detectors.js';
import type { AnalysisReport, AnomalyRow } from '../core/analyze/report-types.js';
import { sessionKeyOf } from '../core/detect/session-key.js';
import { listInputFiles, openCounted, readLineBatches } from '../adapters/line-source.js';
import { renderAlertsText } from '../adapters/report/alerts.js';
import { anomalyCsvHeader, anomalyCsvRow } from '../adapters/report/csv.js';
import { renderHtml } from '../adapters/report/html.js';
import { renderDashboardPng } from '../adapters/report/png.js';
import { reportError, VigilError } from './errors.js';
import { VERSION } from './version.js';

interface AnalyzeOptions {
  input: string[];
  output: string;
  config?: string;
  quiet?: boolean;
  saveModel?: string;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('Find anomalies in log files, folders (recursively, .gz too) or stdin, and write reports')
    .requiredOption('-i, --input <path...>', 'log file, folder or - for stdin (repeatable)')
    .requiredOption('-o, --output <dir>', 'folder for summary.json, anomalies.json, anomaly_report.csv, alerts.txt, report.html, dashboard.png')
    .option('-c, --config <file>', 'YAML config: decision rule, detector options, limits (unknown keys are errors)')
    .option('-q, --quiet', 'no progress bar and no console summary')
    .option('--save-model <file>', 'also save what was learned (formats, templates, counts) for `vigil score`')
    .addHelpText('after', `
Examples:
  vigil analyze --input /var/log/app --output report/
  vigil analyze --input app.log.gz --input worker.log --output out/ --config vigil.yaml
  vigil analyze --input app.log --output out/ --save-model model.json && vigil score -m model.json "<line>"
  kubectl logs deploy/api | vigil analyze --input - --output out/

A line is an anomaly when the noisy-OR of its weighted findings, 1 − Π(1 − w·s), reaches
decision.threshold (default 0.5) and at least decision.minDetectors detectors fired.`)
    .action(async (opts: AnalyzeOptions) => {
      try {
        await runAnalyze(opts);
      } catch (err) {
        reportError(err);
      }
    });
}

export function loadConfig(path: string | undefined): AnalyzeConfig {
  if (!path) return resolveConfig(undefined, DETECTOR_SPECS);
  if (!existsSync(path)) throw new VigilError('VIGIL_INPUT_NOT_FOUND', `config file not found: ${path}`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return resolveConfig(raw, DETECTOR_SPECS);
  } catch (err) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${path}: ${(err as Error).message}`);
  }
}

/** Streams anomalous lines to anomalies.json and anomaly_report.csv as they are found. */
class AnomalyWriters {
  private json: WriteStream;
  private csv: WriteStream;
  private jsonBuf: string[] = [];
  private csvBuf: string[] = [];
  private first = true;

  constructor(dir: string) {
    this.json = createWriteStream(join(dir, 'anomalies.json'));
    this.csv = createWriteStream(join(dir, 'anomaly_report.csv'));
    this.jsonBuf.push('[\n');
    this.csvBuf.push(anomalyCsvHeader());
  }

  add(row: AnomalyRow): void {
    this.jsonBuf.push((this.first ? '' : ',\n') + JSON.stringify(row));
    this.first = false;
    this.csvBuf.push(anomalyCsvRow(row));
  }

  async flush(): Promise<void> {
    await write(this.json, this.jsonBuf);
    await write(this.csv, this.csvBuf);
    this.jsonBuf = [];
    this.csvBuf = [];
  }

  async close(): Promise<void> {
    this.jsonBuf.push(this.first ? ']\n' : '\n]\n');
    await this.flush();
    await Promise.all([new Promise((r) => this.json.end(r)), new Promise((r) => this.csv.end(r))]);
  }
}

async function write(stream: WriteStream, parts: string[]): Promise<void> {
  if (parts.length === 0) return;
  if (!stream.write(parts.join(''))) await once(stream, 'drain');
}

function inputFiles(inputs: string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    if (input === '-') {
      files.push('-');
      continue;
    }
    if (!existsSync(input)) throw new VigilError('VIGIL_INPUT_NOT_FOUND', `input not found: ${input}`);
    files.push(...listInputFiles(input));
  }
  if (files.length === 0) throw new VigilError('VIGIL_INPUT_EMPTY', `no files to read under ${inputs.join(', ')}`);
  return files;
}

async function runAnalyze(opts: AnalyzeOptions): Promise<void> {
  const files = inputFiles(opts.input);
  const config = loadConfig(opts.config);
  mkdirSync(opts.output, { recursive: true });
  const started = process.hrtime.bigint();
  const writers = new AnomalyWriters(opts.output);
  const analyzer = new Analyzer(
    { config, detectors: createDetectors(config), sessionKeyOf, defaultYear: new Date().getUTCFullYear(), vigilVersion: VERSION },
    (row) => writers.add(row),
  );
  const totalBytes = files.reduce((n, f) => n + (f === '-' ? 0 : statSync(f).size), 0);
  const showProgress = !opts.quiet && process.stderr.isTTY === true && totalBytes > 0;
  const bar = showProgress
    ? new SingleBar({ format: 'analyzing {bar} {percentage}% | {done}/{size} | {rate} lines/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 }, undefined)
    : undefined;
  // (`total` is cli-progress's own value, so the formatted size is `size`)
  bar?.start(totalBytes, 0, { done: '0 B', size: formatBytes(totalBytes), rate: 0 });
  let doneBytes = 0;
  let lines = 0;
  for (const file of files) {
    const { stream, rawBytes } = openCounted(file);
    const name = file === '-' ? 'stdin' : file;
    let read = 0;
    const onBytes = (total: number): void => {
      analyzer.addBytes(total - read);
      read = total;
    };
    for await (const batch of readLineBatches(stream, { maxLineChars: config.limits.maxLineChars, onBytes })) {
      for (const l of batch) analyzer.pushLine(name, l.text, l.lineNo, l.truncated);
      lines += batch.length;
      await writers.flush();
      if (bar) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const at = doneBytes + rawBytes();
        bar.update(at, { done: formatBytes(at), size: formatBytes(totalBytes), rate: Math.round(lines / Math.max(seconds, 1e-3)).toLocaleString('en-US') });
      }
    }
    analyzer.endFile(name);
    doneBytes += file === '-' ? 0 : statSync(file).size;
  }
  bar?.update(totalBytes, { done: formatBytes(totalBytes) });
  bar?.stop();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const report = analyzer.finish(seconds, process.resourceUsage().maxRSS / 1024);
  report.summary.generatedAt = new Date().toISOString();
  await writers.close();
  writeReports(opts.output, report);
  if (opts.saveModel) writeFileSync(opts.saveModel, JSON.stringify(analyzer.model()));
  if (!opts.quiet) process.stdout.write(consoleSummary(report, opts.output));
}

function writeReports(dir: string, report: AnalysisReport): void {
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(report.summary, null, 2) + '\n');
  writeFileSync(join(dir, 'alerts.txt'), renderAlertsText(report));
  writeFileSync(join(dir, 'report.html'), renderHtml(report));
  writeFileSync(join(dir, 'dashboard.png'), renderDashboardPng(report));
}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
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
