import { describe, expect, it } from 'vitest';
import { MalformedTextDetector, oddCharacters } from './malformed.js';
import { feed, Stream } from './test-helpers.js';

describe('oddCharacters', () => {
  it('finds terminal escapes and other control characters', () => {
    expect(oddCharacters('\u001b[32m[###>   ]\u001b[0m 18% vacuuming')).toEqual({ kind: 'control', count: 2 });
    expect(oddCharacters('bell \u0007 here')).toEqual({ kind: 'control', count: 1 });
  });

  it('finds undecodable bytes and mojibake, but not ordinary accents or a single odd pair', () => {
    expect(oddCharacters('bad \ufffd\ufffd bytes')).toEqual({ kind: 'undecodable', count: 2 });
    expect(oddCharacters('customer note: Ã¨å­—Ã¶ÂÃ¤ Ã¨ â€™')?.kind).toBe('mojibake');
    expect(oddCharacters('café, naïve, Zürich, São Paulo, Ðорогой')).toBeUndefined();
    expect(oddCharacters('tab\tand newline\nare fine')).toBeUndefined();
  });
});

describe('MalformedTextDetector', () => {
  it('fires on a line with control characters and stays quiet on clean lines', () => {
    const d = new MalformedTextDetector();
    const s = new Stream();
    expect(feed(d, [s.next({ message: 'all good' })])).toEqual([]);
    const f = feed(d, [s.next({ message: '\u001b[31mred\u001b[0m' })]);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ detector: 'malformed', tags: ['malformed'] });
  });
});
