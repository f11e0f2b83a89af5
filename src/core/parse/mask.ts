/**
 * Masking: replaces the dynamic values of a message with `<*>` and keeps the originals as
 * parameters, so that values never create templates.
 *
 * A message is split on white space into tokens. A token that is one whole value (URL, e-mail,
 * UUID, MAC, IPv6, file path) becomes one `<*>`. Any other token is cut at structural punctuation
 * (`=`, `:`, `,`, brackets, quotes, `#`, `|`, `;`) into runs, and each run holding a digit becomes
 * `<*>`: `uid=0` → `uid=<*>`, `CPU#1` → `CPU#<*>`, `10.0.0.1:8080` → `<*>:<*>`,
 * `blk_-1608999687919862906` → `<*>`. One scan per token, no overlapping masks by construction:
 * each character belongs to exactly one run.
 */
export const WILDCARD = '<*>';

export interface MaskedMessage {
  /** Message tokens with values replaced; a token is `<*>`, or text that may contain `<*>`. */
  tokens: string[];
  /** The original text of each `<*>`, in order. */
  params: string[];
}

const URL = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S+$/;
const EMAIL = /^[^\s@()<>,;:"']+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAC = /^(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/;
const IPV6 = /^\[?(?=[0-9a-fA-F:]*::|(?:[0-9a-fA-F]{1,4}:){7})(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?:%\w+)?\]?(?::\d{1,5})?$/;
/** host:port and host/ip:port endpoints (`node-1.example.org:8030`, `host/10.0.0.1:8030`). */
const HOST_PORT = /^[A-Za-z0-9][\w.-]*(?:\/[\w.-]+)?:\d{1,5}$/;
const IPV4_PORT = /^\/?(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?$/;
const PATH = /^(?:~?\/|\.{1,2}\/|[A-Za-z]:\\)[^\s]*$/;
/** Times and dates: 12:34:56(.789), 2024-01-15, 2024-01-15T12:34:56Z, 15/Jan/2024:12:34:56 */
const TIME_OR_DATE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T ]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?|\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{1,2}\/[A-Z][a-z]{2}\/\d{4}(?::\d{2}:\d{2}:\d{2})?)$/;

/** What one scan of a token found. */
const F_DIGIT = 1;
const F_SPECIAL = 2;
const F_DELIM = 4;
const F_NOT_NUMERIC = 8;
const F_COLON = 16;

// Character classes, looked up once per character on the hot path.
const DIGIT = 1;
const SPECIAL = 2; // / @ \ : may start a path, URL or e-mail
const DELIM = 4;
const SPACE = 8;
const CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
for (const ch of '/@\\') CLASS[ch.charCodeAt(0)] = SPECIAL;
for (const ch of '()[]{}<>=,;:"\'#|') CLASS[ch.charCodeAt(0)] = DELIM;
for (const c of [32, 9, 10, 11, 12, 13]) CLASS[c] = SPACE;

/**
 * What each character adds to a token's flags while scanning a message: F_* bits, or one of the
 * markers S_* (all above the flag bits) for characters that need a decision. `.` adds nothing (a
 * number may hold dots); a sign keeps a number numeric only at the token's start.
 */
const S_QUOTE = 32;
const S_SPACE = 64;
const S_SIGN = 128;
const SCAN_FLAGS = new Uint8Array(128);
SCAN_FLAGS.fill(F_NOT_NUMERIC);
for (let c = 48; c <= 57; c++) SCAN_FLAGS[c] = F_DIGIT;
for (const ch of '/@\\') SCAN_FLAGS[ch.charCodeAt(0)] = F_SPECIAL | F_NOT_NUMERIC;
for (const ch of '()[]{}<>=,;:#|') SCAN_FLAGS[ch.charCodeAt(0)] = F_DELIM | F_NOT_NUMERIC;
SCAN_FLAGS[58] = F_DELIM | F_NOT_NUMERIC | F_COLON; // :
SCAN_FLAGS[34] = SCAN_FLAGS[39] = S_QUOTE; // " '
for (const c of [32, 9, 10, 11, 12, 13]) SCAN_FLAGS[c] = S_SPACE;
SCAN_FLAGS[46] = 0; // .
SCAN_FLAGS[45] = SCAN_FLAGS[43] = S_SIGN; // - +

