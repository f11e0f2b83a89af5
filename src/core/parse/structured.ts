/** JSON lines and logfmt: records that carry their own field names. */
import { levelFromNumber, levelFromWord, levelIn, newRecord, type Level, type LogRecord } from './record.js';
import { parseTimestampValue } from './timestamp.js';

const MESSAGE_KEYS = ['message', 'msg', 'log', 'text', '@message', 'body', 'event', 'short_message'];
const LEVEL_KEYS = ['level', 'severity', 'lvl', 'loglevel', 'log.level', 'levelname', '@l', 'severity_text', 'status'];
const TIME_KEYS = ['timestamp', 'time', '@timestamp', 'ts', 't', '@t', 'datetime', 'date', 'eventTime'];
const COMPONENT_KEYS = ['service', 'service.name', 'logger', 'logger_name', 'component', 'module', 'name', 'app', 'application', 'source', 'caller'];
const HOST_KEYS = ['host', 'hostname', 'host.name', 'node'];
const PID_KEYS = ['pid', 'process.pid'];
const REQUEST_KEYS = ['request_id', 'requestId', 'req_id', 'reqId', 'trace_id', 'traceId', 'trace.id', 'correlation_id', 'correlationId', 'x-request-id', 'session_id', 'sessionId'];
const MAX_ATTRIBUTES = 32;
const MAX_ATTRIBUTE_CHARS = 256;

/** Flattens nested objects to dotted keys (`{log:{level}}` → `log.level`), two levels deep. */
export function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}, depth = 0): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 2) flatten(v as Record<string, unknown>, key, out, depth + 1);
    else out[key] = v;
  }
  return out;
}

function take(fields: Record<string, unknown>, keys: readonly string[], used: Set<string>): unknown {
  for (const k of keys) {
    const v = fields[k];
    if (v !== undefined && v !== null && v !== '') {
      used.add(k);
      return v;
    }
  }
  return undefined;
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** A record with what the role fields hold (those given); a level value that is no level word is left out. */
function roleRecord(levelValue: unknown, timeValue: unknown, component: unknown, host: unknown, pid: unknown, requestId: unknown, defaultYear: number): LogRecord {
  let level: Level | undefined;
  if (levelValue !== undefined) {
    // (levelIn is levelFromWord of the whole string, without the upper-cased copy of `info`)
    level = (typeof levelValue === 'number' ? levelFromNumber(levelValue) : typeof levelValue === 'string' ? levelIn(levelValue, 0, levelValue.length) : levelFromWord(asText(levelValue))) || undefined;
  }
  let timestamp: number | undefined;
  let timestampText: string | undefined;
  if (timeValue !== undefined) {
    timestamp = parseTimestampValue(timeValue, defaultYear);
    if (timestamp !== undefined) timestampText = asText(timeValue);
  }
  return newRecord(
    '',
    timestamp,
    timestampText,
    level,
    component !== undefined ? asText(component) : undefined,
    pid !== undefined ? asText(pid) : undefined,
    host !== undefined ? asText(host) : undefined,
    requestId !== undefined ? asText(requestId) : undefined,
    undefined,
  );
}

/** Sets the record's attributes (`n` of them) and its message: the message field, or else the other fields. */
function withMessage(rec: LogRecord, attributes: Record<string, string>, n: number, message: unknown, whole: string): LogRecord {
  if (n > 0) rec.attributes = attributes;
  if (message !== undefined) rec.message = asText(message);
  else {
    // no message key: the remaining fields are the message, so the record still mines to a template
    const rest = Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(' ');
    rec.message = rest || whole;
  }
  return rec;
}

/** Builds a record from named fields, whichever format they came from. */
export function recordFromFields(fields: Record<string, unknown>, defaultYear: number, whole: string): LogRecord {
  const used = new Set<string>();
  const message = take(fields, MESSAGE_KEYS, used);
  const levelValue = take(fields, LEVEL_KEYS, used);
  const timeValue = take(fields, TIME_KEYS, used);
  const component = take(fields, COMPONENT_KEYS, used);
  const host = take(fields, HOST_KEYS, used);
  const pid = take(fields, PID_KEYS, used);
  const requestId = take(fields, REQUEST_KEYS, used);
  const rec = roleRecord(levelValue, timeValue, component, host, pid, requestId, defaultYear);
  // a level value that is no level word stays an attribute
  if (levelValue !== undefined && rec.level === undefined) used.delete(LEVEL_KEYS.find((k) => fields[k] === levelValue)!);
  const attributes: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(fields)) {
    if (used.has(k) || v === undefined || n >= MAX_ATTRIBUTES) continue;
    attributes[k] = asText(v).slice(0, MAX_ATTRIBUTE_CHARS);
    n++;
  }
  return withMessage(rec, attributes, n, message, whole);
}

/** The roles of recordFromFields, in the order it takes them. */
const ROLE_KEYS = [MESSAGE_KEYS, LEVEL_KEYS, TIME_KEYS, COMPONENT_KEYS, HOST_KEYS, PID_KEYS, REQUEST_KEYS];
const R_MESSAGE = 0;
const R_LEVEL = 1;
const R_TIME = 2;
const R_COMPONENT = 3;
const R_HOST = 4;
const R_PID = 5;
const R_REQUEST = 6;
/**
 * Each role key's code: its role × 16 + its rank in the role's list (take() prefers the lower).
 * One number: no object to read through on every key of every JSON line.
 */
