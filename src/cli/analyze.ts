/** `vigil analyze`: find what is wrong in a pile of logs and write reports a person can read. */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Command } from 'commander';
import { resolveConfig, type AnalyzeConfig } from '../core/analyze/analyze-config.js';
import { AnalyzerFront, type FrontStats, type RecordSink } from '../core/analyze/analyzer.js';
import { createDetectors, DETECTOR_SPECS } from '../core/analyze/detectors.js';
import { batchBuffers, BatchWriter, type RecordBatch } from '../core/analyze/record-batch.js';
import type { Detector } from '../core/detect/detector.js';
import { sessionKeyOf } from '../core/detect/session-key.js';
import { listInputFiles, openCounted, readLineChunks } from '../adapters/line-source.js';
import { ReportThread, threadError, WARM_UP } from '../adapters/report/report-thread.js';
import { heapMB, threadCpu } from '../adapters/report/thread-cpu.js';
import type { AnalysisReport } from '../core/analyze/report-types.js';
import type { JudgeSetup } from './analyze-judge.js';
import { reportError, VigilError } from './errors.js';

/** yaml and cli-progress are loaded when used (a config file, a progress bar): start-up is shorter without them. */
const require = createRequire(import.meta.url);

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
        // the threads beside this one would keep the process alive
        await abortRun?.().catch(() => undefined);
        reportError(err);
      }
    });
}

export function loadConfig(path: string | undefined): AnalyzeConfig {
  if (!path) return resolveConfig(undefined, DETECTOR_SPECS);
  if (!existsSync(path)) throw new VigilError('VIGIL_INPUT_NOT_FOUND', `config file not found: ${path}`);
  let raw: unknown;
  try {
    raw = (require('yaml') as typeof import('yaml')).parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return resolveConfig(raw, DETECTOR_SPECS);
  } catch (err) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${path}: ${(err as Error).message}`);
  }
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
 * than the ~1 s it saves the front, so sensitive_data stays here. Measured again when the front had
 * become the slower thread (3 alternated pairs): the judge +1.7 s of CPU, the front −0.25 s, the
 * run ~1.3 s longer.
 */
const FRONT_DETECTORS: ReadonlySet<string> = new Set(['sensitive_data']);

/**
 * Lines after which the reading thread hands its records on before the end of the first read (a
 * read is 1 MiB, ~8k lines, ~200 ms of work on cold code): the judge's thread is ready well before
 * that and would wait for it. Two more batches in flight at the start, no more.
 */
const EARLY_HANDOFFS: readonly number[] = [512, 2048];
/** Batches sent to the judge's thread and not yet judged, before reading waits (bounds memory). */
const MAX_BATCHES_IN_FLIGHT = 4;
/** VIGIL_ANALYZE_TIMINGS=1: each thread says on stderr how long it worked and waited (for balancing the two). */
const TIMINGS = { wait: 0 };

/** The judging half as the reading loop sees it: on this thread or on a worker thread. */
interface JudgeSide {
  sink: RecordSink;
  /** Detectors the front runs (positions in the run's list), when the work is split. */
  frontDetectors: (Detector | undefined)[] | undefined;
  /** Called after each batch of lines read: hands records on, writes anomalies, applies backpressure. */
  afterBatch(): Promise<void>;
  /** Judges what is left, writes every report, and returns the console summary. */
  finish(front: FrontStats): Promise<string>;
  /** Stops what runs beside this thread (the run failed). */
  abort(): Promise<void>;
}

/**
 * Renders alerts.txt, report.html and dashboard.png: on the reports' thread when there is one,
 * else on this thread. Returns what it took, for VIGIL_ANALYZE_TIMINGS.
 */
async function renderReports(report: AnalysisReport, dir: string, thread?: ReportThread): Promise<string> {
  try {
    return await render(report, dir, thread);
  } catch (err) {
    throw outputFailure(err, dir);
  }
}

async function render(report: AnalysisReport, dir: string, thread?: ReportThread): Promise<string> {
  const t0 = performance.now();
  let parts: string;
  if (thread) {
    const r = await thread.render(report, dir);
    await thread.close();
    parts = `${r.timings}; reports' thread ${r.warm}`;
  } else {
    const { writeReportFiles, formatReportTimings } = await import('../adapters/report/write-reports.js');
    parts = formatReportTimings(await writeReportFiles(dir, report));
  }
  return `reports ${(performance.now() - t0).toFixed(0)} ms (${parts})\n`;
}

/**
 * A failure of the judge's or the reports' side, as the user should see it: a system error there
 * (`ENOENT`, `EISDIR`, `ENOSPC` …) can only come from writing the output, so it becomes
 * VIGIL_OUTPUT_WRITE_FAILED; anything else is a bug and keeps its stack.
 */
