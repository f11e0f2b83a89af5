import { describe, expect, it } from 'vitest';
import { sessionKeyOf } from '../detect/session-key.js';
import { CORPUS_DEFAULTS, generateCorpus } from '../generate/corpus.js';
import { resolveConfig } from './analyze-config.js';
import { Analyzer, AnalyzerFront, Judge } from './analyzer.js';
import { createDetectors, DETECTOR_SPECS } from './detectors.js';
import { BatchReader, BatchWriter, batchBuffers, type RecordBatch } from './record-batch.js';
import type { AnalysisReport, AnomalyRow } from './report-types.js';
import type { DetectInput, Finding } from '../detect/detector.js';
import { mulberry32 } from '../detect/random.js';
import type { LogRecord } from '../parse/record.js';

const config = resolveConfig(undefined, DETECTOR_SPECS);

function corpus(lines: number, seed: number): string[] {
  const out: string[] = [];
  for (const l of generateCorpus({ ...CORPUS_DEFAULTS, lines, anomalyRate: 0.1, seed })) out.push(l.line);
  return out;
}

type Files = [string, string[]][];

/** Everything on one thread, as `--threads 1` runs it. */
function oneThread(files: Files): { rows: AnomalyRow[]; report: AnalysisReport } {
  const rows: AnomalyRow[] = [];
  const a = new Analyzer({ config, detectors: createDetectors(config), sessionKeyOf, defaultYear: 2026, vigilVersion: 't' }, (r) => rows.push(r));
  for (const [name, lines] of files) {
    lines.forEach((l, i) => a.pushLine(name, l, i + 1));
    a.endFile(name);
  }
  return { rows, report: a.finish(1, 1) };
}

/**
 * Split as `--threads 2` runs it: the front (with sensitive_data) packs records into batches, each
 * batch goes through structured clone with its buffers transferred (what postMessage does), and the
 * judge unpacks them.
 */
function split(files: Files, capacity: number, carryFields: boolean): { rows: AnomalyRow[]; report: AnalysisReport; batches: number } {
  const rows: AnomalyRow[] = [];
  // sensitive_data reads parameters and attributes: in the front, or in the judge when they are carried
  const front = new Set(carryFields ? [] : ['sensitive_data']);
  const judge = new Judge({ config, detectors: createDetectors(config).map((d) => (front.has(d.name) ? undefined : d)), vigilVersion: 't' }, (r) => rows.push(r));
  const reader = new BatchReader(judge);
  let batches = 0;
  const writer = new BatchWriter((b: RecordBatch) => {
    batches++;
    reader.read(structuredClone(b, { transfer: batchBuffers(b) }));
  }, { capacity, carryFields });
  const f = new AnalyzerFront({ limits: config.limits, defaultYear: 2026, sessionKeyOf, detectors: createDetectors(config).map((d) => (front.has(d.name) ? d : undefined)) }, writer);
  for (const [name, lines] of files) {
    lines.forEach((l, i) => {
      f.pushLine(name, l, i + 1);
      if (i % 97 === 0) writer.flush();
    });
    f.endFile(name);
  }
  writer.flush();
  return { rows, report: judge.finish(f.stats(), 1, 1), batches };
}

