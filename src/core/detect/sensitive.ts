/**
 * Sensitive data in log lines: credentials (cloud keys, tokens, passwords in key=value, bearer
 * tokens, JWTs, private keys, passwords in URLs) and personal data (e-mails, card numbers, US SSNs).
 *
 * Every match is reported masked; the raw value never leaves findSensitive (spans let a caller
 * redact the text itself, see redactSensitive). Card numbers must pass the Luhn check and match a
 * card brand's prefix and length, so ids and timestamps that happen to be 16 digits do not count.
 *
 * Speed: findSensitive runs one combined pre-check regex and stops there for most text. The
 * detector does less: per template it decides once whether the template's words can carry a secret
 * (`password=`, `Bearer`, `AKIA…`); otherwise it only looks at the line's parameters with
 * character checks, and reads the whole message only when one of them looks like a value secret.
 */
import { NO_FINDINGS, type DetectInput, type Detector, type Finding, type Severity } from './detector.js';

export type SensitiveKind =
  | 'private_key' | 'aws_access_key' | 'github_token' | 'slack_token' | 'slack_webhook' | 'stripe_key' | 'google_api_key'
  | 'jwt' | 'bearer_token' | 'url_credentials' | 'password' | 'token' | 'api_key' | 'secret' | 'credential'
  | 'email' | 'credit_card' | 'ssn';

export interface SensitiveMatch {
  kind: SensitiveKind;
  /** The matched text masked: never the raw value. */
  masked: string;
  /** The span the mask stands for: text.slice(start, end) is the raw value. */
  start: number;
  end: number;
}

/** Cheap gate for everything but numbers: no rule except cards and SSNs can match where this does not. */
const PRECHECK = /A(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA|Iza)|eyJ|-----BEGIN|gh[pousr]_|github_pat_|xox[abposr]-|[sr]k_(?:live|test)_|hooks\.slack|bearer|pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth|credential|@/i;

/**
 * Where a card match starts: the card rule's regex up to its 13th digit (every card match starts
 * with a match of this); where an SSN starts, likewise, without the rule's exclusions.
 */
const CARD_START = /(?<![\w.+-])\d(?:[ -]?\d){12}/;
const SSN_START = /(?<![\w-])\d{3}-\d{2}-\d{4}/;

/**
 * The one gate most text stops at: PRECHECK (written as a trie: the same matches, fewer
 * alternatives tried at each character), CARD_START or SSN_START, in one scan.
 */
const ANY_START = new RegExp(
  '[Aa](?:[Kk][Ii][Aa]|[Ss][Ii][Aa]|[Gg][Pp][Aa]|[Ii][Dd][Aa]|[Rr][Oo][Aa]|[Ii][Pp][Aa]|[Nn][Pp][Aa]|[Nn][Vv][Aa]|[Ii][Zz][Aa]|[Pp][Ii][_-]?[Kk][Ee][Yy]|[Cc][Cc][Ee][Ss][Ss][_-]?[Kk][Ee][Yy]|[Uu][Tt][Hh])'
  + '|[Ee][Yy][Jj]|-----[Bb][Ee][Gg][Ii][Nn]|[Gg](?:[Hh][PpOoUuSsRr]_|[Ii][Tt][Hh][Uu][Bb]_[Pp][Aa][Tt]_)|[Xx][Oo][Xx][AaBbPpOoSsRr]-'
  + '|[SsRr][Kk]_(?:[Ll][Ii][Vv][Ee]|[Tt][Ee][Ss][Tt])_|[Hh][Oo][Oo][Kk][Ss]\\.[Ss][Ll][Aa][Cc][Kk]|[Bb][Ee][Aa][Rr][Ee][Rr]'
  + '|[Pp](?:[Aa][Ss][Ss]|[Ww][Dd]|[Rr][Ii][Vv][Aa][Tt][Ee][_-]?[Kk][Ee][Yy])|[Ss][Ee][Cc][Rr][Ee][Tt]|[Tt][Oo][Kk][Ee][Nn]'
  + '|[Cc][Rr][Ee][Dd][Ee][Nn][Tt][Ii][Aa][Ll]|@'
  // CARD_START and SSN_START with the digit first and the lookbehind after it (the same matches;
  // a lookbehind first is tried at every character)
  + '|\\d(?:(?<![\\w.+-]\\d)(?:[ -]?\\d){12}|(?<![\\w-]\\d)\\d{2}-\\d{2}-\\d{4})',
);