/** Characters that cut a token into runs (they stay in the template). */
function isDelimiter(c: number): boolean {
  switch (c) {
    case 40: case 41: // ( )
    case 91: case 93: // [ ]
    case 123: case 125: // { }
    case 60: case 62: // < >
    case 61: // =
    case 44: // ,
    case 59: // ;
    case 58: // :
    case 34: case 39: // " '
    case 35: // #
    case 124: // |
      return true;
    default:
      return false;
  }
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isUpper = (c: number): boolean => c >= 65 && c <= 90;

/** true/false/null are values, like numbers: `ready=true` and `ready=false` are one template. */
const LITERALS = new Set(['true', 'false', 'null', 'True', 'False', 'Null', 'TRUE', 'FALSE', 'NULL', 'nil', 'None', 'undefined']);
/**
 * Punctuation that wraps a value without being part of it: `(` `[` `{` `<` `"` `'` before it,
 * those closed and `,` `;` `.` `:` `!` `?` after it. The miner reads tokens with the same sets, so
 * what masking strips around a value and what mining treats as its punctuation agree.
 */
export const isOpener = (c: number): boolean => c === 40 || c === 91 || c === 123 || c === 60 || c === 34 || c === 39;
export const isCloser = (c: number): boolean => c === 41 || c === 93 || c === 125 || c === 62 || c === 34 || c === 39 || c === 44 || c === 59 || c === 46 || c === 58 || c === 33 || c === 63;

function countChar(s: string, code: number): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === code) n++;
  return n;
}

/** First letters of the literals (t, f, n, u, T, F, N): a cheap test before the set lookup. */
const mayBeLiteral = (c: number): boolean => c === 116 || c === 102 || c === 110 || c === 117 || c === 84 || c === 70 || c === 78;

/** A host name or address has a dot, slash, hyphen or digit (`ret` in `ret:42` is a key, not a host). */
function looksLikeHost(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 46 || c === 47 || c === 45 || isDigit(c)) return true;
  }
  return false;
}

/** Whether the token's core is one whole value. */
function isWholeValue(core: string, hasDigit: boolean, hasSpecial: boolean, hasColon: boolean): boolean {
  const c0 = core.charCodeAt(0);
  // paths, URLs and e-mail addresses all hold a `/`, `@` or `\`
  if (hasSpecial) {
    if (c0 === 47 /* / */ || c0 === 126 /* ~ */ || c0 === 46 /* . */ || (core.length > 2 && core.charCodeAt(1) === 58 && core.charCodeAt(2) === 92)) {
      // `/10.0.0.1:80` is Java's address form, not a path
      if (PATH.test(core) && core.length >= 2 && !isDigit(core.charCodeAt(1)) && (core.charCodeAt(1) !== 47 || core.length > 2)) return true;
    }
    if (core.includes('://')) return URL.test(core);
    if (core.includes('@') && EMAIL.test(core)) return true;
  }
  if (!hasDigit) return false;
  const len = core.length;
  if (len >= 7 && len <= 22 && (isDigit(c0) || c0 === 47) && IPV4_PORT.test(core)) return true;
  if (len === 36 && UUID.test(core)) return true;
  if (len === 17 && MAC.test(core)) return true;
  if (len >= 8 && isDigit(c0) && TIME_OR_DATE.test(core)) return true;
  // endpoints and IPv6 addresses hold a `:`
  if (!hasColon || !core.includes(':')) return false;
  if (HOST_PORT.test(core) && looksLikeHost(core.slice(0, core.lastIndexOf(':')))) return true;
  return countChar(core, 58) >= 2 && IPV6.test(core);
}

