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

/** Whether a token may hold true/false/null between delimiters (cheap pre-check). */
function hasLiteral(token: string): boolean {
  return token.length >= 5 && (token.includes('true') || token.includes('false') || token.includes('null') || token.includes('True') || token.includes('False') || token.includes('None'));
}

/** A host name or address has a dot, slash, hyphen or digit (`ret` in `ret:42` is a key, not a host). */
function looksLikeHost(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 46 || c === 47 || c === 45 || isDigit(c)) return true;
  }
  return false;
}

/** Whether the token's core is one whole value. */
function isWholeValue(core: string, hasDigit: boolean): boolean {
  const c0 = core.charCodeAt(0);
  if (c0 === 47 /* / */ || c0 === 126 /* ~ */ || c0 === 46 /* . */ || (core.length > 2 && core.charCodeAt(1) === 58 && core.charCodeAt(2) === 92)) {
    // `/10.0.0.1:80` is Java's address form, not a path
    if (PATH.test(core) && core.length >= 2 && !isDigit(core.charCodeAt(1)) && (core.charCodeAt(1) !== 47 || core.length > 2)) return true;
  }
  if (core.includes('://')) return URL.test(core);
  if (core.includes('@') && EMAIL.test(core)) return true;
  if (!hasDigit) return false;
  const len = core.length;
  if (len >= 7 && len <= 22 && (isDigit(c0) || c0 === 47) && IPV4_PORT.test(core)) return true;
  if (len === 36 && UUID.test(core)) return true;
  if (len === 17 && MAC.test(core)) return true;
  if (len >= 8 && isDigit(c0) && TIME_OR_DATE.test(core)) return true;
  if (core.includes(':') && HOST_PORT.test(core) && looksLikeHost(core.slice(0, core.lastIndexOf(':')))) return true;
  if (core.includes(':') && countChar(core, 58) >= 2 && IPV6.test(core)) return true;
  return false;
}

/** What one scan of a token found. */
const F_DIGIT = 1;
const F_SPECIAL = 2;
const F_DELIM = 4;
const F_NOT_NUMERIC = 8;

function scanFlags(token: string): number {
  let flags = 0;
  const n = token.length;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    const k = c < 128 ? CLASS[c]! : 0;
    if (k === DIGIT) flags |= F_DIGIT;
    else {
      flags |= k === SPECIAL ? F_SPECIAL : k === DELIM ? F_DELIM : 0;
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
  return maskScanned(token, scanFlags(token), params);
}

function maskScanned(token: string, flags: number, params: string[]): string {
  const hasDigit = (flags & F_DIGIT) !== 0;
  // a number, or a token with a digit and no delimiter (`blk_-42`, `v2`, a UUID, `/tmp/x1`) is one
  // run, so one value: the general rules below would reach the same answer, slower
  if (hasDigit && ((flags & F_NOT_NUMERIC) === 0 || (flags & F_DELIM) === 0)) {
    params.push(token);
    return WILDCARD;
  }
  if (!hasDigit && (flags & F_SPECIAL) === 0) {
    if (token.length <= 9 && mayBeLiteral(token.charCodeAt(0)) && LITERALS.has(token)) {
      params.push(token);
      return WILDCARD;
    }
    // a literal inside punctuation (`ready=true,`, `(null)`) is cut out below
    if ((flags & F_DELIM) === 0 || !hasLiteral(token)) return token;
  }
  // strip wrapping punctuation to find the token's core
  let start = 0;
  let end = token.length;
  while (start < end && isOpener(token.charCodeAt(start))) start++;
  while (end > start && isCloser(token.charCodeAt(end - 1))) end--;
  if (end > start) {
    const core = start === 0 && end === token.length ? token : token.slice(start, end);
    if (isWholeValue(core, hasDigit)) {
      params.push(core);
      return token.slice(0, start) + WILDCARD + token.slice(end);
    }
  }
  // cut into runs at delimiters; every run with a digit, and every literal, is a value
  let out = '';
  let runStart = 0;
  let runHasDigit = false;
  let changed = false;
  for (let i = 0; i <= token.length; i++) {
    const c = i < token.length ? token.charCodeAt(i) : -1;
    if (c === -1 || isDelimiter(c)) {
      if (runHasDigit || (i - runStart <= 9 && i - runStart >= 3 && LITERALS.has(token.slice(runStart, i)))) {
        params.push(token.slice(runStart, i));
        out += WILDCARD;
        changed = true;
      } else out += token.slice(runStart, i);
      if (c !== -1) out += token[i];
      runStart = i + 1;
      runHasDigit = false;
    } else if (isDigit(c)) runHasDigit = true;
  }
  return changed ? out : token;
}

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

/**
 * Splits a message on white space and masks each token. With more than `maxTokens` tokens the rest
 * of the message becomes one final `<*>` (so one huge line cannot blow up the miner).
 */
export function maskMessage(message: string, maxTokens = Infinity): MaskedMessage & { truncatedTokens: boolean } {
  const tokens: string[] = [];
  const params: string[] = [];
  let truncatedTokens = false;
  let sawDateWord = false;
  const n = message.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(message.charCodeAt(i))) i++;
    if (i >= n) break;
    if (tokens.length >= maxTokens - 1 && tokens.length >= 1) {
      // keep the tail as one parameter
      let j = n;
      while (j > i && isSpace(message.charCodeAt(j - 1))) j--;
      const tail = message.slice(i, j);
      let k = i;
      while (k < j && !isSpace(message.charCodeAt(k))) k++;
      if (k < j) {
        params.push(tail);
        tokens.push(WILDCARD);
        truncatedTokens = true;
        break;
      }
    }
    const s = i;
    // find the token's end and classify it in the same scan
    let flags = 0;
    let c = message.charCodeAt(i);
    for (; i < n; c = message.charCodeAt(++i)) {
      const k = c < 128 ? CLASS[c]! : 0;
      if (k === 0) {
        // `.` inside a number and a leading sign keep it numeric (checked at the end)
        if (!(c === 46 || ((c === 45 || c === 43) && i === s))) flags |= F_NOT_NUMERIC;
        continue;
      }
      if (k === SPACE) break;
      if (k === DIGIT) flags |= F_DIGIT;
      else {
        flags |= (k === SPECIAL ? F_SPECIAL : F_DELIM) | F_NOT_NUMERIC;
        // key="a quoted value" is one token, spaces and all
        if ((c === 34 || c === 39) && i > s && message.charCodeAt(i - 1) === 61) {
          const close = message.indexOf(c === 34 ? '"' : "'", i + 1);
          if (close > i && close - i <= MAX_QUOTED_CHARS) {
            for (let q = i + 1; q < close; q++) if (isDigit(message.charCodeAt(q))) flags |= F_DIGIT;
            i = close;
            c = 0;
          }
        }
      }
    }
    // a trailing `.` ends a sentence, not a number; a lone sign is no number
    if ((flags & F_NOT_NUMERIC) === 0 && (message.charCodeAt(i - 1) === 46 || (flags & F_DIGIT) === 0)) flags |= F_NOT_NUMERIC;
    const raw = message.slice(s, i);
    if (i - s === 3 && isUpper(message.charCodeAt(s)) && DATE_WORDS.has(raw)) sawDateWord = true;
    tokens.push(maskScanned(raw, flags, params));
  }
  if (sawDateWord) maskDateWords(tokens, params);
  return { tokens, params, truncatedTokens };
}
