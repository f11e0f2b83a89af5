import { describe, expect, it } from 'vitest';
import { countsAsBinary, isBinaryLine } from './file-records.js';

describe('isBinaryLine', () => {
  it('agrees with the character-by-character rule on lines with and without odd characters', () => {
    const chars = ['a', ' ', '\t', '\f', '\r', '\n', '\u000b', '\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u009f', '\u00a0', '\ufffd', 'é', '😀'];
    let seed = 1;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let binary = 0;
    for (let i = 0; i < 5000; i++) {
      const plain = rnd(3) === 0;
      const line = Array.from({ length: rnd(30) }, () => (plain || rnd(4) ? 'x' : chars[rnd(chars.length)])).join('');
      expect(isBinaryLine(line), JSON.stringify(line)).toBe(countsAsBinary(line));
      if (countsAsBinary(line)) binary++;
    }
    expect(binary).toBeGreaterThan(100);
    expect(isBinaryLine('2026-01-01 INFO all fine')).toBe(false);
    expect(isBinaryLine('a\u0000b')).toBe(true);
  });

  it('agrees with the rule for every UTF-16 code unit, alone, in plain ASCII and among odd characters', () => {
    const plain = '2026-11-20T08:00:00.000Z INFO [api] request received method=GET path=/a?b=1&c=~ id=req-1';
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      for (const line of [ch, plain + ch, ch + plain, plain.slice(0, 10) + ch + plain.slice(10), ch.repeat(3) + 'abcdefghijklmnopqrstu', '\u0001\u0002' + ch + 'abcdefghijklmnop']) {
        if (isBinaryLine(line) !== countsAsBinary(line)) expect(isBinaryLine(line), `U+${c.toString(16)} in ${JSON.stringify(line)}`).toBe(countsAsBinary(line));
      }
    }
    const cases = [
      '',
      plain,
      '\t\f\r' + plain + '\r',
      plain + '\n',
      '\n' + plain,
      plain.repeat(2000),
      plain.repeat(2000) + '\u0000',
      '{"msg":"caf\u00e9 \ud83d\ude00","n":[1,2.5e3,null],"o":{"a":{"b":1}},"k":1,"k":2}',
      '{"msg":"\u0085\u009f\ufffd\ufffd\ufffd"}',
      '\ufffd'.repeat(5) + 'x'.repeat(40),
      '\ud800' + plain,
      '\x7e\x7f\x80' + 'x'.repeat(20),
    ];
    for (const line of cases) expect(isBinaryLine(line), JSON.stringify(line)).toBe(countsAsBinary(line));
  });
});
