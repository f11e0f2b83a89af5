/**
 * Turns one file's lines into records: learns the file's format from its first lines, joins
 * multi-line records, and sets aside lines that are not text (binary) — counted, never fatal.
 */
import { detectFormat, FORMAT_SAMPLE_LINES, LineParser } from '../parse/line-parser.js';
import { RecordAssembler, type AssembledRecord, type AssemblerLimits } from '../parse/multiline.js';

/** The characters isBinaryLine counts (control but tab, form feed and CR; C1 controls; U+FFFD). */
const ODD = /[\u0000-\u0008\u000a\u000b\u000e-\u001f\u007f-\u009f\ufffd]/;
/** A line of printable ASCII, tabs, form feeds and CRs only: none of ODD's characters. */
const PLAIN = /^[\t\f\r\u0020-\u007e]*$/;

/** A line is binary when it holds NUL, or when over a tenth of it is control or undecodable bytes. */
export function isBinaryLine(line: string): boolean {
  // most lines hold none of them, and one native scan says so faster than a loop over characters;
  // most are plain ASCII, which a scan of a one-byte range (measured ~15% cheaper than ODD's) says
  if (PLAIN.test(line) || !ODD.test(line)) return false;
  return countsAsBinary(line);
}

/** isBinaryLine's rule, character by character, without the regexes that pass most lines first. */
export function countsAsBinary(line: string): boolean {
  let odd = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0) return true;
    if ((c < 32 && c !== 9 && c !== 13 && c !== 12) || c === 0xfffd || (c >= 0x7f && c < 0xa0)) odd++;
  }
  return odd > 0 && odd * 10 > line.length;
}

/** Characters of a binary line shown in reports. */
const BINARY_PREVIEW_CHARS = 200;

/** What a report shows of a binary line: its head, with control and undecodable characters as `.`. */
export function binaryPreview(line: string): string {
  return line.slice(0, BINARY_PREVIEW_CHARS).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd]/g, '.');
}

export class FileRecords {
  private assembler: RecordAssembler | undefined;
  private pending: { text: string; lineNo: number }[] = [];
  readonly skipped: Record<string, number> = { binary: 0 };
  parser: LineParser | undefined;

  constructor(
    private readonly defaultYear: number,
    private readonly limits: AssemblerLimits,
  ) {}

  /** Adds one line; `emit` receives each record completed, in order; `binary` each line set aside. */
  push(text: string, lineNo: number, emit: (r: AssembledRecord) => void, binary?: (text: string, lineNo: number) => void): void {
    if (isBinaryLine(text)) {
      this.skipped.binary!++;
      binary?.(text, lineNo);
      return;
    }
    if (!this.assembler) {
      this.pending.push({ text, lineNo });
      if (this.pending.length >= FORMAT_SAMPLE_LINES) this.start(emit);
      return;
    }
    const done = this.assembler.add(text, lineNo);
    if (done !== undefined) emit(done);
  }

  /** Ends the file: emits the record still open. */
  end(emit: (r: AssembledRecord) => void): void {
    if (!this.assembler) this.start(emit);
    for (const r of this.assembler!.flush()) emit(r);
  }

  get blankLines(): number {
    return this.assembler?.stats.skippedBlankLines ?? 0;
  }

  get droppedContinuationLines(): number {
    return this.assembler?.stats.droppedLines ?? 0;
  }

  private start(emit: (r: AssembledRecord) => void): void {
    this.parser = new LineParser(detectFormat(this.pending.map((p) => p.text), this.defaultYear), this.defaultYear);
    this.assembler = new RecordAssembler(this.parser, this.limits);
    const held = this.pending;
    this.pending = [];
    for (const p of held) for (const r of this.assembler.push(p.text, p.lineNo)) emit(r);
  }
}
