/** The structured form of one log record, whatever format it arrived in. */
export type Level = 'trace' | 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'fatal';

export interface LogRecord {
  /** Epoch milliseconds (UTC when the line carries no zone), when a timestamp was found. */
  timestamp?: number;
  /** The timestamp exactly as written. */
  timestampText?: string;
  level?: Level;
  /** Component, logger, service or process name. */
  component?: string;
  pid?: string;
  host?: string;
  /** Request, trace, session or block id used to tie lines together. */
  requestId?: string;
  /** The free-text part that templates are mined from. */
  message: string;
  /** Extra key/value fields (JSON and logfmt keys, thread names). */
  attributes?: Record<string, string>;
}

/**
 * A record with every field of LogRecord present, in this one order (undefined when absent).
 * Records of every format (text header, JSON, logfmt, a bare line) then share one hidden class, so
 * the code that builds and reads them (parsing, mining, the batch writer, detectors) stays
 * monomorphic: records built field by field had a shape per set of fields, and the functions that
 * read them were deoptimised and compiled again and again ("wrong map"). Nothing tells an absent
 * field from an undefined one: readers compare with undefined, and JSON drops both.
 */
export function newRecord(
  message: string,
  timestamp: number | undefined,
  timestampText: string | undefined,
  level: Level | undefined,
  component: string | undefined,
  pid: string | undefined,
  host: string | undefined,
  requestId: string | undefined,
  attributes: Record<string, string> | undefined,
): LogRecord {
  return { message, timestamp, timestampText, level, component, pid, host, requestId, attributes };
}

const LEVEL_WORDS: Record<string, Level> = Object.assign(Object.create(null) as Record<string, Level>, {
  TRACE: 'trace', FINEST: 'trace', FINER: 'trace', VERBOSE: 'trace',
  DEBUG: 'debug', FINE: 'debug', DBG: 'debug', CONFIG: 'debug',
  INFO: 'info', INFORMATION: 'info', INF: 'info',
  NOTICE: 'notice',
  WARN: 'warn', WARNING: 'warn', WRN: 'warn',
  ERROR: 'error', ERR: 'error', SEVERE: 'error', FAILURE: 'error',
  CRIT: 'fatal', CRITICAL: 'fatal', FATAL: 'fatal', ALERT: 'fatal', EMERG: 'fatal', EMERGENCY: 'fatal', PANIC: 'fatal',
});

const LEVEL_LETTERS: Record<string, Level> = { V: 'trace', D: 'debug', I: 'info', W: 'warn', E: 'error', F: 'fatal', A: 'fatal' };

/** A level from a word (any case) such as `WARNING` or `info`; undefined when it is not one. */
export function levelFromWord(word: string): Level | undefined {
  if (word.length < 3 || word.length > 11) return undefined;
  // most lines write the level in capitals: try that before allocating an upper-cased copy
  return LEVEL_WORDS[word] ?? LEVEL_WORDS[word.toUpperCase()];
}

/** The level words by length and first letter (`LEVEL_CANDIDATES[length][letter]`), for levelIn. */
const LEVEL_CANDIDATES: [string, Level][][][] = [];
for (const [word, level] of Object.entries(LEVEL_WORDS)) ((LEVEL_CANDIDATES[word.length] ??= [])[word.charCodeAt(0)] ??= []).push([word, level]);

/**
 * `levelFromWord(text.slice(s, e))` without the slice: a header's level is read on every line, and
 * comparing a candidate of the right length and first letter beats a lookup by a new string.
 */
export function levelIn(text: string, s: number, e: number): Level | undefined {
  const byFirst = LEVEL_CANDIDATES[e - s];
  if (byFirst === undefined || e - s < 3) return undefined;
  let first = text.charCodeAt(s);
  if (first >= 97 && first <= 122) first -= 32;
  const candidates = byFirst[first];
  // toUpperCase maps a few non-ASCII letters to ASCII ones (`ı` to `I`): leave those to it
  if (candidates === undefined) return first >= 128 ? levelFromWord(text.slice(s, e)) : undefined;
  next: for (const [word, level] of candidates) {
    for (let i = 1; i < word.length; i++) {
      const c = text.charCodeAt(s + i);
      if (c >= 128) return levelFromWord(text.slice(s, e));
      if ((c >= 97 && c <= 122 ? c - 32 : c) !== word.charCodeAt(i)) continue next;
    }
    return level;
  }
  return undefined;
}

/** A level from an Android/glog style single letter (`E`, `W`, …). */
export function levelFromLetter(letter: string): Level | undefined {
  return letter.length === 1 ? LEVEL_LETTERS[letter] : undefined;
}

/** A level from a syslog severity number (0 emerg … 7 debug) or a pino/bunyan number (10 … 60). */
export function levelFromNumber(n: number): Level | undefined {
  if (n >= 10) {
    if (n >= 60) return 'fatal';
    if (n >= 50) return 'error';
    if (n >= 40) return 'warn';
    if (n >= 30) return 'info';
    if (n >= 20) return 'debug';
    return 'trace';
  }
  return (['fatal', 'fatal', 'fatal', 'error', 'warn', 'notice', 'info', 'debug'] as const)[n];
}
