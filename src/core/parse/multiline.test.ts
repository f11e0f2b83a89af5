import { describe, expect, it } from 'vitest';
import { detectFormat, LineParser, messageOnlyParser } from './line-parser.js';
import { RecordAssembler, type AssembledRecord, type AssemblerLimits } from './multiline.js';

const YEAR = 2024;

/** Runs `lines` (numbered from 1) through an assembler whose format is learned from them. */
function assemble(lines: readonly string[], limits?: Partial<AssemblerLimits>, parser?: LineParser): { records: AssembledRecord[]; assembler: RecordAssembler } {
  const assembler = new RecordAssembler(parser ?? new LineParser(detectFormat(lines, YEAR), YEAR), limits);
  const records: AssembledRecord[] = [];
  lines.forEach((line, i) => records.push(...assembler.push(line, i + 1)));
  records.push(...assembler.flush());
  return { records, assembler };
}

const JAVA = [
  '2024-01-15 14:23:45,123 INFO [main] org.foo.App: Starting',
  '2024-01-15 14:23:46,001 ERROR [main] org.foo.Db: Query failed',
  'java.lang.IllegalStateException: connection closed',
  '\tat org.foo.Db.query(Db.java:42)',
  '\tat org.foo.App.main(App.java:12)',
  'Caused by: java.net.SocketException: Connection reset',
  '\tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:186)',
  '\t... 2 more',
  '2024-01-15 14:23:47,500 INFO [main] org.foo.App: Retrying',
];

