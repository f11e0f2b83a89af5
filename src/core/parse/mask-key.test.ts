import { describe, expect, it } from 'vitest';
import { maskKey, maskMessage } from './mask.js';

/** What maskKey must return: maskMessage's tokens joined by one space, and the same values. */
function expected(message: string, maxTokens = Infinity): { key: string; params: string[]; truncatedTokens: boolean } {
  const m = maskMessage(message, maxTokens);
  return { key: m.tokens.join(' '), params: m.params, truncatedTokens: m.truncatedTokens };
}

/** Tokens that exercise every rule: values, key=value, quotes, literals, date words, odd spacing. */
const VOCABULARY = [
  'word', 'at', 'from', 'Jun', 'Sun', 'Jan', 'Fri', 'jun', 'June', '5', '23:16:09', '2005', '-1.5', '1.', '+3', '0x1f',
  'uid=5', 'euid=0,', '(uid=0)', 'ready=true,policy=3', '(null)', 'None', 'true', 'key="a 5 b"', "x='q r'", 'tag="open',
  '10.0.0.1:8080', '/10.0.0.1:80', 'host-1.example.org:8030', '/var/log/x.log', 'https://a.b/c?d=1', 'ops@example.org',
  '550e8400-e29b-41d4-a716-446655440000', '00:1a:2b:3c:4d:5e', 'fe80::1', '2024-01-15T12:34:56Z', 'CPU#1', 'blk_-42',
  '<*>', 'a<*>b', '<5>', '1,2,3', 'é', '中5', 'HTTP/1.1"', '384', 'KB',
  // tokens masked in pieces, written into the key as they are masked
  'request_id=req-767552905337', 'path=/api/v1/products/SKU-37089', 'a1-b-c2.', 'x=1-y', '(10.0.0.1)', '[10.0.0.1]:',
  'v1.2.3-rc4,', 'CPU#0.', '1-a', 'a-true-x-5', 'null-x', 'k=v5;w=null;z', '"/tmp/x1",', 'at=(<*>)-2',
];
const SPACES = [' ', ' ', ' ', '  ', '\t', ' \t '];

function messages(count: number): string[] {
  let seed = 12345;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let m = next(4) === 0 ? SPACES[next(SPACES.length)]! : '';
    const n = 1 + next(12);
    for (let k = 0; k < n; k++) m += (k > 0 ? SPACES[next(SPACES.length)]! : '') + VOCABULARY[next(VOCABULARY.length)]!;
    if (next(4) === 0) m += SPACES[next(SPACES.length)]!;
    out.push(m);
  }
  return out;
}

describe('maskKey', () => {
  it('gives maskMessage\'s tokens joined by one space, and its values', () => {
    for (const m of messages(3000)) {
      for (const maxTokens of [Infinity, 6, 3, 2, 1]) expect(maskKey(m, 0, m.length, maxTokens) ?? expected(m, maxTokens), JSON.stringify([m, maxTokens])).toEqual(expected(m, maxTokens));
    }
  });

  it('reads the message in place, as a range of a longer text', () => {
    for (const m of messages(500)) {
      const text = `2024-01-15 14:23:45 INFO x: ${m}   `;
      const from = text.length - 3 - m.length;
      expect(maskKey(text, from, from + m.length, 5) ?? expected(m, 5)).toEqual(expected(m, 5));
    }
  });

  it('joins a date written with names and the values after it into one value', () => {
    const m = 'connection at Sun Jul  3 23:16:09 2005 from 10.0.0.1';
    expect(maskKey(m)).toEqual({ key: 'connection at <*> from <*>', params: ['Sun Jul 3 23:16:09 2005', '10.0.0.1'], truncatedTokens: false });
    expect(maskKey('on Jun 5')).toEqual(expected('on Jun 5'));
    expect(maskKey('Jun')).toEqual(expected('Jun'));
  });

  it('leaves a message with a date and a literal <*> to maskMessage', () => {
    expect(maskKey('<*> at Jun 5')).toBeUndefined();
    expect(maskKey('<*> at 5')).toEqual(expected('<*> at 5'));
  });
});
