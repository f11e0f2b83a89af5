/**
 * Parses and mines a stream of lines in order: holds the first lines until the stream's format is
 * learned, then parses each line with it and mines its message.
 */
import { detectFormat, FORMAT_SAMPLE_LINES, LineParser, messageOnlyParser } from '../parse/line-parser.js';
import type { LogRecord } from '../parse/record.js';
import { TemplateMiner, type MineResult } from './miner.js';

export interface MinedLine {
  record: LogRecord;
  headerMatched: boolean;
  mined: MineResult;
}

export interface StreamMinerOptions {
  /** Year for timestamps that carry none (syslog, logcat): the reader's current year. */
  defaultYear: number;
  /** Treat each line as a bare message: no header detection. */
  messageOnly?: boolean;
  miner?: TemplateMiner;
}

export class StreamMiner {
  readonly miner: TemplateMiner;
  private parser: LineParser | undefined;
  private pending: string[] = [];

  constructor(private readonly opts: StreamMinerOptions) {
    this.miner = opts.miner ?? new TemplateMiner();
    if (opts.messageOnly) this.parser = messageOnlyParser();
  }

  get format(): LineParser['format'] | undefined {
    return this.parser?.format;
  }

  /** Adds one line; `emit` is called, in input order, for every line whose result is known. */
  push(line: string, emit: (m: MinedLine) => void): void {
    if (this.parser) {
      emit(this.mineLine(this.parser, line));
      return;
    }
    this.pending.push(line);
    if (this.pending.length >= FORMAT_SAMPLE_LINES) this.flushPending(emit);
  }

  /** Emits whatever is still held (call at the end of the stream). */
  end(emit: (m: MinedLine) => void): void {
    if (!this.parser) this.flushPending(emit);
  }

  private flushPending(emit: (m: MinedLine) => void): void {
    const parser = new LineParser(detectFormat(this.pending, this.opts.defaultYear), this.opts.defaultYear);
    this.parser = parser;
    const held = this.pending;
    this.pending = [];
    for (const line of held) emit(this.mineLine(parser, line));
  }

  private mineLine(parser: LineParser, line: string): MinedLine {
    const { record, headerMatched, messageStart, messageEnd } = parser.read(line);
    // a message that is a piece of the line is mined in place (see TemplateMiner.addRange)
    const mined = messageStart === undefined ? this.miner.add(record.message) : this.miner.addRange(line, messageStart, messageEnd);
    return { record, headerMatched, mined };
  }
}