function outputFailure<T>(err: T, dir: string): T | VigilError {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return new VigilError('VIGIL_OUTPUT_WRITE_FAILED', `cannot write the reports in ${dir}: ${(err as Error).message}`);
  return err;
}

/** The judge on this thread (--threads 1); with two threads this one never loads analyze-judge.js. */
async function localJudge(setup: JudgeSetup): Promise<JudgeSide> {
  const { JudgeRun } = await import('./analyze-judge.js');
  const run = new JudgeRun(setup);
  return {
    sink: run.judge,
    frontDetectors: undefined,
    afterBatch: () => run.writers.flush().catch((err: unknown) => {
      throw outputFailure(err, setup.output);
    }),
    async finish(front) {
      const { report, console: text } = await run.finish(front).catch((err: unknown) => {
        throw outputFailure(err, setup.output);
      });
      const rendered = await renderReports(report, setup.output);
      if (process.env.VIGIL_ANALYZE_TIMINGS) process.stderr.write(run.timings + rendered);
      return text;
    },
    abort: async () => undefined,
  };
}

export type FromJudge = { type: 'ack' } | { type: 'done'; console: string; report: AnalysisReport; timings?: string } | { type: 'error'; message: string; stack?: string; code?: string };
export type ToJudge = { type: 'batch'; batch: RecordBatch } | { type: 'end'; front: FrontStats };

/**
 * The judge on a worker thread (analyze-worker.js): records go over in batches (record-batch.ts).
 * At the end it hands back the report and is stopped before the reports are rendered, so that
 * rendering (~150 MB at its peak) never adds to the memory the detectors held: the end of a run
 * set the run's peak memory.
 */
function workerJudge(setup: JudgeSetup): JudgeSide {
  // the reports' thread: where it can warm up on a spare core, it starts now, to be ready when the
  // run ends; else when reading ends, to load its renderers while the judge finishes (idle through
  // the run it held ~35 MB: on 2 cores, with it the 5M-line corpus peaked ~40 MB higher than 1M
  // lines did beside the growing template state, without it the end of the run sets both peaks)
  let reports: ReportThread | undefined = WARM_UP ? new ReportThread() : undefined;
  const worker = new Worker(new URL('./analyze-worker.js', import.meta.url), { workerData: setup });
  let inFlight = 0;
  let failure: Error | undefined;
  /** The thread was stopped on purpose: its work is done. */
  let stopped = false;
  let wake: (() => void) | undefined;
  let done: ((result: { console: string; report: AnalysisReport }) => void) | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    wake?.();
    // nothing will be rendered: the reports' thread would keep the process alive
    void reports?.close();
  };
  const finished = new Promise<{ console: string; report: AnalysisReport }>((resolve, reject) => {
    done = resolve;
    worker.on('error', (err) => {
      fail(err);
      reject(err);
    });
    worker.on('exit', (code) => {
      if (stopped) return;
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
      done?.(m);
    }
    else fail(outputFailure(threadError(m), setup.output));
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
      reports ??= new ReportThread();
      const result = await Promise.race([finished, new Promise<never>((_, reject) => {
        const check = setInterval(() => {
          if (failure) {
            clearInterval(check);
            reject(failure);
          }
        }, 50);
        // (both ways: a rejection here must not be left unhandled, it would end the process)
        const stop = (): void => clearInterval(check);
        finished.then(stop, stop);
      })]);
      stopped = true;
      await worker.terminate();
      const rendered = await renderReports(result.report, setup.output, reports);
      if (process.env.VIGIL_ANALYZE_TIMINGS) process.stderr.write(rendered);
      return result.console;
    },
    async abort() {
      await Promise.all([worker.terminate(), reports?.close()]);
    },
  };
}

/** Stops the running analysis' other threads, when it fails. */
let abortRun: (() => Promise<void>) | undefined;

function threadsOf(opts: AnalyzeOptions): number {
  if (opts.threads === undefined) return availableParallelism() >= 2 ? 2 : 1;
  const n = Number(opts.threads);
  if (n !== 1 && n !== 2) throw new VigilError('VIGIL_CLI_BAD_OPTION', `--threads must be 1 or 2 (got ${opts.threads})`);
  return n;
}

/**
 * V8 moves the objects made at a place in the code to the old generation once it sees most of them
 * outlive a young collection, and never moves them back; which places it picks varies from run to
 * run (bytes promoted on the judge's thread ranged 96–179 MB per 1M lines, the reading thread's
 * 23–174 MB), and what it picks then waits for full collections. analyze turns that off
 * (VIGIL_ANALYZE_PRETENURING=1 keeps V8's default): in 6 alternated pairs on the 1M corpus, 14.78 →
 * 14.40 s of CPU (5 of 6 pairs lower), the judge's thread 5.12 → 4.97 s.
 */
