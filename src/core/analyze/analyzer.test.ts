import { describe, expect, it } from 'vitest';
import type { Detector, DetectInput, Finding } from '../detect/detector.js';
import { resolveConfig } from './analyze-config.js';
import { Analyzer } from './analyzer.js';
import { groupAnomalies } from './anomaly-groups.js';
import type { AnomalyRow } from './report-types.js';

/** Fires on every line whose message contains "boom". */
class BoomDetector implements Detector {
  readonly name = 'boom';
  seen: DetectInput[] = [];
  observe(input: DetectInput): Finding[] {
    this.seen.push(input);
    return input.record.message.includes('boom') ? [{ detector: 'boom', score: 1, reason: 'it went boom', tags: ['error'], severity: 'high' }] : [];
  }
}

function run(files: Record<string, string[]>): { rows: AnomalyRow[]; det: BoomDetector; analyzer: Analyzer } {
  const det = new BoomDetector();
  const rows: AnomalyRow[] = [];
  const config = resolveConfig({ decision: { weights: {} } }, { boom: { defaults: {}, emits: ['boom'] } });
  const analyzer = new Analyzer({ config, detectors: [det], defaultYear: 2024, vigilVersion: 'test' }, (r) => rows.push(r));
  for (const [file, lines] of Object.entries(files)) {
    lines.forEach((l, i) => analyzer.pushLine(file, l, i + 1));
    analyzer.endFile(file);
  }
  return { rows, det, analyzer };
}

const ts = (i: number): string => `2024-01-15 10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},000`;

