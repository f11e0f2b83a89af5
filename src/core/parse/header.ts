/**
 * Splits a plain-text log line into header fields and the message.
 *
 * A header is a run of fields at the start of a line: an optional source token, a timestamp, then
 * any of separators (`-`, `|`), a level, numbers (pid, tid), bracket groups, a host and a component
 * (`name:`, `proc[pid]:`, a dotted logger name). The scan is greedy, which is right for most lines
 * but could eat the first words of a message; so a stream's header *shape* (the list of field kinds)
 * is learned from its first lines and every later line is read with that exact shape.
 */
import { levelFromLetter, levelFromWord, levelIn, newRecord, type Level, type LogRecord } from './record.js';
import { fastTimestampReader, matchTimestamp, timestampMatcher, type TimestampMatch } from './timestamp.js';

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

/** End of the balanced `[...]` group opened by the `[` at `pos` (within 512 characters), or -1. */
function bracketEnd(line: string, pos: number): number {
  const limit = Math.min(line.length, pos + 512);
  // indexOf finds brackets natively: much faster than a loop over a long group such as
  // `[QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774]`
  let depth = 1;
  let nextOpen = line.indexOf('[', pos + 1);
  for (let i = pos + 1; ; ) {
    const close = line.indexOf(']', i);
    if (close < 0 || close >= limit) return -1;
    while (nextOpen >= 0 && nextOpen < close) {
      depth++;
      nextOpen = line.indexOf('[', nextOpen + 1);
    }
    if (--depth === 0) return close + 1;
    i = close + 1;
  }
}

const PURE_NUMBER = /^\d{1,10}$/;
const REQUEST_ID = /(?:req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{32}\b|\b[0-9a-f]{16}\b)/i;

/**
 * Names in headers are tested with character classes, one table lookup per character (a regex per
 * token costs more): `\w` (letters, digits, `_`) and the punctuation each kind of name allows. The
 * comment above each test is the regex it implements.
 */
const C_WORD = 1;
/** `. $ / @ # ( ) - [ ]`: besides \w, in a `name:` component. */
const C_COMPONENT = 2;
/** `$ -`: besides \w, in a part of a dotted name. */
const C_DOTTED = 4;
/** `. -`: besides \w, in a host name. */
const C_HOST = 8;
const NAME_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const word = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;
  if (word) NAME_CLASS[c] = C_WORD | C_COMPONENT | C_DOTTED | C_HOST;
}
for (const ch of '.$/@#()-[]') NAME_CLASS[ch.charCodeAt(0)]! |= C_COMPONENT;
for (const ch of '$-') NAME_CLASS[ch.charCodeAt(0)]! |= C_DOTTED;
for (const ch of '.-') NAME_CLASS[ch.charCodeAt(0)]! |= C_HOST;

const inClass = (c: number, cls: number): boolean => c < 128 && (NAME_CLASS[c]! & cls) !== 0;
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** `/^[A-Za-z_$][\w.$/@#()\-[\]]*:$/` on `line[s, e)`: `name:`, `proc[pid]:`, `Foo$Bar:`. */
function isComponentColon(line: string, s: number, e: number): boolean {
  if (e - s < 2 || line.charCodeAt(e - 1) !== 58) return false;
  const c0 = line.charCodeAt(s);
  if (!(isLetter(c0) || c0 === 95 || c0 === 36)) return false;
  for (let i = s + 1; i < e - 1; i++) {
    const c = line.charCodeAt(i);
    // . $ / @ # ( ) - [ ]
    if (!inClass(c, C_COMPONENT)) return false;
  }
  return true;
}

/**
 * The end of a `name:` token at `pos` (tokenEnd, then isComponentColon, in one pass), or -1 when
 * the token is not one.
 */
function componentColonEnd(line: string, pos: number): number {
  const c0 = line.charCodeAt(pos);
  if (!(isLetter(c0) || c0 === 95 || c0 === 36)) return -1;
  for (let i = pos + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inClass(c, C_COMPONENT)) continue;
    if (c !== 58) return -1;
    // the colon ends the token, or the token goes on and is not a name
    const next = i + 1 < line.length ? line.charCodeAt(i + 1) : 32;
    return isSpace(next) || next === 124 ? i + 1 : -1;
  }
  return -1;
}

