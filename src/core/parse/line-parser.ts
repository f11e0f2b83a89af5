/**
 * Format detection and line parsing: learns a stream's format from its first lines (JSON lines,
 * logfmt, or a text header shape) and turns each line into a LogRecord. A line that fits no format
 * is still a record: its whole text is the message.
 */
import { scanHeader, ShapeReader, type HeaderField, type HeaderParse } from './header.js';
import { newRecord, type LogRecord } from './record.js';
import { parseJsonLine, parseLogfmtLine } from './structured.js';

export type StreamFormat =
  | { kind: 'json' }
  | { kind: 'logfmt' }
  | { kind: 'text'; signature: string; shape: HeaderField[] }
  | { kind: 'bare' };

/** How many leading lines are read to learn a format. */
export const FORMAT_SAMPLE_LINES = 64;

export interface ParsedLine {
  record: LogRecord;
  /** True when the line had the stream's header (or was a structured record). */
  headerMatched: boolean;
}

/** A parsed line, and where its message is in it. */
export interface ReadLine extends ParsedLine {
  /**
   * Where `record.message` is in the line when it is a piece of it (`line.slice(messageStart,
   * messageEnd)`), so a miner can read it in place; undefined for JSON and logfmt.
   */
  messageStart: number | undefined;
  messageEnd: number;
}

/** A record whose message is the whole line, trimmed. */
function wholeLine(line: string): ReadLine {
  const message = line.trimEnd();
  return { record: newRecord(message, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined), headerMatched: false, messageStart: 0, messageEnd: message.length };
}

/** A structured record (its message is not a piece of the line). */
const structured = (record: LogRecord): ReadLine => ({ record, headerMatched: true, messageStart: undefined, messageEnd: 0 });

const isIndented = (line: string): boolean => line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9;

/** Learns a stream's format from sample lines (blank lines and indented lines without a header are ignored). */
export function detectFormat(sample: readonly string[], defaultYear: number): StreamFormat {
  let json = 0;
  let logfmt = 0;
  let total = 0;
  const signatures = new Map<string, { count: number; shape: HeaderField[] }>();
  for (const line of sample) {
    if (line.trim() === '') continue;
    if (parseJsonLine(line, defaultYear)) {
      total++;
      json++;
      continue;
    }
    if (parseLogfmtLine(line, defaultYear)) {
      total++;
      logfmt++;
      continue;
    }
    const h = scanHeader(line, defaultYear);
    // an indented line without a header continues a multi-line record (stack frame, traceback
    // line): it says nothing about the format, and a few stack traces must not outvote the header
    if (h.signature === '' && isIndented(line)) continue;
    total++;
    const entry = signatures.get(h.signature);
    if (entry) entry.count++;
    else signatures.set(h.signature, { count: 1, shape: h.fields });
  }
  if (total === 0) return { kind: 'bare' };
  if (json * 2 >= total) return { kind: 'json' };
  if (logfmt * 2 >= total) return { kind: 'logfmt' };
  let best: { signature: string; count: number; shape: HeaderField[] } | undefined;
  for (const [signature, e] of signatures) {
    // ties go to the longer header: it explains more of each line
    if (!best || e.count > best.count || (e.count === best.count && e.shape.length > best.shape.length)) best = { signature, ...e };
  }
  if (!best || best.signature === '') return { kind: 'bare' };
  return { kind: 'text', signature: best.signature, shape: best.shape };
}

function toRecord(line: string, h: HeaderParse): LogRecord {
  const message = line.slice(h.messageStart).trimEnd();
  return newRecord(message, h.timestamp, h.timestampText, h.level || undefined, h.component, h.pid, h.host, h.requestId, h.thread !== undefined ? { thread: h.thread } : undefined);
}

function withoutTimestamps(fields: readonly HeaderField[]): string {
  return fields.filter((f) => f.kind !== 'ts' && f.kind !== 'src').map((f) => f.kind).join(' ');
}

export class LineParser {
  /** The text format's header shape, compiled once. */
  private readonly shapeReader: ShapeReader | undefined;

  constructor(
    readonly format: StreamFormat,
    private readonly defaultYear: number,
  ) {
    if (format.kind === 'text') this.shapeReader = new ShapeReader(format.shape);
  }

  parse(line: string): ParsedLine {
    const { record, headerMatched } = this.read(line);
    return { record, headerMatched };
  }

  /** parse(), and where the message starts in the line. */
  read(line: string): ReadLine {
    const f = this.format;
    if (f.kind === 'bare') return wholeLine(line);
    if (f.kind === 'json' || f.kind === 'logfmt') {
      const rec = f.kind === 'json' ? parseJsonLine(line, this.defaultYear) : parseLogfmtLine(line, this.defaultYear);
      if (rec) return structured(rec);
      return this.parseText(line, undefined, undefined);
    }
    return this.parseText(line, f.shape, this.shapeReader);
  }

  private parseText(line: string, shape: HeaderField[] | undefined, reader: ShapeReader | undefined): ReadLine {
    // a JSON object line in a text stream (services sharing one file) is a record of its own
    if (line.charCodeAt(0) === 123 /* { */) {
      const rec = parseJsonLine(line, this.defaultYear);
      if (rec) return structured(rec);
    }
    if (reader?.read(line, this.defaultYear)) {
      const record = reader.record(line);
      return { record, headerMatched: true, messageStart: reader.messageStart, messageEnd: reader.messageEnd };
    }
    // not the stream's shape: accept another header when it has a timestamp, or the stream's
    // fields (two or more, so a continuation such as `Error: boom` is not read as one) but for an
    // unusual timestamp
    const g = scanHeader(line, this.defaultYear);
    if (g.timestampText !== undefined || (shape && g.fields.length >= 2 && withoutTimestamps(g.fields) === withoutTimestamps(shape))) {
      const record = toRecord(line, g);
      return { record, headerMatched: true, messageStart: g.messageStart, messageEnd: g.messageStart + record.message.length };
    }
    return wholeLine(line);
  }
}

/** A parser for bare messages: no header detection at all. */
export function messageOnlyParser(): LineParser {
  return new LineParser({ kind: 'bare' }, 1970);
}
