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
 * Cheap gate for cards and SSNs: a run of at least 9 digits, single spaces or dashes between them
 * allowed (an SSN has 9 digits, a card 13 to 19). One pass over the characters, no regex.
 */
function hasLongDigitRun(text: string): boolean {
  let digits = 0;
  let prevSep = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits >= 9) return true;
      prevSep = false;
    } else if ((c === 32 || c === 45) && digits > 0 && !prevSep) {
      prevSep = true;
    } else {
      digits = 0;
      prevSep = false;
    }
  }
  return false;
}

interface Rule {
  kind: SensitiveKind | 'keyed';
  re: RegExp;
  /** Rules over digits run only when the text has a long digit run (see hasLongDigitRun). */
  numeric?: boolean;
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

const KEYED_SECRET =
  /(?<![A-Za-z0-9])((?:[A-Za-z0-9]+[_.-])*(?:password|passwd|passphrase|pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth|authorization|credentials?))["']?\s*[=:]\s*(?:"([^"\r\n]{1,256})"|'([^'\r\n]{1,256})'|(?:(?:bearer|basic|token|digest)\s+)?([^\s,;&"'<>(){}[\]]{1,256}))/gi;

/** Checked in order; a later match overlapping an earlier one is dropped. */
const RULES: readonly Rule[] = [
  { kind: 'private_key', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g, group: 0, mask: (v) => v },
  { kind: 'url_credentials', re: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@]{1,64}:([^\s@/]{1,128})@/gi, group: 1 },
  { kind: 'bearer_token', re: /\bbearer\s+([A-Za-z0-9\-._~+/]{12,}=*)/gi, group: 1 },
  { kind: 'aws_access_key', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b/g, group: 0 },
  { kind: 'github_token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g, group: 0 },
  { kind: 'slack_token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,250}/g, group: 0 },
  { kind: 'slack_webhook', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{10,}/g, group: 0 },
  { kind: 'stripe_key', re: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b/g, group: 0 },
  { kind: 'google_api_key', re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, group: 0 },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, group: 0 },
  { kind: 'keyed', re: KEYED_SECRET, group: -1, validate: plausibleSecret },
  { kind: 'email', re: /(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b/g, group: 0, mask: maskEmail },
  { kind: 'credit_card', numeric: true, re: /(?<![\w.+-])\d(?:[ -]?\d){12,18}(?![\w.]|[ -]?\d)/g, group: 0, validate: isCardNumber, mask: maskCard },
  { kind: 'ssn', numeric: true, re: /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/g, group: 0, mask: (v) => `***-**-${v.slice(-4)}` },
];

/** All sensitive values in a text, masked, in order of position, never overlapping. */
export function findSensitive(text: string): SensitiveMatch[] {
  const words = PRECHECK.test(text);
  const numbers = hasLongDigitRun(text);
  if (!words && !numbers) return [];
  const out: SensitiveMatch[] = [];
  for (const rule of RULES) {
    if (rule.numeric ? !numbers : !words) continue;
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
      if (out.some((o) => start < o.end && end > o.start)) continue;
      out.push({ kind, masked: (rule.mask ?? maskSecret)(value), start, end });
    }
  }
  return out.sort((a, b) => a.start - b.start);
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
const PREFIX_FIRST: ReadonlySet<number> = new Set(VALUE_PREFIXES.map((p) => p.charCodeAt(0)));
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
function attributesMayHold(attrs: Record<string, string>): boolean {
  for (const k in attrs) if (sensitiveKey(k)) return true;
  const values = Object.values(attrs);
  for (let i = 0; i < values.length; i++) if (paramMayBeSensitive(values[i]!, values, i)) return true;
  return false;
}

function paramMayBeSensitive(p: string, next: readonly string[], i: number): boolean {
  if (p.length < 4) return false;
  if (p.includes('@')) return true;
  const c0 = p.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    // card numbers and SSNs: digits with optional separators only
    let digits = 0;
    for (let k = 0; k < p.length; k++) {
      const c = p.charCodeAt(k);
      if (c >= 48 && c <= 57) digits++;
      else if (c !== 45 && c !== 32) return false;
    }
    if (digits >= 13) return isCardNumber(p);
    if (digits === 9) return SSN_SHAPE.test(p);
    // a card written in groups arrives as several values: 4111 1111 1111 1111
    if (digits === 4 && p.length === 4) {
      let joined = p;
      for (let k = i + 1; k < next.length && k <= i + 4 && /^\d{3,6}$/.test(next[k]!); k++) joined += next[k];
      return joined.length >= 13 && isCardNumber(joined);
    }
    return false;
  }
  // every prefix starts with one of these letters: most values are out after one comparison
  if (PREFIX_FIRST.has(c0)) for (const prefix of VALUE_PREFIXES) if (p.startsWith(prefix)) return true;
  return p.includes('://') && p.includes(':', p.indexOf('://') + 3);
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

export class SensitiveDataDetector implements Detector {
  readonly name = 'sensitive_data';
  private readonly opts: SensitiveDataOptions;
  private readonly templateVerdict = new Map<string, { template: string; mayHold: boolean }>();

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
