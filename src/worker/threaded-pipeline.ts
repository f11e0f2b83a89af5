/**
 * The main thread's side of the pipeline thread (src/worker/pipeline-thread.ts): it consumes the
 * in-process queue like `Pipeline` does, posting each batch (in columns: thread-codec.ts) to the
 * thread, answers the thread's store calls with the store it holds, relays the observer hooks
 * (metrics, the live feed), and settles each delivery when the thread says its batch is stored.
 *
 * A thread that dies (an exception, out of memory, an exit) is noticed at once: every batch not yet
 * stored fails (its client gets a 503 and retries), status changes waiting fail, `healthy` turns
 * false, later batches fail without waiting, and `onDeath` is called (`vigil serve` exits).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Incident, IncidentStatus } from '../core/incidents/incident.js';
import type { PipelineLog, PipelineObserver, PipelineStore } from './pipeline.js';
import type { FromThread, PipelineThreadOptions, ThreadCall, ThreadStats, ToThread } from './pipeline-thread.js';
import type { Delivery, IngestQueue } from './queue.js';
import { encodeBatch, fromWireError, toWireError, transferablesOf } from './thread-codec.js';

export interface ThreadedPipelineOptions extends PipelineThreadOptions {
  store: PipelineStore;
  observer?: PipelineObserver;
  log?: PipelineLog;
  /** The thread died: nothing more will be processed (called once). */
  onDeath?: (err: Error) => void;
  /** Bounds the thread's heap (MB of V8's old generation): past it the thread dies (and the server exits) rather than the machine swapping. */
  maxHeapMb?: number;
}

export class PipelineThreadDiedError extends Error {
  readonly code = 'VIGIL_PIPELINE_THREAD_DIED';
}

/**
 * The thread's module: the compiled one beside this file or, when the sources run as they are
 * (the tests), the TypeScript one, loaded through tsx (a dev dependency) registered in the thread.
 */
function newWorker(workerData: PipelineThreadOptions, maxHeapMb: number | undefined): Worker {
  const here = import.meta.url;
  const options = { workerData, name: 'vigil-pipeline', ...(maxHeapMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } } : {}) };
  if (!here.endsWith('.ts')) return new Worker(new URL('./pipeline-thread.js', here), options);
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./pipeline-thread.ts', here).href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

interface Waiting {
  resolve(v: unknown): void;
  reject(err: Error): void;
}

export class ThreadedPipeline {
  /** Resolves once the thread runs (rejects when it could not start). */
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly deliveries = new Map<number, Delivery>();
  private readonly calls = new Map<number, Waiting>();
  private seq = 0;
  private nextCall = 1;
  private last: ThreadStats | undefined;
  private died: Error | undefined;
  private stopping: Waiting | undefined;
  private stopped = false;
  private readyWait!: Waiting;
  private readonly exited: Promise<void>;
  private early: [ToThread, ArrayBuffer[] | undefined][] | undefined = [];

