/**
 * The common shape every ingestion protocol (OTLP/HTTP JSON, the Loki push API, syslog) turns its
 * payload into, the result of turning one request into records, and the limits that bound it.
 *
 * Rules every protocol follows:
 * - A bad record is rejected on its own, with a stable `VIGIL_INGEST_*` code and its index in the
 *   request; its good neighbours are kept.
 * - Only a request that cannot be read at all (invalid JSON, the wrong envelope, too large) fails
 *   whole, by throwing an {@link IngestError}.
 * - Over-long values keep their head and are counted in `truncated`, never dropped silently.
 */
import type { Level, LogRecord } from '../parse/record.js';

export interface IngestRecord {
  message: string;
  /** Epoch milliseconds. Absent when the sender gave none (the receiver may stamp its own time). */
  timestamp?: number;
  level?: Level;
  service?: string;
  host?: string;
  attributes?: Record<string, string>;
  /** Lower-case hex, 32 characters. */
  traceId?: string;
  /** Lower-case hex, 16 characters. */
  spanId?: string;
}

/** Stable error codes. The first four fail a whole request; the rest reject one record. */
export const INGEST_ERROR_CODES = [
  'VIGIL_INGEST_INVALID_JSON',
  'VIGIL_INGEST_INVALID_REQUEST',
  'VIGIL_INGEST_TOO_LARGE',
  'VIGIL_INGEST_UNSUPPORTED_MEDIA_TYPE',
  'VIGIL_INGEST_INVALID_RECORD',
  'VIGIL_INGEST_MISSING_MESSAGE',
  'VIGIL_INGEST_INVALID_MESSAGE',
  'VIGIL_INGEST_INVALID_TIMESTAMP',
  'VIGIL_INGEST_INVALID_SEVERITY',
  'VIGIL_INGEST_INVALID_ID',
  'VIGIL_INGEST_INVALID_ATTRIBUTES',
  'VIGIL_INGEST_TOO_MANY_RECORDS',
  'VIGIL_INGEST_MESSAGE_TOO_LARGE',
  'VIGIL_INGEST_INCOMPLETE_FRAME',
] as const;
export type IngestErrorCode = (typeof INGEST_ERROR_CODES)[number];

export interface IngestRejection {
  /** Position of the record in the request, counting every record in order (0-based). */
  index: number;
  code: IngestErrorCode;
  message: string;
  /** Where in the payload, e.g. `resourceLogs[0].scopeLogs[1].logRecords[3]`. */
  path?: string;
}

export interface IngestResult {
  records: IngestRecord[];
  /** Details of rejected records, at most `limits.maxRejectionDetails` of them. */
  rejected: IngestRejection[];
  /** Every rejected record, including those past the detail cap. */
  rejectedCount: number;
  /** Records kept with a value cut to the limits (message, attribute, too many attributes). */
  truncated: number;
}

/** A request that cannot be read at all. `status` is the HTTP status a server should answer. */
export class IngestError extends Error {
  constructor(readonly code: IngestErrorCode, message: string, readonly status = 400) {
    super(message);
    this.name = 'IngestError';
  }
}

export interface IngestLimits {
  /** Records per request; the rest are rejected with VIGIL_INGEST_TOO_MANY_RECORDS. */
  maxRecords: number;
  /** Characters of a request body given as text or bytes. */
  maxBodyChars: number;
  /** Characters of one message; longer ones keep their head. */
  maxMessageChars: number;
  /** Attributes per record (record attributes first, then scope, then resource/labels). */
  maxAttributes: number;
  maxAttributeKeyChars: number;
  maxAttributeValueChars: number;
  /** Characters of service and host names. */
  maxNameChars: number;
  /** Nesting of structured values (OTLP kvlist/array) before the rest is written as JSON. */
  maxDepth: number;
  /** Rejections described in detail; the count stays exact past it. */
  maxRejectionDetails: number;
}

