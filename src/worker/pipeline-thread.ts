/**
 * The pipeline on a thread of its own (node:worker_threads), the embedded `vigil serve`'s default:
 * the main thread keeps HTTP, body parsing, the store and the API's reads; this thread runs
 * parse → mine → detect → incidents for the batches the main thread posts
 * (src/worker/threaded-pipeline.ts is the other side).
 *
 * The store stays on the main thread (one database connection, and PGlite's flushes there balance
 * the two threads' work): the pipeline's few store calls — loading a project's state, the flush
 * every 250 ms, a batch id lookup — are requests to the main thread. Everything the pipeline tells
 * (acknowledgements, observer hooks, log lines, its health) goes back in one ordered outbox, posted
 * once per turn of the event loop, so an incident's events always reach the main thread after the
 * flush that stored them and before the acknowledgement of the batch that made them.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Pipeline, type PipelineObserver, type PipelineStore } from './pipeline.js';
import { MemoryQueue } from './queue.js';
import { decodeBatch, fromWireError, toWireError, type EncodedBatch, type WireError } from './thread-codec.js';

/** The pipeline's settings, as `vigil serve` configured them. */
export interface PipelineThreadOptions {
  incidentWindowMs: number;
  flushIntervalMs: number;
  flushMaxRecords: number;
  snapshotIntervalMs: number;
}

export type StoreMethod = keyof PipelineStore;
export type ThreadCall = 'setIncidentStatus' | 'flush' | 'checkpoint';

export interface ThreadStats {
  healthy: boolean;
  stats: ReturnType<Pipeline['stats']>;
}

/** Main thread → pipeline thread. */
export type ToThread =
  | { t: 'batch'; seq: number; batch: EncodedBatch }
  | { t: 'call'; id: number; method: ThreadCall; args: unknown[] }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: WireError }
  | { t: 'stop' };

/** Pipeline thread → main thread (posted as arrays, in order). */
export type FromThread =
  | { t: 'ready' }
  | { t: 'ack'; seq: number }
  | { t: 'fail'; seq: number; error: WireError }
  | { t: 'observe'; hook: keyof PipelineObserver; args: unknown[] }
  | { t: 'store'; id: number; method: StoreMethod; args: unknown[] }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: WireError }
  | { t: 'health'; health: ThreadStats }
  | { t: 'log'; level: 'warn' | 'error'; obj: object; msg: string }
  | { t: 'stopped' }
  | { t: 'stopFailed'; error: WireError };

const HOOKS: readonly (keyof PipelineObserver)[] = ['processed', 'flushed', 'flushFailed', 'duplicate', 'incidentEvent', 'incidentsStored', 'windowFindings', 'checkpointed', 'replayed'];

