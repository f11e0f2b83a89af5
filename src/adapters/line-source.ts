/**
 * Reads lines from files (plain or .gz), folders (recursively) and stdin, streaming, with a bound
 * on line length: a longer line is cut (its head is kept) and reported, so one 1 GB line cannot
 * exhaust memory.
 */
import { createReadStream, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export interface SourceLine {
  text: string;
  /** 1-based line number within its file. */
  lineNo: number;
  /** Set when the line was longer than the limit and was cut. */
  truncated: boolean;
}

export interface LineSourceOptions {
  /** Characters kept of a longer line. */
  maxLineChars: number;
  /** Called with bytes read so far (for progress). */
  onBytes?: (bytes: number) => void;
}

/** Files under a path: the file itself, or every file below a folder, sorted for stable output. */
export function listInputFiles(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return [path];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(path);
  return out;
}

export function openInput(path: string): Readable {
  return openCounted(path).stream;
}

/**
 * Opens a file (or `-` for stdin), decompressing `.gz`; `rawBytes()` tells how many bytes of the
 * file itself were read so far (compressed bytes for .gz), for progress against its size.
 */
export function openCounted(path: string): { stream: Readable; rawBytes: () => number } {
  if (path === '-') return { stream: process.stdin, rawBytes: () => 0 };
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!path.endsWith('.gz')) return { stream: raw, rawBytes: () => raw.bytesRead };
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return { stream: raw.pipe(gunzip), rawBytes: () => raw.bytesRead };
}

/**
 * Splits a byte stream into lines (LF or CRLF), decoding UTF-8, and yields them in batches (one per
 * chunk read: no per-line await). Lines over the limit keep their first `maxLineChars` characters;
 * the rest is skipped without being held in memory.
 */
export async function* readLineBatches(input: Readable, opts: LineSourceOptions): AsyncGenerator<SourceLine[]> {
  const decoder = new TextDecoder('utf-8');
  let carry = '';
  let overflow = false;
  let lineNo = 0;
  let bytes = 0;
  const max = opts.maxLineChars;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buf.length;
    opts.onBytes?.(bytes);
    const text = decoder.decode(buf, { stream: true });
    const batch: SourceLine[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) {
        if (!overflow) {
          carry += text.slice(start);
          if (carry.length > max) {
            carry = carry.slice(0, max);
            overflow = true;
          }
        }
        break;
      }
      let line = overflow ? carry : carry + text.slice(start, nl);
      carry = '';
      const truncated = overflow || line.length > max;
      overflow = false;
      if (line.length > max) line = line.slice(0, max);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      lineNo++;
      batch.push({ text: line, lineNo, truncated });
      start = nl + 1;
    }
    if (batch.length > 0) yield batch;
  }
  const tail = carry + decoder.decode();
  if (tail.length > 0 || overflow) {
    lineNo++;
    yield [{ text: tail.endsWith('\r') ? tail.slice(0, -1) : tail.slice(0, max), lineNo, truncated: overflow || tail.length > max }];
  }
}
