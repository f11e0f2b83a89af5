/**
 * Timestamp shapes found at the start of log lines. Each is a sticky regex tried at a position,
 * with a converter to epoch milliseconds. Lines without a zone are read as UTC; shapes without a
 * year take the year the caller supplies (the reader's clock), since a log line cannot tell.
 */
export interface TimestampMatch {
  /** Which shape matched: used to learn a stream's format. */
  kind: string;
  text: string;
  end: number;
  epochMs: number | undefined;
}

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};
const MON = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*';
const DOW = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?';
const HMS = '(\\d{1,2}):(\\d{2})(?::(\\d{2}))?(?:[.,:](\\d{1,9}))?';
const ZONE = '(?:\\s?(Z|UTC|GMT|[+-]\\d{2}:?\\d{2}))?';

function fractionMs(f: string | undefined): number {
  if (!f) return 0;
  if (f.length === 3) return +f;
  return Math.floor(Number((f + '00').slice(0, 3)));
}

function zoneOffsetMs(z: string | undefined): number {
  if (!z || z === 'Z' || z === 'UTC' || z === 'GMT') return 0;
  const sign = z[0] === '-' ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The last date converted, and its day number: consecutive lines share their date. */
const lastDate = { y: NaN, mo: NaN, d: NaN, days: 0 };

/** Epoch milliseconds of a UTC date and time (month 0-based), or undefined for an impossible date. */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, zoneMs: number): number | undefined {
  if (mo < 0 || mo > 11 || d < 1 || d > 31) return undefined;
  if (y !== lastDate.y || mo !== lastDate.mo || d !== lastDate.d) {
    lastDate.days = daysFromCivil(y, mo + 1, d);
    lastDate.y = y;
    lastDate.mo = mo;
    lastDate.d = d;
  }
  // arithmetic rather than Date.UTC: this runs once per log line
  const t = ((lastDate.days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms;
  return Number.isFinite(t) ? t - zoneMs : undefined;
}

function utc(y: number, mo: number, d: number, h: string | undefined, mi: string | undefined, s: string | undefined, frac: string | undefined, zone?: string): number | undefined {
  if (mo < 0 || mo > 11 || d < 1 || d > 31) return undefined;
  return utcMs(y, mo, d, h ? +h : 0, mi ? +mi : 0, s ? +s : 0, fractionMs(frac), zoneOffsetMs(zone));
}

const twoDigitYear = (yy: string): number => 2000 + Number(yy);

interface Shape {
  kind: string;
  re: RegExp;
  toEpoch(m: RegExpExecArray, defaultYear: number): number | undefined;
  /** A hand-written reader of the shape's usual form (see FAST_READERS). */
  fast?: FastReader;
}

/**
 * Hand-written readers for the commonest shapes: the regex's captures and their conversion cost
 * more than the rest of a header. A reader follows the regex greedily, without backtracking: when
 * every step succeeds, that is the regex's first match (each step takes what the regex would try
 * first), and the reader returns true with `fast.end` and `fast.epochMs`. At the first step that
 * fails it returns false and the regex decides, so the result never differs from the regex's.
 */
type FastReader = (line: string, at: number, defaultYear: number) => boolean;

/** A fast reader's result (and its clock fields while it reads): one object, reused. */
const fast = { end: 0, epochMs: undefined as number | undefined, p: 0, h: 0, mi: 0, s: 0, ms: 0, zoneMs: 0 };

function digitAt(line: string, p: number): number {
  if (p >= line.length) return -1;
  const c = line.charCodeAt(p);
  return c >= 48 && c <= 57 ? c - 48 : -1;
}

/** The value of the `n` digits at `p`, or -1. */
function digitsAt(line: string, p: number, n: number): number {
  if (n === 2) return twoDigitsAt(line, p);
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = digitAt(line, p + i);
    if (d < 0) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** The value of the two digits at `p`, or -1 (most fields of a date are two digits). */
function twoDigitsAt(line: string, p: number): number {
  if (p + 1 >= line.length) return -1;
  const a = line.charCodeAt(p) - 48;
  const b = line.charCodeAt(p + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const isClockSep = (c: number, dotToo: boolean): boolean => c === 58 || (dotToo && c === 46);

/**
 * `(\d{1,2})S(\d{2})(?:S(\d{2}))?(?:[.,:](\d{1,9}))?` at `p`, where S is `:` (or `[:.]` with
 * `dotToo`): sets fast.h/mi/s/ms and fast.p (the end).
 */
function readClock(line: string, p: number, dotToo: boolean): boolean {
  let h = digitAt(line, p);
  if (h < 0) return false;
  p++;
  const h2 = digitAt(line, p);
  if (h2 >= 0) {
    h = h * 10 + h2;
    p++;
  }
  if (!isClockSep(line.charCodeAt(p), dotToo)) return false;
  const mi = digitsAt(line, p + 1, 2);
  if (mi < 0) return false;
  p += 3;
  let s = 0;
  if (isClockSep(line.charCodeAt(p), dotToo)) {
    const v = digitsAt(line, p + 1, 2);
    if (v >= 0) {
      s = v;
      p += 3;
    }
  }
  readFraction(line, p);
  fast.h = h;
  fast.mi = mi;
  fast.s = s;
  return true;
}

/**
 * `(?:[.,:](\d{1,9}))?` at `p`: a fraction, whose first three digits are milliseconds (`.5` is
 * 500, `.123456` is 123). Sets fast.ms (0 without one) and fast.p (after it).
 */
function readFraction(line: string, p: number): void {
  let ms = 0;
  const c = line.charCodeAt(p);
  if ((c === 46 || c === 44 || c === 58) && digitAt(line, p + 1) >= 0) {
    p++;
    for (let k = 0; k < 9; k++) {
      const d = digitAt(line, p);
      if (d < 0) break;
      if (k < 3) ms += d * (k === 0 ? 100 : k === 1 ? 10 : 1);
      p++;
    }
  }
  fast.ms = ms;
  fast.p = p;
}

/** `Z`, `UTC`, `GMT`, `+hh:mm` or `+hhmm` at `q`: sets fast.zoneMs and fast.p. */
function zoneAt(line: string, q: number): boolean {
  const c = line.charCodeAt(q);
  if (c === 90 /* Z */ || line.startsWith('UTC', q) || line.startsWith('GMT', q)) {
    fast.zoneMs = 0;
    fast.p = q + (c === 90 ? 1 : 3);
    return true;
  }
  if (c !== 43 && c !== 45) return false;
  const hh = digitsAt(line, q + 1, 2);
  if (hh < 0) return false;
  let mm = line.charCodeAt(q + 3) === 58 ? digitsAt(line, q + 4, 2) : -1;
  if (mm >= 0) fast.p = q + 6;
  else {
    mm = digitsAt(line, q + 3, 2);
    if (mm < 0) return false;
    fast.p = q + 5;
  }
  fast.zoneMs = (c === 45 ? -1 : 1) * (hh * 60 + mm) * 60_000;
  return true;
}

/** ZONE (`(?:\s?(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?`) at fast.p; false (ask the regex) before a non-ASCII character. */
function readZone(line: string): boolean {
  const p = fast.p;
  const c = line.charCodeAt(p);
  if (c >= 128) return false;
  if ((c === 32 || (c >= 9 && c <= 13)) && zoneAt(line, p + 1)) return true;
  if (zoneAt(line, p)) return true;
  fast.zoneMs = 0;
  fast.p = p;
  return true;
}

const isDateSep = (c: number): boolean => c === 45 || c === 47 || c === 46; // - / .

function fastIso(line: string, at: number): boolean {
  const y = digitsAt(line, at, 4);
  if (y < 0 || !isDateSep(line.charCodeAt(at + 4))) return false;
  const mo = digitsAt(line, at + 5, 2);
  if (mo < 0 || !isDateSep(line.charCodeAt(at + 7))) return false;
  const d = digitsAt(line, at + 8, 2);
  if (d < 0) return false;
  let p = at + 10;
  // `T` or a space between date and time, or `-` before `hh.` / `hh:`
  const c = line.charCodeAt(p);
  const c3 = line.charCodeAt(p + 3);
  if (c === 84 || c === 32 || (c === 45 && digitsAt(line, p + 1, 2) >= 0 && (c3 === 46 || c3 === 58))) p++;
  else return false;
  if (!readClock(line, p, true) || !readZone(line)) return false;
  fast.end = fast.p;
  fast.epochMs = utcMs(y, mo - 1, d, fast.h, fast.mi, fast.s, fast.ms, fast.zoneMs);
  return true;
}

function fastCompact6(line: string, at: number): boolean {
  const yy = digitsAt(line, at, 2);
  const mo = digitsAt(line, at + 2, 2);
  const d = digitsAt(line, at + 4, 2);
  if (yy < 0 || mo < 0 || d < 0 || line.charCodeAt(at + 6) !== 32) return false;
  const h = digitsAt(line, at + 7, 2);
  const mi = digitsAt(line, at + 9, 2);
  const s = digitsAt(line, at + 11, 2);
  if (h < 0 || mi < 0 || s < 0 || digitAt(line, at + 13) >= 0) return false;
  fast.end = at + 13;
  fast.epochMs = utcMs(2000 + yy, mo - 1, d, h, mi, s, 0, 0);
  return true;
}

/** 1 or 2 digits at fast.p (greedy), then `:` unless `last`: the value, or -1. */
function smallNumber(line: string, last: boolean): number {
  let p = fast.p;
  let v = digitAt(line, p);
  if (v < 0) return -1;
  p++;
  const v2 = digitAt(line, p);
  if (v2 >= 0) {
    v = v * 10 + v2;
    p++;
  }
  if (!last) {
    if (line.charCodeAt(p) !== 58) return -1;
    p++;
  }
  fast.p = p;
  return v;
}

function fastCompact8(line: string, at: number): boolean {
  const y = digitsAt(line, at, 4);
  const mo = digitsAt(line, at + 4, 2);
  const d = digitsAt(line, at + 6, 2);
  const sep = line.charCodeAt(at + 8);
  if (y < 0 || mo < 0 || d < 0 || !(sep === 45 || sep === 84 || sep === 32)) return false;
  // the first form, `h:m:s` (the regex tries it first); `hhmmss` is left to the regex
  fast.p = at + 9;
  const h = smallNumber(line, false);
  const mi = h < 0 ? -1 : smallNumber(line, false);
  const s = mi < 0 ? -1 : smallNumber(line, true);
  if (s < 0) return false;
  readFraction(line, fast.p);
  const ms = fast.ms;
  let p = fast.p;
  if (line.charCodeAt(p) === 90 /* Z */) p++;
  if (digitAt(line, p) >= 0) return false;
  fast.end = p;
  fast.epochMs = utcMs(y, mo - 1, d, h, mi, s, ms, 0);
  return true;
}

function fastYmd2(line: string, at: number): boolean {
  const yy = digitsAt(line, at, 2);
  const mo = digitsAt(line, at + 3, 2);
  const d = digitsAt(line, at + 6, 2);
  if (yy < 0 || mo < 0 || d < 0 || line.charCodeAt(at + 2) !== 47 || line.charCodeAt(at + 5) !== 47 || line.charCodeAt(at + 8) !== 32) return false;
  if (!readClock(line, at + 9, false)) return false;
  fast.end = fast.p;
  fast.epochMs = utcMs(2000 + yy, mo - 1, d, fast.h, fast.mi, fast.s, fast.ms, 0);
  return true;
}

function fastMd(line: string, at: number, defaultYear: number): boolean {
  const mo = digitsAt(line, at, 2);
  const d = digitsAt(line, at + 3, 2);
  if (mo < 0 || d < 0 || line.charCodeAt(at + 2) !== 45 || line.charCodeAt(at + 5) !== 32) return false;
  if (!readClock(line, at + 6, false)) return false;
  fast.end = fast.p;
  fast.epochMs = utcMs(defaultYear, mo - 1, d, fast.h, fast.mi, fast.s, fast.ms, 0);
  return true;
}

/** Month by its capitalised three-letter name (`Jun`), keyed by the three character codes. */
const MONTH_BY_CODES = new Map<number, number>();
for (const [name, index] of Object.entries(MONTHS)) {
  MONTH_BY_CODES.set((name.charCodeAt(0) - 32) * 65536 + name.charCodeAt(1) * 256 + name.charCodeAt(2), index);
}

function fastSyslog(line: string, at: number, defaultYear: number): boolean {
  if (at + 3 > line.length) return false;
  const month = MONTH_BY_CODES.get(line.charCodeAt(at) * 65536 + line.charCodeAt(at + 1) * 256 + line.charCodeAt(at + 2));
  if (month === undefined) return false;
  let p = at + 3;
  // the rest of a long month name, then spaces
  while (p < line.length && line.charCodeAt(p) >= 97 && line.charCodeAt(p) <= 122) p++;
  if (line.charCodeAt(p) !== 32) return false;
  while (line.charCodeAt(p) === 32) p++;
  fast.p = p;
  const d = smallNumber(line, true);
  if (d < 0) return false;
  p = fast.p;
  let y = defaultYear;
  if (line.charCodeAt(p) === 32) {
    const written = digitsAt(line, p + 1, 4);
    if (written >= 0) {
      y = written;
      p += 5;
    }
  }
  if (line.charCodeAt(p) !== 32 || !readClock(line, p + 1, false)) return false;
  fast.end = fast.p;
  fast.epochMs = utcMs(y, month, d, fast.h, fast.mi, fast.s, fast.ms, 0);
  return true;
}

const FAST_READERS: Record<string, FastReader> = {
  iso: fastIso,
  compact6: fastCompact6,
  compact8: fastCompact8,
  ymd2: fastYmd2,
  md: fastMd,
  syslog: fastSyslog,
};

// Order matters: longer, more specific shapes first.
const SHAPES: Shape[] = [
  {
    // 2024-01-15T14:23:45.123Z, 2024-01-15 14:23:45,123 +0100, 2024/01/15 14:23:45
    kind: 'iso',
    re: new RegExp(`(\\d{4})[-/.](\\d{2})[-/.](\\d{2})(?:[T ]|-(?=\\d{2}[.:]))(\\d{1,2})[:.](\\d{2})(?:[:.](\\d{2}))?(?:[.,:](\\d{1,9}))?${ZONE}`, 'y'),
    toEpoch: (m) => utc(+m[1]!, +m[2]! - 1, +m[3]!, m[4], m[5], m[6], m[7], m[8]),
  },
  {
    // [15/Jan/2024:14:23:45 +0000] (access logs), also without brackets
    kind: 'clf',
    re: new RegExp(`\\[?(\\d{2})/${MON}/(\\d{4}):${HMS}${ZONE}\\]?`, 'y'),
    toEpoch: (m) => utc(+m[3]!, MONTHS[m[2]!.slice(0, 3).toLowerCase()]!, +m[1]!, m[4], m[5], m[6], m[7], m[8]),
  },
  {
    // Sun Dec 04 04:47:44 2005 (ctime), Mon, 15 Jan 2024 14:23:45 GMT (RFC 1123)
    kind: 'ctime',
    // groups: 1 month, 2 day | 3 day, 4 month, 5 year (RFC 1123); 6-9 time; 10 year; 11 zone; 12 year
    re: new RegExp(`${DOW} (?:${MON} +(\\d{1,2})|(\\d{1,2}) ${MON}(?: (\\d{4}))?) ${HMS}(?: (\\d{4}))?${ZONE}(?: (\\d{4}))?`, 'y'),
    toEpoch: (m, y) => utc(+(m[5] ?? m[10] ?? m[12] ?? y), MONTHS[(m[1] ?? m[4])!.slice(0, 3).toLowerCase()]!, +(m[2] ?? m[3])!, m[6], m[7], m[8], m[9], m[11]),
  },
  {
    // Jun 14 15:16:01 (syslog), optionally with a year: Jun 14 2024 15:16:01
    kind: 'syslog',
    re: new RegExp(`${MON} +(\\d{1,2})(?: (\\d{4}))? ${HMS}`, 'y'),
    toEpoch: (m, y) => utc(m[3] ? +m[3] : y, MONTHS[m[1]!.slice(0, 3).toLowerCase()]!, +m[2]!, m[4], m[5], m[6], m[7]),
  },
  {
    // 20171223-22:15:29:606 and 20240115 142345 and 20240115T142345Z
    kind: 'compact8',
    re: /(\d{4})(\d{2})(\d{2})[-T ](?:(\d{1,2}):(\d{1,2}):(\d{1,2})|(\d{2})(\d{2})(\d{2}))(?:[.,:](\d{1,9}))?(Z)?(?![\d])/y,
    toEpoch: (m) => utc(+m[1]!, +m[2]! - 1, +m[3]!, m[4] ?? m[7], m[5] ?? m[8], m[6] ?? m[9], m[10], m[11]),
  },
  {
    // 081109 203615 (yymmdd hhmmss)
    kind: 'compact6',
    re: /(\d{2})(\d{2})(\d{2}) (\d{2})(\d{2})(\d{2})(?![\d])/y,
    toEpoch: (m) => utc(twoDigitYear(m[1]!), +m[2]! - 1, +m[3]!, m[4], m[5], m[6], undefined),
  },
  {
    // 17/06/09 20:10:40 (yy/mm/dd) — ambiguous with dd/mm/yy; the year-first reading is the common one in logs
    kind: 'ymd2',
    re: new RegExp(`(\\d{2})/(\\d{2})/(\\d{2}) ${HMS}`, 'y'),
    toEpoch: (m) => utc(twoDigitYear(m[1]!), +m[2]! - 1, +m[3]!, m[4], m[5], m[6], m[7]),
  },
  {
    // 01/15/2024 14:23:45 (mm/dd/yyyy) and 15.01.2024 14:23:45 (dd.mm.yyyy)
    kind: 'dmy4',
    re: new RegExp(`(\\d{1,2})([/.])(\\d{1,2})[/.](\\d{4})[ T,]${HMS}`, 'y'),
    toEpoch: (m) => (m[2] === '.'
      ? utc(+m[4]!, +m[3]! - 1, +m[1]!, m[5], m[6], m[7], m[8])
      : utc(+m[4]!, +m[1]! - 1, +m[3]!, m[5], m[6], m[7], m[8])),
  },
  {
    // 03-17 16:13:38.811 (Android logcat, no year)
    kind: 'md',
    re: new RegExp(`(\\d{2})-(\\d{2}) ${HMS}`, 'y'),
    toEpoch: (m, y) => utc(y, +m[1]! - 1, +m[2]!, m[3], m[4], m[5], m[6]),
  },
  {
    // 2005.06.03 (date alone)
    kind: 'date',
    re: /(\d{4})[-.](\d{2})[-.](\d{2})(?![\d:.-])/y,
    toEpoch: (m) => utc(+m[1]!, +m[2]! - 1, +m[3]!, undefined, undefined, undefined, undefined),
  },
  {
    // 1718376961, 1718376961.123, 1718376961123 — only plausible instants (2001–2100) count
    kind: 'epoch',
    re: /(\d{10})(?:\.(\d{1,9})|(\d{3}))?(?![\d.])/y,
    toEpoch: (m) => {
      const s = Number(m[1]);
      if (s < 978_307_200 || s > 4_102_444_800) return undefined;
      return s * 1000 + (m[3] ? Number(m[3]) : fractionMs(m[2]));
    },
  },
  {
    // 14:23:45.123 (time of day alone: the date is unknown)
    kind: 'time',
    re: /(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?![\d:])/y,
    toEpoch: () => undefined,
  },
];

for (const shape of SHAPES) shape.fast = FAST_READERS[shape.kind];

const SHAPE_BY_KIND = new Map(SHAPES.map((s) => [s.kind, s]));

function tryShape(shape: Shape, line: string, at: number, defaultYear: number): TimestampMatch | undefined {
  if (shape.fast?.(line, at, defaultYear)) return { kind: shape.kind, text: line.slice(at, fast.end), end: fast.end, epochMs: fast.epochMs };
  shape.re.lastIndex = at;
  const m = shape.re.exec(line);
  if (!m) return undefined;
  const epochMs = shape.toEpoch(m, defaultYear);
  if (shape.kind === 'epoch' && epochMs === undefined) return undefined;
  return { kind: shape.kind, text: m[0], end: at + m[0].length, epochMs };
}

/** Every shape starts with a digit, a capital letter (month/day names) or '['. */
function mayStartTimestamp(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 91;
}

/** The timestamp starting exactly at `at`, if any. Pass `kind` to try only the shape a stream uses. */
export function matchTimestamp(line: string, at: number, defaultYear: number, kind?: string): TimestampMatch | undefined {
  if (!mayStartTimestamp(line.charCodeAt(at))) return undefined;
  if (kind !== undefined) {
    const shape = SHAPE_BY_KIND.get(kind);
    return shape ? tryShape(shape, line, at, defaultYear) : undefined;
  }
  for (const shape of SHAPES) {
    const m = tryShape(shape, line, at, defaultYear);
    if (m) return m;
  }
  return undefined;
}

/** matchTimestamp for one kind, its shape looked up once (a stream's reader calls it on every line). */
export function timestampMatcher(kind: string): (line: string, at: number, defaultYear: number) => TimestampMatch | undefined {
  const shape = SHAPE_BY_KIND.get(kind);
  return (line, at, defaultYear) => (shape !== undefined && mayStartTimestamp(line.charCodeAt(at)) ? tryShape(shape, line, at, defaultYear) : undefined);
}

/**
 * The hand-written reader of one shape, for a caller that reads that shape on every line and
 * wants no match object: `read(line, at, defaultYear)` is true exactly when matchTimestamp(line,
 * at, defaultYear, kind) would return the reader's match, which is then `line.slice(at, end())`
 * ending at `end()` with `epochMs()`. False means: ask matchTimestamp (the regex decides).
 */
export interface FastTimestampReader {
  read(line: string, at: number, defaultYear: number): boolean;
  end(): number;
  epochMs(): number | undefined;
}

export function fastTimestampReader(kind: string): FastTimestampReader | undefined {
  const reader = SHAPE_BY_KIND.get(kind)?.fast;
  if (reader === undefined) return undefined;
  return {
    read: (line, at, defaultYear) => mayStartTimestamp(line.charCodeAt(at)) && reader(line, at, defaultYear),
    end: () => fast.end,
    epochMs: () => fast.epochMs,
  };
}

/** Parses a timestamp value found in a structured field (JSON/logfmt): ISO text, epoch s or ms. */
export function parseTimestampValue(value: unknown, defaultYear: number): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (value > 1e17) return Math.floor(value / 1e6); // nanoseconds
    if (value > 1e14) return Math.floor(value / 1e3); // microseconds
    if (value > 1e11) return Math.floor(value); // milliseconds
    return Math.floor(value * 1000);
  }
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return parseTimestampValue(Number(value), defaultYear);
  const m = matchTimestamp(value, 0, defaultYear);
  if (m?.epochMs !== undefined) return m.epochMs;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