export const DEFAULT_INGEST_LIMITS: Readonly<IngestLimits> = Object.freeze({
  maxRecords: 50_000,
  maxBodyChars: 16 * 1024 * 1024,
  maxMessageChars: 64 * 1024,
  maxAttributes: 128,
  maxAttributeKeyChars: 256,
  maxAttributeValueChars: 4096,
  maxNameChars: 256,
  maxDepth: 8,
  maxRejectionDetails: 100,
});

export function resolveLimits(limits: Partial<IngestLimits> | undefined): IngestLimits {
  return { ...DEFAULT_INGEST_LIMITS, ...limits };
}

/** Cuts text to `max` characters without splitting a surrogate pair. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return text.slice(0, end);
}

/**
 * Collects one request's records and rejections under the limits. Protocol parsers call
 * `nextIndex()` once per record they meet, then `accept` or `reject` it.
 */
export class IngestCollector {
  readonly limits: IngestLimits;
  private readonly result: IngestResult = { records: [], rejected: [], rejectedCount: 0, truncated: 0 };
  private index = 0;

  constructor(limits?: Partial<IngestLimits>) {
    this.limits = resolveLimits(limits);
  }

  /** The index of the next record, and whether it is still within `maxRecords`. */
  nextIndex(): { index: number; withinLimit: boolean } {
    const index = this.index++;
    return { index, withinLimit: index < this.limits.maxRecords };
  }

  reject(index: number, code: IngestErrorCode, message: string, path?: string): void {
    this.result.rejectedCount++;
    if (this.result.rejected.length >= this.limits.maxRejectionDetails) return;
    const r: IngestRejection = { index, code, message };
    if (path !== undefined) r.path = path;
    this.result.rejected.push(r);
  }

  rejectOverLimit(index: number, path?: string): void {
    this.reject(index, 'VIGIL_INGEST_TOO_MANY_RECORDS', `more than ${this.limits.maxRecords} records in one request`, path);
  }

  /** Keeps a record; `message` must already be non-empty. Cuts message and names to the limits. */
  accept(record: IngestRecord, truncated = false): void {
    let cutSome = truncated;
    if (record.message.length > this.limits.maxMessageChars) {
      record.message = cut(record.message, this.limits.maxMessageChars);
      cutSome = true;
    }
    if (record.service !== undefined && record.service.length > this.limits.maxNameChars) {
      record.service = cut(record.service, this.limits.maxNameChars);
      cutSome = true;
    }
    if (record.host !== undefined && record.host.length > this.limits.maxNameChars) {
      record.host = cut(record.host, this.limits.maxNameChars);
      cutSome = true;
    }
    if (cutSome) this.result.truncated++;
    this.result.records.push(record);
  }

  attributes(): AttributeBag {
    return new AttributeBag(this.limits);
  }

  done(): IngestResult {
    return this.result;
  }
}

/**
 * A record's attributes under the limits: the first value set for a key wins (so callers add the
 * most specific source first), keys and values are cut, extra keys are dropped and noted.
 */
export class AttributeBag {
  readonly values: Record<string, string> = Object.create(null) as Record<string, string>;
  private count = 0;
  /** Whether a key or value was cut or a key dropped. */
  truncated = false;

  constructor(private readonly limits: IngestLimits) {}

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.values, cut(key, this.limits.maxAttributeKeyChars));
  }

  /** Sets `key` unless it is already set. Empty keys are ignored. */
  set(key: string, value: string): void {
    if (key === '') return;
    let k = key;
    if (k.length > this.limits.maxAttributeKeyChars) {
      k = cut(k, this.limits.maxAttributeKeyChars);
      this.truncated = true;
    }
    if (Object.prototype.hasOwnProperty.call(this.values, k)) return;
    if (this.count >= this.limits.maxAttributes) {
      this.truncated = true;
      return;
    }
    let v = value;
    if (v.length > this.limits.maxAttributeValueChars) {
      v = cut(v, this.limits.maxAttributeValueChars);
      this.truncated = true;
    }
    this.values[k] = v;
    this.count++;
  }

  /** A plain object (or undefined when empty), safe to spread and serialise. */
  toObject(): Record<string, string> | undefined {
    if (this.count === 0) return undefined;
    return { ...this.values };
  }
}

