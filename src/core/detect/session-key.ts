/**
 * The session key of a record: what ties its lines together (a request, trace, block, job or
 * container), so sequence and correlation detectors can follow one unit of work through a stream.
 *
 * Order of trust:
 * 1. `record.requestId` (the parser found it in the header or a structured field);
 * 2. the first parameter shaped like an entity id nobody writes by accident: `blk_-123`, `req-…`,
 *    a UUID, or a Hadoop/YARN-style `application_…` / `job_…` / `container_…` / `attempt_…` /
 *    `task_…` id (a known prefix, then a long number: cluster timestamps keep them unique);
 * 3. the value of a `request_id=` / `trace_id:` / `session_id=` / `txn=` … key in the message (the
 *    miner keeps only the value as a parameter, so the key is read from the message);
 * 4. a bare 16- or 32-digit hex parameter with letters and digits (a trace or span id). It comes
 *    last because hashes and tenant ids have the same shape.
 *
 * Runs per line: parameters are tested with character checks and a regex only on candidates; the
 * message regex runs only when nothing stronger was found.
 */
import type { LogRecord } from '../parse/record.js';

/** Keys longer than this are cut: an id is never this long, and the key is held in bounded maps. */
export const MAX_SESSION_KEY_CHARS = 128;

const STRONG = 2;
const WEAK = 1;
const NONE = 0;

/** Hadoop/YARN-style prefixes; the rest must be a long number (see YARN_REST). */
const ENTITY_PREFIXES = ['application_', 'appattempt_', 'attempt_', 'container_', 'job_', 'task_'];
/** `1445144423722_0020`, `e17_1445144423722_0020_01_000001`, `…_m_000002_0`. */
const YARN_REST = /^[A-Za-z]?\d*_?\d{6,}(?:_[A-Za-z0-9]+)*$/;

/** `request_id=…`, `"traceId": "…"`, `x-request-id: …`, `session=…`, `txn=…`. */
const KEY_VALUE_ID =
  /(?<![A-Za-z0-9])(?:(?:x-)?(?:request|req|trace|session|sess|correlation|corr|transaction|txn|conversation)[-_.]?id["']?\s*[=:]|(?:session|txn|transaction)=)\s*["']?([A-Za-z0-9][\w.:/-]{1,127})/i;
const NOT_AN_ID = new Set(['true', 'false', 'null', 'none', 'nil', 'undefined', 'unknown', 'empty', 'n/a']);

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

function isUuid(p: string, from: number): boolean {
  if (p.length - from !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = p.charCodeAt(from + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHex(c)) return false;
  }
  return true;
}

/** A 16- or 32-digit hex run holding both letters and digits (pure numbers are counters, not ids). */
function isHexId(p: string): boolean {
  if (p.length !== 16 && p.length !== 32) return false;
  let letters = 0;
  let digits = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (isHex(c)) letters++;
    else return false;
  }
  return letters > 0 && digits > 0;
}

function classify(p: string): number {
  if (p.length < 8) return NONE;
  const c0 = p.charCodeAt(0);
  if (c0 === 98 /* b */ && p.startsWith('blk_')) {
    let i = 4;
    if (p.charCodeAt(i) === 45) i++;
    if (i >= p.length) return NONE;
    for (; i < p.length; i++) if (!isDigit(p.charCodeAt(i))) return NONE;
    return STRONG;
  }
  if (c0 === 114 /* r */ && p.startsWith('req-')) return p.length >= 12 ? STRONG : NONE;
  if (c0 === 97 || c0 === 99 || c0 === 106 || c0 === 116 /* a c j t */) {
    for (const prefix of ENTITY_PREFIXES) {
      if (p.startsWith(prefix)) return YARN_REST.test(p.slice(prefix.length)) ? STRONG : NONE;
    }
  }
  if (isUuid(p, 0)) return STRONG;
  return isHexId(p) ? WEAK : NONE;
}

const cut = (key: string): string => (key.length > MAX_SESSION_KEY_CHARS ? key.slice(0, MAX_SESSION_KEY_CHARS) : key);

/** The value of a request/trace/session/transaction id key in a message, if there is one. */
export function keyedIdOf(message: string): string | undefined {
  const m = KEY_VALUE_ID.exec(message);
  if (!m) return undefined;
  const value = m[1]!;
  return NOT_AN_ID.has(value.toLowerCase()) ? undefined : value;
}

/** The session key of a record with its mined parameters, or undefined when it has none. */
export function sessionKeyOf(record: LogRecord, params: readonly string[]): string | undefined {
  if (record.requestId) return cut(record.requestId);
  let weak: string | undefined;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const kind = classify(p);
    if (kind === STRONG) return cut(p);
    if (kind === WEAK && weak === undefined) weak = p;
  }
  const keyed = keyedIdOf(record.message);
  if (keyed !== undefined) return cut(keyed);
  return weak;
}
