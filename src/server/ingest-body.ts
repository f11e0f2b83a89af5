/**
 * Ingest bodies: `text/plain` (one line per record, parsed later with the source's learned format)
 * and `application/x-ndjson` (one JSON object per line: `message`, and optionally `timestamp`,
 * `level`, `service`, `host`, `attributes`), optionally gzip- or deflate-compressed.
 *
 * A bad record is rejected alone, with its index (0-based line number in the body) and a stable
 * code; its neighbours are kept. Blank lines are skipped, not counted.
 */
import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import { levelFromNumber, levelFromWord, type LogRecord } from '../core/parse/record.js';
import { parseTimestampValue } from '../core/parse/timestamp.js';
import type { BatchRecord } from '../worker/queue.js';
import { ApiError } from './errors.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export interface RecordError {
  index: number;
  code: string;
  message: string;
}

export interface ParsedBody {
  records: BatchRecord[];
  rejected: number;
  /** The first MAX_REPORTED_ERRORS rejections. */
  errors: RecordError[];
  rejectedByCode: Record<string, number>;
}

export interface BodyLimits {
  maxBodyBytes: number;
  maxLineBytes: number;
  maxRecordsPerRequest: number;
}

export const MAX_REPORTED_ERRORS = 20;
const MAX_ATTRIBUTES = 32;
const MAX_ATTRIBUTE_CHARS = 1_024;
const REQUEST_ID_KEYS = ['request_id', 'requestId', 'trace_id', 'traceId', 'correlation_id', 'correlationId', 'session_id', 'sessionId'];

/** Undoes Content-Encoding; the decoded size is bounded by the body limit too. */
export async function decodeBody(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  if (enc !== 'gzip' && enc !== 'x-gzip' && enc !== 'deflate') {
    throw new ApiError(415, 'VIGIL_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${enc}" is not supported (use gzip, deflate or none)`);
  }
  try {
    return await (enc === 'deflate' ? inflateAsync(body, { maxOutputLength: maxBytes }) : gunzipAsync(body, { maxOutputLength: maxBytes }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new ApiError(413, 'VIGIL_INGEST_BODY_TOO_LARGE', `the body is larger than ${maxBytes} bytes once decompressed`);
    }
    throw new ApiError(400, 'VIGIL_BAD_REQUEST', `the body is not valid ${enc} data: ${(err as Error).message}`);
  }
}

class Collector {
  readonly out: ParsedBody = { records: [], rejected: 0, errors: [], rejectedByCode: {} };

  reject(index: number, code: string, message: string): void {
    this.out.rejected++;
    this.out.rejectedByCode[code] = (this.out.rejectedByCode[code] ?? 0) + 1;
    if (this.out.errors.length < MAX_REPORTED_ERRORS) this.out.errors.push({ index, code, message });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Lines of the body, with their 0-based index; blank lines are left out. Counts first, so an oversized request does no work. */
function lines(body: Buffer, limits: BodyLimits): { index: number; text: string }[] {
  const text = utf8.decode(body);
  const out: { index: number; text: string }[] = [];
  let start = 0;
  let index = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() !== '') {
      out.push({ index, text: line });
      if (out.length > limits.maxRecordsPerRequest) {
        throw new ApiError(413, 'VIGIL_INGEST_TOO_MANY_RECORDS', `more than ${limits.maxRecordsPerRequest} records in one request; split it into smaller batches`);
      }
    }
    index++;
    start = end + 1;
  }
  return out;
}

function tooLong(line: string, maxBytes: number): boolean {
  if (line.length > maxBytes) return true;
  return line.length * 3 > maxBytes && Buffer.byteLength(line, 'utf8') > maxBytes;
}

export function parseTextBody(body: Buffer, limits: BodyLimits): ParsedBody {
  const c = new Collector();
  for (const { index, text } of lines(body, limits)) {
    if (tooLong(text, limits.maxLineBytes)) {
      c.reject(index, 'VIGIL_INGEST_LINE_TOO_LONG', `line is longer than ${limits.maxLineBytes} bytes`);
      continue;
    }
    c.out.records.push({ kind: 'line', text });
  }
  return c.out;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** One NDJSON object as a record, or the reason it is not one. */
export function recordFromObject(value: unknown, defaultYear: number): LogRecord | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'each line must be a JSON object';
  const o = value as Record<string, unknown>;
  if (typeof o.message !== 'string') return 'the object needs a "message" string';
  const rec: LogRecord = { message: o.message };
  const attributes: Record<string, string> = {};
  let n = 0;
  const attr = (k: string, v: unknown): void => {
    if (v === undefined || v === null || n >= MAX_ATTRIBUTES) return;
    attributes[k] = text(v).slice(0, MAX_ATTRIBUTE_CHARS);
    n++;
  };
  if (o.timestamp !== undefined && o.timestamp !== null) {
    const ts = parseTimestampValue(o.timestamp, defaultYear);
    if (ts !== undefined) {
      rec.timestamp = ts;
      rec.timestampText = text(o.timestamp);
    } else attr('timestamp', o.timestamp);
  }
  if (typeof o.level === 'string' || typeof o.level === 'number') {
    const level = typeof o.level === 'number' ? levelFromNumber(o.level) : levelFromWord(o.level.trim());
    if (level) rec.level = level;
    else attr('level', o.level);
  }
  if (typeof o.service === 'string' && o.service !== '') rec.component = o.service.slice(0, MAX_ATTRIBUTE_CHARS);
  if (typeof o.host === 'string' && o.host !== '') rec.host = o.host.slice(0, MAX_ATTRIBUTE_CHARS);
  if (o.attributes !== undefined && o.attributes !== null) {
    if (typeof o.attributes !== 'object' || Array.isArray(o.attributes)) return '"attributes" must be an object';
    for (const [k, v] of Object.entries(o.attributes as Record<string, unknown>)) attr(k, v);
  }
  for (const [k, v] of Object.entries(o)) {
    if (k !== 'message' && k !== 'timestamp' && k !== 'level' && k !== 'service' && k !== 'host' && k !== 'attributes') attr(k, v);
  }
  for (const k of REQUEST_ID_KEYS) {
    const v = attributes[k];
    if (v) {
      rec.requestId = v.slice(0, 128);
      break;
    }
  }
  if (n > 0) rec.attributes = attributes;
  return rec;
}

export function parseNdjsonBody(body: Buffer, limits: BodyLimits, defaultYear: number): ParsedBody {
  const c = new Collector();
  for (const { index, text: line } of lines(body, limits)) {
    if (tooLong(line, limits.maxLineBytes)) {
      c.reject(index, 'VIGIL_INGEST_LINE_TOO_LONG', `line is longer than ${limits.maxLineBytes} bytes`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      c.reject(index, 'VIGIL_BAD_REQUEST', `invalid JSON: ${(err as Error).message}`);
      continue;
    }
    const rec = recordFromObject(value, defaultYear);
    if (typeof rec === 'string') {
      c.reject(index, 'VIGIL_BAD_REQUEST', rec);
      continue;
    }
    c.out.records.push({ kind: 'record', record: rec });
  }
  return c.out;
}