/** `/^[A-Za-z_][\w$-]*(?:\.[\w$-]+)+$/` on `line[s, e)`: a dotted name such as `org.apache.Foo`. */
function isDottedName(line: string, s: number, e: number): boolean {
  const c0 = line.charCodeAt(s);
  if (e - s < 3 || !(isLetter(c0) || c0 === 95)) return false;
  let dots = 0;
  for (let i = s + 1; i < e; i++) {
    const c = line.charCodeAt(i);
    if (c === 46) {
      // a dot needs a name part on each side
      if (line.charCodeAt(i - 1) === 46 || i === e - 1) return false;
      dots++;
    } else if (!inClass(c, C_DOTTED)) return false;
  }
  return dots > 0;
}

/** The end of a dotted name at `pos` (tokenEnd, then isDottedName, in one pass), or -1. */
function dottedNameEnd(line: string, pos: number): number {
  const c0 = line.charCodeAt(pos);
  if (!(isLetter(c0) || c0 === 95)) return -1;
  let dots = 0;
  let i = pos + 1;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inClass(c, C_DOTTED)) continue;
    if (c !== 46) break;
    if (line.charCodeAt(i - 1) === 46) return -1;
    dots++;
  }
  if (i < line.length && !isSpace(line.charCodeAt(i)) && line.charCodeAt(i) !== 124) return -1;
  return dots > 0 && line.charCodeAt(i - 1) !== 46 ? i : -1;
}

/** `/^[A-Za-z0-9][\w.-]*$/` on `line[s, e)`. */
function isHostname(line: string, s: number, e: number): boolean {
  const c0 = line.charCodeAt(s);
  if (e <= s || !(isLetter(c0) || isDigit(c0))) return false;
  for (let i = s + 1; i < e; i++) {
    const c = line.charCodeAt(i);
    if (!inClass(c, C_HOST)) return false;
  }
  return true;
}

const isHexDigit = (c: number): boolean => isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 102);

/** A UUID (`8-4-4-4-12` hex digits) at `p`. */
function isUuidAt(s: string, p: number): boolean {
  if (p + 36 > s.length) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(p + i);
    if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== 45 : !isHexDigit(c)) return false;
  }
  return true;
}

/**
 * `req-<uuid>` at the start of a bracket group (`[req-… user project]`, OpenStack style): the
 * regex's first alternative at the first position, so REQUEST_ID's match when it is there.
 */
function leadingRequestId(inner: string): string | undefined {
  const isReq = (inner.charCodeAt(0) | 32) === 114 && (inner.charCodeAt(1) | 32) === 101 && (inner.charCodeAt(2) | 32) === 113 && inner.charCodeAt(3) === 45;
  return isReq && isUuidAt(inner, 4) ? inner.slice(0, 40) : undefined;
}

/** The request id in a bracket group (REQUEST_ID), if any. */
function requestIdIn(inner: string): string | undefined {
  const leading = leadingRequestId(inner);
  if (leading !== undefined) return leading;
  // a UUID starts with a run of exactly 8 hex digits and a `-`, the other forms are runs of 16 or
  // 32: most groups (`[main]`, `[SendWorker:188978561024:…]`) have neither, and skip the regex
  let run = 0;
  let candidate = false;
  for (let i = 0; i <= inner.length && !candidate; i++) {
    const c = i < inner.length ? inner.charCodeAt(i) : -1;
    if (isHexDigit(c)) run++;
    else {
      candidate = run >= 16 || (run === 8 && c === 45);
      run = 0;
    }
  }
  if (!candidate) return undefined;
  return REQUEST_ID.exec(inner)?.[0];
}

/**
 * A timestamp starting at `pos`, bare or wrapped in brackets (`[2024-01-15 14:23:45]`,
 * `[Sun Dec 04 04:47:44 2005]`); `end` is then past the `]`.
 */
function timestampAt(line: string, pos: number, defaultYear: number, kind?: string): TimestampMatch | undefined {
  return bracketedTimestampAt(line, pos, defaultYear, (l, at, y) => matchTimestamp(l, at, y, kind));
}

