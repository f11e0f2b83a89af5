/**
 * Syslog messages → IngestRecords, and the TCP framings they travel in.
 *
 * RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID k="v"…]… MSG` (`-` is the
 * NILVALUE; MSG may start with a UTF-8 BOM). RFC 3164 (BSD): `<PRI>Mmm dd hh:mm:ss HOSTNAME
 * TAG[PID]: MSG`, also without PRI (a line from a file), without HOSTNAME (what a local process
 * writes to /dev/log) and with an RFC 3339 timestamp (rsyslog's forwarding format). The year of a
 * 3164 timestamp comes from the injected clock (the previous year when that would put the message
 * more than a month in the future); 3164 times carry no zone and are read as UTC.
 *
 * Mapping: severity (PRI & 7: 0 emerg … 7 debug) → level (emerg/alert/crit → fatal, err → error,
 * warning → warn, notice → notice, info → info, debug → debug); HOSTNAME → host; APP-NAME or TAG →
 * service; attributes `syslog.facility` (kern, user, …, local7), `syslog.severity` (emerg … debug),
 * `syslog.procid` (PROCID or [PID]), `syslog.msgid`, and each structured-data parameter as
 * `<SD-ID>.<PARAM-NAME>`. A message that is not valid RFC 5424 after its header keeps the header's
 * fields and the rest as its message: nothing the sender wrote is dropped.
 *
 * Framing over TCP (RFC 6587): octet counting (`<length> <message>`) and LF-terminated lines,
 * decided frame by frame as rsyslog does. Over UDP one datagram is one message.
 */
import { levelFromNumber } from '../parse/record.js';
import { matchTimestamp } from '../parse/timestamp.js';
import {
  IngestCollector,
  type IngestErrorCode,
  type IngestLimits,
  type IngestRecord,
  type IngestResult,
} from './ingest-record.js';

/** Whatever tells the time: only `now()` is used (epoch ms). */
export interface SyslogClock {
  now(): number;
}

export interface SyslogParseOptions {
  /** The reader's clock: gives RFC 3164 timestamps their year. */
  clock: SyslogClock;
  limits?: Partial<IngestLimits>;
}

export const SYSLOG_FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'ntp', 'audit', 'alert', 'clock', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;
export const SYSLOG_SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

export type SyslogFormat = 'rfc5424' | 'rfc3164';

export type SyslogParse =
  | { ok: true; record: IngestRecord; format: SyslogFormat }
  | { ok: false; code: IngestErrorCode; message: string };

const PRI = /^<(\d{1,3})>/;
const HEADER_5424 = /^(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+)(?: |$)/;
const TAG = /^([^\s[\]:]{1,128})(?:\[([^\]]{0,128})\])?:(?: |$)/;
const HOSTNAME = /^[^\s[\]]+$/;
const DAY_MS = 86_400_000;

/** MSG without a leading BOM, leading spaces (rsyslog's `%msg%` keeps one) or trailing line ends. */
function stripMessage(text: string): string {
  let m = text.replace(/^ +/, '');
  if (m.charCodeAt(0) === 0xfeff) m = m.slice(1);
  // a loop, not /[\r\n\0]+$/: that regex is quadratic on a message full of line breaks
  let end = m.length;
  while (end > 0) {
    const c = m.charCodeAt(end - 1);
    if (c !== 10 && c !== 13 && c !== 0) break;
    end--;
  }
  return end === m.length ? m : m.slice(0, end);
}

