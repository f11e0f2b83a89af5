/** `vigil analyze`: find what is wrong in a pile of logs and write reports a person can read. */
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { parse as parseYaml } from 'yaml';
import { resolveConfig, type AnalyzeConfig } from '../core/analyze/analyze-config.js';
import { AnalyzerFront, Judge, type FrontStats, type RecordSink } from '../core/analyze/analyzer.js';
import { createDetectors, DETECTOR_SPECS } from '../core/analyze/detectors.js';
import { BatchReader, batchBuffers, BatchWriter, type RecordBatch } from '../core/analyze/record-batch.js';
import type { Detector } from '../core/detect/detector.js';
import type { AnalysisReport, AnomalyRow } from '../core/analyze/report-types.js';
import { sessionKeyOf } from '../core/detect/session-key.js';
import { listInputFiles, openCounted, readLineBatches } from '../adapters/line-source.js';
import { anomalyCsvHeader, anomalyCsvRow } from '../adapters/report/csv.js';
import { reportError, VigilError } from './errors.js';
import { VERSION } from './version.js';

interface AnalyzeOptions {
  input: string[];
  output: string;
  config?: string;
  quiet?: boolean;
  saveModel?: string;
  threads?: string;
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
    .option('--threads <n>', 'threads: 2 reads and mines on one and runs the detectors on another; 1 does all on one (default: 2 when the machine has 2+ cores)')
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

/**
 * Detectors that run in the front (the thread that reads and mines) when the work is split: they
 * read a record's parameters and structured fields. Carrying those to the judge instead
 * (record-batch.ts `carryFields`) was measured on the generated 1M corpus: the judge's thread went
 * from ~8.5 s to ~13.5 s (copying and rebuilding the fields cost more than the detector), more
 * than the ~1 s it saves the front, so sensitive_data stays here.
 */
const FRONT_DETECTORS: ReadonlySet<string> = new Set(['sensitive_data']);

/** Batches sent to the judge's thread and not yet judged, before reading waits (bounds memory). */
const MAX_BATCHES_IN_FLIGHT = 4;
/** VIGIL_ANALYZE_TIMINGS=1: each thread says on stderr how long it worked and waited (for balancing the two). */
const TIMINGS = { read: 0, busy: 0, wait: 0 };
const heapMB = (): string => {
  const h = getHeapStatistics();
  return `${Math.round(h.used_heap_size / 2 ** 20)} MB used of ${Math.round(h.total_heap_size / 2 ** 20)} MB`;
};

/** The judging half as the reading loop sees it: on this thread or on a worker thread. */
interface JudgeSide {
  sink: RecordSink;
  /** Detectors the front runs (positions in the run's list), when the work is split. */
  frontDetectors: (Detector | undefined)[] | undefined;
  /** Called after each batch of lines read: hands records on, writes anomalies, applies backpressure. */
  afterBatch(): Promise<void>;
  /** Judges what is left, writes every report, and returns the console summary. */
  finish(front: FrontStats): Promise<string>;
}

interface JudgeSetup {
  config: AnalyzeConfig;
  output: string;
  /** process.hrtime.bigint() when the run started (the same clock on every thread). */
  started: bigint;
  /** Detectors the front runs (by name); the judge runs the others. */
  front: string[];
}

/** Runs the judge: detectors → decision → statistics, anomalies streamed to the output folder. */
class JudgeRun {
  readonly writers: AnomalyWriters;
  readonly judge: Judge;

  constructor(private readonly setup: JudgeSetup) {
    this.writers = new AnomalyWriters(setup.output);
    const detectors = createDetectors(setup.config).map((d) => (setup.front.includes(d.name) ? undefined : d));
    this.judge = new Judge({ config: setup.config, detectors, vigilVersion: VERSION }, (row) => this.writers.add(row));
  }