  constructor(private readonly opts: ThreadedPipelineOptions) {
    const workerData: PipelineThreadOptions = {
      incidentWindowMs: opts.incidentWindowMs,
      flushIntervalMs: opts.flushIntervalMs,
      flushMaxRecords: opts.flushMaxRecords,
      snapshotIntervalMs: opts.snapshotIntervalMs,
    };
    this.ready = new Promise<void>((resolve, reject) => {
      this.readyWait = { resolve: () => resolve(), reject };
    });
    this.ready.catch(() => {});
    this.worker = newWorker(workerData, opts.maxHeapMb);
    this.worker.on('message', (msgs: FromThread[]) => {
      for (const m of msgs) this.receive(m);
    });
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('messageerror', (err) => this.die(err));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (!this.stopped) this.die(new Error(`the pipeline thread exited (code ${code})`));
        resolve();
      });
    });
  }

  /** The thread's id (for logs and tests). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** Why the thread died, when it did. */
  get deathCause(): Error | undefined {
    return this.died;
  }

  /** Starts consuming the queue: each batch goes to the thread as it comes. */
  start(queue: IngestQueue): void {
    queue.consume(async (d) => {
      if (this.died) {
        d.fail(this.deadError());
        return;
      }
      const seq = ++this.seq;
      this.deliveries.set(seq, d);
      const batch = encodeBatch(d.batch);
      this.post({ t: 'batch', seq, batch }, transferablesOf(batch));
      // the thread has them now: the request waiting for its reply need not keep a thousand
      // records alive (surviving young collections) for the ~250 ms until they are stored
      d.batch.records = [];
    });
  }

  /** Like Pipeline's: the thread's stats as of its last flush. */
  stats(): ThreadStats['stats'] & { thread: 'running' | 'dead' | 'stopped'; threadError?: string } {
    const s = this.last?.stats ?? { projects: 0, sources: 0, incidentsHeld: 0, pendingRecords: 0, awaitingCheckpoint: 0, lastFlushOkMs: 0, lastFlushError: undefined };
    return { ...s, thread: this.died ? 'dead' : this.stopped ? 'stopped' : 'running', ...(this.died ? { threadError: this.died.message } : {}) };
  }

  /** The thread runs and its last flush succeeded. */
  get healthy(): boolean {
    return !this.died && (this.last?.healthy ?? true);
  }

  setIncidentStatus(projectId: string, id: string, status: IncidentStatus): Promise<Incident | undefined> {
    return this.call('setIncidentStatus', [projectId, id, status]) as Promise<Incident | undefined>;
  }

  /** Stores what is pending now (tests). */
  flush(): Promise<void> {
    return this.call('flush', []) as Promise<void>;
  }

  /** Stores what is pending with a checkpoint (tests). */
  checkpoint(): Promise<void> {
    return this.call('checkpoint', []) as Promise<void>;
  }

  /**
   * Processes every batch posted so far, stores everything (a checkpoint included) and ends the
   * thread. Call after the queue drained.
   */
  async stop(): Promise<void> {
    if (this.died) throw this.deadError();
    if (this.stopped) return;
    await new Promise<unknown>((resolve, reject) => {
      this.stopping = { resolve, reject };
      this.post({ t: 'stop' });
    });
    this.stopped = true;
    await this.worker.terminate();
    await this.exited;
  }

  /** Ends the thread without storing anything (tests; a process that gives up). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  /** Posts a raw message to the thread (tests: a message it does not understand kills it). */
  postRaw(m: unknown): void {
    this.worker.postMessage(m);
  }

  private post(m: ToThread, transfer?: ArrayBuffer[]): void {
    // until the thread listens, messages wait here (a thread still loading its modules could miss them)
    if (this.early) this.early.push([m, transfer]);
    else this.worker.postMessage(m, transfer);
  }

  private call(method: ThreadCall, args: unknown[]): Promise<unknown> {
    if (this.died) return Promise.reject(this.deadError());
    return new Promise((resolve, reject) => {
      const id = this.nextCall++;
      this.calls.set(id, { resolve, reject });
      this.post({ t: 'call', id, method, args });
    });
  }

  private deadError(): PipelineThreadDiedError {
    return new PipelineThreadDiedError(`the pipeline thread died (${this.died?.message ?? 'unknown'}); the batch was not stored`);
  }

  private receive(m: FromThread): void {
    switch (m.t) {
      case 'ack': {
        const d = this.deliveries.get(m.seq);
        this.deliveries.delete(m.seq);
        d?.ack();
        return;
      }
      case 'fail': {
        const d = this.deliveries.get(m.seq);
        this.deliveries.delete(m.seq);
        d?.fail(fromWireError(m.error));
        return;
      }
      case 'observe': {
        const hook = this.opts.observer?.[m.hook] as ((...args: unknown[]) => void) | undefined;
        if (hook) hook(...(m.hook === 'flushFailed' ? [fromWireError(m.args[0] as never)] : m.args));
        return;
      }
      case 'store': {
        const id = m.id;
        const store = this.opts.store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
        let work: Promise<unknown>;
        try {
          work = store[m.method]!(...m.args);
        } catch (err) {
          work = Promise.reject(err);
        }
        work.then(
          (value) => {
            if (!this.died) this.post({ t: 'reply', id, ok: true, value });
          },
          (err: unknown) => {
            if (!this.died) this.post({ t: 'reply', id, ok: false, error: toWireError(err) });
          },
        );
        return;
      }
      case 'reply': {
        const c = this.calls.get(m.id);
        if (!c) return;
        this.calls.delete(m.id);
        if (m.ok) c.resolve(m.value);
        else c.reject(fromWireError(m.error));
        return;
      }
      case 'health':
        this.last = m.health;
        return;
      case 'log':
        this.opts.log?.[m.level](m.obj, m.msg);
        return;
      case 'ready': {
        const early = this.early ?? [];
        this.early = undefined;
        for (const [msg, transfer] of early) this.worker.postMessage(msg, transfer);
        this.readyWait.resolve(undefined);
        return;
      }
      case 'stopped':
        this.stopping?.resolve(undefined);
        this.stopping = undefined;
        return;
      case 'stopFailed':
        this.stopping?.reject(fromWireError(m.error));
        this.stopping = undefined;
        return;
    }
  }

  /** The thread is gone: fail everything waiting on it, once, loudly. */
  private die(err: Error): void {
    if (this.died) return;
    this.died = err;
    this.opts.log?.error({ err: err.message }, 'the pipeline thread died; batches not yet stored fail (their clients retry)');
    const dead = this.deadError();
    const deliveries = [...this.deliveries.values()];
    this.deliveries.clear();
    for (const d of deliveries) d.fail(dead);
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) c.reject(dead);
    this.stopping?.reject(dead);
    this.stopping = undefined;
    this.readyWait.reject(dead);
    this.opts.onDeath?.(err);
  }
}
