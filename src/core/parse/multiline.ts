/**
 * Multi-line records: joins continuation lines (stack traces, tracebacks, indented output) to the
 * record they belong to.
 *
 * A line continues the open record when:
 * - it is a Java trace line: `at com.foo.Bar(Bar.java:12)`, `Caused by: …`, `Suppressed: …`,
 *   `... 12 more` (with or without indentation);
 * - it is indented, unless it carries a full header with a timestamp (some formats pad their
 *   first field, e.g. `%5p` gives ` INFO …`);
 * - the stream has a header format (text, JSON, logfmt) and the line does not have it — this covers
 *   `Traceback (most recent call last):` and `ValueError: bad` — or, in a stream whose header holds a
 *   timestamp, the line has no timestamp (so `Error: boom` after a header line joins even
 *   though `Error` reads as a level).
 * In a bare stream (no header) only indented lines and Java trace lines join. The first line of a
 * stream always starts a record. Blank lines never start a record: inside one they are kept, at its
 * end they count towards its line span but not its message.
 *
 * A record is complete when the next record starts, so `push` returns the previous record; `flush`
 * returns the last one at the end of the stream.
 */
import type { LineParser } from './line-parser.js';
import type { LogRecord } from './record.js';

export interface AssemblerLimits {
  /** Lines kept in one record's message, its first line included; later lines are dropped. */
  maxLinesPerRecord: number;
  /** Characters kept in one record's message; a continuation line that does not fit is dropped. */
  maxRecordChars: number;
}

export const DEFAULT_ASSEMBLER_LIMITS: Readonly<AssemblerLimits> = { maxLinesPerRecord: 500, maxRecordChars: 1 << 20 };

export interface AssembledRecord {
  /** The first line's record; its message holds the kept continuation lines, joined by `\n`. */
  record: LogRecord;
  firstLine: number;
  lastLine: number;
  /** Lines that belong to the record: kept, dropped and blank (`lastLine - firstLine + 1` for numbered input). */
  lineCount: number;
  /** Set when a limit cut the message. */
  truncated: boolean;
  /** Continuation lines (blank ones aside) left out of the message by the limits. */
  droppedLines: number;
  /**
   * The record's one line when its message is a piece of it, `line.slice(messageStart, messageEnd)`
   * (so a miner can read it in place: see TemplateMiner.addRange); all three undefined when the
   * message was built (continuation lines joined, JSON, logfmt).
   */
  line: string | undefined;
  messageStart: number | undefined;
  messageEnd: number | undefined;
}

export interface AssemblerStats {
  /** Records completed so far. */
  records: number;
  /** Records whose message a limit cut. */
  truncatedRecords: number;
  /** Continuation lines left out of messages by the limits. */
  droppedLines: number;
  /** Blank lines before the first record (they belong to none). */
  skippedBlankLines: number;
}

const NONE: readonly AssembledRecord[] = Object.freeze([]);

