/**
 * OpenTelemetry OTLP/HTTP logs, JSON encoding (`POST /v1/logs`, `Content-Type: application/json`):
 * an `ExportLogsServiceRequest` in, IngestRecords out, and the reply OTLP clients expect.
 *
 * Mapping (see the README's ingestion section):
 * - body → message (string as is; numbers and booleans as text; a key/value body uses its
 *   `message`/`msg`/`log`/`body`/`text` string and keeps its other keys as attributes, or is written
 *   as JSON; an array as JSON); no body → `eventName`.
 * - timeUnixNano (else observedTimeUnixNano) → timestamp; severityNumber 1–24 → trace, debug, info,
 *   warn, error, fatal (4 each); else severityText by word; else a `level`/`severity` key of a
 *   key/value body.
 * - resource `service.name` → service, `host.name` → host; traceId/spanId → lower-case hex.
 * - attributes: the record's, then `event.name`, `otel.scope.name`/`otel.scope.version` and scope
 *   attributes, then the resource's; nested values flatten to dotted keys, arrays to JSON.
 * Field names are read in lowerCamelCase (the OTLP/JSON spelling) and snake_case (protobuf names).
 */
import { levelFromWord, type Level } from '../parse/record.js';
import {
  AttributeBag,
  describeKeys,
  IngestCollector,
  IngestError,
  type IngestLimits,
  type IngestRecord,
  type IngestResult,
  isObject,
  nanosToMs,
  normalizeId,
  parseJsonBody,
} from './ingest-record.js';

export interface OtlpParseOptions {
  limits?: Partial<IngestLimits>;
}

/** The JSON body of an OTLP export reply (`ExportLogsServiceResponse`). */
export interface OtlpExportLogsResponse {
  partialSuccess?: { rejectedLogRecords: number; errorMessage: string };
}

/** The body OTLP/HTTP servers send with a 4xx/5xx (a `google.rpc.Status`). */
export interface OtlpStatus {
  code: number;
  message: string;
}

