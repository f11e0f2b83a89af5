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
 * The lines of one chunk read, decoded one at a time: `text(k)` makes line k's string when the
 * reader gets to it. (Decoding a whole chunk's lines up front kept ~7,000 strings, a megabyte, alive
 * while its records were parsed and mined: every young collection on the reading thread copied the
 * lines not read yet.) A chunk is valid until the next one is read: its arrays are reused.
 */
export class LineChunk {
  /** Lines in the chunk. */
  count = 0;
  /** lineNo of line 0 (1-based within the file); line k is `firstLineNo + k`. */
  firstLineNo = 0;
  /** The bytes the lines are in. */
  private buf: Buffer = Buffer.alloc(0);
  /** Line k is buf[bounds[2k], bounds[2k+1]) (a final CR and what is past the limit already cut). */
  private bounds = new Int32Array(2 * 8_192);
  /** Line k was cut at the limit (rare: a list of line indexes). */
  private cut: number[] = [];
  /** A line carried over from the previous chunk: line 0, already decoded. */
  private head: string | undefined;

  text(k: number): string {
    if (k === 0 && this.head !== undefined) return this.head;
    return this.buf.toString('utf8', this.bounds[2 * k]!, this.bounds[2 * k + 1]!);
  }

  truncated(k: number): boolean {
    return this.cut.length > 0 && this.cut.includes(k);
  }

  /** Starts the chunk over on `buf` (lines from `firstLineNo`), with the carried-over line `head` as line 0. */
  reset(buf: Buffer, firstLineNo: number, head: string | undefined, headTruncated: boolean): void {
    this.buf = buf;
    this.firstLineNo = firstLineNo;
    this.head = head;
    this.count = head === undefined ? 0 : 1;
    this.cut = headTruncated ? [0] : [];
  }

  /** Adds the line buf[start, end), and whether it was cut at the limit. */
  add(start: number, end: number, truncated: boolean): void {
    const k = this.count++;
    if (2 * k + 2 > this.bounds.length) {
      const grown = new Int32Array(this.bounds.length * 2);
      grown.set(this.bounds);
      this.bounds = grown;
    }
    this.bounds[2 * k] = start;
    this.bounds[2 * k + 1] = end;
    if (truncated) this.cut.push(k);
  }
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
  for await (const chunk of readLineChunks(input, opts)) {
    const batch: SourceLine[] = [];
    for (let k = 0; k < chunk.count; k++) batch.push({ text: chunk.text(k), lineNo: chunk.firstLineNo + k, truncated: chunk.truncated(k) });
    yield batch;
  }
}

/**
 * readLineBatches, each chunk's lines decoded only when read (see LineChunk). The same LineChunk
 * is yielded each time, refilled.
 */
export async function* readLineChunks(input: Readable, opts: LineSourceOptions): AsyncGenerator<LineChunk> {
  let carry: Buffer | undefined;
  let overflow = false;
  let lineNo = 0;
  let bytes = 0;
  const max = opts.maxLineChars;
  const out = new LineChunk();
  /** The end of a line buf[start, end) once a final CR and what is past the limit are cut. */
  const cutEnd = (b: Buffer, start: number, end: number): number => {
    let e = end;
    if (e > start && b[e - 1] === 13) e--;
    if (e - start > max) e = start + max;
    return e;
  };
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buf.length;
    opts.onBytes?.(bytes);
    let start = 0;
    let head: string | undefined;
    let headTruncated = false;
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
      const joined = overflow ? carry : Buffer.concat([carry, buf.subarray(0, nl + 1)]);
      const end = overflow ? joined.length : joined.length - 1;
      headTruncated = overflow || end - (joined[end - 1] === 13 ? 1 : 0) > max;
      head = joined.toString('utf8', 0, cutEnd(joined, 0, end));
      carry = undefined;
      overflow = false;
      start = nl + 1;
    }
    out.reset(buf, lineNo + 1, head, headTruncated);
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      const len = nl - start - (nl > start && buf[nl - 1] === 13 ? 1 : 0);
      out.add(start, cutEnd(buf, start, nl), len > max);
      start = nl + 1;
    }
    lineNo += out.count;
    if (start < buf.length) {
      // keep the partial last line (a copy, so the chunk itself can go)
      const rest = buf.subarray(start);
      overflow = rest.length > max;
      carry = Buffer.from(overflow ? rest.subarray(0, max) : rest);
    }
    if (out.count > 0) yield out;
  }
  if (carry !== undefined) {
    lineNo++;
    const last = carry;
    out.reset(Buffer.alloc(0), lineNo, last.toString('utf8', 0, cutEnd(last, 0, last.length)), overflow);
    yield out;
  }
}
