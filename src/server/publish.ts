/**
 * One way into the queue for every ingestion path (`/api/ingest`, OTLP, Loki, syslog, the
 * simulator): publish a batch and wait until it is stored, with the same timeout and the same
 * error codes everywhere.
 */
import type { IngestRecord } from '../core/ingest-protocols/ingest-record.js';
import { toLogRecord } from '../core/ingest-protocols/ingest-record.js';
import { QueueError, type BatchRecord, type IngestBatch, type IngestQueue } from '../worker/queue.js';
import { ApiError } from './errors.js';

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Publishes `batch` and resolves once it is stored. Rejects with an ApiError: VIGIL_INGEST_TIMEOUT,
 * the queue's code (back-pressure, closed), or VIGIL_INGEST_UNAVAILABLE.
 */
export async function publishAndWait(queue: IngestQueue, batch: IngestBatch, timeoutMs: number, onUnexpected?: (err: unknown) => void): Promise<void> {
  try {
    await withTimeout(queue.publish(batch), timeoutMs, () => new ApiError(503, 'VIGIL_INGEST_TIMEOUT', `the batch was not stored within ${timeoutMs / 1000} s; retry with the same Idempotency-Key`));
  } catch (err) {
    if (err instanceof QueueError) throw new ApiError(503, err.code, err.message);
    if (err instanceof ApiError) throw err;
    onUnexpected?.(err);
    throw new ApiError(503, 'VIGIL_INGEST_UNAVAILABLE', 'the batch could not be processed or stored; retry later with the same Idempotency-Key');
  }
}

const SOURCE_CHARS = /[^A-Za-z0-9._:/@-]+/g;

/** A source name (SOURCE_PATTERN) made of a service name: odd characters become `_`, at most 128 characters. */
export function sourceName(name: string | undefined, fallback: string, prefix = ''): string {
  let s = (name ?? '').trim().replace(SOURCE_CHARS, '_').replace(/^[^A-Za-z0-9]+/, '');
  if (s === '') s = fallback;
  return `${prefix}${s}`.slice(0, 128);
}

/** Structured records grouped into one batch's records per source (in first-seen order). */
export function recordsBySource(records: readonly IngestRecord[], sourceOf: (r: IngestRecord) => string): Map<string, BatchRecord[]> {
  const out = new Map<string, BatchRecord[]>();
  for (const r of records) {
    const source = sourceOf(r);
    let list = out.get(source);
    if (!list) out.set(source, (list = []));
    list.push({ kind: 'record', record: toLogRecord(r) });
  }
  return out;
}