/** OTLP severity number (1–24) → level; 0 (unspecified) and out-of-range numbers → undefined. */
export function levelFromOtlpSeverity(n: number): Level | undefined {
  if (!Number.isInteger(n) || n < 1 || n > 24) return undefined;
  return (['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const)[Math.floor((n - 1) / 4)];
}

const SEVERITY_NAMES: Record<string, number> = (() => {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  const bands = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  out.SEVERITY_NUMBER_UNSPECIFIED = 0;
  bands.forEach((b, i) => {
    out[`SEVERITY_NUMBER_${b}`] = i * 4 + 1;
    for (let k = 2; k <= 4; k++) out[`SEVERITY_NUMBER_${b}${k}`] = i * 4 + k;
  });
  return out;
})();

/** severityNumber as written: a number, a decimal string, or the enum's name. null when invalid. */
function severityNumber(v: unknown): number | undefined | null {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? (/^\d+$/.test(v) ? Number(v) : SEVERITY_NAMES[v]) : undefined;
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > 24) return null;
  return n === 0 ? undefined : n;
}

/** Reads `obj[camel]`, falling back to the snake_case protobuf field name. */
function field(obj: Record<string, unknown>, camel: string, snake?: string): unknown {
  const v = obj[camel];
  if (v !== undefined) return v;
  return snake === undefined ? undefined : obj[snake];
}

type Plain = string | number | boolean | null | Plain[] | { [k: string]: Plain };

/** An OTLP AnyValue as a plain JSON value (kvlist → object, array → array). */
function anyToPlain(v: unknown, depth: number, maxDepth: number): Plain {
  if (!isObject(v)) return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
  if (typeof v.stringValue === 'string' || typeof v.string_value === 'string') return (v.stringValue ?? v.string_value) as string;
  const b = field(v, 'boolValue', 'bool_value');
  if (typeof b === 'boolean') return b;
  const i = field(v, 'intValue', 'int_value');
  if (typeof i === 'number' || typeof i === 'string') {
    const n = Number(i);
    return typeof i === 'string' && !Number.isSafeInteger(n) ? i : n;
  }
  const d = field(v, 'doubleValue', 'double_value');
  if (typeof d === 'number') return d;
  if (typeof d === 'string') return d; // "NaN", "Infinity" in protobuf JSON
  const bytes = field(v, 'bytesValue', 'bytes_value');
  if (typeof bytes === 'string') return bytes;
  const arr = field(v, 'arrayValue', 'array_value');
  if (isObject(arr)) {
    if (depth >= maxDepth) return '[nested too deep]';
    const values = Array.isArray(arr.values) ? arr.values : [];
    return values.map((x) => anyToPlain(x, depth + 1, maxDepth));
  }
  const kv = field(v, 'kvlistValue', 'kvlist_value');
  if (isObject(kv)) {
    if (depth >= maxDepth) return '[nested too deep]';
    const out = Object.create(null) as { [k: string]: Plain };
    for (const e of Array.isArray(kv.values) ? kv.values : []) {
      if (isObject(e) && typeof e.key === 'string') out[e.key] = anyToPlain(e.value, depth + 1, maxDepth);
    }
    return out;
  }
  return null;
}

function plainToText(p: Plain): string {
  if (p === null) return '';
  if (typeof p === 'string') return p;
  if (typeof p === 'number' || typeof p === 'boolean') return String(p);
  return JSON.stringify(p);
}

/** Adds a plain value to the bag, flattening objects to dotted keys. */
function addPlain(bag: AttributeBag, key: string, p: Plain): void {
  if (p !== null && typeof p === 'object' && !Array.isArray(p)) {
    const entries = Object.entries(p);
    if (entries.length === 0) bag.set(key, '{}');
    for (const [k, v] of entries) addPlain(bag, `${key}.${k}`, v);
  } else bag.set(key, plainToText(p));
}

/** Adds an OTLP `KeyValue[]` list; malformed entries are skipped and mark the bag truncated. */
function addKeyValues(bag: AttributeBag, list: unknown, maxDepth: number): void {
  if (!Array.isArray(list)) return;
  for (const e of list) {
    if (!isObject(e) || typeof e.key !== 'string') {
      bag.truncated = true;
      continue;
    }
    addPlain(bag, e.key, anyToPlain(e.value, 0, maxDepth));
  }
}

/** A KeyValue list flattened to dotted keys and strings (for resource attributes, read once). */
function keyValuesToMap(list: unknown, maxDepth: number): Map<string, string> {
  const out = new Map<string, string>();
  const put = (key: string, p: Plain): void => {
    if (p !== null && typeof p === 'object' && !Array.isArray(p)) {
      const entries = Object.entries(p);
      if (entries.length === 0 && !out.has(key)) out.set(key, '{}');
      for (const [k, v] of entries) put(`${key}.${k}`, v);
    } else if (!out.has(key)) out.set(key, plainToText(p));
  };
  if (!Array.isArray(list)) return out;
  for (const e of list) if (isObject(e) && typeof e.key === 'string') put(e.key, anyToPlain(e.value, 0, maxDepth));
  return out;
}

const MESSAGE_KEYS = ['message', 'msg', 'log', 'body', 'text'];
const LEVEL_KEYS = ['level', 'severity', 'log.level', 'levelname'];

interface Body {
  message?: string;
  /** Other keys of a key/value body. */
  fields?: { [k: string]: Plain };
  level?: Level;
}

/** The message of a log record's body; null when the body is not an AnyValue. */
function readBody(body: unknown, maxDepth: number): Body | null {
  if (body === undefined || body === null) return {};
  if (typeof body === 'string') return { message: body }; // hand-written JSON: a bare string body
  if (!isObject(body)) return null;
  const p = anyToPlain(body, 0, maxDepth);
  if (p === null) return Object.keys(body).length === 0 ? {} : null;
  if (typeof p !== 'object' || Array.isArray(p)) return { message: plainToText(p) };
  const out: Body = {};
  const fields: { [k: string]: Plain } = Object.assign(Object.create(null) as object, p);
  const key = MESSAGE_KEYS.find((k) => typeof fields[k] === 'string' && fields[k] !== '');
  if (key !== undefined) {
    out.message = fields[key] as string;
    delete fields[key];
    out.fields = fields;
  } else out.message = JSON.stringify(p);
  for (const k of LEVEL_KEYS) {
    const v = p[k];
    const level = typeof v === 'string' ? levelFromWord(v) : undefined;
    if (level) {
      out.level = level;
      break;
    }
  }
  return out;
}

function arrayField(obj: Record<string, unknown>, camel: string, snake: string, legacy?: string): { value: unknown[] } | { error: string } | undefined {
  const v = field(obj, camel, snake) ?? (legacy !== undefined ? obj[legacy] : undefined);
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? { value: v } : { error: `${camel} is not an array` };
}

/**
 * Turns a parsed `ExportLogsServiceRequest` into records. Throws IngestError only when the
 * request itself is not one (not an object, or none of its keys is `resourceLogs`).
 */
export function otlpLogsToRecords(request: unknown, options: OtlpParseOptions = {}): IngestResult {
  const out = new IngestCollector(options.limits);
  const { maxDepth } = out.limits;
  if (!isObject(request)) throw new IngestError('VIGIL_INGEST_INVALID_REQUEST', 'OTLP logs request must be a JSON object with "resourceLogs"');
  const rl = arrayField(request, 'resourceLogs', 'resource_logs');
  if (rl === undefined) {
    // an empty request is valid OTLP; anything else without resourceLogs is the wrong payload
    if (Object.keys(request).length === 0) return out.done();
    throw new IngestError('VIGIL_INGEST_INVALID_REQUEST', `OTLP logs request has no "resourceLogs" (found: ${describeKeys(request)})`);
  }
  if ('error' in rl) throw new IngestError('VIGIL_INGEST_INVALID_REQUEST', `OTLP logs request: ${rl.error}`);

  rl.value.forEach((resourceLogs, ri) => {
    const rPath = `resourceLogs[${ri}]`;
    if (!isObject(resourceLogs)) {
      out.reject(out.nextIndex().index, 'VIGIL_INGEST_INVALID_RECORD', `${rPath} is not an object`, rPath);
      return;
    }
    const resource = isObject(resourceLogs.resource) ? resourceLogs.resource : {};
    const resourceAttrs = keyValuesToMap(resource.attributes, maxDepth);
    const service = resourceAttrs.get('service.name');
    const host = resourceAttrs.get('host.name');
    const sl = arrayField(resourceLogs, 'scopeLogs', 'scope_logs', 'instrumentationLibraryLogs');
    if (sl === undefined) return;
    if ('error' in sl) {
      out.reject(out.nextIndex().index, 'VIGIL_INGEST_INVALID_RECORD', `${rPath}.${sl.error}`, rPath);
      return;
    }
    sl.value.forEach((scopeLogs, si) => {
      const sPath = `${rPath}.scopeLogs[${si}]`;
      if (!isObject(scopeLogs)) {
        out.reject(out.nextIndex().index, 'VIGIL_INGEST_INVALID_RECORD', `${sPath} is not an object`, sPath);
        return;
      }
      const scope = isObject(scopeLogs.scope) ? scopeLogs.scope : isObject(scopeLogs.instrumentationLibrary) ? scopeLogs.instrumentationLibrary : {};
      const lr = arrayField(scopeLogs, 'logRecords', 'log_records', 'logs');
      if (lr === undefined) return;
      if ('error' in lr) {
        out.reject(out.nextIndex().index, 'VIGIL_INGEST_INVALID_RECORD', `${sPath}.${lr.error}`, sPath);
        return;
      }
      lr.value.forEach((logRecord, li) => {
        const path = `${sPath}.logRecords[${li}]`;
        const { index, withinLimit } = out.nextIndex();
        if (!withinLimit) {
          out.rejectOverLimit(index, path);
          return;
        }
        const made = readLogRecord(logRecord, out, { service, host, resourceAttrs, scope });
        if ('code' in made) out.reject(index, made.code, made.message, path);
        else out.accept(made.record, made.truncated);
      });
    });
  });
  return out.done();
}

interface Context {
  service: string | undefined;
  host: string | undefined;
  resourceAttrs: Map<string, string>;
  scope: Record<string, unknown>;
}

type Made = { record: IngestRecord; truncated: boolean } | { code: Parameters<IngestCollector['reject']>[1]; message: string };

const RESOURCE_MAPPED = new Set(['service.name', 'host.name']);

function readLogRecord(lr: unknown, out: IngestCollector, ctx: Context): Made {
  const { maxDepth } = out.limits;
  if (!isObject(lr)) return { code: 'VIGIL_INGEST_INVALID_RECORD', message: 'log record is not an object' };

  const time = nanosToMs(field(lr, 'timeUnixNano', 'time_unix_nano'));
  if (time === null) return { code: 'VIGIL_INGEST_INVALID_TIMESTAMP', message: 'timeUnixNano must be a count of nanoseconds since the epoch (a decimal string or a number)' };
  const observed = nanosToMs(field(lr, 'observedTimeUnixNano', 'observed_time_unix_nano'));
  if (observed === null) return { code: 'VIGIL_INGEST_INVALID_TIMESTAMP', message: 'observedTimeUnixNano must be a count of nanoseconds since the epoch (a decimal string or a number)' };

  const sevNum = severityNumber(field(lr, 'severityNumber', 'severity_number'));
  if (sevNum === null) return { code: 'VIGIL_INGEST_INVALID_SEVERITY', message: 'severityNumber must be an integer from 0 to 24 (or a SEVERITY_NUMBER_* name)' };
  const sevText = field(lr, 'severityText', 'severity_text');
  if (sevText !== undefined && sevText !== null && typeof sevText !== 'string') return { code: 'VIGIL_INGEST_INVALID_SEVERITY', message: 'severityText must be a string' };

  const body = readBody(lr.body, maxDepth);
  if (body === null) return { code: 'VIGIL_INGEST_INVALID_MESSAGE', message: 'body must be an AnyValue object (stringValue, intValue, doubleValue, boolValue, kvlistValue, arrayValue or bytesValue)' };
  const eventName = field(lr, 'eventName', 'event_name');
  let message = body.message;
  if ((message === undefined || message.trim() === '') && typeof eventName === 'string' && eventName !== '') message = eventName;
  if (message === undefined || message.trim() === '') return { code: 'VIGIL_INGEST_MISSING_MESSAGE', message: 'log record has no body (and no eventName)' };

  const traceId = normalizeId(field(lr, 'traceId', 'trace_id'), 16);
  if (traceId === null) return { code: 'VIGIL_INGEST_INVALID_ID', message: 'traceId must be 32 hex characters' };
  const spanId = normalizeId(field(lr, 'spanId', 'span_id'), 8);
  if (spanId === null) return { code: 'VIGIL_INGEST_INVALID_ID', message: 'spanId must be 16 hex characters' };

  const attrs = field(lr, 'attributes');
  if (attrs !== undefined && attrs !== null && !Array.isArray(attrs)) return { code: 'VIGIL_INGEST_INVALID_ATTRIBUTES', message: 'attributes must be a list of {key, value}' };

  const bag = out.attributes();
  addKeyValues(bag, attrs, maxDepth);
  if (body.fields) for (const [k, v] of Object.entries(body.fields)) addPlain(bag, k, v);
  if (typeof eventName === 'string' && eventName !== '') bag.set('event.name', eventName);
  if (typeof ctx.scope.name === 'string' && ctx.scope.name !== '') bag.set('otel.scope.name', ctx.scope.name);
  if (typeof ctx.scope.version === 'string' && ctx.scope.version !== '') bag.set('otel.scope.version', ctx.scope.version);
  addKeyValues(bag, ctx.scope.attributes, maxDepth);
  for (const [k, v] of ctx.resourceAttrs) if (!RESOURCE_MAPPED.has(k)) bag.set(k, v);

  let level = sevNum !== undefined ? levelFromOtlpSeverity(sevNum) : undefined;
  if (level === undefined && typeof sevText === 'string' && sevText !== '') {
    level = levelFromWord(sevText);
    if (level === undefined) bag.set('severity_text', sevText);
  }
  level ??= body.level;

  const record: IngestRecord = { message };
  const ts = time ?? observed;
  if (ts !== undefined) record.timestamp = ts;
  if (level !== undefined) record.level = level;
  const service = ctx.service ?? bag.values['service.name'];
  if (service !== undefined && service !== '') record.service = service;
  const host = ctx.host ?? bag.values['host.name'];
  if (host !== undefined && host !== '') record.host = host;
  const attributes = bag.toObject();
  if (attributes) record.attributes = attributes;
  if (traceId !== undefined) record.traceId = traceId;
  if (spanId !== undefined) record.spanId = spanId;
  return { record, truncated: bag.truncated };
}

/** Parses an OTLP/HTTP JSON body (text or UTF-8 bytes). Throws IngestError for an unreadable request. */
export function parseOtlpLogsJson(body: string | Uint8Array, options: OtlpParseOptions = {}): IngestResult {
  const limits = new IngestCollector(options.limits).limits;
  return otlpLogsToRecords(parseJsonBody(body, limits), options);
}

/**
 * Throws VIGIL_INGEST_UNSUPPORTED_MEDIA_TYPE (415) unless the content type is JSON: Vigil reads
 * the OTLP/HTTP JSON encoding, not protobuf (configure exporters with `http/json`).
 */
export function assertOtlpJsonContentType(contentType: string | undefined): void {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '' || type === 'application/json' || type.endsWith('+json')) return;
  throw new IngestError('VIGIL_INGEST_UNSUPPORTED_MEDIA_TYPE',
    `OTLP content type "${type}" is not supported: send OTLP/HTTP JSON (Content-Type: application/json, exporter protocol http/json)`, 415);
}

/**
 * The reply to an export that was read (HTTP 200): empty when every record was accepted, else a
 * partial success with the count of rejected records and the first reasons.
 */
export function otlpExportResponse(result: IngestResult): OtlpExportLogsResponse {
  if (result.rejectedCount === 0) return {};
  const reasons = result.rejected.slice(0, 3).map((r) => `${r.path ?? `record ${r.index}`}: ${r.code}: ${r.message}`);
  const more = result.rejectedCount > reasons.length ? ` (and ${result.rejectedCount - reasons.length} more)` : '';
  return { partialSuccess: { rejectedLogRecords: result.rejectedCount, errorMessage: `${reasons.join('; ')}${more}` } };
}

/** The body for a request that failed whole (HTTP `err.status`): a google.rpc.Status. */
export function otlpErrorResponse(err: IngestError): OtlpStatus {
  // 3 INVALID_ARGUMENT for bad input; 8 RESOURCE_EXHAUSTED for too large
  return { code: err.status === 413 ? 8 : 3, message: `${err.code}: ${err.message}` };
}
