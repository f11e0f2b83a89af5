import { describe, expect, it } from 'vitest';
import { ownedString } from './owned-string.js';

describe('ownedString', () => {
  it('returns an equal string for slices, chains, short and unicode strings', () => {
    const line = `2026-11-20T08:00:00.000Z INFO [api] ${'x'.repeat(500)} request_id=req-1`;
    let chain = '';
    for (const ch of 'ReflectiveMethodInvocation') chain += ch;
    const cases = [line.slice(38, 300), chain, 'short', '', 'naïve café ünïcödé wörds here', line, '<*> <*> <*>=<*>', '__proto__', 'constructor', '123456789012345', 'lone \ud800 surrogate and \udfff too', 'quotes " and \\ backslashes \u2028 \u0000 here'];
    for (const s of cases) expect(ownedString(s)).toBe(s);
  });

  it('keeps keys that look like array indexes as strings', () => {
    expect(ownedString('1234567890123456')).toBe('1234567890123456');
    expect(typeof ownedString('4294967294000000')).toBe('string');
  });
});
