/**
 * Batches crossing to the pipeline thread (src/worker/pipeline-thread.ts) in columns.
 *
 * `postMessage` copies with the structured clone algorithm, which is fast for strings and typed
 * arrays and slow for many small objects: a 1,000-record batch as `{kind, record: {…}}` objects
 * costs the sending thread a serialisation of every key of every record and the receiving one an
 * object built property by property. So a batch goes as one array of strings (each record's text
 * or message), one of the distinct values of the other string fields (services and hosts repeat)
 * with a Uint32Array of references to them, one Uint16Array of flags saying which fields each
 * record has, the timestamps in a Float64Array and the levels in a Uint8Array;
 * the rare attribute objects are cloned as they are. The receiving side builds the records again,
 * with the same fields (and no others).
 */
import type { Level, LogRecord } from '../core/parse/record.js';
import { FlushConflictError } from '../adapters/store/vigil-store.js';
import type { BatchRecord, IngestBatch } from './queue.js';

const IS_RECORD = 1;
const TIMESTAMP = 2;
const TIMESTAMP_TEXT = 4;
const LEVEL = 8;
const COMPONENT = 16;
const PID = 32;
const HOST = 64;
const REQUEST_ID = 128;
const ATTRIBUTES = 256;

const LEVELS: readonly Level[] = ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'fatal'];
const LEVEL_CODES: Record<Level, number> = { trace: 0, debug: 1, info: 2, notice: 3, warn: 4, error: 5, fatal: 6 };

/** A batch as it is posted to the pipeline thread. */
export interface EncodedBatch {
  id: string;
  projectId: string;
  source: string;
  receivedAtMs: number;
  fresh: boolean;
  flags: Uint16Array;
  /** Each record's text (a line) or message, in order. */
  texts: string[];
  /**
   * The distinct values of the records' other string fields (timestamp text, component, pid, host,
   * request id): a batch repeats a handful of services and hosts, so each is copied once.
   */
  values: string[];
  /** Index in `values` of each such field, in record and field order. */
  refs: Uint32Array;
  timestamps: Float64Array;
  levels: Uint8Array;
  /** Attribute objects, in the order of the records that have them. */
  attributes: Record<string, string>[];
}

export function encodeBatch(b: IngestBatch): EncodedBatch {
  const records = b.records;
  const n = records.length;
  const flags = new Uint16Array(n);
  const texts: string[] = new Array<string>(n);
  const values: string[] = [];
  const index = new Map<string, number>();
  let refs = new Uint32Array(0);
  let nRefs = 0;
  // the value of each field in the previous record, and its index: consecutive records mostly
  // share them, and comparing with it is cheaper than hashing the string for the map
  const lastValue: (string | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  const lastIndex = [0, 0, 0, 0, 0];
  const ref = (field: number, v: string): void => {
    let i: number | undefined;
    if (v === lastValue[field]) i = lastIndex[field]!;
    else {
      i = index.get(v);
      if (i === undefined) {
        i = values.length;
        values.push(v);
        index.set(v, i);
      }
      lastValue[field] = v;
      lastIndex[field] = i;
    }
    if (nRefs === refs.length) {
      const grown = new Uint32Array(Math.max(n, refs.length * 2));
      grown.set(refs);
      refs = grown;
    }
    refs[nRefs++] = i;
  };
  let timestamps = new Float64Array(0);
  let levels = new Uint8Array(0);
  let nTimestamps = 0;
  let nLevels = 0;
  const attributes: Record<string, string>[] = [];
  for (let i = 0; i < n; i++) {
    const item = records[i]!;
    if (item.kind === 'line') {
      texts[i] = item.text;
      continue;
    }
    const r = item.record;
    let f = IS_RECORD;
    texts[i] = r.message;
    if (r.timestamp !== undefined) {
      // sized for the batch on the first one: most batches have a timestamp on every record or on none
      if (nTimestamps === timestamps.length) timestamps = new Float64Array(n);
      timestamps[nTimestamps++] = r.timestamp;
      f |= TIMESTAMP;
    }
    if (r.timestampText !== undefined) {
      ref(0, r.timestampText);
      f |= TIMESTAMP_TEXT;
    }
    if (r.level !== undefined) {
      if (nLevels === levels.length) levels = new Uint8Array(n);
      levels[nLevels++] = LEVEL_CODES[r.level];
      f |= LEVEL;
    }
    if (r.component !== undefined) {
      ref(1, r.component);
      f |= COMPONENT;
    }
    if (r.pid !== undefined) {
      ref(2, r.pid);
      f |= PID;
    }
    if (r.host !== undefined) {
      ref(3, r.host);
      f |= HOST;
    }
    if (r.requestId !== undefined) {
      ref(4, r.requestId);
      f |= REQUEST_ID;
    }
    if (r.attributes !== undefined) {
      attributes.push(r.attributes);
      f |= ATTRIBUTES;
    }
    flags[i] = f;
  }
  return {
    id: b.id, projectId: b.projectId, source: b.source, receivedAtMs: b.receivedAtMs, fresh: b.fresh === true,
    flags, texts, values,
    refs: nRefs === refs.length ? refs : refs.slice(0, nRefs),
    timestamps: nTimestamps === timestamps.length ? timestamps : timestamps.slice(0, nTimestamps),
    levels: nLevels === levels.length ? levels : levels.slice(0, nLevels),
    attributes,
  };
}

export function decodeBatch(e: EncodedBatch): IngestBatch {
  const { flags, texts, values, refs, timestamps, levels, attributes } = e;
  const n = flags.length;
  const records: BatchRecord[] = new Array<BatchRecord>(n);
  let k = 0;
  let t = 0;
  let l = 0;
  let a = 0;
  for (let i = 0; i < n; i++) {
    const f = flags[i]!;
    if ((f & IS_RECORD) === 0) {
      records[i] = { kind: 'line', text: texts[i]! };
      continue;
    }
    const r: LogRecord = { message: texts[i]! };
    if (f & TIMESTAMP) r.timestamp = timestamps[t++]!;
    if (f & TIMESTAMP_TEXT) r.timestampText = values[refs[k++]!]!;
    if (f & LEVEL) r.level = LEVELS[levels[l++]!]!;
    if (f & COMPONENT) r.component = values[refs[k++]!]!;
    if (f & PID) r.pid = values[refs[k++]!]!;
    if (f & HOST) r.host = values[refs[k++]!]!;
    if (f & REQUEST_ID) r.requestId = values[refs[k++]!]!;
    if (f & ATTRIBUTES) r.attributes = attributes[a++]!;
    records[i] = { kind: 'record', record: r };
  }
  const batch: IngestBatch = { id: e.id, projectId: e.projectId, source: e.source, receivedAtMs: e.receivedAtMs, records };
  if (e.fresh) batch.fresh = true;
  return batch;
}

/** The buffers a batch can hand over rather than copy (the sender does not read them again). */
export function transferablesOf(e: EncodedBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const a of [e.flags, e.refs, e.timestamps, e.levels]) if (a.byteLength > 0) out.push(a.buffer as ArrayBuffer);
  return out;
}

/** An error as it crosses threads: its class name, code and message survive. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
  }
  return { name: 'Error', message: String(err) };
}

/** The error again, on the other side: a store conflict is a FlushConflictError again (the pipeline tells it apart). */
export function fromWireError(e: WireError): Error {
  const err = e.code === 'VIGIL_STORE_CONFLICT' ? new FlushConflictError(e.message) : Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {});
  if (e.name && e.name !== 'Error') err.name = e.name;
  return err;
}
