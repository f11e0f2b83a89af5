/**
 * The transport between ingestion and the pipeline. The default is in-process (this file); the
 * fleet's is Redis Streams (src/adapters/stream/: `vigil serve` publishes, `vigil worker`s consume
 * through a consumer group).
 *
 * Delivery is at least once: a batch is acknowledged by the consumer only once its results are
 * stored, and a consumer must expect to see a batch again (batch ids make that harmless).
 */
import type { IncidentStatus } from '../core/incidents/incident.js';
import type { LogRecord } from '../core/parse/record.js';

/** A raw text line (parsed by the source's learned format), or a record that arrived structured. */
export type BatchRecord = { kind: 'line'; text: string } | { kind: 'record'; record: LogRecord };

export interface IngestBatch {
  /** Unique per project: a client's idempotency key, or a generated id. */
  id: string;
  projectId: string;
  source: string;
  /** Server time the batch arrived (epoch ms): the event time of records that carry none. */
  receivedAtMs: number;
  records: BatchRecord[];
}

export interface Delivery {
  readonly batch: IngestBatch;
  /**
   * The stream entry id (`ms-seq`) that carried the batch, when the transport is a stream: entries
   * of one project arrive in increasing position, and a checkpoint records the last one it includes.
   */
  readonly position?: string;
  /** The batch's results are stored: it will not be delivered again. */
  ack(): void;
  /** The batch cannot be processed (or its processing was thrown away); its publisher is told why. */
  fail(err: Error): void;
}

/**
 * A person's status change, sent through the project's stream in fleet mode: the worker that owns
 * the project applies it in order with the logs, so its copy of the incident never overwrites it.
 */
export interface StatusCommand {
  /** Unique per project (recorded with the processed batches, so it applies once). */
  id: string;
  projectId: string;
  /** The incident's source (its worker loads the source's incidents to apply the change). */
  source: string;
  incidentId: string;
  status: IncidentStatus;
}

export interface CommandDelivery {
  readonly command: StatusCommand;
  readonly position?: string;
  ack(): void;
  fail(err: Error): void;
}

/** Orders stream positions (`ms-seq`); -1, 0 or 1. */
export function comparePositions(a: string, b: string): number {
  const [am, as] = splitPosition(a);
  const [bm, bs] = splitPosition(b);
  return am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
}

function splitPosition(p: string): [number, number] {
  const dash = p.indexOf('-');
  return dash < 0 ? [Number(p), 0] : [Number(p.slice(0, dash)), Number(p.slice(dash + 1))];
}

export interface QueueStats {
  /** Batches published and not yet acknowledged. */
  pendingBatches: number;
  pendingRecords: number;
  /** Age of the oldest unacknowledged batch (0 when none). */
  oldestPendingMs: number;
}

export interface IngestQueue {
  /**
   * Hands a batch over; resolves once the batch can no longer be lost. For this in-process queue
   * that is when the consumer has stored its results (so a crash loses nothing acknowledged); for
   * a durable stream it will be when the stream has it.
   */
  publish(batch: IngestBatch): Promise<void>;
  /** Delivers batches in order; the next one waits until `handler`'s promise settles. */
  consume(handler: (d: Delivery) => Promise<void>): void;
  stats(): QueueStats;
  /** Stops accepting batches (publish rejects); batches already in are still delivered. */
  close(): void;
  /** Resolves when every batch published so far has been handed to the consumer. */
  drained(): Promise<void>;
}

export class QueueError extends Error {
  constructor(readonly code: 'VIGIL_INGEST_QUEUE_FULL' | 'VIGIL_SHUTTING_DOWN', message: string) {
    super(message);
  }
}

interface Entry {
  batch: IngestBatch;
  at: number;
  resolve(): void;
  reject(err: Error): void;
}

/** The in-process queue: bounded by records waiting, not by batches. */
export class MemoryQueue implements IngestQueue {
  private readonly waiting: Entry[] = [];
  private readonly unacked = new Set<Entry>();
  private pendingRecords = 0;
  private handler: ((d: Delivery) => Promise<void>) | undefined;
  private pumping = false;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly maxRecords: number,
    private readonly now: () => number = Date.now,
  ) {}

  publish(batch: IngestBatch): Promise<void> {
    if (this.closed) return Promise.reject(new QueueError('VIGIL_SHUTTING_DOWN', 'the server is shutting down; retry against another instance or later'));
    const n = batch.records.length;
    if (this.pendingRecords > 0 && this.pendingRecords + n > this.maxRecords) {
      return Promise.reject(new QueueError('VIGIL_INGEST_QUEUE_FULL', `${this.pendingRecords} records are waiting to be processed (at most ${this.maxRecords}); retry shortly`));
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { batch, at: this.now(), resolve, reject };
      this.pendingRecords += n;
      this.unacked.add(entry);
      this.waiting.push(entry);
      void this.pump();
    });
  }

  consume(handler: (d: Delivery) => Promise<void>): void {
    this.handler = handler;
    void this.pump();
  }

  stats(): QueueStats {
    let oldest = Infinity;
    for (const e of this.unacked) if (e.at < oldest) oldest = e.at;
    return { pendingBatches: this.unacked.size, pendingRecords: this.pendingRecords, oldestPendingMs: oldest === Infinity ? 0 : Math.max(0, this.now() - oldest) };
  }

  close(): void {
    this.closed = true;
  }

  drained(): Promise<void> {
    if (!this.pumping && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private settle(entry: Entry): boolean {
    if (!this.unacked.delete(entry)) return false;
    this.pendingRecords -= entry.batch.records.length;
    return true;
  }

  private async pump(): Promise<void> {
    if (this.pumping || !this.handler) return;
    this.pumping = true;
    try {
      while (this.waiting.length > 0) {
        const entry = this.waiting.shift()!;
        const delivery: Delivery = {
          batch: entry.batch,
          ack: () => {
            if (this.settle(entry)) entry.resolve();
          },
          fail: (err) => {
            if (this.settle(entry)) entry.reject(err);
          },
        };
        try {
          await this.handler(delivery);
        } catch (err) {
          delivery.fail(err instanceof Error ? err : new Error(String(err)));
        }
      }
    } finally {
      this.pumping = false;
      const idle = this.idle;
      this.idle = [];
      for (const r of idle) r();
    }
  }
}
