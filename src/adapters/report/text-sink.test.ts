import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TextFileSink } from './text-sink.js';

const tmp = mkdtempSync(join(tmpdir(), 'vigil-text-sink-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Pieces of every size around the buffer size, ASCII and not (2-, 3- and 4-byte UTF-8, a lone surrogate). */
function pieces(n: number, bufferBytes: number): string[] {
  const alphabet = ['a', 'Z', '0', ',', '\n', '"', 'é', '→', '…', '😀', '\ud800', '\u2028'];
  let seed = 7;
  const rnd = (k: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % k;
  };
  const sizes = [0, 1, 2, bufferBytes / 3 - 1, bufferBytes / 3, bufferBytes / 3 + 1, bufferBytes - 1, bufferBytes, bufferBytes + 1, 3 * bufferBytes];
  return Array.from({ length: n }, () => {
    const len = rnd(4) === 0 ? sizes[rnd(sizes.length)]! : rnd(40);
    return Array.from({ length: Math.floor(len) }, () => alphabet[rnd(alphabet.length)]).join('');
  });
}

describe('TextFileSink', () => {
  it('writes exactly the UTF-8 of the pieces in order, whatever their sizes and the buffers', async () => {
    for (const [bufferBytes, buffers] of [[64, 1], [64, 2], [256, 3], [4096, 8]] as const) {
      const path = join(tmp, `out-${bufferBytes}-${buffers}.txt`);
      const sink = new TextFileSink(path, { bufferBytes, buffers, maxPendingBytes: 512 });
      const all = pieces(600, bufferBytes);
      for (let i = 0; i < all.length; i++) {
        sink.write(all[i]!);
        // flushes of every length, none at all between some pieces
        if (i % 7 === 0) await sink.flush();
      }
      await sink.close();
      expect(readFileSync(path).equals(Buffer.from(all.join(''), 'utf8')), `${bufferBytes} B × ${buffers}`).toBe(true);
    }
  });

  it('keeps buffers handed to the file untouched while it writes them (no flush awaited)', async () => {
    const path = join(tmp, 'no-await.txt');
    const sink = new TextFileSink(path, { bufferBytes: 128, buffers: 2 });
    const all = pieces(2000, 128);
    for (const p of all) {
      sink.write(p);
      void sink.flush();
    }
    await sink.close();
    expect(readFileSync(path).equals(Buffer.from(all.join(''), 'utf8'))).toBe(true);
  });

  it('an empty sink makes an empty file', async () => {
    const path = join(tmp, 'empty.txt');
    await new TextFileSink(path).close();
    expect(readFileSync(path).length).toBe(0);
  });

  it('a file that cannot be written fails flush or close', async () => {
    const sink = new TextFileSink(join(tmp, 'no', 'such', 'dir', 'x.txt'));
    sink.write('x');
    await expect((async () => {
      await new Promise((r) => setTimeout(r, 50));
      await sink.flush();
      await sink.close();
    })()).rejects.toThrow(/ENOENT/);
  });
});
