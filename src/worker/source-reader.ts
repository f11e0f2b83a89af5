/**
 * Reads one source's batches into records, as `vigil analyze` reads a file: the source's format is
 * learned from its first lines (the sample grows across batches until it has the 64 lines a file
 * would give, then the format is fixed and kept with the miner state), multi-line records are
 * joined, and binary lines are set aside as malformed.
 *
 * A batch is a unit: the record still open at its end is closed there, so a stack trace split
 * across two requests becomes two records (shippers send whole records per batch).
 */
import { binaryPreview, isBinaryLine } from '../core/analyze/file-records.js';
import { detectFormat, FORMAT_SAMPLE_LINES, LineParser, type StreamFormat } from '../core/parse/line-parser.js';
import { RecordAssembler, type AssemblerLimits } from '../core/parse/multiline.js';
import type { LogRecord } from '../core/parse/record.js';
import type { BatchRecord } from './queue.js';

export interface ReadRecord {
  record: LogRecord;
  /** A binary or undecodable line: not mined, reported as malformed. */
  binary?: boolean;
  /** Characters of the binary line (for the reason). */
  chars?: number;
}

/** What is kept of a reader between runs (inside the source snapshot). */
export interface ReaderState {
  format?: StreamFormat;
  /** Lines sampled so far, while fewer than FORMAT_SAMPLE_LINES. */
  sample: string[];
}

/** A sampled line keeps its head: the header is what the format is learned from. */
const SAMPLE_LINE_CHARS = 4_096;

export class SourceReader {
  private sample: string[];
  private parser: LineParser | undefined;
  private fixed: boolean;

  constructor(
    private readonly defaultYear: number,
    private readonly limits: AssemblerLimits,
    saved?: ReaderState,
  ) {
    this.sample = saved?.sample ? [...saved.sample].slice(0, FORMAT_SAMPLE_LINES) : [];
    this.fixed = saved?.format !== undefined && this.sample.length === 0;
    if (saved?.format) this.parser = new LineParser(saved.format, defaultYear);
  }

  get format(): StreamFormat | undefined {
    return this.parser?.format;
  }

  state(): ReaderState {
    return { ...(this.parser ? { format: this.parser.format } : {}), sample: this.fixed ? [] : [...this.sample] };
  }

  /** Turns a batch into records, in order. */
  read(records: readonly BatchRecord[], emit: (r: ReadRecord) => void): void {
    if (!this.fixed) this.learn(records);
    let assembler: RecordAssembler | undefined;
    const closeOpen = (): void => {
      if (!assembler) return;
      for (const r of assembler.flush()) emit({ record: r.record });
      assembler = undefined;
    };
    let lineNo = 0;
    for (const item of records) {
      if (item.kind === 'record') {
        closeOpen();
        emit({ record: item.record });
        continue;
      }
      lineNo++;
      const text = item.text;
      if (isBinaryLine(text)) {
        closeOpen();
        emit({ record: { message: binaryPreview(text) }, binary: true, chars: text.length });
        continue;
      }
      assembler ??= new RecordAssembler(this.parser!, this.limits);
      for (const r of assembler.push(text, lineNo)) emit({ record: r.record });
    }
    closeOpen();
  }

  private learn(records: readonly BatchRecord[]): void {
    let added = false;
    for (const item of records) {
      if (this.sample.length >= FORMAT_SAMPLE_LINES) break;
      if (item.kind !== 'line' || item.text.trim() === '' || isBinaryLine(item.text)) continue;
      this.sample.push(item.text.length > SAMPLE_LINE_CHARS ? item.text.slice(0, SAMPLE_LINE_CHARS) : item.text);
      added = true;
    }
    if (added || !this.parser) this.parser = new LineParser(detectFormat(this.sample, this.defaultYear), this.defaultYear);
    if (this.sample.length >= FORMAT_SAMPLE_LINES) {
      this.fixed = true;
      this.sample = [];
    }
  }
}
