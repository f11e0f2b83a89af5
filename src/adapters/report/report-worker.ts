/**
 * Entry of the reports' thread (report-thread.ts): lowers its own CPU priority, loads the
 * renderers, renders a sample report to warm them up, then waits for the run's report.
 */
import { getPriority, setPriority } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage, type FromReportThread, type ToReportThread } from './report-thread.js';
import { threadCpu, threadCpuMs } from './thread-cpu.js';

const port = parentPort;
if (!port) throw new Error('report-worker.js runs in a worker thread');

/**
 * On Linux a nice value belongs to a thread, so this lowers only this thread. It is lowered only
 * where it can be raised again (root): elsewhere the report would be rendered at the lowest
 * priority, slow on a busy machine. (On macOS and Windows it would lower the whole process.)
 */
const canNice = process.platform === 'linux' && process.getuid?.() === 0;
const normal = canNice ? getPriority() : 0;
const lowered = canNice && trySetPriority(19);

let request: ToReportThread | undefined;
let arrived: (() => void) | undefined;
port.on('message', (m: ToReportThread) => {
  request = m;
  if (lowered) trySetPriority(normal);
  arrived?.();
});

function trySetPriority(p: number): boolean {
  try {
    setPriority(p);
    return true;
  } catch {
    return false;
  }
}

const reply = (m: FromReportThread): void => port.postMessage(m);

async function main(): Promise<void> {
  const t0 = performance.now();
  const { formatReportTimings, writeReportFiles } = await import('./write-reports.js');
  let warm = `loaded in ${(performance.now() - t0).toFixed(0)} ms${threadCpu()}`;
  // warming up takes CPU the other threads may need unless this thread is at low priority
  if ((workerData as { warmUp?: boolean } | undefined)?.warmUp !== false && lowered && !request) warm += `, ${await warmUp(() => request !== undefined)}`;
  if (!request) await new Promise<void>((r) => (arrived = r));
  const { report, dir } = request as ToReportThread;
  const before = threadCpuMs();
  const timings = formatReportTimings(await writeReportFiles(dir, report));
  const after = threadCpuMs();
  if (before !== undefined && after !== undefined) warm += `, then ${after - before} ms cpu for the report`;
  reply({ type: 'done', timings, warm });
}

/** Rounds of warm-up: the first compiles Vega's code, the next let V8 optimise what runs hot. */
const WARM_ROUNDS = 3;

/**
 * Renders the sample report's charts WARM_ROUNDS times (one chart at a time, stopping early when
 * the run's report comes), then its page and picture SVG once. Vega's SVG ids restart for every
 * chart, so nothing here changes what the run's report looks like (report.test.ts checks).
 */
async function warmUp(stop: () => boolean): Promise<string> {
  const t0 = performance.now();
  const [{ CHART_IDS, chartSpecs, renderChartsSync, renderSpecSvgSync }, { renderHtml }, { dashboardSvg }, { renderAlertsText }, { sampleReport }] = await Promise.all([
    import('./charts.js'),
    import('./html.js'),
    import('./png.js'),
    import('./alerts.js'),
    import('./fixture.js'),
  ]);
  const sample = sampleReport();
  const stopped = (what: string): string => `warm-up stopped ${what} after ${(performance.now() - t0).toFixed(0)} ms`;
  for (let round = 1; round < WARM_ROUNDS; round++) {
    const specs = chartSpecs(sample);
    for (const id of CHART_IDS) {
      if (stop()) return stopped(`in round ${round}`);
      renderSpecSvgSync(specs[id]);
      await nextTurn();
    }
  }
  if (stop()) return stopped(`before round ${WARM_ROUNDS}`);
  const charts = renderChartsSync(sample);
  renderHtml(sample, charts);
  dashboardSvg(sample, charts);
  renderAlertsText(sample);
  return `warmed up in ${(performance.now() - t0).toFixed(0)} ms${threadCpu()}`;
}

main().catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  reply(errorMessage(e));
});
