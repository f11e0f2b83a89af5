/**
 * The Loki push API, JSON encoding (`POST /loki/api/v1/push`, `Content-Type: application/json`),
 * as Grafana Alloy, promtail (`-client.*` with JSON), Fluent Bit and Vector send it:
 *
 *   {"streams": [{"stream": {"job": "varlogs", "host": "web-1"},
 *                 "values": [["1718376961000000000", "line", {"trace_id": "…"}], …]}]}
 *
 * The older form `{"streams": [{"labels": "{job=\"x\"}", "entries": [{"ts": "<RFC 3339>", "line": "…"}]}]}`
 * is read too.
 *
 * Mapping: the first of the labels `service_name`, `service`, `app`, `job` → service; `host`,
 * `hostname`, `instance` → host; `level`, `severity`, `detected_level` (labels, then structured
 * metadata) → level when it is a level word; `trace_id`/`traceId`/`traceID` and
 * `span_id`/`spanId`/`spanID` (metadata, then labels) → traceId/spanId. Every other label and
 * structured-metadata key becomes an attribute (metadata first). The line is the message as sent.
 */
import { levelFromWord, type Level } from '../parse/record.js';
import { parseTimestampValue } from '../parse/timestamp.js';
import {
  describeKeys,
  IngestCollector,
  IngestError,
  type IngestErrorCode,
  type IngestLimits,
  type IngestRecord,
  type IngestResult,
  isObject,
  nanosToMs,
  normalizeId,
  parseJsonBody,
} from './ingest-record.js';

export interface LokiParseOptions {
  limits?: Partial<IngestLimits>;
}

export const LOKI_SERVICE_LABELS = ['service_name', 'service', 'app', 'job'] as const;
export const LOKI_HOST_LABELS = ['host', 'hostname', 'instance'] as const;
export const LOKI_LEVEL_LABELS = ['level', 'severity', 'detected_level'] as const;
const TRACE_KEYS = ['trace_id', 'traceId', 'traceID'];
const SPAN_KEYS = ['span_id', 'spanId', 'spanID'];

/**
 * Parses a Prometheus-style label set, `{job="varlogs", host="web-1"}`, as the legacy push format
 * writes it. null when it is not one.
 */
export function parseLabelString(text: string): Record<string, string> | null {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) return null;
  const out = Object.create(null) as Record<string, string>;
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_.]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  const inner = s.slice(1, -1);
  let at = 0;
  while (at < inner.length) {
    if (inner.slice(at).trim() === '') break;
    re.lastIndex = at;
    const m = re.exec(inner);
    if (!m) return null;
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
    at = re.lastIndex;
  }
  return out;
}

/** A label or metadata map as strings; null when it is not an object. */
function stringMap(v: unknown): Record<string, string> | null {
  if (!isObject(v)) return null;
  const out = Object.create(null) as Record<string, string>;
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined || x === null) continue;
    out[k] = typeof x === 'string' ? x : typeof x === 'object' ? JSON.stringify(x) : String(x);
  }
  return out;
}

interface StreamInfo {
  service?: string;
  host?: string;
  level?: Level;
  /** Label keys turned into fields, so not repeated as attributes. */
  used: Set<string>;
  labels: Record<string, string>;
}

function streamInfo(labels: Record<string, string>): StreamInfo {
  const info: StreamInfo = { used: new Set(), labels };
  for (const k of LOKI_SERVICE_LABELS) {
    if (labels[k]) {
      info.service = labels[k];
      info.used.add(k);
      break;
    }
  }
  for (const k of LOKI_HOST_LABELS) {
    if (labels[k]) {
      info.host = labels[k];
      info.used.add(k);
      break;
    }
  }
  for (const k of LOKI_LEVEL_LABELS) {
    const level = labels[k] ? levelFromWord(labels[k]) : undefined;
    if (level) {
      info.level = level;
      info.used.add(k);
      break;
    }
  }
  return info;
}

