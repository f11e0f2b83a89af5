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

function utc(y: number, mo: number, d: number, h: string | undefined, mi: string | undefined, s: string | undefined, frac: string | undefined, zone?: string): number | undefined {
  if (mo < 0 || mo > 11 || d < 1 || d > 31) return undefined;
  // arithmetic rather than Date.UTC: this runs once per log line
  const ms = ((daysFromCivil(y, mo + 1, d) * 24 + (h ? +h : 0)) * 60 + (mi ? +mi : 0)) * 60_000 + (s ? +s : 0) * 1000 + fractionMs(frac);
  return Number.isFinite(ms) ? ms - zoneOffsetMs(zone) : undefined;
}

const twoDigitYear = (yy: string): number => 2000 + Number(yy);

interface Shape {
  kind: string;
  re: RegExp;
  toEpoch(m: RegExpExecArray, defaultYear: number): number | undefined;
}

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

const SHAPE_BY_KIND = new Map(SHAPES.map((s) => [s.kind, s]));

function tryShape(shape: Shape, line: string, at: number, defaultYear: number): TimestampMatch | undefined {
  shape.re.lastIndex = at;
  const m = shape.re.exec(line);
  if (!m) return undefined;
  const epochMs = shape.toEpoch(m, defaultYear);
  if (shape.kind === 'epoch' && epochMs === undefined) return undefined;
  return { kind: shape.kind, text: m[0], end: at + m[0].length, epochMs };
}

/** The timestamp starting exactly at `at`, if any. Pass `kind` to try only the shape a stream uses. */
export function matchTimestamp(line: string, at: number, defaultYear: number, kind?: string): TimestampMatch | undefined {
  const c = line.charCodeAt(at);
  // every shape starts with a digit, a capital letter (month/day names) or '['
  if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 91)) return undefined;
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