describe('record batches (the two-thread analyze)', () => {
  it('give the same anomalies, summary and charts as one thread, whatever the batch size', () => {
    const files: Files = [
      ['a.log', corpus(12_000, 7)],
      ['b.log', [...corpus(3_000, 8), 'bin\u0000ary\u0001\u0002 line', '2026-01-01 00:00:00 ERROR [x] oops', '']],
    ];
    const one = oneThread(files);
    expect(one.rows.length).toBeGreaterThan(100);
    // findings of the front's detector (sensitive_data) are merged in at their place
    expect(one.rows.some((r) => r.detectors.includes('sensitive_data') && r.detectors.length > 1)).toBe(true);
    expect(one.rows.some((r) => r.detectors.includes('malformed'))).toBe(true);
    for (const [capacity, carry] of [[1, false], [50, false], [8_192, false], [1, true], [50, true], [8_192, true]] as const) {
      const two = split(files, capacity, carry);
      expect(two.batches).toBeGreaterThan(1);
      expect(JSON.stringify(two.rows)).toBe(JSON.stringify(one.rows));
      expect(JSON.stringify(two.report)).toBe(JSON.stringify(one.report));
    }
  });

  it('carries parameters and attributes (in order, odd names included) when asked', () => {
    const got: { params: readonly string[]; attrs: string[] | undefined }[] = [];
    const reader = new BatchReader({ record: (input) => got.push({ params: input.params, attrs: input.record.attributes && Object.entries(input.record.attributes).flat() }), binary: () => undefined });
    const writer = new BatchWriter((b) => reader.read(structuredClone(b)), { capacity: 2, carryFields: true });
    const attrs = JSON.parse('{"b":"1","__proto__":"x","2":"two","a":"3"}') as Record<string, string>;
    const rec = (params: string[], attributes?: Record<string, string>) => ({ seq: 1, source: 'f', record: { message: 'm', ...(attributes ? { attributes } : {}) }, templateId: 't', template: 't', params, createdTemplate: false, timeMs: 0 });
    writer.record(rec(['a', 'b']), 'c', undefined);
    writer.binary('f', '\u0000', 2);
    writer.record(rec([], attrs), 'c', undefined);
    writer.record(rec(['z'], {}), 'c', undefined);
    writer.flush();
    expect(got).toEqual([{ params: ['a', 'b'], attrs: undefined }, { params: [], attrs: Object.entries(attrs).flat() }, { params: ['z'], attrs: [] }]);
  });

  it('carries a template whose text changes within a batch at the right entry', () => {
    const rows: { template: string; seq: number }[] = [];
    const reader = new BatchReader({
      record: (input) => rows.push({ template: input.template, seq: input.seq }),
      binary: () => undefined,
    });
    const writer = new BatchWriter((b) => reader.read(structuredClone(b)), { capacity: 100 });
    const rec = (seq: number, template: string) => ({ seq, source: 'f', record: { message: 'm' }, templateId: 't1', template, params: [], createdTemplate: false, timeMs: 0 });
    writer.record(rec(1, 'user a logged in'), 'c', undefined);
    writer.record(rec(2, 'user <*> logged in'), 'c', undefined);
    writer.record(rec(3, 'user <*> logged in'), 'c', undefined);
    writer.flush();
    expect(rows).toEqual([{ template: 'user a logged in', seq: 1 }, { template: 'user <*> logged in', seq: 2 }, { template: 'user <*> logged in', seq: 3 }]);
  });

  it('carries every record field exactly: messages equal to their template, repeated and colliding ids, empty ids', () => {
    const rnd = mulberry32(3);
    const inputs: DetectInput[] = [];
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    // many ids of equal length and last characters (they share slots of the writer's id table)
    const ids = ['', 'r', 'req-1', 'req-2', 'req-a1', 'req-b1', 'xx-1', 'yy-1', ...Array.from({ length: 600 }, (_, k) => `req-${String(k).padStart(6, '0')}`)];
    for (let k = 0; k < 5_000; k++) {
      const template = pick(['user <*> logged in', 'plain text', 'cache warmed', '']);
      const record: LogRecord = { message: rnd() < 0.4 ? template : pick(['user a logged in', 'plain text!', '', 'cache warmed ']) };
      if (rnd() < 0.5) record.requestId = pick(ids);
      if (rnd() < 0.3) record.level = 'info';
      if (rnd() < 0.6) record.component = pick(ids);
      if (rnd() < 0.3) record.host = pick(ids);
      const input: DetectInput = { seq: k + 1, source: pick(['a', 'b']), record, templateId: `t${template.length}`, template, params: [], createdTemplate: false, timeMs: k };
      const r = rnd();
      if (r < 0.3 && record.requestId !== undefined) input.sessionKey = record.requestId;
      else if (r < 0.7) input.sessionKey = pick(ids);
      inputs.push(input);
    }
    for (const capacity of [1, 7, 300, 8_192]) {
      const got: DetectInput[] = [];
      const groups: string[] = [];
      // the reader reuses one input and record: copy them
      const reader = new BatchReader({ record: (input, group) => { got.push({ ...input, record: { ...input.record } }); groups.push(group); }, binary: () => undefined });
      const writer = new BatchWriter((b) => reader.read(structuredClone(b, { transfer: batchBuffers(b) })), { capacity });
      for (const input of inputs) writer.record(input, input.record.component ?? 'c', undefined);
      writer.flush();
      // (the reader also hands the group on in the input, for detectors: see DetectInput.group)
      expect(got).toEqual(inputs.map((i) => ({ ...i, group: i.record.component ?? 'c' })));
      expect(groups).toEqual(inputs.map((i) => i.record.component ?? 'c'));
    }
  });

  it('judge: every detector keeps nothing of an input object that is reused and rewritten for the next record', () => {
    // the judge fed fresh objects, and the judge fed one input and record object that is rewritten
    // for each record and scribbled over once judged: a detector or statistic that kept the object
    // (in a map, a window, a trail, a finding's evidence, a sample, a cache by identity) would
    // report the scribbles or miss its own memo, and the rows or the report would differ
    const files: Files = [
      ['a.log', corpus(20_000, 11)],
      ['b.log', corpus(6_000, 12)],
    ];
    const run = (reuse: boolean): { rows: AnomalyRow[]; report: AnalysisReport } => {
      const rows: AnomalyRow[] = [];
      const inFront = (name: string): boolean => name === 'sensitive_data';
      const judge = new Judge({ config, detectors: createDetectors(config).map((d) => (inFront(d.name) ? undefined : d)), vigilVersion: 't' }, (r) => rows.push(r));
      const rec: LogRecord = { message: '', timestamp: undefined, level: undefined, component: undefined, host: undefined, requestId: undefined, attributes: undefined };
      const one: DetectInput = { seq: 0, source: '', record: rec, templateId: '', template: '', params: [], createdTemplate: false, timeMs: 0, sessionKey: undefined };
      const sink = {
        record: (input: DetectInput, component: string, front: (Finding[] | undefined)[] | undefined): void => {
          if (!reuse) return judge.record(input, component, front);
          Object.assign(rec, { timestamp: undefined, level: undefined, component: undefined, host: undefined, requestId: undefined, attributes: undefined }, input.record);
          Object.assign(one, { sessionKey: undefined }, input, { record: rec, params: [...input.params] });
          judge.record(one, component, front);
          Object.assign(rec, { message: 'SCRIBBLE', timestamp: 0, level: 'fatal', component: 'SCRIBBLE', host: 'SCRIBBLE', requestId: 'SCRIBBLE', attributes: { x: 'SCRIBBLE' } });
          (one.params as string[]).fill('SCRIBBLE');
          Object.assign(one, { seq: -1, source: 'SCRIBBLE', templateId: 'SCRIBBLE', template: 'SCRIBBLE', createdTemplate: true, timeMs: 0, sessionKey: 'SCRIBBLE' });
        },
        binary: (file: string, text: string, lineNo: number): void => judge.binary(file, text, lineNo),
      };
      const f = new AnalyzerFront({ limits: config.limits, defaultYear: 2026, sessionKeyOf, detectors: createDetectors(config).map((d) => (inFront(d.name) ? d : undefined)) }, sink);
      for (const [name, lines] of files) {
        lines.forEach((l, i) => f.pushLine(name, l, i + 1));
        f.endFile(name);
      }
      return { rows, report: judge.finish(f.stats(), 1, 1) };
    };
    const fresh = run(false);
    const reused = run(true);
    // the corpus makes most judging detectors fire (and every one of them observes every record)
    const fired = new Set(fresh.rows.flatMap((r) => r.detectors));
    for (const d of ['new_template', 'frequency_spike', 'error_rate', 'flood', 'sequence', 'severity', 'correlation']) expect(fired, d).toContain(d);
    expect(fresh.report.summary.failingRequests.total).toBeGreaterThan(0);
    expect(fresh.report.summary.windowFindings.length).toBeGreaterThan(0);
    expect(JSON.stringify(reused.rows)).not.toContain('SCRIBBLE');
    expect(JSON.stringify(reused.report)).not.toContain('SCRIBBLE');
    expect(JSON.stringify(reused.rows)).toBe(JSON.stringify(fresh.rows));
    expect(JSON.stringify(reused.report)).toBe(JSON.stringify(fresh.report));
  });

  it('refuses a detector with window findings in the front (its windows would be lost)', () => {
    const detectors = createDetectors(config).map((d) => (d.name === 'frequency' ? d : undefined));
    expect(() => new AnalyzerFront({ limits: config.limits, defaultYear: 2026, detectors }, { record: () => undefined, binary: () => undefined })).toThrow(/frequency/);
  });
  it('names each record\'s source and component right across files, binary lines and the tables starting over', () => {
    const got: string[] = [];
    const reader = new BatchReader({
      record: (input, component) => void got.push(`${input.source}|${input.record.component ?? '-'}|${component}`),
      binary: (file, text) => void got.push(`${file}|binary|${text}`),
    });
    const { writer, resets } = crossing(reader, 512);
    const want: string[] = [];
    const rec = (source: string, component: string | undefined, seq: number): void => {
      const record: LogRecord = { message: `m${seq}`, component };
      writer.record({ seq, source, record, templateId: 't', template: 'm<*>', params: [], createdTemplate: false, timeMs: 0 }, component ?? source, undefined);
      want.push(`${source}|${component ?? '-'}|${component ?? source}`);
    };
    // past the name table's bound (100,000) it starts over: the source must be named again
    for (let k = 0; k < 156_000; k++) {
      const source = k % 1000 < 990 ? 'a.log' : 'b.log';
      rec(source, k % 3 === 0 ? undefined : `c${k}`, k);
      if (k % 5000 === 7) {
        writer.binary('c.log', `bin${k}`, k);
        want.push(`c.log|binary|bin${k}`);
      }
    }
    writer.flush();
    expect(resets()).toBeGreaterThan(0);
    expect(got).toEqual(want);
  });

  it('gives each record its template\'s text across the template table starting over', () => {
    const got: string[] = [];
    const reader = new BatchReader({ record: (input) => void got.push(`${input.templateId}|${input.template}`), binary: () => undefined });
    const { writer, resets } = crossing(reader, 512);
    const want: string[] = [];
    const rec = (id: string, text: string, seq: number): void => {
      writer.record({ seq, source: 'a.log', record: { message: text }, templateId: id, template: text, params: [], createdTemplate: false, timeMs: 0 }, 'a.log', undefined);
      want.push(`${id}|${text}`);
    };
    // past the template table's bound (20,000) both sides start over; a template from before, and
    // one the miner has since generalised (same id, new text), must still come with their text
    for (let k = 0; k < 45_000; k++) {
      rec(`t${k}`, `one-off line ${k}`, 2 * k);
      rec('t-common', k < 30_000 ? 'request <*> done' : 'request <*> done in <*>', 2 * k + 1);
    }
    rec('t7', 'one-off line 7', 90_000);
    writer.flush();
    expect(resets()).toBe(2);
    expect(got).toEqual(want);
  });
});

/** A writer whose batches reach `reader` as they cross threads (cloned, buffers transferred); counts the batches that start the tables over. */
function crossing(reader: BatchReader, capacity: number): { writer: BatchWriter; resets: () => number } {
  let resets = 0;
  const writer = new BatchWriter((b: RecordBatch) => {
    if (b.reset) resets++;
    reader.read(structuredClone(b, { transfer: batchBuffers(b) }));
  }, { capacity });
  return { writer, resets: () => resets };
}