describe('RecordAssembler', () => {
  it('add() completes the same records as push(), one at a time', () => {
    const lines = [...JAVA, '', '  indented', 'plain line', '{"msg":"json","level":"warn"}', '', 'Traceback (most recent call last):', ...JAVA, ''];
    const parser = new LineParser(detectFormat(lines, YEAR), YEAR);
    const limits = { maxLinesPerRecord: 3, maxRecordChars: 200 };
    const viaPush = assemble(lines, limits, parser);
    const byAdd = new RecordAssembler(parser, limits);
    const added: AssembledRecord[] = [];
    lines.forEach((line, i) => {
      const r = byAdd.add(line, i + 1);
      if (r !== undefined) added.push(r);
    });
    added.push(...byAdd.flush());
    expect(added.length).toBeGreaterThan(5);
    expect(added).toStrictEqual(viaPush.records);
    expect(byAdd.stats).toStrictEqual(viaPush.assembler.stats);
  });

  it('joins a Java stack trace to the line that logged it', () => {
    const { records } = assemble(JAVA);
    expect(records.map((r) => [r.firstLine, r.lastLine, r.lineCount])).toEqual([[1, 1, 1], [2, 8, 7], [9, 9, 1]]);
    const failed = records[1]!;
    expect(failed.record).toMatchObject({ level: 'error', component: 'org.foo.Db', timestamp: 1705328626001 });
    expect(failed.record.message).toBe(['Query failed', ...JAVA.slice(2, 8)].join('\n'));
    expect(failed.truncated).toBe(false);
    expect(records[2]!.record.message).toBe('Retrying');
  });

  it('joins unindented Java frames, Caused by and ... N more lines', () => {
    const { records } = assemble([
      '2024-01-15 14:23:46 ERROR Query failed',
      'at org.foo.Db.query(Db.java:42)',
      'at org.foo.Db$1.<init>(Db.java:7)',
      'Caused by: java.io.IOException: x',
      '... 12 more',
      '2024-01-15 14:23:47 INFO ok',
    ]);
    expect(records.map((r) => r.lineCount)).toEqual([5, 1]);
  });

  it('joins a Python traceback, its final exception line included', () => {
    const lines = [
      '2024-01-15 14:23:45,123 INFO app: starting',
      '2024-01-15 14:23:46,000 ERROR app: handler crashed',
      'Traceback (most recent call last):',
      '  File "/srv/app/handler.py", line 3, in handle',
      '    return parse(body)',
      '  File "/srv/app/parse.py", line 9, in parse',
      '    raise ValueError("bad")',
      'ValueError: bad',
      '2024-01-15 14:23:47,000 INFO app: next request',
    ];
    const { records } = assemble(lines);
    expect(records).toHaveLength(3);
    expect(records[1]).toEqual({
      record: { timestamp: 1705328626000, timestampText: '2024-01-15 14:23:46,000', level: 'error', component: 'app', message: ['handler crashed', ...lines.slice(2, 8)].join('\n') },
      firstLine: 2,
      lastLine: 8,
      lineCount: 7,
      truncated: false,
      droppedLines: 0,
    });
  });

  it('joins a JavaScript error whose first line reads like a level', () => {
    const { records } = assemble([
      '2024-01-15 14:23:45 INFO request started',
      '2024-01-15 14:23:46 ERROR request failed',
      'Error: boom',
      '    at handler (/srv/app.js:10:5)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '2024-01-15 14:23:47 INFO request started',
    ]);
    expect(records.map((r) => r.lineCount)).toEqual([1, 4, 1]);
    expect(records[1]!.record.message.split('\n')[1]).toBe('Error: boom');
  });

  it('joins indented lines and keeps their indentation', () => {
    const { records } = assemble([
      '2024-01-15 14:23:45 INFO config loaded:',
      '    port: 8080',
      '    Host: example.org',
      '2024-01-15 14:23:46 INFO ready',
    ]);
    expect(records[0]!.record.message).toBe('config loaded:\n    port: 8080\n    Host: example.org');
    expect(records[1]!.record.message).toBe('ready');
  });

  it('starts a record at an indented line that carries a full timestamped header', () => {
    const { records } = assemble([
      ' INFO 2024-01-15 14:23:45 started',
      'ERROR 2024-01-15 14:23:46 failed',
      '\tat org.foo.A.run(A.java:1)',
      ' INFO 2024-01-15 14:23:47 recovered',
    ]);
    expect(records.map((r) => [r.record.level, r.lineCount])).toEqual([['info', 1], ['error', 2], ['info', 1]]);
  });

  it('joins lines without the header to a JSON record', () => {
    const { records } = assemble([
      '{"level":"error","msg":"crash","time":"2024-01-15T14:23:45Z"}',
      'Traceback (most recent call last):',
      '  File "x.py", line 3, in f',
      'ValueError: bad',
      '{"level":"info","msg":"ok","time":"2024-01-15T14:23:46Z"}',
    ]);
    expect(records.map((r) => r.lineCount)).toEqual([4, 1]);
    expect(records[0]!.record.message).toBe('crash\nTraceback (most recent call last):\n  File "x.py", line 3, in f\nValueError: bad');
  });

  it('starts a record at the first line even when it looks like a continuation', () => {
    const { records } = assemble(['\tat org.foo.A.run(A.java:1)', '2024-01-15 14:23:45 INFO a', '2024-01-15 14:23:46 INFO b']);
    expect(records.map((r) => [r.firstLine, r.record.message])).toEqual([[1, '\tat org.foo.A.run(A.java:1)'], [2, 'a'], [3, 'b']]);
  });

  it('keeps blank lines inside a record and leaves trailing ones out of the message', () => {
    const { records, assembler } = assemble([
      '',
      '2024-01-15 14:23:45 ERROR failed',
      '    first',
      '',
      '    second',
      '',
      '2024-01-15 14:23:46 INFO ok',
    ]);
    expect(records.map((r) => [r.firstLine, r.lastLine, r.lineCount])).toEqual([[2, 6, 5], [7, 7, 1]]);
    expect(records[0]!.record.message).toBe('failed\n    first\n\n    second');
    expect(assembler.stats.skippedBlankLines).toBe(1);
  });

  it('does not start the message with a newline when the first line has no message', () => {
    const { records } = assemble(['2024-01-15 14:23:45 ERROR', '\tat org.foo.A.run(A.java:1)', '2024-01-15 14:23:46 INFO ok']);
    expect(records[0]!.record.message).toBe('\tat org.foo.A.run(A.java:1)');
  });

  it('returns the previous record when the next one starts, and the last one on flush', () => {
    const assembler = new RecordAssembler(new LineParser(detectFormat(JAVA, YEAR), YEAR));
    expect(assembler.push(JAVA[0]!, 1)).toEqual([]);
    expect(assembler.hasOpenRecord).toBe(true);
    expect(assembler.push(JAVA[1]!, 2).map((r) => r.firstLine)).toEqual([1]);
    expect(assembler.push(JAVA[2]!, 3)).toEqual([]);
    expect(assembler.flush().map((r) => [r.firstLine, r.lastLine])).toEqual([[2, 3]]);
    expect(assembler.hasOpenRecord).toBe(false);
    expect(assembler.flush()).toEqual([]);
  });

  it('drops lines beyond maxLinesPerRecord and counts them', () => {
    const lines = ['2024-01-15 14:23:45 ERROR failed', ...Array.from({ length: 10 }, (_, i) => `\tat org.foo.A.f${i}(A.java:${i})`), '2024-01-15 14:23:46 INFO ok'];
    const { records, assembler } = assemble(lines, { maxLinesPerRecord: 4 });
    const r = records[0]!;
    expect(r.record.message.split('\n')).toEqual(['failed', ...lines.slice(1, 4)]);
    expect(r).toMatchObject({ truncated: true, droppedLines: 7, lineCount: 11, firstLine: 1, lastLine: 11 });
    expect(records[1]).toMatchObject({ truncated: false, droppedLines: 0 });
    expect(assembler.stats).toEqual({ records: 2, truncatedRecords: 1, droppedLines: 7, skippedBlankLines: 0 });
  });

  it('drops lines beyond maxRecordChars and every line after them', () => {
    const lines = ['2024-01-15 14:23:45 ERROR failed', '    short', '    a much longer continuation line', '    tiny', '2024-01-15 14:23:46 INFO ok'];
    const { records } = assemble(lines, { maxRecordChars: 20 });
    expect(records[0]).toMatchObject({ truncated: true, droppedLines: 2, lineCount: 4 });
    expect(records[0]!.record.message).toBe('failed\n    short');
    expect(records[0]!.record.message.length).toBeLessThanOrEqual(20);
  });

  it('cuts a first line longer than maxRecordChars', () => {
    const { records } = assemble(['x'.repeat(50)], { maxRecordChars: 10 }, messageOnlyParser());
    expect(records[0]).toMatchObject({ truncated: true, droppedLines: 0, record: { message: 'x'.repeat(10) } });
  });

  it('rejects limits that are not positive integers', () => {
    expect(() => new RecordAssembler(messageOnlyParser(), { maxLinesPerRecord: 0 })).toThrow(RangeError);
    expect(() => new RecordAssembler(messageOnlyParser(), { maxRecordChars: 1.5 })).toThrow(RangeError);
  });

  it('joins only indented lines and Java trace lines in a bare stream', () => {
    const lines = [
      'something failed',
      'java.lang.RuntimeException: boom',
      '\tat org.foo.A.run(A.java:1)',
      'Caused by: java.io.IOException: x',
      '... 3 more',
      'Traceback (most recent call last):',
      '  File "x.py", line 3, in f',
      'ValueError: bad',
      'at noon (UTC) the job ran',
    ];
    const { records } = assemble(lines, undefined, messageOnlyParser());
    expect(records.map((r) => r.record.message)).toEqual([
      'something failed',
      'java.lang.RuntimeException: boom\n\tat org.foo.A.run(A.java:1)\nCaused by: java.io.IOException: x\n... 3 more',
      'Traceback (most recent call last):\n  File "x.py", line 3, in f',
      'ValueError: bad',
      'at noon (UTC) the job ran',
    ]);
  });

  it('treats every line of a bare stream as its own record when none is indented', () => {
    const { records } = assemble(['one', 'two', 'three'], undefined, messageOnlyParser());
    expect(records.map((r) => [r.firstLine, r.lineCount, r.record.message])).toEqual([[1, 1, 'one'], [2, 1, 'two'], [3, 1, 'three']]);
  });
});

