import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { readLineBatches, readLineChunks, type SourceLine } from './line-source.js';

/** The lines a reader yields for `pieces` (the chunks the stream delivers), as plain data. */
async function viaChunks(pieces: (string | Buffer)[], maxLineChars = 1_000): Promise<SourceLine[]> {
  const out: SourceLine[] = [];
  for await (const chunk of readLineChunks(Readable.from(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))), { maxLineChars })) {
    for (let k = 0; k < chunk.count; k++) out.push({ text: chunk.text(k), lineNo: chunk.firstLineNo + k, truncated: chunk.truncated(k) });
  }
  return out;
}

async function viaBatches(pieces: (string | Buffer)[], maxLineChars = 1_000): Promise<SourceLine[]> {
  const out: SourceLine[] = [];
  for await (const batch of readLineBatches(Readable.from(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))), { maxLineChars })) out.push(...batch);
  return out;
}

/** The reference: the whole input split at LF, a CR before it dropped, each line cut at the limit in bytes. */
function expected(pieces: (string | Buffer)[], maxLineChars = 1_000): SourceLine[] {
  const all = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  const out: SourceLine[] = [];
  let start = 0;
  while (start < all.length) {
    let nl = all.indexOf(10, start);
    if (nl < 0) nl = all.length;
    let end = nl;
    if (end > start && all[end - 1] === 13) end--;
    const truncated = end - start > maxLineChars;
    out.push({ text: all.toString('utf8', start, truncated ? start + maxLineChars : end), lineNo: out.length + 1, truncated });
    start = nl + 1;
  }
  return out;
}

describe('readLineChunks', () => {
  const cases: [string, (string | Buffer)[], number?][] = [
    ['lines within one chunk', ['a\nbb\r\nccc\n']],
    ['a line across chunks, and a last line without LF', ['first li', 'ne\nsecond\nthi', 'rd']],
    ['a line across three chunks', ['ab', 'cd', 'ef\ngh\n']],
    ['a CRLF split between chunks', ['one\r', '\ntwo\n']],
    ['blank lines', ['\n\n\nx\n\n']],
    ['long lines cut at the limit', ['0123456789abc\nshort\n0123456789', 'abcdef\n'], 10],
    ['a long line carried over many chunks', ['0123456', '789abcd', 'efgh', 'ij\nk\n'], 10],
    ['UTF-8 split between chunks, and invalid bytes', [Buffer.from([0x68, 0xc3]), Buffer.from([0xa9, 0x0a, 0xff, 0x41, 0x0a])]],
  ];
  for (const [name, pieces, max] of cases) {
    it(`reads ${name} as the reference split does`, async () => {
      expect(await viaChunks(pieces, max)).toEqual(expected(pieces, max));
      expect(await viaBatches(pieces, max)).toEqual(expected(pieces, max));
    });
  }

  it('decodes a line only when it is read (and the chunk object is reused)', async () => {
    const seen = new Set<object>();
    let lines = 0;
    for await (const chunk of readLineChunks(Readable.from([Buffer.from('a\nb\n'), Buffer.from('c\nd\n')]), { maxLineChars: 100 })) {
      seen.add(chunk);
      // read out of order: each text is made on demand from the chunk's bytes
      expect([chunk.text(1), chunk.text(0)]).toEqual(lines === 0 ? ['b', 'a'] : ['d', 'c']);
      lines += chunk.count;
    }
    expect(lines).toBe(4);
    expect(seen.size).toBe(1);
  });

  it('makes no string for a line before it is read', async () => {
    const toString = vi.spyOn(Buffer.prototype, 'toString');
    try {
      for await (const chunk of readLineChunks(Readable.from([Buffer.from('a\nb\nc\n')]), { maxLineChars: 100 })) {
        // the lines are found, none decoded: the reader's records keep strings alive, the chunk none
        expect(chunk.count).toBe(3);
        expect(toString).not.toHaveBeenCalled();
        expect(chunk.text(2)).toBe('c');
        expect(toString).toHaveBeenCalledTimes(1);
      }
    } finally {
      toString.mockRestore();
    }
  });

  it('grows past 8,192 lines in one chunk', async () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const got = await viaChunks([text]);
    expect(got.length).toBe(20_000);
    expect(got[19_999]).toEqual({ text: 'line 19999', lineNo: 20_000, truncated: false });
  });
});
