import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../detect/random.js';
import { redactSensitive } from '../detect/sensitive.js';
import { isoTime, redactJoined } from './analyzer.js';

describe('isoTime', () => {
  it('writes what toISOString writes, for times in order, at random and at the edges', () => {
    const rand = mulberry32(7);
    const values: number[] = [0, -0, 1, 999, 1000, 59_999, 86_399_999, 86_400_000, 951_782_400_000, 253_402_300_799_999, 253_402_300_800_000, -1, -86_400_001, 1.5, -0.5, 1e15, 8.64e15, -8.64e15];
    for (let t = Date.UTC(2026, 10, 20, 23, 59, 58); values.length < 5_000; t += Math.floor(rand() * 1500)) values.push(t);
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(rand() * 253_402_300_800_000));
    for (let i = 0; i < 2_000; i++) values.push((rand() - 0.5) * 1e16);
    for (const v of values) expect(isoTime(v)).toBe(new Date(v).toISOString());
    expect(() => isoTime(NaN)).toThrow(RangeError);
    expect(() => isoTime(9e15)).toThrow(RangeError);
  });
});

describe('redactJoined', () => {
  const straight = (parts: string[]): string => redactSensitive(parts.join('; '));
  const check = (parts: string[]): void => expect(redactJoined(parts, parts.map(redactSensitive))).toBe(straight(parts));

  it('gives the redaction of the joined reasons', () => {
    const pieces = [
      'template seen 1 time in 50,000 lines', 'token=abcdEFGH1234xyz', 'password: hunter2hunter', 'password="a b c', 'secret=\'x y', 'pass="', 'ok"',
      'mail bob@example.com', 'bob@', 'example.com', 'card 4111 1111 1111 1111', '4111 1111', '1111 1111', 'ssn 123-45-6789', '123-45', '-6789',
      'Bearer abcdefghijklmnop', 'bearer', 'abcdefghijklmnopqrstu', 'https://user:pa55word@host/x', 'https://user:', 'pa55@host', 'AKIAABCDEFGHIJKLMNOP',
      'eyJhbGciOiJI.eyJzdWIiOiIx.SflKxwRJSMeK', 'auth', '=', '"', "'", ': "', 'key="v', 'api_key', '= "zzz', 'in session req-1, "user login token=<*>" followed "a": a step never seen before',
      'password=', 'x', ' ', '', ';', 'token:"abc; def"', 'sk_live_', 'abcdefghijklmnopqrstuvwx', '-----BEGIN', 'RSA PRIVATE KEY-----',
    ];
    const rand = mulberry32(11);
    const pick = (): string => {
      let s = '';
      const n = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < n; k++) s += (k > 0 && rand() < 0.5 ? ' ' : '') + pieces[Math.floor(rand() * pieces.length)]!;
      return s;
    };
    for (let i = 0; i < 20_000; i++) check(Array.from({ length: 1 + Math.floor(rand() * 3) }, pick));
  });

  it('reads the joined text again when a quoted value may run over the separator', () => {
    const parts = ['request failed: password="abc', 'retry said "ok"'];
    expect(straight(parts)).not.toBe(parts.map(redactSensitive).join('; '));
    check(parts);
  });
});