// Java trace lines, read from the first non-blank character
// a qualified method name right before `(`: `at com.foo.Bar.run(`, `at java.base/java.lang.Thread.run(`,
// `at com.foo.Bar$1.<init>(` (so a sentence such as `at noon (UTC) …` is not one)
const JAVA_FRAME = /at [\w$<>/@-]+(?:\.[\w$<>/@-]+)+\(/y;
const MORE_FRAMES = /\.\.\. \d+ (?:more|common frames omitted)/y;
const CAUSED_BY = /(?:Caused by|Suppressed):/y;

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 11 || c === 12 || c === 13;

function firstNonSpace(line: string): number {
  let i = 0;
  while (i < line.length && isSpace(line.charCodeAt(i))) i++;
  return i;
}

function stickyAt(re: RegExp, line: string, at: number): boolean {
  re.lastIndex = at;
  return re.test(line);
}

/** A Java stack-trace line (`at …(`, `Caused by:`, `... N more`) starting at `at`. */
function isTraceLine(line: string, at: number): boolean {
  const c = line.charCodeAt(at);
  if (c === 97 /* a */) return stickyAt(JAVA_FRAME, line, at);
  if (c === 46 /* . */) return stickyAt(MORE_FRAMES, line, at);
  if (c === 67 /* C */ || c === 83 /* S */) return stickyAt(CAUSED_BY, line, at);
  return false;
}

/** Could a timestamp start here? (digits, month/day names, `[`) — saves parsing most indented lines. */
function mayStartHeader(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 91 || c === 123 /* { */;
}

function checkLimit(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}

/** First lines of exceptions and tracebacks: `java.io.IOException: x`, `ValueError: bad`, `Traceback (…`. */
const EXCEPTION_HEAD = /(?:[\w$]+\.)*[\w$]*(?:Exception|Error|Throwable|Fault|Panic)\b|Traceback \(most recent call last\)|panic: |goroutine \d+ \[/y;

export class RecordAssembler {
  private readonly maxLines: number;
  private readonly maxChars: number;
  private readonly bare: boolean;
  /** The stream's header starts with a timestamp: a line without one does not start a record. */
  private readonly timestamped: boolean;

  // the open record
  private head: LogRecord | undefined;
  /** The head's line and where its message is in it (undefined when not a piece of it). */
  private headLine: string | undefined;
  private headStart: number | undefined;
  private headEnd = 0;
  private readonly parts: string[] = [];
  private chars = 0;
  private kept = 0;
  private firstLine = 0;
  private lastLine = 0;
  private lineCount = 0;
  private dropped = 0;
  private truncated = false;
  private pendingBlank = 0;

  private readonly counts: AssemblerStats = { records: 0, truncatedRecords: 0, droppedLines: 0, skippedBlankLines: 0 };

  constructor(
    private readonly parser: LineParser,
    limits: Partial<AssemblerLimits> = {},
  ) {
    this.maxLines = checkLimit('maxLinesPerRecord', limits.maxLinesPerRecord ?? DEFAULT_ASSEMBLER_LIMITS.maxLinesPerRecord);
    this.maxChars = checkLimit('maxRecordChars', limits.maxRecordChars ?? DEFAULT_ASSEMBLER_LIMITS.maxRecordChars);
    const f = parser.format;
    this.bare = f.kind === 'bare';
    this.timestamped = f.kind === 'text' && f.shape.some((field) => field.kind === 'ts');
  }

  /** Whether an unindented header-less line continues the open record (see `push`). */
  private expectsMore(line: string, at: number): boolean {
    if (this.parts.length > 0) return true;
    if (stickyAt(EXCEPTION_HEAD, line, at)) return true;
    const head = this.head?.message ?? '';
    return head.charCodeAt(head.length - 1) === 58 /* : */;
  }

  /** Whether a record is open (it completes when the next one starts, or on `flush`). */
  get hasOpenRecord(): boolean {
    return this.head !== undefined;
  }

  get stats(): Readonly<AssemblerStats> {
    return { ...this.counts };
  }

  /** Adds one line; returns the records it completed (none, or the previous record). */
  push(line: string, lineNo: number): readonly AssembledRecord[] {
    const done = this.add(line, lineNo);
    return done === undefined ? NONE : [done];
  }

  /** push(), but the record it completed (if any) comes alone, not in a new array (one less object per record). */
  add(line: string, lineNo: number): AssembledRecord | undefined {
    const at = firstNonSpace(line);
    if (at === line.length) {
      // blank: never a record of its own
      if (this.head === undefined) this.counts.skippedBlankLines++;
      else {
        this.pendingBlank++;
        this.lineCount++;
        this.lastLine = lineNo;
      }
      return undefined;
    }
    if (this.head !== undefined && isTraceLine(line, at)) {
      this.append(line, lineNo);
      return undefined;
    }
    const indented = at > 0;
    if (this.head !== undefined && indented && (this.bare || !mayStartHeader(line.charCodeAt(at)))) {
      this.append(line, lineNo);
      return undefined;
    }
    const parsed = this.parser.read(line);
    if (this.head !== undefined && !this.bare) {
      const hasTimestamp = parsed.record.timestampText !== undefined;
      // an unindented line without the stream's header joins the open record only when it looks
      // like part of a multi-line message (an exception or traceback line, a record already
      // spanning lines, a record that announced more with a trailing colon); anything else, a
      // garbled or torn line say, is a record of its own so it is judged on its own
      const headerless = !parsed.headerMatched || (this.timestamped && !hasTimestamp);
      const continues = indented ? !(parsed.headerMatched && hasTimestamp) : headerless && this.expectsMore(line, at);
      if (continues) {
        this.append(line, lineNo);
        return undefined;
      }
    }
    const done = this.head !== undefined ? this.finish() : undefined;
    this.open(parsed.record, lineNo);
    if (parsed.messageStart !== undefined) {
      this.headLine = line;
      this.headStart = parsed.messageStart;
      // (open may have cut the message: it is still the start of that piece)
      this.headEnd = parsed.messageStart + parsed.record.message.length;
    }
    return done;
  }

  /** Ends the stream: returns the open record, if any. */
  flush(): readonly AssembledRecord[] {
    return this.head !== undefined ? [this.finish()] : NONE;
  }

  private open(record: LogRecord, lineNo: number): void {
    this.head = record;
    this.headLine = undefined;
    this.headStart = undefined;
    this.firstLine = lineNo;
    this.lastLine = lineNo;
    this.lineCount = 1;
    this.kept = 1;
    this.dropped = 0;
    this.pendingBlank = 0;
    this.truncated = false;
    if (record.message.length > this.maxChars) {
      record.message = record.message.slice(0, this.maxChars);
      this.truncated = true;
    }
    this.chars = record.message.length;
  }

  private append(line: string, lineNo: number): void {
    this.lineCount++;
    this.lastLine = lineNo;
    const blanks = this.pendingBlank;
    this.pendingBlank = 0;
    if (this.truncated) {
      // once a limit is hit the rest of the record is dropped, so the message has no holes
      this.dropped++;
      return;
    }
    const text = line.trimEnd();
    // the head message may be empty (a header-only line): then no leading newline
    const sep = this.chars === 0 && this.parts.length === 0 ? 0 : 1;
    const cost = sep + blanks + text.length;
    if (this.kept + blanks + 1 > this.maxLines || this.chars + cost > this.maxChars) {
      this.truncated = true;
      this.dropped++;
      return;
    }
    for (let i = 0; i < blanks; i++) this.parts.push('');
    this.parts.push(text);
    this.kept += blanks + 1;
    this.chars += cost;
  }

  private finish(): AssembledRecord {
    const record = this.head!;
    let line = this.headLine;
    let messageStart = this.headStart;
    let messageEnd: number | undefined = this.headEnd;
    if (this.parts.length > 0 || line === undefined || messageStart === undefined) {
      line = undefined;
      messageStart = undefined;
      messageEnd = undefined;
    }
    this.headLine = undefined;
    if (this.parts.length > 0) {
      const body = this.parts.join('\n');
      record.message = record.message === '' ? body : `${record.message}\n${body}`;
      this.parts.length = 0;
    }
    this.head = undefined;
    this.counts.records++;
    if (this.truncated) this.counts.truncatedRecords++;
    this.counts.droppedLines += this.dropped;
    return {
      record,
      firstLine: this.firstLine,
      lastLine: this.lastLine,
      lineCount: this.lineCount,
      truncated: this.truncated,
      droppedLines: this.dropped,
      line,
      messageStart,
      messageEnd,
    };
  }
}