  async finish(front: FrontStats): Promise<string> {
    const seconds = Number(process.hrtime.bigint() - this.setup.started) / 1e9;
    const t0 = performance.now();
    const report = this.judge.finish(front, seconds, process.resourceUsage().maxRSS / 1024);
    report.summary.generatedAt = new Date().toISOString();
    const t1 = performance.now();
    await this.writers.close();
    const t2 = performance.now();
    await writeReports(this.setup.output, report);
    if (process.env.VIGIL_ANALYZE_TIMINGS) console.error(`judge: finish ${(t1 - t0).toFixed(0)} ms, anomalies closed ${(t2 - t1).toFixed(0)} ms, reports ${(performance.now() - t2).toFixed(0)} ms`);
    return consoleSummary(report, this.setup.output);
  }
}

function localJudge(setup: JudgeSetup): JudgeSide {
  const run = new JudgeRun(setup);
  return {
    sink: run.judge,
    frontDetectors: undefined,
    afterBatch: () => run.writers.flush(),
    finish: (front) => run.finish(front),
  };
}

type FromJudge = { type: 'ack' } | { type: 'done'; console: string; timings?: string } | { type: 'error'; message: string; stack?: string };
type ToJudge = { type: 'batch'; batch: RecordBatch } | { type: 'end'; front: FrontStats };

/** The judge on a worker thread (analyze-worker.js): records go over in batches (record-batch.ts). */
function workerJudge(setup: JudgeSetup): JudgeSide {
  const worker = new Worker(new URL('./analyze-worker.js', import.meta.url), { workerData: setup });
  let inFlight = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let done: ((text: string) => void) | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    wake?.();
  };
  const finished = new Promise<string>((resolve, reject) => {
    done = resolve;
    worker.on('error', (err) => {
      fail(err);
      reject(err);
    });
    worker.on('exit', (code) => {
      const err = new Error(`the detectors' thread stopped (exit code ${code})`);
      fail(err);
      reject(err);
    });
  });
  finished.catch(() => undefined); // surfaced by afterBatch or finish
  worker.on('message', (m: FromJudge) => {
    if (m.type === 'ack') {
      inFlight--;
      wake?.();
    } else if (m.type === 'done') {
      // the thread's own stderr may not be flushed before it is stopped: its timings come here
      if (m.timings) process.stderr.write(m.timings);
      done?.(m.console);
    }
    else {
      const err = new Error(m.message);
      if (m.stack) err.stack = m.stack;
      fail(err);
    }
  });
  const post = (m: ToJudge, transfer: ArrayBuffer[] = []): void => worker.postMessage(m, transfer);
  const writer = new BatchWriter((batch) => {
    inFlight++;
    post({ type: 'batch', batch }, batchBuffers(batch));
  });
  // the front's own detectors, at their positions in the run's list
  const frontDetectors = createDetectors(setup.config).map((d) => (setup.front.includes(d.name) ? d : undefined));
  return {
    sink: writer,
    frontDetectors,
    async afterBatch() {
      writer.flush();
      const t0 = performance.now();
      while (inFlight > MAX_BATCHES_IN_FLIGHT && !failure) await new Promise<void>((r) => (wake = r));
      TIMINGS.wait += performance.now() - t0;
      if (failure) throw failure;
    },
    async finish(front) {
      writer.flush();
      if (failure) throw failure;
      post({ type: 'end', front });
      const text = await Promise.race([finished, new Promise<never>((_, reject) => {
        const check = setInterval(() => {
          if (failure) {
            clearInterval(check);
            reject(failure);
          }
        }, 50);
        void finished.finally(() => clearInterval(check));
      })]);
      await worker.terminate();
      return text;
    },
  };
}