/**
 * Whether isWholeValue can hold for a core of `length` characters starting with `c0`, in a token
 * with these flags: without a path character, only an address, UUID, MAC, date or endpoint can,
 * and those have a digit and a telling length, first digit or colon. (Most cores, `uid=0` or the
 * `1` of `1,`, skip the slice and the tests.)
 */
function mayBeWholeValue(c0: number, length: number, flags: number): boolean {
  if ((flags & F_SPECIAL) !== 0) return true;
  if ((flags & F_DIGIT) === 0) return false;
  return (flags & F_COLON) !== 0 || length === 36 || length === 17 || (length >= 7 && isDigit(c0));
}

function scanFlags(token: string): number {
  let flags = 0;
  const n = token.length;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    const k = c < 128 ? CLASS[c]! : 0;
    if (k === DIGIT) flags |= F_DIGIT;
    else {
      flags |= k === SPECIAL ? F_SPECIAL : k === DELIM ? (c === 58 ? F_DELIM | F_COLON : F_DELIM) : 0;
      // a plain number (`42`, `-1.5`, `10.0.0.1`) is the commonest value: one scan decides it
      if (!((c === 46 && i < n - 1) || (i === 0 && (c === 45 || c === 43) && n > 1))) flags |= F_NOT_NUMERIC;
    }
  }
  return flags;
}

/**
 * Masks one token, appending parameters to `params`. Returns the token itself when it holds no
 * value (the common case, with no allocation).
 */
export function maskToken(token: string, params: string[]): string {
  return maskRange(token, 0, token.length, scanFlags(token), params) ?? token;
}

/** The literals by their first character: `isLiteralAt` compares a few, without slicing. */
const LITERALS_BY_FIRST: (string[] | undefined)[] = [];
for (const lit of LITERALS) (LITERALS_BY_FIRST[lit.charCodeAt(0)] ??= []).push(lit);

/** Whether `text[s, e)` is one of LITERALS (`LITERALS.has(text.slice(s, e))`, without the slice). */
function isLiteralAt(text: string, s: number, e: number): boolean {
  const list = LITERALS_BY_FIRST[text.charCodeAt(s)];
  if (list === undefined) return false;
  for (const lit of list) if (lit.length === e - s && equalsAt(text, s, lit)) return true;
  return false;
}

/** Whether `word` is written at `text[s]` (a short word: a loop beats a startsWith call). */
function equalsAt(text: string, s: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (text.charCodeAt(s + i) !== word.charCodeAt(i)) return false;
  return true;
}

/** hasLiteral on `text[s, e)`: whether it holds true, false, null, True, False or None. */
function hasLiteralAt(text: string, s: number, e: number): boolean {
  if (e - s < 5) return false;
  for (let i = s; i + 4 <= e; i++) {
    switch (text.charCodeAt(i)) {
      case 116: // t
      case 84: // T
        if (equalsAt(text, i + 1, 'rue')) return true;
        break;
      case 110: // n
        if (equalsAt(text, i + 1, 'ull')) return true;
        break;
      case 78: // N
        if (equalsAt(text, i + 1, 'one')) return true;
        break;
      case 102: // f
      case 70: // F
        if (i + 5 <= e && equalsAt(text, i + 1, 'alse')) return true;
        break;
    }
  }
  return false;
}

/**
 * A word without digit, delimiter or path character that is no literal: maskRange's commonest
 * case, decided before calling it.
 */
function isPlainWord(text: string, s: number, e: number, flags: number): boolean {
  return (flags & (F_DIGIT | F_SPECIAL | F_DELIM)) === 0 && !(e - s <= 9 && mayBeLiteral(text.charCodeAt(s)) && isLiteralAt(text, s, e));
}

/**
 * Masks the token `text[s, e)` whose characters scanned to `flags`, appending its values to
 * `params`: the masked token, or undefined when it holds no value. The token is read in place, so
 * a word costs no copy.
 */