type Made = { record: IngestRecord; truncated: boolean } | { code: IngestErrorCode; message: string };

function firstKey(maps: Record<string, string>[], keys: readonly string[]): { key: string; value: string; map: Record<string, string> } | undefined {
  for (const map of maps) for (const key of keys) if (map[key]) return { key, value: map[key], map };
  return undefined;
}

function makeRecord(ts: unknown, line: unknown, metadataRaw: unknown, info: StreamInfo, out: IngestCollector, legacyTime: boolean): Made {
  let timestamp: number | undefined | null;
  if (legacyTime && typeof ts === 'string' && !/^\d+$/.test(ts)) timestamp = parseTimestampValue(ts, 1970) ?? null;
  else timestamp = nanosToMs(ts);
  if (timestamp === null) return { code: 'VIGIL_INGEST_INVALID_TIMESTAMP', message: 'timestamp must be unix nanoseconds as a decimal string' };
  if (typeof line !== 'string') return { code: 'VIGIL_INGEST_INVALID_MESSAGE', message: 'log line must be a string' };
  if (line.trim() === '') return { code: 'VIGIL_INGEST_MISSING_MESSAGE', message: 'log line is empty' };
  let metadata: Record<string, string> = {};
  if (metadataRaw !== undefined && metadataRaw !== null) {
    const m = stringMap(metadataRaw);
    if (m === null) return { code: 'VIGIL_INGEST_INVALID_ATTRIBUTES', message: 'structured metadata must be an object of strings' };
    metadata = m;
  }
  const used = new Set<string>();
  let traceId: string | undefined;
  let spanId: string | undefined;
  const t = firstKey([metadata, info.labels], TRACE_KEYS);
  if (t) {
    const id = normalizeId(t.value, 16);
    if (id === null) return { code: 'VIGIL_INGEST_INVALID_ID', message: `${t.key} must be 32 hex characters` };
    if (id !== undefined) traceId = id;
  }
  const s = firstKey([metadata, info.labels], SPAN_KEYS);
  if (s) {
    const id = normalizeId(s.value, 8);
    if (id === null) return { code: 'VIGIL_INGEST_INVALID_ID', message: `${s.key} must be 16 hex characters` };
    if (id !== undefined) spanId = id;
  }
  let level = info.level;
  if (level === undefined) {
    for (const k of LOKI_LEVEL_LABELS) {
      const l = metadata[k] ? levelFromWord(metadata[k]) : undefined;
      if (l) {
        level = l;
        used.add(k);
        break;
      }
    }
  }

  const bag = out.attributes();
  for (const [k, v] of Object.entries(metadata)) {
    if (used.has(k) || (traceId !== undefined && t?.map === metadata && k === t.key) || (spanId !== undefined && s?.map === metadata && k === s.key)) continue;
    bag.set(k, v);
  }
  for (const [k, v] of Object.entries(info.labels)) {
    if (info.used.has(k) || (traceId !== undefined && t?.map === info.labels && k === t.key) || (spanId !== undefined && s?.map === info.labels && k === s.key)) continue;
    bag.set(k, v);
  }
  const record: IngestRecord = { message: line };
  if (timestamp !== undefined) record.timestamp = timestamp;
  if (level !== undefined) record.level = level;
  if (info.service !== undefined) record.service = info.service;
  if (info.host !== undefined) record.host = info.host;
  const attributes = bag.toObject();
  if (attributes) record.attributes = attributes;
  if (traceId !== undefined) record.traceId = traceId;
  if (spanId !== undefined) record.spanId = spanId;
  return { record, truncated: bag.truncated };
}

/**
 * Turns a parsed push request into records. Throws IngestError only when the request is not one
 * (not an object with a `streams` array).
 */
