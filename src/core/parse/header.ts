/**
 * Splits a plain-text log line into header fields and the message.
 *
 * A header is a run of fields at the start of a line: an optional source token, a timestamp, then
 * any of separators (`-`, `|`), a level, numbers (pid, tid), bracket groups, a host and a component
 * (`name:`, `proc[pid]:`, a dotted logger name). The scan is greedy, which is right for most lines
 * but could eat the first words of a message; so a stream's header *shape* (the list of field kinds)
 * is learned from its first lines and every later line is read with that exact shape.
 */
import { levelFromLetter, levelFromWord, type Level, type LogRecord } from './record.js';
import { matchTimestamp, type TimestampMatch } from './timestamp.js';

export type FieldKind = 'src' | 'ts' | 'sep' | 'level' | 'num' | 'bracket' | 'host' | 'comp' | 'compColon' | 'field';

export interface HeaderField {
  kind: FieldKind;
  /** For `ts` fields, the timestamp shape (`iso`, `syslog`, …). */
  sub?: string;
}

/** The header fields of a line (a LogRecord's, but the message), and where the message starts. */
export interface HeaderParse extends Omit<LogRecord, 'message' | 'attributes'> {
  /** Field kinds in order, e.g. `ts:iso num level compColon` (set by scanHeader only). */
  signature: string;
  /** The fields read (by scanHeader; readWithShape leaves it empty: the caller has the shape). */
  fields: HeaderField[];
  messageStart: number;
  /** A bracketed context such as `[main]` or `[api-gateway]`. */
  thread?: string;
}

const MAX_HEADER_FIELDS = 12;
const MAX_SOURCE_TOKEN = 96;

const isSpace = (c: number): boolean => c === 32 || c === 9;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

function skipSpaces(line: string, pos: number): number {
  while (pos < line.length && isSpace(line.charCodeAt(pos))) pos++;
  return pos;
}

/** End of the token at `pos`: the next space, or a `|` field separator. */
function tokenEnd(line: string, pos: number): number {
  let i = pos;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (isSpace(c) || c === 124 /* | */) break;
    i++;
  }
  return i;
}