function bracketedTimestampAt(line: string, pos: number, defaultYear: number, match: (line: string, at: number, defaultYear: number) => TimestampMatch | undefined): TimestampMatch | undefined {
  const ts = match(line, pos, defaultYear);
  if (ts || line.charCodeAt(pos) !== 91 /* [ */) return ts;
  const inner = match(line, pos + 1, defaultYear);
  if (!inner || line.charCodeAt(inner.end) !== 93 /* ] */) return undefined;
  return { ...inner, end: inner.end + 1 };
}

function levelOf(token: string): Level | undefined {
  return levelOfRange(token, 0, token.length);
}

/** A level word at `line[s, e)`, bare or wrapped (`[INFO]`, `<warn>`, `(error)`, `info:`). */
function levelOfRange(line: string, s: number, e: number): Level | undefined {
  const first = line.charCodeAt(s);
  if (first === 91 /* [ */ || first === 60 /* < */ || first === 40 /* ( */) return levelIn(line, s + 1, e - 1);
  if (line.charCodeAt(e - 1) === 58 /* : */) return levelIn(line, s, e - 1);
  return levelIn(line, s, e);
}

/** The component of `name:` or `proc[pid]:` (with its pid). */
function setComponent(out: { component?: string; pid?: string }, name: string): void {
  const open = procPidAt(name);
  if (open >= 0) {
    out.component = name.slice(0, open);
    out.pid ??= name.slice(open + 1, -1);
  } else out.component = name;
}

/**
 * Where `[pid]` starts in a component name `proc[pid]`, or -1: `/^(.*?)\[(\d+)\]$/` for a name
 * (no line breaks: see isComponentColon), whose `[` can only be the last one. A name is read on
 * every line of a syslog stream, and this beats the regex and its captures.
 */