/** Parses the structured data at `s[at]`; returns the params and where it ended, or null when malformed. */
function parseStructuredData(s: string, at: number): { params: [string, string][]; end: number } | null {
  const params: [string, string][] = [];
  let i = at;
  if (s[i] === '-') return { params, end: i + 1 };
  if (s[i] !== '[') return null;
  while (s[i] === '[') {
    i++;
    const idStart = i;
    while (i < s.length && s[i] !== ' ' && s[i] !== ']' && s[i] !== '=' && s[i] !== '"') i++;
    const id = s.slice(idStart, i);
    if (id === '') return null;
    let any = false;
    while (s[i] === ' ') {
      i++;
      const nameStart = i;
      while (i < s.length && s[i] !== '=' && s[i] !== ' ' && s[i] !== ']' && s[i] !== '"') i++;
      const name = s.slice(nameStart, i);
      if (name === '' || s[i] !== '=' || s[i + 1] !== '"') return null;
      i += 2;
      let value = '';
      for (;;) {
        if (i >= s.length) return null;
        const c = s[i]!;
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      params.push([`${id}.${name}`, value]);
      any = true;
    }
    if (s[i] !== ']') return null;
    i++;
    if (!any) params.push([id, '']);
  }
  return { params, end: i };
}

/** The severity number (0–7) as a level. */
export function levelFromSyslogSeverity(severity: number): IngestRecord['level'] {
  return levelFromNumber(severity);
}

function yearOf(ms: number): number {
  return new Date(ms).getUTCFullYear();
}

/** An RFC 3164 timestamp at the start of `s`: epoch ms (with the year chosen) and its length. */
function read3164Time(s: string, now: number): { ms: number | undefined; end: number } | undefined {
  const iso = matchTimestamp(s, 0, 1970, 'iso');
  if (iso && (iso.end === s.length || s[iso.end] === ' ')) return { ms: iso.epochMs, end: iso.end };
  const year = yearOf(now);
  const m = matchTimestamp(s, 0, year, 'syslog');
  if (!m || (m.end !== s.length && s[m.end] !== ' ' && s[m.end] !== ':')) return undefined;
  let ms = m.epochMs;
  if (ms !== undefined && !/ \d{4} /.test(m.text)) {
    // no year written: the message is from the last 11 months or, with a fast sender clock, the next one
    if (ms - now > 31 * DAY_MS) ms = matchTimestamp(s, 0, year - 1, 'syslog')?.epochMs;
    else if (now - ms > 335 * DAY_MS) ms = matchTimestamp(s, 0, year + 1, 'syslog')?.epochMs;
  }
  // "Jun 14 15:16:01:" (network gear) — the colon belongs to the timestamp
  return { ms, end: s[m.end] === ':' ? m.end + 1 : m.end };
}

interface Parts {
  timestamp?: number;
  host?: string;
  app?: string;
  procid?: string;
  msgid?: string;
  sd: [string, string][];
  message: string;
}

function parse3164(s: string, now: number): Parts {
  const parts: Parts = { sd: [], message: '' };
  let rest = s;
  const t = read3164Time(rest, now);
  if (t) {
    if (t.ms !== undefined) parts.timestamp = t.ms;
    rest = rest.slice(t.end).replace(/^ +/, '');
    let tag = TAG.exec(rest);
    if (!tag) {
      const sp = rest.indexOf(' ');
      const host = sp < 0 ? rest : rest.slice(0, sp);
      if (host !== '' && HOSTNAME.test(host) && sp > 0) {
        parts.host = host;
        rest = rest.slice(sp + 1);
        tag = TAG.exec(rest);
      }
    }
    if (tag) {
      parts.app = tag[1];
      if (tag[2]) parts.procid = tag[2];
      rest = rest.slice(tag[0].length);
    }
  } else {
    const tag = TAG.exec(rest);
    if (tag) {
      parts.app = tag[1];
      if (tag[2]) parts.procid = tag[2];
      rest = rest.slice(tag[0].length);
    }
  }
  parts.message = stripMessage(rest);
  return parts;
}

function nil(v: string): string | undefined {
  return v === '-' ? undefined : v;
}

/** RFC 5424 after the PRI; undefined when the header is not 5424 (the caller reads it as 3164). */
function parse5424(s: string): Parts | undefined {
  const h = HEADER_5424.exec(s);
  if (!h) return undefined;
  const [, , ts, host, app, procid, msgid] = h;
  const parts: Parts = { sd: [], message: '' };
  if (ts !== '-') {
    const m = matchTimestamp(ts!, 0, 1970, 'iso');
    if (!m || m.end !== ts!.length || m.epochMs === undefined) return undefined;
    parts.timestamp = m.epochMs;
  }
  const hv = nil(host!);
  if (hv !== undefined) parts.host = hv;
  const av = nil(app!);
  if (av !== undefined) parts.app = av;
  const pv = nil(procid!);
  if (pv !== undefined) parts.procid = pv;
  const mv = nil(msgid!);
  if (mv !== undefined) parts.msgid = mv;
  const at = h[0].length;
  if (at >= s.length) return parts; // header only
  const sd = parseStructuredData(s, at);
  if (sd && (sd.end === s.length || s[sd.end] === ' ')) {
    parts.sd = sd.params;
    parts.message = stripMessage(s.slice(sd.end + 1));
    if (parts.message.trim() === '' && sd.end > at + 1) parts.message = s.slice(at, sd.end); // no MSG: the SD says what happened
  } else {
    // not valid structured data: keep the rest as the message rather than lose it
    parts.message = stripMessage(s.slice(at));
  }
  return parts;
}

/**
 * Parses one syslog message (without framing). Fails only when there is no message at all
 * (VIGIL_INGEST_MISSING_MESSAGE); the caller applies size limits.
 */
export function parseSyslog(text: string, clock: SyslogClock): SyslogParse {
  let s = text;
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  s = s.replace(/^[\r\n\0]+/, '');
  let pri: number | undefined;
  const p = PRI.exec(s);
  if (p && Number(p[1]) <= 191) {
    pri = Number(p[1]);
    s = s.slice(p[0].length);
  }
  let format: SyslogFormat = 'rfc3164';
  let parts: Parts | undefined;
  if (pri !== undefined) {
    parts = parse5424(s);
    if (parts) format = 'rfc5424';
  }
  parts ??= parse3164(s, clock.now());
  let message = parts.message;
  if (message.trim() === '' && parts.msgid !== undefined) message = parts.msgid;
  if (message.trim() === '') return { ok: false, code: 'VIGIL_INGEST_MISSING_MESSAGE', message: 'syslog message has no text' };

  const record: IngestRecord = { message };
  if (parts.timestamp !== undefined) record.timestamp = parts.timestamp;
  const attributes = new Map<string, string>();
  if (pri !== undefined) {
    const severity = pri & 7;
    const level = levelFromSyslogSeverity(severity);
    if (level) record.level = level;
    attributes.set('syslog.facility', SYSLOG_FACILITIES[pri >> 3] ?? String(pri >> 3));
    attributes.set('syslog.severity', SYSLOG_SEVERITIES[severity]!);
  }
  if (parts.app !== undefined) record.service = parts.app;
  if (parts.host !== undefined) record.host = parts.host;
  if (parts.procid !== undefined) attributes.set('syslog.procid', parts.procid);
  if (parts.msgid !== undefined) attributes.set('syslog.msgid', parts.msgid);
  for (const [k, v] of parts.sd) attributes.set(k, attributes.has(k) ? `${attributes.get(k)},${v}` : v);
  if (attributes.size > 0) record.attributes = Object.fromEntries(attributes);
  return { ok: true, record, format };
}

/**
 * Parses many messages (one per element, already framed) into a result under the limits: a
 * message that fails is rejected at its index; over-long values are cut and counted.
 */
export function parseSyslogMessages(messages: readonly string[], options: SyslogParseOptions): IngestResult {
  const out = new IngestCollector(options.limits);
  for (const text of messages) {
    const { index, withinLimit } = out.nextIndex();
    if (!withinLimit) {
      out.rejectOverLimit(index);
      continue;
    }
    const parsed = parseSyslog(text, options.clock);
    if (!parsed.ok) {
      out.reject(index, parsed.code, parsed.message);
      continue;
    }
    let truncated = false;
    const attrs = parsed.record.attributes;
    if (attrs) {
      const bag = out.attributes();
      for (const [k, v] of Object.entries(attrs)) bag.set(k, v);
      const limited = bag.toObject();
      if (limited) parsed.record.attributes = limited;
      truncated = bag.truncated;
    }
    out.accept(parsed.record, truncated);
  }
  return out.done();
}

// ---------------------------------------------------------------------------------------------
// Framing

export type FrameDropReason = 'too_large' | 'incomplete';

export type FrameEvent = { frame: Uint8Array } | { dropped: FrameDropReason; bytes: number };

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const LT = 0x3c;

/**
 * Splits a TCP byte stream into syslog frames. Each frame is octet-counted (`<digits> <message>`,
 * RFC 6587 §3.4.1) when it starts with a non-zero digit followed by digits and a space, and
 * LF-terminated otherwise (a trailing CR is removed). A frame over `maxFrameBytes` is dropped and
 * reported without being held in memory: the decoder keeps at most `maxFrameBytes` plus one chunk.
 * Blank lines between frames are skipped.
 */
export class SyslogFrameDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  /** Bytes still to discard of an oversized octet-counted frame. */
  private skipBytes = 0;
  /** Discarding an oversized LF frame until its LF. */
  private skipLine = false;

  constructor(readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = [];
    let data = chunk;
    if (this.skipBytes > 0) {
      const n = Math.min(this.skipBytes, data.length);
      this.skipBytes -= n;
      data = data.subarray(n);
    }
    if (this.skipLine && data.length > 0) {
      const lf = data.indexOf(LF);
      if (lf < 0) return events;
      this.skipLine = false;
      data = data.subarray(lf + 1);
    }
    if (data.length === 0) return events;
    let buf: Uint8Array;
    if (this.buf.length === 0) buf = data;
    else {
      buf = new Uint8Array(this.buf.length + data.length);
      buf.set(this.buf, 0);
      buf.set(data, this.buf.length);
    }
    let pos = 0;
    for (;;) {
      while (pos < buf.length && (buf[pos] === LF || buf[pos] === CR || buf[pos] === 0)) pos++;
      if (pos >= buf.length) break;
      const counted = this.readCount(buf, pos);
      if (counted === 'wait') break;
      if (counted !== undefined) {
        const { length, start } = counted;
        if (length > this.maxFrameBytes) {
          events.push({ dropped: 'too_large', bytes: length });
          const available = buf.length - start;
          if (available >= length) {
            pos = start + length;
            continue;
          }
          this.skipBytes = length - available;
          pos = buf.length;
          break;
        }
        if (buf.length - start < length) break; // wait for the rest of the frame
        events.push({ frame: buf.slice(start, start + length) });
        pos = start + length;
        continue;
      }
      const lf = buf.indexOf(LF, pos);
      if (lf < 0) {
        if (buf.length - pos > this.maxFrameBytes) {
          events.push({ dropped: 'too_large', bytes: buf.length - pos });
          this.skipLine = true;
          pos = buf.length;
        }
        break;
      }
      const end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
      if (end - pos > this.maxFrameBytes) events.push({ dropped: 'too_large', bytes: end - pos });
      else events.push({ frame: buf.slice(pos, end) });
      pos = lf + 1;
    }
    this.buf = pos >= buf.length ? new Uint8Array(0) : buf.slice(pos);
    return events;
  }

  /** The end of the stream: a last line without LF is a frame; a cut octet-counted frame is dropped. */
  end(): FrameEvent[] {
    const buf = this.buf;
    this.buf = new Uint8Array(0);
    this.skipBytes = 0;
    this.skipLine = false;
    let pos = 0;
    while (pos < buf.length && (buf[pos] === LF || buf[pos] === CR || buf[pos] === 0)) pos++;
    if (pos >= buf.length) return [];
    if (typeof this.readCount(buf, pos) === 'object') return [{ dropped: 'incomplete', bytes: buf.length - pos }];
    let end = buf.length;
    while (end > pos && (buf[end - 1] === CR || buf[end - 1] === 0)) end--;
    if (end - pos > this.maxFrameBytes) return [{ dropped: 'too_large', bytes: end - pos }];
    return [{ frame: buf.slice(pos, end) }];
  }

  /** Bytes held for an unfinished frame. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  /**
   * An octet count at `pos`: its value and where the message starts; 'wait' when the header may
   * still be arriving; undefined when the frame is not octet-counted.
   */
  private readCount(buf: Uint8Array, pos: number): { length: number; start: number } | 'wait' | undefined {
    const first = buf[pos]!;
    if (first < 0x31 || first > 0x39) return undefined;
    let i = pos;
    let length = 0;
    while (i < buf.length && i - pos < 10 && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
      length = length * 10 + (buf[i]! - 0x30);
      i++;
    }
    if (i >= buf.length) return i - pos < 10 ? 'wait' : undefined;
    if (buf[i] !== SP || i - pos > 9) return undefined;
    // a counted frame holds a syslog message, which starts with "<PRI>": "2 errors\n" is a line
    if (i + 1 >= buf.length) return 'wait';
    if (buf[i + 1] !== LT) return undefined;
    return { length, start: i + 1 };
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** A message framed by octet counting, as a TCP sender writes it. */
export function encodeOctetCounted(message: string): Uint8Array {
  const body = encoder.encode(message);
  const head = encoder.encode(`${body.length} `);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** A frame's bytes as text: UTF-8, invalid sequences replaced (U+FFFD), a BOM kept for the parser. */
export function decodeSyslogFrame(frame: Uint8Array): string {
  return decoder.decode(frame);
}
