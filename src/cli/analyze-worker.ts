/**
 * Entry of the worker thread `vigil analyze` runs its detectors on (the judge): judges batches in
 * order, then writes summary.json and hands the report back (the main thread renders the rest once
 * this thread, and the memory its detectors hold, is gone). It imports only the judging half (analyze-judge.ts); the
 * messages are the ones analyze.ts's `workerJudge` sends and reads.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchReader } from '../core/analyze/record-batch.js';
import { errorMessage } from '../adapters/report/report-thread.js';
import { heapMB, threadCpu } from '../adapters/report/thread-cpu.js';
import { JudgeRun, type JudgeSetup } from './analyze-judge.js';
import type { FromJudge, ToJudge } from './analyze.js';

/** VIGIL_ANALYZE_TIMINGS=1: how long this thread judged and worked (reported with 'done'). */
const TIMINGS = { read: 0, busy: 0 };

function judgeWorkerMain(): void {
  const port = parentPort;
  if (!port) throw new Error('judgeWorkerMain runs in a worker thread');
  const setup = workerData as JudgeSetup;
  const since = (): string => (Number(process.hrtime.bigint() - setup.started) / 1e6).toFixed(0);
  const readyAt = since();
  let firstBatchAt: string | undefined;
  const run = new JudgeRun(setup);
  const reader = new BatchReader(run.judge);
  let queue = Promise.resolve();
  const reply = (m: FromJudge): void => port.postMessage(m);
  port.on('message', (m: ToJudge) => {
    queue = queue.then(async () => {
      if (m.type === 'batch') {
        firstBatchAt ??= since();
        const t0 = performance.now();
        reader.read(m.batch);
        TIMINGS.read += performance.now() - t0;
        await run.writers.flush();
        TIMINGS.busy += performance.now() - t0;
        reply({ type: 'ack' });
      } else {
        const t0 = performance.now();
        const { report, console: text } = await run.finish(m.front);
        const timings = `judge thread: ready at ${readyAt} ms, first batch at ${firstBatchAt ?? '-'} ms, judged ${TIMINGS.read.toFixed(0)} ms, busy ${TIMINGS.busy.toFixed(0)} ms, finish ${(performance.now() - t0).toFixed(0)} ms, heap ${heapMB()}${threadCpu()}\n${run.timings}`;
        reply({ type: 'done', console: text, report, ...(process.env.VIGIL_ANALYZE_TIMINGS ? { timings } : {}) });
      }
    }).catch((err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      reply(errorMessage(e));
    });
  });
}

judgeWorkerMain();