function procPidAt(name: string): number {
  const last = name.length - 1;
  if (name.charCodeAt(last) !== 93 /* ] */) return -1;
  let i = last - 1;
  while (i >= 0 && isDigit(name.charCodeAt(i))) i--;
  return i >= 0 && i < last - 1 && name.charCodeAt(i) === 91 /* [ */ ? i : -1;
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
    const rid = inner.length >= 16 ? requestIdIn(inner) : undefined;
    if (rid !== undefined) st.out.requestId ??= rid;
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
  if ((want === undefined || want === 'compColon') && isComponentColon(line, pos, end)) {
    setComponent(st.out, token.slice(0, -1));
    st.sawComponent = true;
    return { kind: 'compColon', end, stop: true };
  }
  if (want === 'compColon') return undefined;
  // host: in syslog, the word between the timestamp and `proc[pid]:`
  if ((want === undefined || want === 'host') && st.sawTimestamp === 'syslog' && !st.out.host && isHostname(line, pos, end)) {
    const nextPos = skipSpaces(line, end);
    if (want === 'host' || isComponentColon(line, nextPos, tokenEnd(line, nextPos))) {
      st.out.host = token;
      return { kind: 'host', end };
    }
  }
  if (want === 'host') return undefined;
  // dotted logger names: org.apache.Foo, nova.compute.manager
  if ((want === undefined || want === 'comp') && isDottedName(line, pos, end) && st.sawTimestamp) {
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
  st.out.messageStart = messageStartAt(line, pos, hasHeader);
  return st.out;
}

/** Where the message starts once the header ends at `pos`. */
function messageStartAt(line: string, pos: number, hasHeader: boolean): number {
  let p = skipSpaces(line, pos);
  // a lone ':' or '-' between header and message belongs to the header
  const c = line.charCodeAt(p);
  if ((c === 58 || c === 45) && p + 1 < line.length && isSpace(line.charCodeAt(p + 1)) && hasHeader) p = skipSpaces(line, p + 1);
  return p;
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
  let reader = readers.get(shape);
  if (!reader) readers.set(shape, (reader = new ShapeReader(shape)));
  return reader.read(line, defaultYear) ? reader.headerParse() : undefined;
}

const readers = new WeakMap<readonly HeaderField[], ShapeReader>();

/** The header fields a ShapeReader found in the line it read last. */
class ShapeFields {
  timestamp: number | undefined = undefined;
  timestampText: string | undefined = undefined;
  level: Level | undefined = undefined;
  component: string | undefined = undefined;
  pid: string | undefined = undefined;
  host: string | undefined = undefined;
  requestId: string | undefined = undefined;
  thread: string | undefined = undefined;
  /** The kind of the timestamp read, if any. */
  sawTimestamp: string | undefined = undefined;
  sawComponent = false;
  messageStart = 0;
  /** Where the message ends (once trimmed), set by record(). */
  messageEnd = 0;
}

/** Bracket groups whose request id a ShapeReader remembers (a bound: ids are unique). */
const MAX_REMEMBERED_GROUPS = 256;

/** Reads one field of a shape at `pos`: the position after it, or -1 when the line lacks it. */
type FieldReader = (line: string, pos: number, f: ShapeFields, defaultYear: number) => number;

/**
 * A header shape compiled into one reader per field, each doing only what readField does when it
 * expects that kind (same rules, same order), without the generic field's dispatch, regexes,
 * slices and result objects. Reading a line that lacks the shape returns false.
 */
export class ShapeReader {
  private readonly readers: FieldReader[];
  private readonly fields = new ShapeFields();

  constructor(readonly shape: readonly HeaderField[]) {
    this.readers = shape.map(fieldReader);
  }

  /** Reads a line's header; the fields are then available through record() or headerParse(). */
  read(line: string, defaultYear: number): boolean {
    const f = this.fields;
    f.timestamp = f.timestampText = f.level = f.component = f.pid = f.host = f.requestId = f.thread = f.sawTimestamp = undefined;
    f.sawComponent = false;
    let pos = skipSpaces(line, 0);
    for (const readField of this.readers) {
      if (pos >= line.length) return false;
      const end = readField(line, pos, f, defaultYear);
      if (end < 0) return false;
      pos = skipSpaces(line, end);
    }
    f.messageStart = messageStartAt(line, pos, this.readers.length > 0);
    return true;
  }

  get messageStart(): number {
    return this.fields.messageStart;
  }

  /** Where the message of the last record() ends. */
  get messageEnd(): number {
    return this.fields.messageEnd;
  }

  /** The record of the line read last (as toRecord would build it from a HeaderParse). */
  record(line: string): LogRecord {
    const f = this.fields;
    const message = line.slice(f.messageStart).trimEnd();
    f.messageEnd = f.messageStart + message.length;
    return newRecord(message, f.timestamp, f.timestampText, f.level || undefined, f.component, f.pid, f.host, f.requestId, f.thread !== undefined ? { thread: f.thread } : undefined);
  }

  /** The line read last as a HeaderParse (what readField would have produced). */
  headerParse(): HeaderParse {
    const f = this.fields;
    const out: HeaderParse = { signature: '', fields: [], messageStart: f.messageStart };
    if (f.timestamp !== undefined) out.timestamp = f.timestamp;
    if (f.timestampText !== undefined) out.timestampText = f.timestampText;
    if (f.level !== undefined) out.level = f.level;
    if (f.component !== undefined) out.component = f.component;
    if (f.pid !== undefined) out.pid = f.pid;
    if (f.host !== undefined) out.host = f.host;
    if (f.requestId !== undefined) out.requestId = f.requestId;
    if (f.thread !== undefined) out.thread = f.thread;
    return out;
  }
}

/** A separator field (`-`, `|`, `:`) at `pos`: readField tests it before any other kind. */
function isSeparatorAt(line: string, pos: number): boolean {
  const c = line.charCodeAt(pos);
  return (c === 45 || c === 124 || c === 58) && (pos + 1 >= line.length || isSpace(line.charCodeAt(pos + 1)) || c === 124);
}

/** Whether a field other than a separator, timestamp or bracket group can start at `pos`. */
const isTokenFieldAt = (line: string, pos: number): boolean => !isSeparatorAt(line, pos) && line.charCodeAt(pos) !== 91;

function fieldReader(field: HeaderField): FieldReader {
  switch (field.kind) {
    case 'src':
      return (line, pos, f) => {
        const end = tokenEnd(line, pos);
        if (end - pos > MAX_SOURCE_TOKEN) return -1;
        f.host = line.slice(pos, end);
        return end;
      };
    case 'ts': {
      const match = field.sub === undefined ? matchTimestamp : timestampMatcher(field.sub);
      const kind = field.sub;
      const quick = kind === undefined ? undefined : fastTimestampReader(kind);
      return (line, pos, f, defaultYear) => {
        // the shape's hand-written reader, when it is sure, without a match object (the regex's
        // first match: what bracketedTimestampAt returns for an unbracketed timestamp)
        if (quick !== undefined && quick.read(line, pos, defaultYear)) {
          const end = quick.end();
          if (end < line.length && isDigit(line.charCodeAt(end))) return -1;
          f.timestamp ??= quick.epochMs();
          f.timestampText ??= line.slice(pos, end);
          f.sawTimestamp = kind;
          return end;
        }
        const ts = bracketedTimestampAt(line, pos, defaultYear, match);
        if (!ts || (ts.end < line.length && isDigit(line.charCodeAt(ts.end)))) return -1;
        f.timestamp ??= ts.epochMs;
        f.timestampText ??= ts.text;
        f.sawTimestamp = ts.kind;
        return ts.end;
      };
    }
    case 'sep':
      return (line, pos) => (isSeparatorAt(line, pos) ? pos + 1 : -1);
    case 'bracket': {
      // request ids of the groups seen (null: none): thread names recur from line to line
      const ids = new Map<string, string | null>();
      return (line, pos, f) => {
        if (line.charCodeAt(pos) !== 91) return -1;
        const end = bracketEnd(line, pos);
        if (end < 0) return -1;
        const inner = line.slice(pos + 1, end - 1);
        let id = inner.length < 16 ? null : (leadingRequestId(inner) ?? ids.get(inner));
        if (id === undefined) {
          if (ids.size >= MAX_REMEMBERED_GROUPS) ids.clear();
          ids.set(inner, (id = requestIdIn(inner) ?? null));
        }
        if (id !== null) f.requestId ??= id;
        else f.thread ??= inner;
        return end;
      };
    }
    case 'level':
      return readLevel;
    case 'num':
      return (line, pos, f) => {
        if (!isTokenFieldAt(line, pos)) return -1;
        const end = tokenEnd(line, pos);
        if (end - pos > 10 || end === pos) return -1;
        for (let i = pos; i < end; i++) if (!isDigit(line.charCodeAt(i))) return -1;
        f.pid ??= line.slice(pos, end);
        return end;
      };
    case 'compColon':
      return (line, pos, f) => {
        if (!isTokenFieldAt(line, pos) || f.sawComponent) return -1;
        const end = componentColonEnd(line, pos);
        if (end < 0) return -1;
        setComponent(f, line.slice(pos, end - 1));
        f.sawComponent = true;
        return end;
      };
    case 'field':
      return (line, pos, f) => {
        if (!isTokenFieldAt(line, pos) || f.sawComponent) return -1;
        const end = tokenEnd(line, pos);
        if (end >= line.length || line.charCodeAt(end) !== 124) return -1;
        if (!f.component) f.component = line.slice(pos, end);
        return end;
      };
    case 'host':
      return (line, pos, f) => {
        if (!isTokenFieldAt(line, pos) || f.sawComponent) return -1;
        const end = tokenEnd(line, pos);
        if (f.sawTimestamp !== 'syslog' || f.host || !isHostname(line, pos, end)) return -1;
        f.host = line.slice(pos, end);
        return end;
      };
    case 'comp':
      return (line, pos, f) => {
        if (!isTokenFieldAt(line, pos) || f.sawComponent || !f.sawTimestamp) return -1;
        const end = dottedNameEnd(line, pos);
        if (end < 0) return -1;
        f.component = line.slice(pos, end);
        f.sawComponent = true;
        return end;
      };
  }
}

/** A level field: `[INFO]`, a level word (`WARN`, `<error>`, `info:`) or, after a timestamp, a letter. */
function readLevel(line: string, pos: number, f: ShapeFields): number {
  if (isSeparatorAt(line, pos)) return -1;
  if (line.charCodeAt(pos) === 91) {
    const end = bracketEnd(line, pos);
    if (end < 0) return -1;
    const inner = line.slice(pos + 1, end - 1);
    const level = inner.length <= 13 ? levelFromWord(inner.trim()) : undefined;
    if (!level) return -1;
    f.level ??= level;
    return end;
  }
  const end = tokenEnd(line, pos);
  const level = levelOfRange(line, pos, end) ?? (f.sawTimestamp && !f.level && end - pos === 1 ? levelFromLetter(line[pos]!) : undefined);
  if (!level || f.level) return -1;
  f.level = level;
  return end;
}