function maskRange(text: string, s: number, e: number, flags: number, params: string[], key?: KeyBuilder): string | undefined | null {
  const hasDigit = (flags & F_DIGIT) !== 0;
  // a number, or a token with a digit and no delimiter (`blk_-42`, `v2`, a UUID, `/tmp/x1`) is one
  // run, so one value: the general rules below would reach the same answer, slower
  if (hasDigit && ((flags & F_NOT_NUMERIC) === 0 || (flags & F_DELIM) === 0)) {
    // a sentence's full stop after a value is not part of it (`on port 55904.`); a path's is
    if ((flags & F_SPECIAL) === 0 && endsWithFullStop(text, s, e)) {
      params.push(text.slice(s, e - 1));
      return WILDCARD + '.';
    }
    params.push(text.slice(s, e));
    return WILDCARD;
  }
  if (!hasDigit && (flags & F_SPECIAL) === 0) {
    if (e - s <= 9 && mayBeLiteral(text.charCodeAt(s)) && isLiteralAt(text, s, e)) {
      params.push(text.slice(s, e));
      return WILDCARD;
    }
    // a literal inside punctuation (`ready=true,`, `(null)`) is cut out below
    if ((flags & F_DELIM) === 0 || !hasLiteralAt(text, s, e)) return undefined;
  }
  // strip wrapping punctuation to find the token's core
  let start = s;
  let end = e;
  while (start < end && isOpener(text.charCodeAt(start))) start++;
  while (end > start && isCloser(text.charCodeAt(end - 1))) end--;
  if (end > start && mayBeWholeValue(text.charCodeAt(start), end - start, flags)) {
    const core = text.slice(start, end);
    if (isWholeValue(core, hasDigit, (flags & F_SPECIAL) !== 0, (flags & F_COLON) !== 0)) {
      params.push(core);
      if (key === undefined) return text.slice(s, start) + WILDCARD + text.slice(end, e);
      key.wildcardAt(s, start);
      if (end < e) key.piece(end, e);
      return null;
    }
  }
  return key === undefined ? maskRuns(text, s, e, params) : maskRunsInto(text, s, e, params, key);
}

/**
 * Cuts `text[s, e)` into runs at delimiters; every run with a digit, and every literal, is a
 * value. The masked token, or undefined when no run is a value.
 */
function maskRuns(text: string, s: number, e: number, params: string[]): string | undefined {
  let out: string | undefined;
  // text[copied, runStart) is unchanged and not yet in `out`
  let copied = s;
  let runStart = s;
  let runHasDigit = false;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    const k = c < 128 ? RUN_CLASS[c]! : 0;
    if (k === 0) continue;
    if (k === R_DIGIT) {
      runHasDigit = true;
      continue;
    }
    // a delimiter ends the run
    if (runHasDigit || isLiteralRun(text, runStart, i)) {
      params.push(text.slice(runStart, i));
      out = (out ?? '') + text.slice(copied, runStart) + WILDCARD;
      copied = i;
    }
    runStart = i + 1;
    runHasDigit = false;
  }
  if (runHasDigit || isLiteralRun(text, runStart, e)) {
    // (as in maskRange: `CPU#0.` → `CPU#<*>.`)
    const stop = endsWithFullStop(text, runStart, e) ? 1 : 0;
    params.push(text.slice(runStart, e - stop));
    return (out ?? '') + text.slice(copied, runStart) + WILDCARD + (stop === 1 ? '.' : '');
  }
  return out === undefined ? undefined : out + text.slice(copied, e);
}

/**
 * maskRuns written straight into a key: the unchanged pieces of the token join the key's run of
 * unchanged text, so a `key=value` token costs no masked copy of itself, and the key fewer pieces.
 * Whether any run was a value (else nothing was written: the token is unchanged).
 */