/** The worker thread's side (analyze-worker.js): judges batches in order, then writes the reports. */
export function judgeWorkerMain(): void {
  const port = parentPort;
  if (!port) throw new Error('judgeWorkerMain runs in a worker thread');
  const run = new JudgeRun(workerData as JudgeSetup);
  const reader = new BatchReader(run.judge);
  let queue = Promise.resolve();
  const reply = (m: FromJudge): void => port.postMessage(m);
  port.on('message', (m: ToJudge) => {
    queue = queue.then(async () => {
      if (m.type === 'batch') {
        const t0 = performance.now();
        // the renderers load while this thread has time (it waits for the reading thread)
        loadRenderers().catch(() => undefined);
        reader.read(m.batch);
        TIMINGS.read += performance.now() - t0;
        await run.writers.flush();
        TIMINGS.busy += performance.now() - t0;
        reply({ type: 'ack' });
      } else {
        const t0 = performance.now();
        const c = await run.finish(m.front);
        const timings = `judge thread: judged ${TIMINGS.read.toFixed(0)} ms, busy ${TIMINGS.busy.toFixed(0)} ms, finish ${(performance.now() - t0).toFixed(0)} ms, heap ${heapMB()}\n`;
        reply({ type: 'done', console: c, ...(process.env.VIGIL_ANALYZE_TIMINGS ? { timings } : {}) });
      }
    }).catch((err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      reply({ type: 'error', message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
    });
  });
}

function threadsOf(opts: AnalyzeOptions): number {
  if (opts.threads === undefined) return availableParallelism() >= 2 ? 2 : 1;
  const n = Number(opts.threads);
  if (n !== 1 && n !== 2) throw new VigilError('VIGIL_CLI_BAD_OPTION', `--threads must be 1 or 2 (got ${opts.threads})`);
  return n;
}

async function runAnalyze(opts: AnalyzeOptions): Promise<void> {
  const files = inputFiles(opts.input);
  const config = loadConfig(opts.config);
  const threads = threadsOf(opts);
  mkdirSync(opts.output, { recursive: true });
  const started = process.hrtime.bigint();
  const setup: JudgeSetup = { config, output: opts.output, started, front: threads > 1 ? [...FRONT_DETECTORS] : [] };
  const judge = threads > 1 ? workerJudge(setup) : localJudge(setup);
  const front = new AnalyzerFront(
    { limits: config.limits, defaultYear: new Date().getUTCFullYear(), sessionKeyOf, ...(judge.frontDetectors ? { detectors: judge.frontDetectors } : {}) },
    judge.sink,
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
      front.addBytes(total - read);
      read = total;
    };
    for await (const batch of readLineBatches(stream, { maxLineChars: config.limits.maxLineChars, onBytes })) {
      for (const l of batch) front.pushLine(name, l.text, l.lineNo, l.truncated);
      lines += batch.length;
      await judge.afterBatch();
      if (bar) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const at = doneBytes + rawBytes();
        bar.update(at, { done: formatBytes(at), size: formatBytes(totalBytes), rate: Math.round(lines / Math.max(seconds, 1e-3)).toLocaleString('en-US') });
      }
    }
    front.endFile(name);
    doneBytes += file === '-' ? 0 : statSync(file).size;
  }
  bar?.update(totalBytes, { done: formatBytes(totalBytes) });
  bar?.stop();
  if (process.env.VIGIL_ANALYZE_TIMINGS) console.error(`main: waited ${TIMINGS.wait.toFixed(0)} ms, reading done at ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms, heap ${heapMB()}`);
  const text = await judge.finish(front.stats());
  if (process.env.VIGIL_ANALYZE_TIMINGS) console.error(`main: finished at ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms`);
  if (opts.saveModel) writeFileSync(opts.saveModel, JSON.stringify(front.model(config.decision)));
  if (!opts.quiet) process.stdout.write(text);
}

/**
 * The report renderers (Vega, resvg, …), loaded on first use: they take about half a second to load,
 * which the reading thread need not pay at start (with two threads only the judge's thread renders,
 * and it loads them while it waits for records).
 */
let renderers: Promise<[typeof import('../adapters/report/alerts.js'), typeof import('../adapters/report/charts.js'), typeof import('../adapters/report/html.js'), typeof import('../adapters/report/png.js')]> | undefined;
function loadRenderers(): NonNullable<typeof renderers> {
  renderers ??= Promise.all([import('../adapters/report/alerts.js'), import('../adapters/report/charts.js'), import('../adapters/report/html.js'), import('../adapters/report/png.js')]);
  return renderers;
}

async function writeReports(dir: string, report: AnalysisReport): Promise<void> {
  const [{ renderAlertsText }, { renderChartsSync }, { renderHtml }, { renderDashboardPng }] = await loadRenderers();
  const t = [performance.now()];
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(report.summary, null, 2) + '\n');
  writeFileSync(join(dir, 'alerts.txt'), renderAlertsText(report));
  t.push(performance.now());
  // the charts once, for both the page and the picture
  const charts = renderChartsSync(report);
  t.push(performance.now());
  writeFileSync(join(dir, 'report.html'), renderHtml(report, charts));
  t.push(performance.now());
  writeFileSync(join(dir, 'dashboard.png'), renderDashboardPng(report, charts));
  t.push(performance.now());
  if (process.env.VIGIL_ANALYZE_TIMINGS) {
    const d = (k: number): string => (t[k]! - t[k - 1]!).toFixed(0);
    console.error(`reports: summary and alerts ${d(1)} ms, charts ${d(2)} ms, html ${d(3)} ms, png ${d(4)} ms`);
  }
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
