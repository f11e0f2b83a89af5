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
 * Splits a byte stream into lines (LF or CRLF) and yields them in batches (one per chunk read: no
 * per-line await). Lines are found in the bytes and each is decoded on its own (invalid UTF-8
 * becomes U+FFFD), so a line is an independent string: a token kept from it for hours (a template
 * slot, a session key) holds a few bytes, not the megabyte chunk a slice of a decoded chunk would
 * pin. Lines over the limit keep their first `maxLineChars` bytes; the rest is skipped without
 * being held in memory.
 */
export async function* readLineBatches(input: Readable, opts: LineSourceOptions): AsyncGenerator<SourceLine[]> {
  let carry: Buffer | undefined;
  let overflow = false;
  let lineNo = 0;
  let bytes = 0;
  const max = opts.maxLineChars;
  const decode = (b: Buffer, start: number, end: number): string => {
    let e = end;
    if (e > start && b[e - 1] === 13) e--;
    if (e - start > max) e = start + max;
    return b.toString('utf8', start, e);
  };
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buf.length;
    opts.onBytes?.(bytes);
    const batch: SourceLine[] = [];
    let start = 0;
    if (carry !== undefined) {
      // the partial line of the previous chunk continues here
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (!overflow) {
          carry = Buffer.concat([carry, buf]);
          if (carry.length > max) {
            carry = carry.subarray(0, max);
            overflow = true;
          }
        }
        continue;
      }
      const head = overflow ? carry : Buffer.concat([carry, buf.subarray(0, nl + 1)]);
      const end = overflow ? head.length : head.length - 1;
      const truncated = overflow || end - (head[end - 1] === 13 ? 1 : 0) > max;
      lineNo++;
      batch.push({ text: decode(head, 0, end), lineNo, truncated });
      carry = undefined;
      overflow = false;
      start = nl + 1;
    }
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      const len = nl - start - (nl > start && buf[nl - 1] === 13 ? 1 : 0);
      lineNo++;
      batch.push({ text: decode(buf, start, nl), lineNo, truncated: len > max });
      start = nl + 1;
    }
    if (start < buf.length) {
      // keep the partial last line (a copy, so the chunk itself can go)
      buf = buf.subarray(start);
      overflow = buf.length > max;
      carry = Buffer.from(overflow ? buf.subarray(0, max) : buf);
    }
    if (batch.length > 0) yield batch;
  }
  if (carry !== undefined) {
    lineNo++;
    yield [{ text: decode(carry, 0, carry.length), lineNo, truncated: overflow }];
  }
}