function maskRunsInto(text: string, s: number, e: number, params: string[], key: KeyBuilder): null | undefined {
  let wrote = false;
  let copied = s;
  let runStart = s;
  let runHasDigit = false;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    const k = c < 128 ? RUN_CLASS[c]! : 0;
    if (k === 0) continue;
    if (k === R_DIGIT) {
      runHasDigit = true;
      continue;
    }
    if (runHasDigit || isLiteralRun(text, runStart, i)) {
      params.push(text.slice(runStart, i));
      if (wrote) key.gluedWildcard(copied, runStart);
      else key.wildcardAt(s, runStart);
      wrote = true;
      copied = i;
    }
    runStart = i + 1;
    runHasDigit = false;
  }
  if (runHasDigit || isLiteralRun(text, runStart, e)) {
    const stop = endsWithFullStop(text, runStart, e) ? 1 : 0;
    params.push(text.slice(runStart, e - stop));
    if (wrote) key.gluedWildcard(copied, runStart);
    else key.wildcardAt(s, runStart);
    if (stop === 1) key.piece(e - 1, e);
    return null;
  }
  if (!wrote) return undefined;
  if (copied < e) key.piece(copied, e);
  return null;
}

/** Whether `text[s, e)` ends with one `.` after a letter or digit (a full stop, not an ellipsis or `v1.`'s dot alone). */
function endsWithFullStop(text: string, s: number, e: number): boolean {
  if (e - s < 2 || text.charCodeAt(e - 1) !== 46) return false;
  const c = text.charCodeAt(e - 2) | 32;
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122);
}

const isLiteralRun = (text: string, s: number, e: number): boolean => e - s <= 9 && e - s >= 3 && isLiteralAt(text, s, e);

/** Characters of a token as maskRuns reads them: digits, delimiters (isDelimiter), the rest. */
const R_DIGIT = 1;
const R_DELIMITER = 2;
const RUN_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) RUN_CLASS[c] = isDigit(c) ? R_DIGIT : isDelimiter(c) ? R_DELIMITER : 0;

const DATE_WORDS = new Set(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);

/**
 * Month and weekday names before values are part of a date (`Sun Jul 3 23:16:09 2005`): the names
 * and the values that follow become one value, so a date written in words is one variable and
 * never splits a template.
 */
function maskDateWords(tokens: string[], params: string[]): void {
  for (let i = 0; i < tokens.length; i++) {
    if (!DATE_WORDS.has(tokens[i]!)) continue;
    let j = i;
    while (j < tokens.length && DATE_WORDS.has(tokens[j]!)) j++;
    let k = j;
    while (k < tokens.length && tokens[k] === WILDCARD) k++;
    if (k === j) {
      i = j;
      continue;
    }
    const at = countWildcards(tokens, i);
    const text = [...tokens.slice(i, j), ...params.slice(at, at + (k - j))].join(' ');
    params.splice(at, k - j, text);
    tokens.splice(i, k - i, WILDCARD);
  }
}

function countWildcards(tokens: readonly string[], end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const t = tokens[i]!;
    for (let at = t.indexOf(WILDCARD); at >= 0; at = t.indexOf(WILDCARD, at + 3)) n++;
  }
  return n;
}

/** Longest quoted value read as one token. */
const MAX_QUOTED_CHARS = 256;

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;

/** What TokenScanner.next() found. */
const END = 0;
const TOKEN = 1;
/** The rest of the message, past `maxTokens - 1` tokens, as one final value. */
const TAIL = 2;

/**
 * Walks `text[from, to)` token by token: white space splits tokens, except inside
 * `key="a quoted value"`, and each token's characters are classified (flags F_*) in the same scan.
 * The token is `text[start, end)`; nothing is sliced, so callers copy only what they keep.
 */
class TokenScanner {
  start = 0;
  end = 0;
  flags = 0;
  /** Tokens returned so far. */
  count = 0;
  private pos = 0;
  private text = '';
  private to = 0;
  private maxTokens = 0;

  /** Starts on `text[from, to)` (a scanner is reused: masking runs once per line). */
  reset(text: string, from: number, to: number, maxTokens: number): this {
    this.text = text;
    this.pos = from;
    this.to = to;
    this.maxTokens = maxTokens;
    this.count = 0;
    return this;
  }