/** Which of the card and SSN rules may match a text. */
const MAY_CARD = 1;
const MAY_SSN = 2;

interface Rule {
  kind: SensitiveKind | 'keyed';
  re: RegExp;
  /**
   * What every match of the rule holds (a literal, or a cheap regex): the rule runs only on a text
   * that has it. For the card and SSN rules, their MAY_* bit (CARD_START, SSN_START).
   */
  gate: string | RegExp | number;
  /** Capture group holding the secret (0 = the whole match). */
  group: number;
  validate?: (value: string) => boolean;
  mask?: (value: string) => string;
}

/** Reveals nothing of short values and at most a few characters of long ones. */
export function maskSecret(v: string): string {
  const n = v.length;
  if (n < 6) return '*'.repeat(n);
  const keep = n >= 20 ? 4 : n >= 12 ? 2 : 1;
  // long values are not spelled out star by star: the shape is enough
  const stars = Math.min(n - 2 * keep, 16);
  return v.slice(0, keep) + '*'.repeat(stars) + v.slice(n - keep);
}

function maskEmail(v: string): string {
  const at = v.lastIndexOf('@');
  return `${v[0]}***${v.slice(at)}`;
}

function digitsOf(v: string): string {
  let d = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) d += v[i];
  }
  return d;
}

function luhn(d: string): boolean {
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let x = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) {
      x *= 2;
      if (x > 9) x -= 9;
    }
    sum += x;
  }
  return sum % 10 === 0;
}

/** Prefix and length of the major card brands (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay). */
function cardBrandFits(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p4 === 6011 || p2 === 65 || (p4 >= 6440 && p4 <= 6499)) return n >= 16 && n <= 19;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;
  if (p2 === 36 || p2 === 38 || (p4 >= 3000 && p4 <= 3059)) return n >= 14 && n <= 19;
  if (p2 === 62) return n >= 16 && n <= 19;
  return false;
}

export function isCardNumber(v: string): boolean {
  const d = digitsOf(v);
  return d.length >= 13 && d.length <= 19 && cardBrandFits(d) && luhn(d);
}

function maskCard(v: string): string {
  const d = digitsOf(v);
  return d.slice(0, 4) + '*'.repeat(d.length - 8) + d.slice(-4);
}

/** Values of secret-looking keys that are states or placeholders, not secrets. */
const NOT_A_SECRET = new Set([
  'true', 'false', 'null', 'none', 'nil', 'undefined', 'empty', 'unset', 'set', 'yes', 'no', 'ok', 'on', 'off',
  'required', 'invalid', 'expired', 'missing', 'incorrect', 'wrong', 'failed', 'failure', 'success', 'successful',
  'accepted', 'rejected', 'denied', 'changed', 'updated', 'reset', 'provided', 'redacted', 'hidden', 'masked',
  'bearer', 'basic', 'token', 'password', 'secret', 'enabled', 'disabled', 'mismatch', 'ignored', 'unknown',
]);

function plausibleSecret(v: string): boolean {
  if (v.length < 3) return false;
  if (NOT_A_SECRET.has(v.toLowerCase())) return false;
  // already masked (`****`, `xxxx`) or a path (`pwd=/home/app`)
  if (/^(.)\1*$/.test(v) || v[0] === '/' || v.startsWith('~/') || v.startsWith('./')) return false;
  // a Java object's identity (`android.os.BinderProxy@2bd79ce`), not a value
  if (/^[\w.$]+@[0-9a-f]{4,}$/.test(v)) return false;
  return true;
}

/** At least 8 characters with a digit, or with both cases: a generated value, not a word or a mode. */
function looksGenerated(v: string): boolean {
  return v.length >= 8 && (/\d/.test(v) || (/[a-z]/.test(v) && /[A-Z]/.test(v)));
}

/** Key of a key=value secret → its kind. */
function keyedKind(key: string): SensitiveKind {
  const k = key.toLowerCase();
  if (/pass|pwd/.test(k)) return 'password';
  if (/api[_-]?key|apikey/.test(k)) return 'api_key';
  if (/access[_-]?key|private[_-]?key/.test(k)) return 'secret';
  if (/secret/.test(k)) return 'secret';
  if (/token/.test(k)) return 'token';
  return 'credential';
}