const HEX = /^[0-9a-f]+$/;

/**
 * A trace (16 bytes) or span (8 bytes) id as lower-case hex. Accepts hex (the OTLP/JSON encoding)
 * and base64 (what a generic protobuf-JSON encoder writes for bytes). `null` means invalid;
 * undefined means absent (empty or all zeros, which OTLP defines as "no id").
 */
export function normalizeId(value: unknown, bytes: 16 | 8): string | undefined | null {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return null;
  let hex: string | undefined;
  const lower = value.toLowerCase();
  if (lower.length === bytes * 2 && HEX.test(lower)) hex = lower;
  else if (value.length === Math.ceil(bytes / 3) * 4 && /^[A-Za-z0-9+/_-]+=*$/.test(value)) {
    try {
      const bin = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
      if (bin.length === bytes) {
        hex = '';
        for (let i = 0; i < bin.length; i++) hex += bin.charCodeAt(i).toString(16).padStart(2, '0');
      }
    } catch {
      hex = undefined;
    }
  }
  if (hex === undefined) return null;
  return /^0+$/.test(hex) ? undefined : hex;
}

/** Parses a JSON request body given as text or UTF-8 bytes; throws IngestError. */
export function parseJsonBody(body: string | Uint8Array, limits: IngestLimits): unknown {
  const size = typeof body === 'string' ? body.length : body.byteLength;
  if (size > limits.maxBodyChars) {
    throw new IngestError('VIGIL_INGEST_TOO_LARGE', `request body of ${size} bytes is over the limit of ${limits.maxBodyChars}`, 413);
  }
  const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: false }).decode(body);
  if (text.trim() === '') throw new IngestError('VIGIL_INGEST_INVALID_JSON', 'request body is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new IngestError('VIGIL_INGEST_INVALID_JSON', `request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The first keys of an object, cut short, to name what a wrong payload holds in an error. */
export function describeKeys(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj);
  if (keys.length === 0) return 'no keys';
  const shown = keys.slice(0, 5).map((k) => JSON.stringify(cut(k, 40))).join(', ');
  return keys.length > 5 ? `${shown}, …` : shown;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Epoch milliseconds from a nanosecond count written as a decimal string or a number (OTLP
 * `timeUnixNano`, Loki's timestamps). undefined for 0/empty (unset); null when invalid.
 */
export function nanosToMs(value: unknown): number | undefined | null {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0') return undefined;
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return null;
    ms = Math.floor(value / 1e6);
  } else if (typeof value === 'string' && /^\d{1,22}$/.test(value)) {
    // exact integer division on the decimal digits: nanosecond values overflow a double's precision
    ms = value.length > 6 ? Number(value.slice(0, -6)) : 0;
  } else return null;
  if (ms === 0) return undefined;
  return ms <= 8.64e15 ? ms : null;
}

/** The structured record the rest of Vigil works on (service → component, traceId → requestId). */
export function toLogRecord(r: IngestRecord): LogRecord {
  const rec: LogRecord = { message: r.message };
  if (r.timestamp !== undefined) rec.timestamp = r.timestamp;
  if (r.level !== undefined) rec.level = r.level;
  if (r.service !== undefined) rec.component = r.service;
  if (r.host !== undefined) rec.host = r.host;
  if (r.traceId !== undefined) rec.requestId = r.traceId;
  const pid = r.attributes?.['syslog.procid'] ?? r.attributes?.['process.pid'];
  if (pid !== undefined) rec.pid = pid;
  let attributes = r.attributes;
  if (r.spanId !== undefined || r.traceId !== undefined) {
    attributes = { ...attributes };
    if (r.traceId !== undefined) attributes.trace_id ??= r.traceId;
    if (r.spanId !== undefined) attributes.span_id ??= r.spanId;
  }
  if (attributes && Object.keys(attributes).length > 0) rec.attributes = attributes;
  return rec;
}