  next(): number {
    const text = this.text;
    const n = this.to;
    let i = this.pos;
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) return END;
    if (this.count >= this.maxTokens - 1 && this.count >= 1 && this.restHasSpace(i)) return TAIL;
    const s = i;
    // find the token's end and classify it in the same scan
    let flags = 0;
    for (;;) {
      let quote = -1;
      // (charCodeAt never reads past the end: a NaN would turn `c` into a float and slow the loop)
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        const k = c < 128 ? SCAN_FLAGS[c]! : F_NOT_NUMERIC;
        if (k < S_QUOTE) {
          flags |= k;
          continue;
        }
        if (k === S_SPACE) break;
        // a leading sign keeps a number numeric (`-1.5`)
        if (k === S_SIGN) {
          if (i !== s) flags |= F_NOT_NUMERIC;
          continue;
        }
        flags |= F_DELIM | F_NOT_NUMERIC;
        if (i > s && text.charCodeAt(i - 1) === 61) {
          quote = i;
          break;
        }
      }
      if (quote < 0) break;
      // key="a quoted value" is one token, spaces and all (handled out of the loop above, which
      // stays tight without it)
      const close = closingQuote(text, quote, n);
      if (close < 0) {
        i = quote + 1;
        continue;
      }
      if (hasDigitIn(text, quote + 1, close)) flags |= F_DIGIT;
      i = close + 1;
    }
    // a trailing `.` ends a sentence, not a number; a lone sign is no number
    if ((flags & F_NOT_NUMERIC) === 0 && (text.charCodeAt(i - 1) === 46 || (flags & F_DIGIT) === 0)) flags |= F_NOT_NUMERIC;
    this.start = s;
    this.end = this.pos = i;
    this.flags = flags;
    this.count++;
    return TOKEN;
  }

  /** Past the token limit: whether the rest (from `i`) is more than one token, then it is the tail. */
  private restHasSpace(i: number): boolean {
    const text = this.text;
    let j = this.to;
    while (j > i && isSpace(text.charCodeAt(j - 1))) j--;
    let k = i;
    while (k < j && !isSpace(text.charCodeAt(k))) k++;
    if (k >= j) return false;
    this.start = i;
    this.end = this.pos = j;
    this.count++;
    return true;
  }
}

/** The quote closing the one at `i` (the value of `key="…"`, before `n`), or -1. */
function closingQuote(text: string, i: number, n: number): number {
  const close = text.indexOf(text.charCodeAt(i) === 34 ? '"' : "'", i + 1);
  return close > i && close - i <= MAX_QUOTED_CHARS && close < n ? close : -1;
}

function hasDigitIn(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (isDigit(text.charCodeAt(i))) return true;
  return false;
}

/** Whether `text[s, e)` is a month or weekday name (`Jun`, `Sun`): see maskDateWords. */
function isDateWordAt(text: string, s: number, e: number): boolean {
  return e - s === 3 && isUpper(text.charCodeAt(s)) && DATE_WORDS.has(text.slice(s, e));
}

/** The scanners of maskMessage and maskKey, reused from call to call (neither calls the other). */
const messageScanner = new TokenScanner();
const keyScanner = new TokenScanner();

/**
 * Splits a message on white space and masks each token. With more than `maxTokens` tokens the rest
 * of the message becomes one final `<*>` (so one huge line cannot blow up the miner).
 */
export function maskMessage(message: string, maxTokens = Infinity): MaskedMessage & { truncatedTokens: boolean } {
  const tokens: string[] = [];
  const params: string[] = [];
  let truncatedTokens = false;
  let sawDateWord = false;
  const scan = messageScanner.reset(message, 0, message.length, maxTokens);
  for (let found = scan.next(); found !== END; found = scan.next()) {
    const s = scan.start;
    const e = scan.end;
    if (found === TAIL) {
      params.push(message.slice(s, e));
      tokens.push(WILDCARD);
      truncatedTokens = true;
      break;
    }
    if (isDateWordAt(message, s, e)) sawDateWord = true;
    tokens.push(maskRange(message, s, e, scan.flags, params) ?? message.slice(s, e));
  }
  if (sawDateWord) maskDateWords(tokens, params);
  return { tokens, params, truncatedTokens };
}