/** What every e-mail match holds: its `@` and domain (the e-mail rule's own pattern for them). */
const EMAIL_DOMAIN = /@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b/;

/** What the key of every KEYED_SECRET match holds. */
const KEYED_WORD = /pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth|credential/i;

const KEYED_SECRET =
  /(?<![A-Za-z0-9])((?:[A-Za-z0-9]+[_.-])*(?:password|passwd|passphrase|pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth|authorization|credentials?))["']?\s*[=:]\s*(?:"([^"\r\n]{1,256})"|'([^'\r\n]{1,256})'|(?:(?:bearer|basic|token|digest)\s+)?([^\s,;&"'<>(){}[\]]{1,256}))/gi;

/** Checked in order; a later match overlapping an earlier one is dropped. */
const RULES: readonly Rule[] = [
  { kind: 'private_key', gate: '-----BEGIN ', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g, group: 0, mask: (v) => v },
  { kind: 'url_credentials', gate: '://', re: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@]{1,64}:([^\s@/]{1,128})@/gi, group: 1 },
  { kind: 'bearer_token', gate: /bearer/i, re: /\bbearer\s+([A-Za-z0-9\-._~+/]{12,}=*)/gi, group: 1 },
  { kind: 'aws_access_key', gate: /A(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA)/, re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b/g, group: 0 },
  { kind: 'github_token', gate: /gh[pousr]_|github_pat_/, re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g, group: 0 },
  { kind: 'slack_token', gate: /xox[abposr]-/, re: /\bxox[abposr]-[A-Za-z0-9-]{10,250}/g, group: 0 },
  { kind: 'slack_webhook', gate: 'https://hooks.slack.com/services/', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{10,}/g, group: 0 },
  { kind: 'stripe_key', gate: /[sr]k_(?:live|test)_/, re: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b/g, group: 0 },
  { kind: 'google_api_key', gate: 'AIza', re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, group: 0 },
  { kind: 'jwt', gate: 'eyJ', re: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, group: 0 },
  { kind: 'keyed', gate: KEYED_WORD, re: KEYED_SECRET, group: -1, validate: plausibleSecret },
  { kind: 'email', gate: EMAIL_DOMAIN, re: /(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b/g, group: 0, mask: maskEmail },
  { kind: 'credit_card', gate: MAY_CARD, re: /(?<![\w.+-])\d(?:[ -]?\d){12,18}(?![\w.]|[ -]?\d)/g, group: 0, validate: isCardNumber, mask: maskCard },
  { kind: 'ssn', gate: MAY_SSN, re: /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/g, group: 0, mask: (v) => `***-**-${v.slice(-4)}` },
];

/** Whether a word rule's gate is found in `text`. */
function gateOpen(gate: string | RegExp, text: string): boolean {
  return typeof gate === 'string' ? text.includes(gate) : gate.test(text);
}

/**
 * All sensitive values in a text, masked, in order of position, never overlapping. Most text stops
 * at one regex (ANY_START); the rest runs only the rules whose gate it holds.
 */
export function findSensitive(text: string): SensitiveMatch[] {
  if (!ANY_START.test(text)) return [];
  return runRules(text, true);
}

/** findSensitive without any gate: every rule runs on the text (the reference the gates are tested against). */
export function findSensitiveUngated(text: string): SensitiveMatch[] {
  return runRules(text, false);
}

