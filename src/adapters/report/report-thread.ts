/**
 * The report renderers on a thread of their own. The renderers (Vega, Vega-Lite, resvg) take about
 * half a second to load and their first charts twice as long as later ones (the JIT has not seen
 * the code yet). With a core to spare (see WARM_UP) analyze starts the thread at the beginning of a
 * run: it loads them and renders a sample report while the run goes on, at the lowest CPU
 * priority, so it only takes time the reading and judging threads leave free. Otherwise analyze
 * starts it when reading ends, while the judge finishes: an idle thread held ~35 MB through the run
 * (see analyze.ts). When the report comes it renders alerts.txt, report.html and dashboard.png
 * (write-reports.ts) at normal priority where the system allows that (raising a thread's priority
 * back may need privileges; at the end of a run the other threads are idle anyway).
 *
 * This side does not load the renderers; report-worker.js (the thread's entry) does.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { AnalysisReport } from '../../core/analyze/report-types.js';

export type ToReportThread = { type: 'render'; report: AnalysisReport; dir: string };
export type FromReportThread =
  | { type: 'done'; timings: string; warm: string }
  | { type: 'error'; message: string; stack?: string; code?: string };

export interface ReportThreadOptions {
  /** Render a sample report while waiting (default: when a third core is free, see WARM_UP). */
  warmUp?: boolean;
}

/**
 * Warming up pays off only with a core to spare beside the reading and judge threads: its
 * compiling runs on V8's shared threads at normal priority whatever this thread's. On 2 cores
 * (1M lines) it cost ~0.6 s of CPU and ~2% of wall time more than the faster report it buys.
 */
export const WARM_UP = availableParallelism() > 2;

/**
 * The thread's module: the compiled one beside this file or, when the sources run as they are
 * (the tests), the TypeScript one, loaded through tsx (a dev dependency) registered in the thread.
 */
function newWorker(options: WorkerOptions): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./report-worker.js', here), options);
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./report-worker.ts', here).href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

/** An error as a thread sends it: its message, stack and code (`ENOENT` …); threadError rebuilds it. */
export function errorMessage(e: Error): { type: 'error'; message: string; stack?: string; code?: string } {
  const code = (e as NodeJS.ErrnoException).code;
  return { type: 'error', message: e.message, ...(e.stack ? { stack: e.stack } : {}), ...(typeof code === 'string' ? { code } : {}) };
}

/** An error a thread sent as a message (errorMessage), rebuilt: its message, stack and code. */
export function threadError(m: { message: string; stack?: string; code?: string }): Error {
  const err: NodeJS.ErrnoException = new Error(m.message);
  if (m.stack) err.stack = m.stack;
  if (m.code) err.code = m.code;
  return err;
}

export class ReportThread {
  private readonly worker: Worker;
  private failure: Error | undefined;
  private waiting: { resolve: (m: { timings: string; warm: string }) => void; reject: (err: Error) => void } | undefined;
  private closed = false;

  constructor(options: ReportThreadOptions = {}) {
    this.worker = newWorker({ workerData: { warmUp: options.warmUp ?? WARM_UP }, name: 'vigil-reports' });
    this.worker.on('message', (m: FromReportThread) => {
      if (m.type === 'done') this.waiting?.resolve({ timings: m.timings, warm: m.warm });
      else {
        this.fail(threadError(m));
      }
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`the reports' thread stopped (exit code ${code})`));
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiting?.reject(err);
  }

  /** Writes alerts.txt, report.html and dashboard.png for `report` into `dir`. */
  render(report: AnalysisReport, dir: string): Promise<{ timings: string; warm: string }> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the reports\' thread is closed'));
    if (this.waiting) return Promise.reject(new Error('ReportThread renders one report'));
    const done = new Promise<{ timings: string; warm: string }>((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
    const m: ToReportThread = { type: 'render', report, dir };
    this.worker.postMessage(m);
    return done;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}