/** A masked message as the miner looks it up: its tokens joined by one space, and its values. */
export interface MaskedKey {
  /** `maskMessage(message, maxTokens).tokens.join(' ')`. */
  key: string;
  params: string[];
  truncatedTokens: boolean;
}

/**
 * Joins masked tokens with one space as they come. Unchanged tokens are pieces of the text, and a
 * run of them separated by single spaces is copied as one piece.
 */
class KeyBuilder {
  private key = '';
  private hasKey = false;
  /** The pending run of unchanged tokens: text[runStart, runEnd), none while runStart < 0. */
  private runStart = -1;
  private runEnd = -1;
  /** Whether the pending run goes on the token before it (a piece of a masked token), with no space. */
  private runGlued = false;
  private text = '';

  /** Starts a key for a message of `text` (a builder is reused: masking runs once per line). */
  reset(text: string): this {
    this.text = text;
    this.key = '';
    this.hasKey = false;
    this.runStart = -1;
    this.runGlued = false;
    return this;
  }

  /** Adds the unchanged token text[s, e). */
  plain(s: number, e: number): void {
    if (this.runStart >= 0 && s === this.runEnd + 1 && this.text.charCodeAt(this.runEnd) === 32) {
      this.runEnd = e;
      return;
    }
    this.flushRun();
    this.runStart = s;
    this.runEnd = e;
  }

  /** Adds a masked token that starts with the unchanged text[s, at) and goes on with a `<*>`. */
  wildcardAt(s: number, at: number): void {
    if (at === s) {
      this.masked(WILDCARD);
      return;
    }
    this.plain(s, at);
    this.flushRun();
    this.key += WILDCARD;
  }

  /** Adds the unchanged text[from, to) and a `<*>` to the masked token being added. */
  gluedWildcard(from: number, to: number): void {
    if (to > from) this.piece(from, to);
    this.flushRun();
    this.key += WILDCARD;
  }

  /** Adds the unchanged text[from, to) to the masked token being added. */
  piece(from: number, to: number): void {
    if (this.runStart >= 0 && from === this.runEnd) {
      this.runEnd = to;
      return;
    }
    this.flushRun();
    this.runStart = from;
    this.runEnd = to;
    this.runGlued = true;
  }

  /** Adds a masked token. */
  masked(token: string): void {
    this.flushRun();
    if (!this.hasKey) {
      this.key = token;
      this.hasKey = true;
    } else this.key += token === WILDCARD ? SPACED_WILDCARD : ' ' + token;
  }

  /** The key, flat (see flatKey). */
  finish(): string {
    this.flushRun();
    return flatKey(this.key);
  }

  private flushRun(): void {
    const { text, runStart, runEnd } = this;
    if (runStart < 0) return;
    // each piece is a new string: take the space before a run with it when there is one
    if (this.runGlued) {
      this.key += text.slice(runStart, runEnd);
      this.runGlued = false;
    } else if (!this.hasKey) this.key = text.slice(runStart, runEnd);
    else if (text.charCodeAt(runStart - 1) === 32) this.key += text.slice(runStart - 1, runEnd);
    else this.key += ' ' + text.slice(runStart, runEnd);
    this.hasKey = true;
    this.runStart = -1;
  }
}

const SPACED_WILDCARD = ' ' + WILDCARD;

/**
 * A key built of pieces (`+=` makes a chain of them) made one flat string: the miner hashes it and
 * compares it with the cached keys, and a Map does both on a chain by walking it, piece by piece,
 * every time (~2.5× the cost of flattening it once first: measured on the generated corpus's keys,
 * 0.6 µs per lookup). Reading one character flattens it in place.
 */