function runRules(text: string, gated: boolean): SensitiveMatch[] {
  const words = !gated || PRECHECK.test(text);
  const numeric = !gated ? MAY_CARD | MAY_SSN : (CARD_START.test(text) ? MAY_CARD : 0) | (SSN_START.test(text) ? MAY_SSN : 0);
  let out: SensitiveMatch[] | undefined;
  for (const rule of RULES) {
    if (typeof rule.gate === 'number' ? (numeric & rule.gate) === 0 : !words || (gated && !gateOpen(rule.gate, text))) continue;
    rule.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = rule.re.exec(text)) !== null) {
      let kind: SensitiveKind;
      let value: string;
      let start: number;
      if (rule.kind === 'keyed') {
        const g = m[2] !== undefined ? 2 : m[3] !== undefined ? 3 : 4;
        value = m[g]!;
        // the value sits at the end of the match
        start = m.index + m[0].length - value.length - (g === 4 ? 0 : 1);
        kind = keyedKind(m[1]!);
      } else {
        value = m[rule.group]!;
        // a captured value ends the match (url credentials: just before its `@`)
        start = rule.group === 0 ? m.index : m.index + m[0].length - value.length - (rule.kind === 'url_credentials' ? 1 : 0);
        kind = rule.kind;
      }
      if (rule.validate && !rule.validate(value)) continue;
      // `auth:SIMPLE`, `credentials: KERBEROS`: generic keys need a value that looks generated
      if (kind === 'credential' && !looksGenerated(value)) continue;
      const end = start + value.length;
      if (out === undefined) out = [];
      else if (out.some((o) => start < o.end && end > o.start)) continue;
      out.push({ kind, masked: (rule.mask ?? maskSecret)(value), start, end });
    }
  }
  return out === undefined ? [] : out.sort((a, b) => a.start - b.start);
}

/** The text with every sensitive value replaced by its mask (for showing lines or templates safely). */
export function redactSensitive(text: string): string {
  const found = findSensitive(text);
  if (found.length === 0) return text;
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.start) + f.masked;
    at = f.end;
  }
  return out + text.slice(at);
}

/** How bad each kind is, and what it scores. */
const KIND_SEVERITY: Record<SensitiveKind, [Severity, number]> = {
  private_key: ['critical', 0.95], aws_access_key: ['high', 0.9], github_token: ['high', 0.9], slack_token: ['high', 0.9],
  slack_webhook: ['high', 0.8], stripe_key: ['high', 0.9], google_api_key: ['high', 0.85], jwt: ['high', 0.8],
  bearer_token: ['high', 0.85], url_credentials: ['high', 0.9], password: ['high', 0.9], token: ['high', 0.8],
  api_key: ['high', 0.85], secret: ['high', 0.85], credential: ['high', 0.75],
  credit_card: ['high', 0.85], ssn: ['high', 0.8], email: ['low', 0.4],
};
const PERSONAL: ReadonlySet<SensitiveKind> = new Set(['email', 'credit_card', 'ssn']);
const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

/**
 * What in a template can come with a secret: a secret-looking key followed by `=` or `:` (keys and
 * separators are constants in templates), an auth scheme word, or a value shape the masker kept as
 * a word (a key without digits).
 */