describe('header-less lines in a timestamped stream', () => {
  const sample = Array.from({ length: 20 }, (_, i) => `2024-01-15 10:00:${String(i).padStart(2, '0')} INFO [api] request ${i} served`);

  it('keeps a garbled or torn line as a record of its own, so it is judged on its own', () => {
    const a = new RecordAssembler(new LineParser(detectFormat(sample, 2024), 2024));
    const out = [...a.push(sample[0]!, 1), ...a.push('°W °@VmJ| ¶ÆAqÿðf E +@ü¦¡ yñg', 2), ...a.push(sample[1]!, 3), ...a.flush()];
    expect(out.map((r) => r.firstLine)).toEqual([1, 2, 3]);
  });

  it('still joins an exception line and its frames to the record before', () => {
    const a = new RecordAssembler(new LineParser(detectFormat(sample, 2024), 2024));
    const out = [
      ...a.push('2024-01-15 10:00:00 ERROR [api] request failed:', 1),
      ...a.push('java.lang.IllegalStateException: boom', 2),
      ...a.push('\tat com.example.A.run(A.java:1)', 3),
      ...a.push('ValueError: also part of it', 4),
      ...a.push(sample[1]!, 5),
      ...a.flush(),
    ];
    expect(out.map((r) => [r.firstLine, r.lastLine])).toEqual([[1, 4], [5, 5]]);
  });
});