function runThread(): void {
  const port = parentPort;
  if (!port) throw new Error('pipeline-thread.js runs as a worker thread (see threaded-pipeline.ts)');
  const options = workerData as PipelineThreadOptions;

  let outbox: FromThread[] = [];
  let scheduled = false;
  const post = (): void => {
    scheduled = false;
    if (outbox.length === 0) return;
    const out = outbox;
    outbox = [];
    port.postMessage(out);
  };
  const send = (m: FromThread): void => {
    outbox.push(m);
    if (!scheduled) {
      scheduled = true;
      setImmediate(post);
    }
  };

  // the store, on the main thread
  let nextId = 1;
  const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const call = (method: StoreMethod, args: unknown[]): Promise<never> => new Promise((resolve, reject) => {
    const id = nextId++;
    calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
    send({ t: 'store', id, method, args });
  });
  const store: PipelineStore = {
    // the checkpoint's state goes as JSON text: a string crosses threads in one copy, the object
    // graph (megabytes of detector state) would be cloned object by object, then serialised there
    flush: (w) => call('flush', [{
      ...w,
      minerStates: w.minerStates.map((m) => ({ ...m, snapshot: null, snapshotJson: m.snapshotJson ?? JSON.stringify(m.snapshot) })),
      checkpoints: (w.checkpoints ?? []).map((c) => ({ ...c, detectors: null, detectorsJson: c.detectorsJson ?? JSON.stringify(c.detectors) })),
    }]),
    getIncident: (p, id) => call('getIncident', [p, id]),
    incidentsOfSource: (p, s) => call('incidentsOfSource', [p, s]),
    processedBatch: (p, b) => call('processedBatch', [p, b]),
    projectState: (p) => call('projectState', [p]),
    setIncidentStatus: (p, id, st, at) => call('setIncidentStatus', [p, id, st, at]),
  };

  let pipeline: Pipeline | undefined;
  const health = (): void => {
    if (pipeline) send({ t: 'health', health: { healthy: pipeline.healthy, stats: pipeline.stats() } });
  };
  const observer: PipelineObserver = {};
  for (const hook of HOOKS) {
    (observer as Record<string, (...args: unknown[]) => void>)[hook] = (...args: unknown[]) => {
      // an error object does not clone faithfully: its message is what the main thread needs
      send({ t: 'observe', hook, args: hook === 'flushFailed' ? [toWireError(args[0])] : args });
      if (hook === 'flushed' || hook === 'flushFailed') health();
    };
  }
  pipeline = new Pipeline({
    store,
    now: Date.now,
    newId: randomUUID,
    incidentWindowMs: options.incidentWindowMs,
    flushIntervalMs: options.flushIntervalMs,
    flushMaxRecords: options.flushMaxRecords,
    snapshotIntervalMs: options.snapshotIntervalMs,
    observer,
    log: {
      warn: (obj, msg) => send({ t: 'log', level: 'warn', obj, msg }),
      error: (obj, msg) => send({ t: 'log', level: 'error', obj, msg }),
    },
  });
  // batches wait here, in order, for the pipeline (the main thread's queue bounds how many)
  const queue = new MemoryQueue(Number.MAX_SAFE_INTEGER);
  const p = pipeline;
  queue.consume(async (d) => {
    try {
      await p.handle(d);
    } finally {
      // processed: its acknowledgement (after the next flush) needs the batch's id, not its records
      d.batch.records = [];
    }
  });
  p.run();

  const answer = (id: number, work: Promise<unknown>): void => {
    work.then(
      (value) => send({ t: 'reply', id, ok: true, value }),
      (err: unknown) => send({ t: 'reply', id, ok: false, error: toWireError(err) }),
    );
  };

  port.on('message', (m: ToThread) => {
    switch (m.t) {
      case 'batch': {
        const seq = m.seq;
        queue.publish(decodeBatch(m.batch)).then(
          () => send({ t: 'ack', seq }),
          (err: unknown) => send({ t: 'fail', seq, error: toWireError(err) }),
        );
        return;
      }
      case 'reply': {
        const c = calls.get(m.id);
        if (!c) return;
        calls.delete(m.id);
        if (m.ok) c.resolve(m.value);
        else c.reject(fromWireError(m.error));
        return;
      }
      case 'call': {
        if (m.method === 'setIncidentStatus') {
          const [projectId, id, status] = m.args as Parameters<Pipeline['setIncidentStatus']>;
          answer(m.id, p.setIncidentStatus(projectId, id, status));
        } else if (m.method === 'flush') answer(m.id, p.flush());
        else if (m.method === 'checkpoint') answer(m.id, p.checkpoint());
        else throw new Error(`pipeline thread: unknown call ${String(m.method)}`);
        return;
      }
      case 'stop': {
        queue.close();
        void queue.drained()
          .then(() => p.stop())
          .then(
            () => {
              health();
              send({ t: 'stopped' });
            },
            (err: unknown) => send({ t: 'stopFailed', error: toWireError(err) }),
          );
        return;
      }
      default:
        // a message this thread does not understand: the two sides disagree, nothing can be trusted
        throw new Error(`pipeline thread: unknown message ${JSON.stringify((m as { t?: unknown }).t)}`);
    }
  });
  health();
  send({ t: 'ready' });
}

runThread();
