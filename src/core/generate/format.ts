/**
 * How generated services write their lines: three formats found side by side in real aggregated
 * logs. Each record becomes exactly one physical line (values never hold a line break).
 *
 *   text    2026-11-20T08:00:01.204Z INFO [orders] order created order_id=ord-4821093 items=2 request_id=req-…
 *   json    {"ts":"2026-11-20T08:00:01.377Z","level":"info","service":"payments","host":"payments-…","request_id":"req-…","msg":"charge authorized",…}
 *   syslog  Nov 20 08:00:02 db-proxy-1 pgbouncer[812]: LOG stats: 41 xacts/s, 128 queries/s, …
 */

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type LineFormat = 'text' | 'json' | 'syslog';
export type KvValue = string | number | boolean;
export type Kv = ReadonlyArray<readonly [string, KvValue]>;

/** What a service says, before it is written in the service's format. */
export interface Message {
  level: Level;
  msg: string;
  /** Key/value fields: appended as `k=v` in text and syslog lines, JSON members in JSON lines. */
  kv?: Kv;
}

/** Where a line comes from: the service, its format and the process that writes it. */
export interface Writer {
  service: string;
  format: LineFormat;
  host: string;
  /** syslog: program name and pid (`pgbouncer[812]`). */
  program?: string;
  pid?: number;
}

const TEXT_LEVEL: Record<Level, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'FATAL' };
/** pgbouncer / PostgreSQL style severities inside syslog messages. */
const SYSLOG_LEVEL: Record<Level, string> = { debug: 'DEBUG', info: 'LOG', warn: 'WARNING', error: 'ERROR', fatal: 'FATAL' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// Lines come in time order, so the text of the current second is computed once and reused.
let isoSecond = NaN;
let isoPrefix = '';

/** ISO-8601 UTC with milliseconds: 2026-11-20T08:00:01.204Z. */
export function isoTime(ms: number): string {
  ms = Math.floor(ms);
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const frac = ms - second * 1000;
  return `${isoPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

/** RFC 3164 timestamp (UTC, no year, day padded with a space): `Nov  5 08:00:02`. */
export function syslogTime(ms: number): string {
  const d = new Date(ms);
  const day = d.getUTCDate();
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  return `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ' ' : ''}${day} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** A `k=v` value: quoted (JSON string rules) when it holds white space, quotes or is empty. */
function kvText(v: KvValue): string {
  if (typeof v !== 'string') return String(v);
  return v === '' || /[\s"]/.test(v) ? JSON.stringify(v) : v;
}

function kvSuffix(kv: Kv | undefined): string {
  if (!kv || kv.length === 0) return '';
  let s = '';
  for (const [k, v] of kv) s += ` ${k}=${kvText(v)}`;
  return s;
}

/** A text or syslog message with its fields appended (`msg k=v k=v`). */
export function messageText(m: Message): string {
  return m.msg + kvSuffix(m.kv);
}

/** One line in the writer's format. `session` is the request id (text: `request_id=` last; JSON: a member). */
export function renderLine(w: Writer, timeMs: number, m: Message, session?: string): string {
  switch (w.format) {
    case 'text':
      return `${isoTime(timeMs)} ${TEXT_LEVEL[m.level]} [${w.service}] ${m.msg}${kvSuffix(m.kv)}${session ? ` request_id=${session}` : ''}`;
    case 'json': {
      const o: Record<string, KvValue> = { ts: isoTime(timeMs), level: m.level, service: w.service, host: w.host };
      if (session) o.request_id = session;
      o.msg = m.msg;
      if (m.kv) for (const [k, v] of m.kv) o[k] = v;
      return JSON.stringify(o);
    }
    case 'syslog':
      return `${syslogTime(timeMs)} ${w.host} ${w.program ?? w.service}[${w.pid ?? 1}]: ${SYSLOG_LEVEL[m.level]} ${m.msg}${kvSuffix(m.kv)}${session ? ` request_id=${session}` : ''}`;
  }
}

/** The level word a text line carries, for tests and summaries. */
export function textLevel(level: Level): string {
  return TEXT_LEVEL[level];
}
