/**
 * The gates in front of the sensitive-data rules (ANY_START, per-rule gates, the detector's cheap
 * parameter test) must never skip a line the full matcher would flag: they are compared here with
 * every rule run ungated, and with the straightforward parameter test they replaced, on generated
 * log lines and on adversarial text built from the pieces the rules look for.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from './random.js';
import { attributesMayHold, attributesMayHoldListed, findSensitive, findSensitiveUngated, isCardNumber, paramMayBeSensitive, redactSensitive, SensitiveDataDetector } from './sensitive.js';
import { input } from './test-helpers.js';
import { generateCorpus, CORPUS_DEFAULTS } from '../generate/corpus.js';

/** Pieces the rules (and their gates) look for, whole and cut, in several cases. */
const PIECES = [
  'AKIA', 'ASIA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'akia', 'AIza', 'aiza', 'eyJ', 'EYJ', '-----BEGIN ', '-----begin ',
  'PRIVATE KEY', 'RSA ', '-----', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'GHP_', 'github_pat_', 'xoxb-', 'xoxp-', 'XOXB-', 'sk_live_',
  'rk_test_', 'SK_LIVE_', 'https://hooks.slack.com/services/', 'hooks.slack', 'bearer ', 'Bearer ', 'BEARER', 'basic ', 'pass', 'Pass',
  'PASSWORD', 'passwd', 'passphrase', 'pwd', 'secret', 'SECRET', 'token', 'Token', 'api_key', 'api-key', 'apikey', 'APIKEY', 'access_key',
  'accesskey', 'private_key', 'auth', 'Authorization', 'credential', 'credentials', 'CREDENTIALS', '@', '@example.com', 'john.doe', '.com',
  '://', 'postgres://', 'user:', ':pw', 'https://', '=', ': ', ':', '"', "'", ' ', '  ', '-', '.', '+', '_', '/', ',', ';', '(', ')', '#',
  '0', '1', '4', '9', '12', '123', '4111', '1111', '5500', '0000', '0004', '378282246310005', '4111111111111111', '4111 1111 1111 1111',
  '5500-0000-0000-0004', '123-45-6789', '000-12-3456', '666-12-3456', '900-12-3456', '123-00-6789', '123-45-0000', '123456789',
  '1234567890123', '12345678901234567890', 'x', 'abc', 'Z9', 'hunter2', 's3cr3tPassw0rd', 'aB3dE5gH7jK9', 'true', 'null', 'redacted',
  'eyJhbGciOiJIUzI1NiJ9', '.eyJzdWIiOiIxMjM0NTY3ODkwIn0', '.dozjgNryP4J3jVmNHl0w5N', 'abcdefghijklmnopqrstuvwxyz0123456789',
  'IOSFODNN7EXAMPLE', '\n', '\t', 'é', '<*>',
];

function adversarial(seed: number, count: number): string[] {
  const rnd = mulberry32(seed);
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    let s = '';
    const parts = 1 + Math.floor(rnd() * 12);
    for (let k = 0; k < parts; k++) {
      const piece = PIECES[Math.floor(rnd() * PIECES.length)]!;
      // sometimes only a cut of the piece, so near-misses of the gates are tried too
      if (rnd() < 0.2 && piece.length > 2) {
        const a = Math.floor(rnd() * piece.length);
        s += piece.slice(a, a + 1 + Math.floor(rnd() * (piece.length - a)));
      } else s += piece;
    }
    out.push(s);
  }
  return out;
}

/** A few thousand lines of the generated corpus: every service, leaked secrets among them. */
function corpusLines(): string[] {
  const lines: string[] = [];
  for (const l of generateCorpus({ ...CORPUS_DEFAULTS, lines: 20_000, anomalyRate: 0.2, seed: 7 })) lines.push(l.line);
  return lines;
}

describe('sensitive-data gates', () => {
  it('findSensitive equals running every rule ungated, on generated log lines', () => {
    let flagged = 0;
    for (const line of corpusLines()) {
      const found = findSensitive(line);
      if (found.length > 0) flagged++;
      expect(found, line).toEqual(findSensitiveUngated(line));
    }
    // the corpus leaks secrets: the comparison covered lines that are flagged, not only clean ones
    expect(flagged).toBeGreaterThan(50);
  });

  it('findSensitive equals running every rule ungated, on adversarial text', () => {
    let flagged = 0;
    for (const text of adversarial(42, 60_000)) {
      const found = findSensitive(text);
      if (found.length > 0) flagged++;
      expect(found, text).toEqual(findSensitiveUngated(text));
    }
    expect(flagged).toBeGreaterThan(5_000);
  });

  it('card and SSN gates: digit runs with every separator and boundary', () => {
    const rnd = mulberry32(9);
    const seps = ['', '', '', ' ', '-', '  ', '--', '.', '+', '_', 'a'];
    const bounds = ['', ' ', 'x', '-', '.', '+', '_', '=', '(', '9'];
    for (let n = 0; n < 40_000; n++) {
      let s = bounds[Math.floor(rnd() * bounds.length)]!;
      const groups = 1 + Math.floor(rnd() * 6);
      for (let g = 0; g < groups; g++) {
        if (g > 0) s += seps[Math.floor(rnd() * seps.length)];
        const len = 1 + Math.floor(rnd() * 6);
        for (let k = 0; k < len; k++) s += String(Math.floor(rnd() * 10));
      }
      s += bounds[Math.floor(rnd() * bounds.length)];
      expect(findSensitive(s), s).toEqual(findSensitiveUngated(s));
    }
    expect(findSensitive('paid 4111 1111 1111 1111')).toHaveLength(1);
    expect(findSensitive('ssn 123-45-6789')).toHaveLength(1);
  });

  it('redactSensitive leaves text without a gate untouched and masks the rest as before', () => {
    expect(redactSensitive('plain line with 12 values')).toBe('plain line with 12 values');
    expect(redactSensitive('login password=hunter2 ok')).toBe('login password=h*****2 ok');
  });
});