const NO_PRETENURING = process.env.VIGIL_ANALYZE_PRETENURING !== '1';

/**
 * How far each heap may grow past its live data before a full collection, in percent (V8's own
 * choice when 0). V8 lets a heap that allocates fast grow to up to 4× what it keeps alive; analyze
 * allocates fast on every thread, so its peak memory was mostly that slack, and it grew with the
 * live state. At 2× (100) the 1M-line bench peaks about a fifth lower, for ~0.1 s more collection
 * per thread (within the wall time's noise); tighter settings cost far more CPU.
 */
function heapGrowthPercent(): number {
  const raw = process.env.VIGIL_ANALYZE_HEAP_GROWTH ?? '100';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new VigilError('VIGIL_CONFIG_INVALID', `VIGIL_ANALYZE_HEAP_GROWTH must be an integer from 0 to 1000 (got ${raw})`);
  return n;
}

async function runAnalyze(opts: AnalyzeOptions): Promise<void> {
  const growth = heapGrowthPercent();
  // (a process-wide V8 flag: set before the threads start, it holds for every heap of the run)
  if (growth > 0) setFlagsFromString(`--heap-growing-percent=${growth}`);
  if (NO_PRETENURING) setFlagsFromString('--no-allocation-site-pretenuring');
  const files = inputFiles(opts.input);
  const config = loadConfig(opts.config);
  const threads = threadsOf(opts);
  try {
    mkdirSync(opts.output, { recursive: true });
  } catch (err) {
    throw new VigilError('VIGIL_OUTPUT_WRITE_FAILED', `cannot create ${opts.output}: ${(err as Error).message}`);
  }
  const started = process.hrtime.bigint();
  if (process.env.VIGIL_ANALYZE_TIMINGS) console.error(`main: run starts ${performance.now().toFixed(0)} ms after the process`);
  const setup: JudgeSetup = { config, output: opts.output, started, front: threads > 1 ? [...FRONT_DETECTORS] : [] };
  const judge = threads > 1 ? workerJudge(setup) : await localJudge(setup);
  abortRun = () => judge.abort();
  const front = new AnalyzerFront(
    { limits: config.limits, defaultYear: new Date().getUTCFullYear(), sessionKeyOf, ...(judge.frontDetectors ? { detectors: judge.frontDetectors } : {}) },
    judge.sink,
  );
  const totalBytes = files.reduce((n, f) => n + (f === '-' ? 0 : statSync(f).size), 0);
  const showProgress = !opts.quiet && process.stderr.isTTY === true && totalBytes > 0;
  const bar = showProgress
    ? new (require('cli-progress') as typeof import('cli-progress')).SingleBar({ format: 'analyzing {bar} {percentage}% | {done}/{size} | {rate} lines/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 }, undefined)
    : undefined;
  // (`total` is cli-progress's own value, so the formatted size is `size`)
  bar?.start(totalBytes, 0, { done: '0 B', size: formatBytes(totalBytes), rate: 0 });
  let doneBytes = 0;
  let lines = 0;
  // the first records go to the judge's thread early (see EARLY_HANDOFFS)
  const early = threads > 1 ? [...EARLY_HANDOFFS] : [];
  let handOffAt = early.shift() ?? Infinity;
  let pushed = 0;
  for (const file of files) {
    const { stream, rawBytes } = openCounted(file);
    const name = file === '-' ? 'stdin' : file;
    let read = 0;
    const onBytes = (total: number): void => {
      front.addBytes(total - read);
      read = total;
    };
    // (each line is decoded as it is pushed: see LineChunk)
    for await (const chunk of readLineChunks(stream, { maxLineChars: config.limits.maxLineChars, onBytes })) {
      for (let k = 0; k < chunk.count; k++) {
        front.pushLine(name, chunk.text(k), chunk.firstLineNo + k, chunk.truncated(k));
        if (++pushed === handOffAt) {
          await judge.afterBatch();
          handOffAt = early.shift() ?? Infinity;
        }
      }
      lines += chunk.count;
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
  if (process.env.VIGIL_ANALYZE_TIMINGS) console.error(`main: waited ${TIMINGS.wait.toFixed(0)} ms, reading done at ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms, heap ${heapMB()}${threadCpu()}`);
  const text = await judge.finish(front.stats());
  if (process.env.VIGIL_ANALYZE_TIMINGS) console.error(`main: finished at ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms`);
  if (opts.saveModel) writeFileSync(opts.saveModel, JSON.stringify(front.model(config.decision)));
  if (!opts.quiet) process.stdout.write(text);
}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