const ROLE_CODE = new Map<string, number>();
ROLE_KEYS.forEach((keys, role) => keys.forEach((k, rank) => ROLE_CODE.set(k, role * 16 + rank)));
if (ROLE_KEYS.some((keys) => keys.length > 16)) throw new Error('a role lists more than 16 keys: widen ROLE_CODE');

/** Per role, the index (in the object's keys) of the key flatRecord takes, -1 for none, and its rank (reused from record to record). */
const takenAt = new Int32Array(ROLE_KEYS.length);
const takenRank = new Int32Array(ROLE_KEYS.length);
/** Per key of the object being read, its ROLE_CODE, or -1 (grown as needed). */
let keyCode = new Int32Array(64);

/**
 * recordFromFields(flatten(fields)) for an object with no nested object and no `__proto__` key
 * (flatten() would then return a copy of it): the same record, read in one pass over the object's
 * keys instead of looking up each of the ~50 keys the roles name. Undefined for any other object.
 */
function flatRecord(fields: Record<string, unknown>, defaultYear: number, whole: string): LogRecord | undefined {
  const keys = Object.keys(fields);
  const count = keys.length;
  if (keyCode.length < count) keyCode = new Int32Array(count * 2);
  takenAt.fill(-1);
  takenRank.fill(16);
  // take(): per role, the first key of its list whose value is set
  for (let j = 0; j < count; j++) {
    const k = keys[j]!;
    const v = fields[k];
    // what flatten() would change: the object is not flat
    if (k === '__proto__' || (v !== null && typeof v === 'object' && !Array.isArray(v))) return undefined;
    const code = ROLE_CODE.get(k);
    if (code === undefined) {
      keyCode[j] = -1;
      continue;
    }
    keyCode[j] = code;
    const role = code >> 4;
    const rank = code & 15;
    if (rank >= takenRank[role]! || v === undefined || v === null || v === '') continue;
    takenAt[role] = j;
    takenRank[role] = rank;
  }
  const message = roleValue(fields, keys, R_MESSAGE);
  const levelValue = roleValue(fields, keys, R_LEVEL);
  const timeValue = roleValue(fields, keys, R_TIME);
  const component = roleValue(fields, keys, R_COMPONENT);
  const host = roleValue(fields, keys, R_HOST);
  const pid = roleValue(fields, keys, R_PID);
  const requestId = roleValue(fields, keys, R_REQUEST);
  const rec = roleRecord(levelValue, timeValue, component, host, pid, requestId, defaultYear);
  // a level value that is no level word stays an attribute
  const levelUsed = rec.level !== undefined;
  const attributes: Record<string, string> = {};
  let n = 0;
  for (let j = 0; j < count; j++) {
    const k = keys[j]!;
    const v = fields[k];
    if (v === undefined || n >= MAX_ATTRIBUTES) continue;
    const code = keyCode[j]!;
    if (code >= 0 && takenAt[code >> 4] === j && (code >> 4 !== R_LEVEL || levelUsed)) continue;
    attributes[k] = asText(v).slice(0, MAX_ATTRIBUTE_CHARS);
    n++;
  }
  return withMessage(rec, attributes, n, message, whole);
}

/** The value of the key flatRecord took for a role, if any. */
function roleValue(fields: Record<string, unknown>, keys: readonly string[], role: number): unknown {
  const at = takenAt[role]!;
  return at < 0 ? undefined : fields[keys[at]!];
}

/** A JSON object line, or undefined when the line is not one. */
export function parseJsonLine(line: string, defaultYear: number): LogRecord | undefined {
  const s = line.trimStart();
  if (s.charCodeAt(0) !== 123 /* { */) return undefined;
  const t = s.trimEnd();
  if (t.charCodeAt(t.length - 1) !== 125 /* } */) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(s);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  return flatRecord(obj, defaultYear, line) ?? recordFromFields(flatten(obj), defaultYear, line);
}

const LOGFMT_PAIR = /([A-Za-z_@][\w.@-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?:\s+|$)/y;

/** A logfmt line (`time=… level=info msg="…"`), or undefined when the line is not one. */
export function parseLogfmtLine(line: string, defaultYear: number): LogRecord | undefined {
  const fields: Record<string, unknown> = {};
  let pos = 0;
  while (pos < line.length && (line.charCodeAt(pos) === 32 || line.charCodeAt(pos) === 9)) pos++;
  let pairs = 0;
  while (pos < line.length) {
    LOGFMT_PAIR.lastIndex = pos;
    const m = LOGFMT_PAIR.exec(line);
    if (!m) return undefined;
    let v = m[2]!;
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        v = v.slice(1, -1);
      }
    }
    fields[m[1]!] = v;
    pairs++;
    pos = LOGFMT_PAIR.lastIndex;
  }
  if (pairs < 2) return undefined;
  // a run of key=value words is logfmt only when it names at least one of the usual keys
  const known = ['msg', 'message', 'level', 'lvl', 'time', 'ts', 'timestamp', 'severity'];
  if (!known.some((k) => k in fields)) return undefined;
  return recordFromFields(fields, defaultYear, line);
}