describe('Analyzer', () => {
  it('reports anomalous lines with their file, 1-based line and parsed fields', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `${ts(i)} INFO [api] request ${i} served`);
    lines[41] = `${ts(41)} ERROR [api] boom in handler 7`;
    const { rows } = run({ 'a.log': lines });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ file: 'a.log', line: 42, level: 'error', component: null, severity: 'high', detectors: ['boom'], message: 'boom in handler 7', template: 'boom in handler <*>' });
    expect(rows[0]!.timestamp).toBe('2024-01-15T10:00:41.000Z');
  });

  it('joins a stack trace to its record and reports the record at its first line', () => {
    const lines = Array.from({ length: 80 }, (_, i) => `${ts(i)} INFO [api] request ${i} served`);
    lines.splice(70, 0, `${ts(70)} ERROR [api] boom: unhandled`, 'java.lang.IllegalStateException: x', '\tat com.example.A.run(A.java:1)');
    const { rows, analyzer } = run({ 'b.log': lines });
    expect(rows.map((r) => r.line)).toEqual([71]);
    expect(rows[0]!.message).toContain('\tat com.example.A.run');
    const s = analyzer.finish(1, 1).summary;
    expect(s.lines.original).toBe(83);
    expect(s.lines.records).toBe(81);
  });

  it('keeps each file apart and sets binary lines aside, counted', () => {
    const { analyzer, det } = run({ 'x.log': ['alpha 1', 'beta\u0000\u0001\u0002', 'alpha 2'], 'y.log': ['gamma 1'] });
    const s = analyzer.finish(1, 1).summary;
    expect(s.files).toEqual(['x.log', 'y.log']);
    expect(s.lines.skipped.binary).toBe(1);
    expect(s.lines.processed).toBe(3);
    expect(new Set(det.seen.map((d) => d.source))).toEqual(new Set(['x.log', 'y.log']));
  });

  it('summarises templates, levels, errors and time', () => {
    const lines = Array.from({ length: 120 }, (_, i) => (i % 4 === 0 ? `${ts(i)} ERROR [db] query ${i} failed` : `${ts(i)} INFO [api] request ${i} served`));
    const { analyzer } = run({ 'c.log': lines });
    const r = analyzer.finish(2, 10);
    expect(r.summary.templates.unique).toBe(2);
    expect(r.summary.templates.topTemplateRatio).toBeCloseTo(0.75);
    expect(r.summary.templates.entropyBits).toBeCloseTo(0.811, 2);
    expect(r.summary.time.errorRate).toBeCloseTo(0.25);
    expect(r.summary.levels).toEqual({ error: 30, info: 90 });
    expect(r.summary.time.spanSeconds).toBe(119);
    expect(r.summary.time.peakPerMinute).toBe(60);
    expect(r.minutes.map((m) => m.records)).toEqual([60, 60]);
    expect(r.summary.processing.linesPerSecond).toBe(60);
    expect(Object.keys(r.summary.levels)).toEqual(['error', 'info']);
    expect(r.summary.time.first).toBe('2024-01-15T10:00:00.000Z');
    expect(r.summary.time.last).toBe('2024-01-15T10:01:59.000Z');
  });

  it('summarises a log without timestamps or levels: no time span, levels in order of appearance', () => {
    const { analyzer } = run({ 'd.log': ['just words here', 'WARN careful now', 'more words here', 'ERROR it broke'] });
    const r = analyzer.finish(1, 10);
    expect(r.summary.time.first).toBeNull();
    expect(r.summary.time.last).toBeNull();
    expect(r.summary.time.spanSeconds).toBeNull();
    expect(r.summary.time.logsPerSecond).toBeNull();
    expect(Object.entries(r.summary.levels)).toEqual([['none', 2], ['warn', 1], ['error', 1]]);
  });

  it('gives lines without timestamps the time of the last one that had it', () => {
    const lines = [
      ...Array.from({ length: 70 }, (_, i) => JSON.stringify({ time: `2024-01-15T10:00:${String(i % 60).padStart(2, '0')}Z`, level: 'info', msg: `request ${i} served` })),
      JSON.stringify({ level: 'error', msg: 'boom without a time' }),
    ];
    const { det, rows } = run({ 'd.log': lines });
    const last = det.seen[det.seen.length - 1]!;
    expect(last.record.message).toBe('boom without a time');
    expect(last.timeMs).toBe(Date.UTC(2024, 0, 15, 10, 0, 9));
    expect(rows[0]!.timestamp).toBeNull();
  });

  it('keeps the highest-scoring rows for the report, highest first, equal to the rows written, whether or not the writer returns their JSON', () => {
    class Scored implements Detector {
      readonly name = 'boom';
      observe(input: DetectInput): Finding[] {
        const m = /score (\d+)/.exec(input.record.message);
        return m ? [{ detector: 'boom', score: Number(m[1]) / 1000, reason: `scored ${m[1]}`, evidence: { n: Number(m[1]), missing: undefined }, tags: ['t'] }] : [];
      }
    }
    const config = resolveConfig({ decision: { weights: {}, threshold: 0.01 } }, { boom: { defaults: {}, emits: ['boom'] } });
    // scores in a scrambled order, many ties: more rows than are kept, so the list is cut several times
    const scores = Array.from({ length: 1_500 }, (_, i) => 10 + ((i * 7919) % 990));
    for (const returnsJson of [false, true]) {
      const rows: AnomalyRow[] = [];
      const a = new Analyzer({ config, detectors: [new Scored()], defaultYear: 2024, vigilVersion: 't' }, (r) => {
        rows.push(r);
        return returnsJson ? JSON.stringify(r) : undefined;
      });
      scores.forEach((n, i) => a.pushLine('s.log', `${ts(i % 3600)} INFO [api] request score ${n}`, i + 1));
      a.endFile('s.log');
      const report = a.finish(1, 1);
      const top = report.topAnomalies;
      expect(rows.length).toBeGreaterThan(1_000);
      // the groups count every row, not only the ones kept
      expect(report.anomalyGroups.groups.map((g) => [g.template, g.count])).toEqual([['request score <*>', rows.length]]);
      expect(report.anomalyGroups).toEqual(groupAnomalies(rows));
      expect(top.length).toBeGreaterThanOrEqual(200);
      expect(top.length).toBeLessThan(400);
      const best = [...rows].sort((x, y) => y.score - x.score).slice(0, 200);
      expect(top.slice(0, 200)).toEqual(best);
      expect(top.map((r) => r.score)).toEqual([...top.map((r) => r.score)].sort((x, y) => y - x));
    }
  });
});

describe('Analyzer redaction', () => {
  it('never writes a secret into a reported row, its template, reason or findings', () => {
    class Echo implements Detector {
      readonly name = 'echo';
      observe(input: DetectInput): Finding[] {
        return input.record.message.includes('password') ? [{ detector: 'echo', score: 1, reason: `saw ${input.record.message}`, evidence: { template: input.template, line: input.record.message } }] : [];
      }
    }
    const rows: AnomalyRow[] = [];
    const config = resolveConfig({}, { echo: { defaults: {}, emits: ['echo'] } });
    const a = new Analyzer({ config, detectors: [new Echo()], defaultYear: 2024, vigilVersion: 't' }, (r) => rows.push(r));
    a.pushLine('s.log', 'connecting with password=hunterTwo to the db', 1);
    a.endFile('s.log');
    const text = JSON.stringify(rows);
    expect(rows).toHaveLength(1);
    expect(text).not.toContain('hunterTwo');
  });
});