export function lokiPushToRecords(request: unknown, options: LokiParseOptions = {}): IngestResult {
  const out = new IngestCollector(options.limits);
  if (!isObject(request) || !Array.isArray(request.streams)) {
    const found = isObject(request) ? ` (found: ${describeKeys(request)})` : '';
    throw new IngestError('VIGIL_INGEST_INVALID_REQUEST', `Loki push request must be a JSON object with a "streams" array${found}`);
  }
  request.streams.forEach((stream, si) => {
    const sPath = `streams[${si}]`;
    if (!isObject(stream)) {
      out.reject(out.nextIndex().index, 'VIGIL_INGEST_INVALID_RECORD', `${sPath} is not an object`, sPath);
      return;
    }
    let labels: Record<string, string> | null;
    if (stream.stream !== undefined) labels = stringMap(stream.stream);
    else if (typeof stream.labels === 'string') labels = parseLabelString(stream.labels);
    else labels = {};
    const values = stream.values ?? stream.entries;
    const legacy = stream.values === undefined && stream.entries !== undefined;
    if (!Array.isArray(values)) {
      out.reject(out.nextIndex().index, 'VIGIL_INGEST_INVALID_RECORD', `${sPath}.values must be an array of [timestamp, line] pairs`, sPath);
      return;
    }
    if (labels === null) {
      // the labels are unreadable: every entry of the stream is rejected, other streams are kept
      values.forEach((_, vi) => out.reject(out.nextIndex().index, 'VIGIL_INGEST_INVALID_ATTRIBUTES', `${sPath}.stream must be an object of label names to strings`, `${sPath}.values[${vi}]`));
      return;
    }
    const info = streamInfo(labels);
    values.forEach((entry, vi) => {
      const path = `${sPath}.values[${vi}]`;
      const { index, withinLimit } = out.nextIndex();
      if (!withinLimit) {
        out.rejectOverLimit(index, path);
        return;
      }
      let made: Made;
      if (Array.isArray(entry) && entry.length >= 2 && entry.length <= 3) made = makeRecord(entry[0], entry[1], entry[2], info, out, false);
      else if (isObject(entry) && ('line' in entry || 'ts' in entry)) made = makeRecord(entry.ts ?? entry.timestamp, entry.line, entry.structuredMetadata, info, out, true);
      else made = { code: 'VIGIL_INGEST_INVALID_RECORD', message: 'entry must be ["<unix nanoseconds>", "<line>"] or ["<unix nanoseconds>", "<line>", {structured metadata}]' };
      if ('code' in made) out.reject(index, made.code, made.message, path);
      else out.accept(made.record, made.truncated);
    });
  });
  return out.done();
}

/** Parses a Loki push JSON body (text or UTF-8 bytes). Throws IngestError for an unreadable request. */
export function parseLokiPushJson(body: string | Uint8Array, options: LokiParseOptions = {}): IngestResult {
  const limits = new IngestCollector(options.limits).limits;
  return lokiPushToRecords(parseJsonBody(body, limits), options);
}

/**
 * The reply Loki gives: 204 with no body when every entry was accepted; 400 with a plain-text
 * reason when some were rejected (the others are kept, as Loki does), so shippers log the reason
 * and do not retry the batch.
 */
export function lokiPushReply(result: IngestResult): { status: 204 } | { status: 400; body: string } {
  if (result.rejectedCount === 0) return { status: 204 };
  const lines = result.rejected.slice(0, 10).map((r) => `${r.path ?? `entry ${r.index}`}: ${r.code}: ${r.message}`);
  const more = result.rejectedCount > lines.length ? `\n(and ${result.rejectedCount - lines.length} more)` : '';
  return { status: 400, body: `${result.rejectedCount} of ${result.rejectedCount + result.records.length} entries rejected, the rest accepted:\n${lines.join('\n')}${more}\n` };
}

/** The reply body for a request that failed whole (HTTP `err.status`), as Loki writes errors. */
export function lokiErrorReply(err: IngestError): { status: number; body: string } {
  return { status: err.status, body: `${err.code}: ${err.message}\n` };
}
