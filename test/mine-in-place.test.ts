/**
 * `analyze` mines a record's message in place (TemplateMiner.addRange over its line) when the
 * message is a piece of the line. That must give exactly what mining the message string gives:
 * same template, id, parameters and `created`, record by record, and the same miner state after.
 * Checked over real corpora (Loghub-2k, the generated corpus when present) and adversarial lines.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRecords } from '../src/core/analyze/file-records.js';
import { TemplateMiner } from '../src/core/mine/miner.js';
import type { AssemblerLimits } from '../src/core/parse/multiline.js';

const DATASETS = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'loghub-2k');
const GENERATED = '/tmp/gen1m/app.log';

interface Outcome { inPlace: number; built: number; mismatches: string[] }

function compare(lines: readonly string[], limits: AssemblerLimits = { maxLinesPerRecord: 500, maxRecordChars: 1 << 20 }, miner: Partial<TemplateMiner['config']> = {}): Outcome {
  const records = new FileRecords(2024, limits);
  const byMessage = new TemplateMiner(miner);
  const inPlace = new TemplateMiner(miner);
  const out: Outcome = { inPlace: 0, built: 0, mismatches: [] };
  const emit = (a: Parameters<Parameters<FileRecords['push']>[2]>[0]): void => {
    const message = a.record.message;
    const want = byMessage.add(message);
    let got;
    if (a.line !== undefined && a.messageStart !== undefined && a.messageEnd !== undefined) {
      out.inPlace++;
      if (a.line.slice(a.messageStart, a.messageEnd) !== message) out.mismatches.push(`line ${a.firstLine}: range is not the message`);
      got = inPlace.addRange(a.line, a.messageStart, a.messageEnd);
    } else {
      out.built++;
      if (a.messageStart !== undefined || a.messageEnd !== undefined) out.mismatches.push(`line ${a.firstLine}: a range without a line`);
      got = inPlace.add(message);
    }
    if (got.templateId !== want.templateId || got.template !== want.template || got.created !== want.created
      || got.params.length !== want.params.length || got.params.some((p, i) => p !== want.params[i])) {
      out.mismatches.push(`line ${a.firstLine}: ${JSON.stringify(message).slice(0, 200)} → ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    }
  };
  lines.forEach((l, i) => records.push(l, i + 1, emit));
  records.end(emit);
  const a = byMessage.snapshot();
  const b = inPlace.snapshot();
  if (JSON.stringify(a) !== JSON.stringify(b)) out.mismatches.push('miner states differ');
  out.mismatches.splice(20);
  return out;
}

function headLines(file: string, n: number): string[] {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(48 << 20);
    const got = readSync(fd, buf, 0, buf.length, 0);
    // each line decoded on its own, as the line source does (flat strings)
    const out: string[] = [];
    let start = 0;
    while (out.length < n) {
      const nl = buf.indexOf(10, start);
      if (nl < 0 || nl >= got) break;
      out.push(buf.toString('utf8', start, nl));
      start = nl + 1;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

const ADVERSARIAL = [
  '2024-01-15 14:23:45,123 INFO app: started\tworker=3\tqueue=a',
  '2024-01-15 14:23:45,124 INFO app:    leading spaces kept id=7   ',
  '2024-01-15 14:23:45,125 WARN app: trailing tabs\t\t',
  '2024-01-15 14:23:45,126 INFO app: ünïcødé user=jörg 東京 id=42 😀 took 3ms',
  '2024-01-15 14:23:45,127 INFO app: 😀😀 emoji first 12',
  '2024-01-15 14:23:45,128 ERROR app: handler crashed:',
  'java.lang.IllegalStateException: boom 12',
  '\tat org.foo.A.run(A.java:1)',
  '    at org.foo.B.run(B.java:2)',
  '',
  '2024-01-15 14:23:45,129 INFO app:',
  '2024-01-15 14:23:45,130 INFO app: ',
  '{"ts":"2024-01-15T14:23:45.131Z","level":"info","msg":"json in a text stream","n":1}',
  '{"ts":"2024-01-15T14:23:45.132Z","level":"info","msg":"json line id=5 user=x"}',
  '{not json at all 5}',
  '2024-01-15 14:23:45,133 INFO app: key="a quoted value" other=\'q 1\' x=[1, 2] {"a": 3}',
  '2024-01-15 14:23:45,134 INFO app: crlf line id=9\r',
  'a torn line without header 77',
  '   indented continuation 8',
  '2024-01-15 14:23:45,135 INFO app: url=http://x.y/z?q=1 mail a@b.com ip 10.0.0.1:80 uuid 123e4567-e89b-12d3-a456-426614174000',
  `2024-01-15 14:23:45,136 INFO app: long ${'x1 '.repeat(3000)}`,
  `2024-01-15 14:23:45,137 INFO app: many ${Array.from({ length: 700 }, (_, i) => `t${i}`).join(' ')}`,
  '2024-01-15 14:23:45,138 INFO app: Mon Jan 15 2024 14:23:45 date words',
  '2024-01-15 14:23:45,139 INFO app: true false null nil None values',
  '2024-01-15 14:23:45,140 INFO app: \u00a0non-breaking\u2003spaces 5',
  '2024-01-15 14:23:45,141 INFO app: same line twice 1',
  '2024-01-15 14:23:45,141 INFO app: same line twice 1',
  '2024-01-15 14:23:45,142 INFO app: same line twice 2',
];

describe('mining a message in place equals mining the message', () => {
  it('on adversarial lines, each as its own stream and all together', () => {
    for (const l of ADVERSARIAL) expect(compare([l]).mismatches).toEqual([]);
    const all = compare([...ADVERSARIAL, ...ADVERSARIAL, ...ADVERSARIAL.map((l) => l.replace(/\d/g, '7'))]);
    expect(all.mismatches).toEqual([]);
    expect(all.inPlace).toBeGreaterThan(30);
    expect(all.built).toBeGreaterThan(3);
    // cut messages and records, a small token limit, and a record limit that cuts a head line
    const cut = compare(ADVERSARIAL, { maxLinesPerRecord: 2, maxRecordChars: 40 }, { maxMessageChars: 30, maxTokens: 4 });
    expect(cut.mismatches).toEqual([]);
    expect(cut.inPlace).toBeGreaterThan(10);
    // a bare stream (no header), JSON lines and logfmt streams
    expect(compare(ADVERSARIAL.map((l) => l.slice(24))).mismatches).toEqual([]);
    const json = compare([...Array.from({ length: 70 }, (_, i) => `{"ts":"2024-01-15T14:23:${String(i % 60).padStart(2, '0')}Z","msg":"m ${i}"}`), ...ADVERSARIAL]);
    expect(json.mismatches).toEqual([]);
    expect(compare(Array.from({ length: 70 }, (_, i) => `ts=2024-01-15T14:23:45Z level=info msg="m ${i}" id=${i}`)).mismatches).toEqual([]);
  });

  const systems = existsSync(DATASETS) ? readdirSync(DATASETS).filter((d) => existsSync(join(DATASETS, d, `${d}_2k.log`))).sort() : [];
  it.skipIf(systems.length === 0)('on every Loghub-2k file', () => {
    for (const s of systems) {
      const lines = readFileSync(join(DATASETS, s, `${s}_2k.log`), 'utf8').split('\n');
      if (lines.at(-1) === '') lines.pop();
      const r = compare(lines);
      expect(r.mismatches, s).toEqual([]);
      expect(r.inPlace, s).toBeGreaterThan(0);
    }
  });

  it.skipIf(!existsSync(GENERATED))('on the first 100,000 lines of the generated corpus', () => {
    const r = compare(headLines(GENERATED, 100_000));
    expect(r.mismatches).toEqual([]);
    expect(r.inPlace).toBeGreaterThan(50_000);
    expect(r.built).toBeGreaterThan(1_000);
  }, 60_000);
});