/** End of a balanced `[...]` group starting at `pos`, or -1. */
function bracketEnd(line: string, pos: number): number {
  let depth = 0;
  const limit = Math.min(line.length, pos + 512);
  for (let i = pos; i < limit; i++) {
    const c = line.charCodeAt(i);
    if (c === 91) depth++;
    else if (c === 93) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const DOTTED_NAME = /^[A-Za-z_][\w$-]*(?:\.[\w$-]+)+$/;
const COMPONENT_COLON = /^[A-Za-z_$][\w.$/@#()\-[\]]*:$/;
const PROC_PID = /^(.*?)\[(\d+)\]$/;
const HOSTNAME = /^[A-Za-z0-9][\w.-]*$/;
const PURE_NUMBER = /^\d{1,10}$/;
const REQUEST_ID = /(?:req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{32}\b|\b[0-9a-f]{16}\b)/i;

/**
 * A timestamp starting at `pos`, bare or wrapped in brackets (`[2024-01-15 14:23:45]`,
 * `[Sun Dec 04 04:47:44 2005]`); `end` is then past the `]`.
 */
function timestampAt(line: string, pos: number, defaultYear: number, kind?: string): TimestampMatch | undefined {
  const ts = matchTimestamp(line, pos, defaultYear, kind);
  if (ts || line.charCodeAt(pos) !== 91 /* [ */) return ts;
  const inner = matchTimestamp(line, pos + 1, defaultYear, kind);
  if (!inner || line.charCodeAt(inner.end) !== 93 /* ] */) return undefined;
  return { ...inner, end: inner.end + 1 };
}

function levelOf(token: string): Level | undefined {
  let core = token;
  const first = core.charCodeAt(0);
  if (first === 91 /* [ */ || first === 60 /* < */ || first === 40 /* ( */) core = core.slice(1, -1);
  else if (core.endsWith(':')) core = core.slice(0, -1);
  return levelFromWord(core);
}

interface ScanState {
  out: HeaderParse;
  sawComponent: boolean;
  sawTimestamp: string | undefined;
}

/**
 * Reads one header field at `pos`. With `expect`, only that kind is accepted. Returns the position
 * after the field, or -1 when nothing (or not the expected kind) is there.
 */
function readField(line: string, pos: number, st: ScanState, defaultYear: number, expect?: HeaderField): { kind: FieldKind; sub?: string; end: number; stop?: boolean } | undefined {
  const c = line.charCodeAt(pos);
  const want = expect?.kind;
  // timestamps
  if (want === undefined || want === 'ts') {
    if (want === 'ts' || !st.sawTimestamp) {
      const ts = timestampAt(line, pos, defaultYear, expect?.sub);
      if (ts && (ts.end >= line.length || !isDigit(line.charCodeAt(ts.end)))) {
        st.out.timestamp ??= ts.epochMs;
        st.out.timestampText ??= ts.text;
        st.sawTimestamp = ts.kind;
        return { kind: 'ts', sub: ts.kind, end: ts.end };
      }
    }
    if (want === 'ts') return undefined;
  }
  // single-character separators
  if ((c === 45 /* - */ || c === 124 /* | */ || c === 58 /* : */) && (pos + 1 >= line.length || isSpace(line.charCodeAt(pos + 1)) || c === 124)) {
    if (want !== undefined && want !== 'sep') return undefined;
    return { kind: 'sep', end: pos + 1 };
  }
  if (want === 'sep') return undefined;
  // bracket groups: [thread], [req-…], [INFO]
  if (c === 91 /* [ */) {
    if (want !== undefined && want !== 'bracket' && want !== 'level') return undefined;
    const end = bracketEnd(line, pos);
    if (end < 0) return undefined;
    const inner = line.slice(pos + 1, end - 1);
    const level = inner.length <= 13 ? levelFromWord(inner.trim()) : undefined;
    if (level && (want === undefined || want === 'level')) {
      st.out.level ??= level;
      return { kind: 'level', end };
    }
    if (want === 'level') return undefined;
    const rid = inner.length >= 16 ? REQUEST_ID.exec(inner) : null;
    if (rid) st.out.requestId ??= rid[0];
    else st.out.thread ??= inner;
    return { kind: 'bracket', end, stop: st.sawComponent };
  }
  const end = tokenEnd(line, pos);
  // the commonest strict-shape fields are decided without slicing the token
  if (want === 'num') {
    if (end - pos > 10 || end === pos) return undefined;
    for (let i = pos; i < end; i++) if (!isDigit(line.charCodeAt(i))) return undefined;
    st.out.pid ??= line.slice(pos, end);
    return { kind: 'num', end };
  }
  if (want === 'compColon' && (end - pos < 2 || line.charCodeAt(end - 1) !== 58)) return undefined;
  const token = line.slice(pos, end);
  const pipeField = end < line.length && line.charCodeAt(end) === 124;
  // level words and letters
  if (want === undefined || want === 'level') {
    const level = levelOf(token) ?? (st.sawTimestamp && !st.out.level ? levelFromLetter(token) : undefined);
    if (level && !st.out.level) {
      st.out.level = level;
      return { kind: 'level', end };
    }
    if (want === 'level') return undefined;
  }
  if (st.sawComponent) return undefined;
  // numbers: pid, tid
  if (want === undefined && PURE_NUMBER.test(token)) {
    st.out.pid ??= token;
    return { kind: 'num', end };
  }
  // `a|b|c|message`: every field before a pipe is a header field
  if (pipeField && (want === undefined || want === 'field')) {
    if (!st.out.component) st.out.component = token;
    return { kind: 'field', end };
  }
  if (want === 'field') return undefined;
  // component: `name:`, `proc[pid]:`
  if ((want === undefined || want === 'compColon') && token.length >= 2 && COMPONENT_COLON.test(token)) {
    const name = token.slice(0, -1);
    const pp = name.charCodeAt(name.length - 1) === 93 /* ] */ ? PROC_PID.exec(name) : null;
    if (pp) {
      st.out.component = pp[1];
      st.out.pid ??= pp[2];
    } else st.out.component = name;
    st.sawComponent = true;
    return { kind: 'compColon', end, stop: true };
  }
  if (want === 'compColon') return undefined;
  // host: in syslog, the word between the timestamp and `proc[pid]:`
  if ((want === undefined || want === 'host') && st.sawTimestamp === 'syslog' && !st.out.host && HOSTNAME.test(token)) {
    const nextPos = skipSpaces(line, end);
    const next = line.slice(nextPos, tokenEnd(line, nextPos));
    if (want === 'host' || (next.length >= 2 && COMPONENT_COLON.test(next))) {
      st.out.host = token;
      return { kind: 'host', end };
    }
  }
  if (want === 'host') return undefined;
  // dotted logger names: org.apache.Foo, nova.compute.manager
  if ((want === undefined || want === 'comp') && DOTTED_NAME.test(token) && st.sawTimestamp) {
    st.out.component = token;
    st.sawComponent = true;
    return { kind: 'comp', end };
  }
  return undefined;
}

function freshState(): ScanState {
  return { out: { signature: '', fields: [], messageStart: 0 }, sawComponent: false, sawTimestamp: undefined };
}

function finish(line: string, st: ScanState, pos: number, hasHeader: boolean): HeaderParse {
  const out = st.out;
  let p = skipSpaces(line, pos);
  // a lone ':' or '-' between header and message belongs to the header
  const c = line.charCodeAt(p);
  if ((c === 58 || c === 45) && p + 1 < line.length && isSpace(line.charCodeAt(p + 1)) && hasHeader) p = skipSpaces(line, p + 1);
  out.messageStart = p;
  return out;
}

/** Greedy scan: the longest header the rules allow. */
export function scanHeader(line: string, defaultYear: number): HeaderParse {
  const st = freshState();
  let pos = skipSpaces(line, 0);
  // a source token (file name, host) before the timestamp; a level word there is a level
  if (!timestampAt(line, pos, defaultYear)) {
    const end = tokenEnd(line, pos);
    if (end - pos <= MAX_SOURCE_TOKEN && end < line.length && !levelOf(line.slice(pos, end))) {
      const next = skipSpaces(line, end);
      const ts = next > end ? timestampAt(line, next, defaultYear) : undefined;
      if (ts && ts.kind !== 'epoch' && ts.kind !== 'time') {
        st.out.fields.push({ kind: 'src' });
        st.out.host = line.slice(pos, end);
        pos = next;
      }
    }
  }
  for (let n = 0; n < MAX_HEADER_FIELDS && pos < line.length; n++) {
    const f = readField(line, pos, st, defaultYear);
    if (!f) break;
    st.out.fields.push(f.sub ? { kind: f.kind, sub: f.sub } : { kind: f.kind });
    pos = skipSpaces(line, f.end);
    if (f.stop) break;
  }
  // a header of only separators or a lone word is no header
  if (!st.out.fields.some((f) => f.kind === 'ts' || f.kind === 'level' || f.kind === 'compColon' || f.kind === 'field')) return finish(line, freshState(), 0, false);
  const out = finish(line, st, pos, true);
  out.signature = out.fields.map((f) => (f.sub ? `${f.kind}:${f.sub}` : f.kind)).join(' ');
  return out;
}

/** Reads a line with a known shape; undefined when the line does not have it. */
export function readWithShape(line: string, shape: readonly HeaderField[], defaultYear: number): HeaderParse | undefined {
  const st = freshState();
  let pos = skipSpaces(line, 0);
  for (const want of shape) {
    if (pos >= line.length) return undefined;
    if (want.kind === 'src') {
      const end = tokenEnd(line, pos);
      if (end - pos > MAX_SOURCE_TOKEN) return undefined;
      st.out.host = line.slice(pos, end);
      pos = skipSpaces(line, end);
      continue;
    }
    const f = readField(line, pos, st, defaultYear, want);
    if (!f) return undefined;
    pos = skipSpaces(line, f.end);
  }
  return finish(line, st, pos, shape.length > 0);
}