/** The parameter test as it was written before the one-pass version (the reference). */
function paramMayBeSensitiveReference(p: string, next: readonly string[], i: number): boolean {
  const prefixes = ['AKIA', 'ASIA', 'AIza', 'eyJ', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'xox', 'sk_', 'rk_', 'https://hooks.slack'];
  if (p.length < 4) return false;
  if (p.includes('@')) return true;
  const c0 = p.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    let digits = 0;
    for (let k = 0; k < p.length; k++) {
      const c = p.charCodeAt(k);
      if (c >= 48 && c <= 57) digits++;
      else if (c !== 45 && c !== 32) return false;
    }
    if (digits >= 13) return isCardNumber(p);
    if (digits === 9) return /^\d{3}-\d{2}-\d{4}$/.test(p);
    if (digits === 4 && p.length === 4) {
      let joined = p;
      for (let k = i + 1; k < next.length && k <= i + 4 && /^\d{3,6}$/.test(next[k]!); k++) joined += next[k];
      return joined.length >= 13 && isCardNumber(joined);
    }
    return false;
  }
  for (const prefix of prefixes) if (p.startsWith(prefix)) return true;
  return p.includes('://') && p.includes(':', p.indexOf('://') + 3);
}

describe('paramMayBeSensitive', () => {
  it('agrees with the straightforward test on adversarial values', () => {
    const values = adversarial(5, 30_000).map((v) => v.replace(/\s+/g, (m) => (m.length > 1 ? ' ' : m)));
    for (let i = 0; i < values.length; i++) {
      const next = values.slice(i, i + 6);
      expect(paramMayBeSensitive(values[i]!, next, 0), values[i]).toBe(paramMayBeSensitiveReference(values[i]!, next, 0));
    }
    const cases = ['4111', '1111', '1111', '1111', 'a://b:c', 'x://y', '://:', 'a:b://c', 'u@h', '12@3', '123-45-6789', '4111 1111 1111 1111', 'ghp_x', 'https://hooks.slack.com/x'];
    for (let i = 0; i < cases.length; i++) expect(paramMayBeSensitive(cases[i]!, cases, i), cases[i]).toBe(paramMayBeSensitiveReference(cases[i]!, cases, i));
  });
});

describe('SensitiveDataDetector template verdicts', () => {
  it('a detector that remembers verdicts answers as a fresh one, with templates that collide and change text', () => {
    const rnd = mulberry32(11);
    // same lengths and same last and middle characters (they share slots), secret-holding or not
    const templates = ['login password=<*> ok', 'login passwort=<*> ok', 'login pXssword=<*> ok', 'user <*> logged in', 'user <*> logged on', 'token: <*>', 'tokem: <*>', 'a', 'b', ''];
    const messages = ['login password=hunter22 ok', 'login passwort=hunter22 ok', 'user bob logged in', 'token: abcdef123456', 'mail a@b.io', 'plain'];
    const shared = new SensitiveDataDetector();
    for (let k = 0; k < 20_000; k++) {
      const template = templates[Math.floor(rnd() * templates.length)]!;
      // ids reused across texts: a template generalised by the miner keeps its id
      const i = input({ templateId: `t${Math.floor(rnd() * 4)}`, template, message: messages[Math.floor(rnd() * messages.length)]!, params: rnd() < 0.5 ? ['hunter22'] : [] });
      expect(shared.observe(i), `${template} / ${i.record.message}`).toEqual(new SensitiveDataDetector().observe(i));
    }
  });
});

describe('attributesMayHold', () => {
  it('answers as with the values listed, for cards in groups, addresses, URLs and plain values in any order', () => {
    const rnd = mulberry32(5);
    const pool = ['4111', '1111', '5500', '0004', '123', '12345', '4111 1111', 'x', 'main', 'u@h.io', 'a://b:c', 'x://y', 'ghp_abc', '123-45-6789', '4111111111111111', '1234', '99', ''];
    const keys = ['thread', 'user', 'a', 'b', 'c', 'd', '10', '2', 'card_num', 'e'];
    for (let k = 0; k < 20_000; k++) {
      const attrs: Record<string, string> = {};
      const n = Math.floor(rnd() * 7);
      for (let j = 0; j < n; j++) attrs[keys[Math.floor(rnd() * keys.length)]!] = pool[Math.floor(rnd() * pool.length)]!;
      expect(attributesMayHold(attrs), JSON.stringify(attrs)).toBe(attributesMayHoldListed(attrs));
    }
  });
});