const TEMPLATE_MAY_HOLD_SECRET = /(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth(?:orization)?|credentials?)["']?\s*[=:]|\b(?:bearer|basic)\s|A(?:KIA|SIA|Iza)|eyJ|-----BEGIN|gh[pousr]_|github_pat_|xox[abposr]-|[sr]k_(?:live|test)_|hooks\.slack|@/i;
const VALUE_PREFIXES = ['AKIA', 'ASIA', 'AIza', 'eyJ', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'xox', 'sk_', 'rk_', 'https://hooks.slack'];
/** VALUE_PREFIXES by their first character. */
const PREFIXES_BY_FIRST: (string[] | undefined)[] = [];
for (const p of VALUE_PREFIXES) (PREFIXES_BY_FIRST[p.charCodeAt(0)] ??= []).push(p);
const SSN_SHAPE = /^\d{3}-\d{2}-\d{4}$/;

/** Whether one parameter may be a value secret (a cheap test: no regex for ordinary values). */
const SENSITIVE_KEY = /pass|pwd|secret|token|key|auth|credential|card|cc_?num|pan\b|ssn|cvv|email|mail/i;

/** SENSITIVE_KEY's verdict per field name: structured records repeat the same few names on every line. */
const keyVerdicts = new Map<string, boolean>();
const MAX_KEY_VERDICTS = 10_000;

function sensitiveKey(k: string): boolean {
  let v = keyVerdicts.get(k);
  if (v === undefined) {
    v = SENSITIVE_KEY.test(k);
    if (keyVerdicts.size >= MAX_KEY_VERDICTS) keyVerdicts.clear();
    keyVerdicts.set(k, v);
  }
  return v;
}

/** Cheap test of a structured record's fields: a telling key name, or a value shaped like a secret. */
export function attributesMayHold(attrs: Record<string, string>): boolean {
  for (const k in attrs) if (sensitiveKey(k)) return true;
  // the values in order, read in place: only a 4-digit value (a card written in groups) reads the
  // values after it, and then they are listed (most records have none: no array per record)
  let i = 0;
  for (const k in attrs) {
    const v = attrs[k]!;
    if (isFourDigits(v)) return valuesMayHold(Object.values(attrs), i);
    if (paramMayBeSensitive(v, NO_VALUES, i)) return true;
    i++;
  }
  return false;
}

/** attributesMayHold with the values listed first: what its fast path must answer (exported for tests). */
export function attributesMayHoldListed(attrs: Record<string, string>): boolean {
  for (const k in attrs) if (sensitiveKey(k)) return true;
  return valuesMayHold(Object.values(attrs), 0);
}

function valuesMayHold(values: readonly string[], from: number): boolean {
  for (let i = from; i < values.length; i++) if (paramMayBeSensitive(values[i]!, values, i)) return true;
  return false;
}

const NO_VALUES: readonly string[] = Object.freeze([]);

/** Whether a value is exactly four digits (the one case where paramMayBeSensitive reads the values after it). */
function isFourDigits(v: string): boolean {
  if (v.length !== 4) return false;
  for (let k = 0; k < 4; k++) {
    const c = v.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Whether one value (a parameter, or a field's value) may be a secret on its own: an address, a
 * card number or SSN, a token prefix, a URL with a password. `next` holds the values after it (a
 * card written in groups). Exported for tests.
 */
export function paramMayBeSensitive(p: string, next: readonly string[], i: number): boolean {
  const n = p.length;
  if (n < 4) return false;
  const c0 = p.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    // an address (`@`), or a card number or SSN: digits with optional separators only
    let digits = 0;
    let other = false;
    for (let k = 0; k < n; k++) {
      const c = p.charCodeAt(k);
      if (c >= 48 && c <= 57) digits++;
      else if (c === 64) return true;
      else if (c !== 45 && c !== 32) other = true;
    }
    if (other) return false;
    if (digits >= 13) return isCardNumber(p);
    if (digits === 9) return SSN_SHAPE.test(p);
    // a card written in groups arrives as several values: 4111 1111 1111 1111
    if (digits === 4 && n === 4) {
      let joined = p;
      for (let k = i + 1; k < next.length && k <= i + 4 && /^\d{3,6}$/.test(next[k]!); k++) joined += next[k];
      return joined.length >= 13 && isCardNumber(joined);
    }
    return false;
  }
  // every prefix starts with one of these letters: most values are out after one comparison
  const prefixes = c0 < 128 ? PREFIXES_BY_FIRST[c0] : undefined;
  if (prefixes !== undefined) for (let k = 0; k < prefixes.length; k++) if (p.startsWith(prefixes[k]!)) return true;
  // an address (`@`) anywhere, or a URL (`://`) with a `:` after it (a password); one pass
  let scheme = -1;
  for (let k = 0; k < n; k++) {
    const c = p.charCodeAt(k);
    if (c === 64) return true;
    if (c !== 58) continue;
    if (scheme >= 0) return true;
    if (k + 2 < n && p.charCodeAt(k + 1) === 47 && p.charCodeAt(k + 2) === 47) {
      scheme = k;
      k += 2;
    }
  }
  return false;
}

/**
 * A URL with a user and password (`scheme://user:pass@host`), looked for in the whole message: a
 * password with `#`, `?` or other URL syntax in it can split the URL into odd parameters.
 */
function urlMayHoldCredentials(message: string): boolean {
  const scheme = message.indexOf('://');
  if (scheme < 0) return false;
  const at = message.indexOf('@', scheme + 3);
  return at > 0 && message.lastIndexOf(':', at) > scheme + 2;
}

export interface SensitiveDataOptions {
  /** Report e-mail addresses (personal data, but common in logs and low severity). */
  reportEmails: boolean;
  /** Templates whose "may hold a secret" verdict is remembered. */
  cacheTemplates: number;
  /** Matches listed per finding (a line full of addresses gives one finding with the first few). */
  maxMatchesPerFinding: number;
}

export const DEFAULT_SENSITIVE_OPTIONS: Readonly<SensitiveDataOptions> = Object.freeze({
  reportEmails: true,
  // one verdict per template, as many as the miner keeps for a source (a miss only recomputes it)
  cacheTemplates: 10_000,
  // 10: enough to act on; the count says how many there were
  maxMatchesPerFinding: 10,
});

/** Slots of the detector's table of recent template verdicts (a power of two). */
const VERDICT_SLOTS = 1024;

export class SensitiveDataDetector implements Detector {
  readonly name = 'sensitive_data';
  private readonly opts: SensitiveDataOptions;
  private readonly templateVerdict = new Map<string, { template: string; mayHold: boolean }>();
  /**
   * Recent templates' verdicts by a cheap hash of the text (the verdict depends on the text only):
   * the template of a line is mostly the same string as on earlier lines, so one comparison finds
   * it without hashing the id for the Map.
   */
  private readonly verdictSlots: (string | undefined)[] = new Array<string | undefined>(VERDICT_SLOTS).fill(undefined);
  private readonly verdictOf = new Uint8Array(VERDICT_SLOTS);

  constructor(options: Partial<SensitiveDataOptions> = {}) {
    this.opts = { ...DEFAULT_SENSITIVE_OPTIONS, ...options };
  }

  observe(input: DetectInput): Finding[] {
    const attrs = input.record.attributes;
    const inAttrs = attrs !== undefined && attributesMayHold(attrs);
    if (!inAttrs && !this.templateMayHold(input) && !this.paramsMayHold(input.params) && !urlMayHoldCredentials(input.record.message)) return NO_FINDINGS;
    // structured records keep fields beside the message (`"api_key": "sk_live_…"`): scan them as key=value
    let text = input.record.message;
    if (inAttrs) for (const k in attrs) text += ` ${k}=${attrs[k]}`;
    let found = findSensitive(text);
    if (!this.opts.reportEmails) found = found.filter((f) => f.kind !== 'email');
    if (found.length === 0) return NO_FINDINGS;
    let score = 0;
    let severity: Severity = 'info';
    for (const f of found) {
      const [sev, s] = KIND_SEVERITY[f.kind];
      if (s > score) score = s;
      if (SEVERITY_RANK[sev] > SEVERITY_RANK[severity]) severity = sev;
    }
    const shown = found.slice(0, this.opts.maxMatchesPerFinding);
    const list = shown.map((f) => `${f.kind.replace(/_/g, ' ')} ${f.masked}`).join(', ');
    const more = found.length > shown.length ? ` and ${found.length - shown.length} more` : '';
    const tags = found.some((f) => PERSONAL.has(f.kind)) ? ['security', 'pii'] : ['security'];
    return [{
      detector: this.name,
      score,
      reason: `line contains ${found.length === 1 ? 'sensitive data' : `${found.length} sensitive values`}: ${list}${more} (shown masked)`,
      evidence: { matches: shown.map((f) => ({ kind: f.kind, masked: f.masked, start: f.start, end: f.end })), count: found.length },
      tags,
      severity,
    }];
  }

  private templateMayHold(input: DetectInput): boolean {
    const text = input.template;
    const n = text.length;
    const slot = n === 0 ? 0 : (n * 31 + text.charCodeAt(n - 1) * 7 + text.charCodeAt(n >> 1)) & (VERDICT_SLOTS - 1);
    if (this.verdictSlots[slot] === text) return this.verdictOf[slot] === 1;
    const mayHold = this.templateVerdictById(input);
    this.verdictSlots[slot] = text;
    this.verdictOf[slot] = mayHold ? 1 : 0;
    return mayHold;
  }

  private templateVerdictById(input: DetectInput): boolean {
    const cached = this.templateVerdict.get(input.templateId);
    if (cached !== undefined && cached.template === input.template) return cached.mayHold;
    const mayHold = TEMPLATE_MAY_HOLD_SECRET.test(input.template);
    if (cached === undefined && this.templateVerdict.size >= this.opts.cacheTemplates) {
      this.templateVerdict.delete(this.templateVerdict.keys().next().value!);
    }
    this.templateVerdict.set(input.templateId, { template: input.template, mayHold });
    return mayHold;
  }

  private paramsMayHold(params: readonly string[]): boolean {
    for (let i = 0; i < params.length; i++) if (paramMayBeSensitive(params[i]!, params, i)) return true;
    return false;
  }
}