function flatKey(key: string): string {
  if (key.length > 0) key.charCodeAt(0);
  return key;
}
const keyBuilder = new KeyBuilder();

/**
 * maskMessage(text.slice(from, to)) as the miner looks it up: the masked tokens joined by one
 * space, built in the same scan, with the message read in place, so that a line of a known shape
 * costs one scan, one key and its parameters. Undefined in the one case it leaves to maskMessage:
 * a month or weekday name in a message that holds a literal `<*>`.
 */
export function maskKey(text: string, from = 0, to = text.length, maxTokens = Infinity): MaskedKey | undefined {
  const params: string[] = [];
  const key = keyBuilder.reset(text);
  let truncatedTokens = false;
  // month and weekday names (text ranges) held back until the tokens after them say whether they
  // start a date (see maskDateWords), and the values seen after them
  let dateWords: number[] | undefined;
  let dateValues = 0;
  let dateParamsAt = 0;
  const scan = keyScanner.reset(text, from, to, maxTokens);
  for (let found = scan.next(); found !== END; found = scan.next()) {
    const s = scan.start;
    const e = scan.end;
    let masked: string | undefined;
    let dateWord = false;
    if (found === TAIL) {
      params.push(text.slice(s, e));
      masked = WILDCARD;
      truncatedTokens = true;
    } else if (isDateWordAt(text, s, e)) {
      // maskDateWords counts `<*>` in the tokens to find a date's values: a literal one would
      // shift them, which is maskMessage's to reproduce
      if (dateWords === undefined && hasLiteralWildcard(text, from, to)) return undefined;
      dateWord = true;
    } else if (!isPlainWord(text, s, e, scan.flags)) {
      // (with no date held back, a token is added to the key as it is masked)
      const m = maskRange(text, s, e, scan.flags, params, dateWords === undefined ? key : undefined);
      if (m === null) continue;
      masked = m;
    }
    if (dateWords !== undefined) {
      if (dateWord && dateValues === 0) {
        dateWords.push(s, e);
        continue;
      }
      if (masked === WILDCARD) {
        // (the value's parameter is the last one: the token that ends the date may add more)
        if (dateValues === 0) dateParamsAt = params.length - 1;
        dateValues++;
        if (found === TAIL) break;
        continue;
      }
      addDate(key, text, dateWords, params, dateParamsAt, dateValues);
      dateWords = undefined;
    }
    if (dateWord) {
      dateWords = [s, e];
      dateValues = 0;
    } else if (masked === undefined) key.plain(s, e);
    else key.masked(masked);
    if (found === TAIL) break;
  }
  if (dateWords !== undefined) addDate(key, text, dateWords, params, dateParamsAt, dateValues);
  return { key: key.finish(), params, truncatedTokens };
}

/**
 * Adds month and weekday names (text ranges) held back by maskKey: with the values after them, one
 * date value; without, plain words.
 */
function addDate(key: KeyBuilder, text: string, words: readonly number[], params: string[], at: number, values: number): void {
  if (values === 0) for (let k = 0; k < words.length; k += 2) key.plain(words[k]!, words[k + 1]!);
  else key.masked(joinDate(text, words, params, at, values));
}

function hasLiteralWildcard(text: string, from: number, to: number): boolean {
  const at = text.indexOf(WILDCARD, from);
  return at >= 0 && at + WILDCARD.length <= to;
}

/**
 * A date written with names (`Sun Jul 3 23:16:09 2005`): the names (text ranges) and the `values`
 * parameters from `at` become one parameter, as maskDateWords joins them.
 */
function joinDate(text: string, words: readonly number[], params: string[], at: number, values: number): string {
  let joined = '';
  for (let k = 0; k < words.length; k += 2) joined += (k > 0 ? ' ' : '') + text.slice(words[k], words[k + 1]);
  for (let k = at; k < at + values; k++) joined += ' ' + params[k]!;
  params.splice(at, values, joined);
  return WILDCARD;
}
