import { describe, expect, it } from 'vitest';
import { AnomalyGroups, groupAnomalies } from './anomaly-groups.js';
import type { AnomalyRow } from './report-types.js';
import type { Severity } from '../detect/detector.js';

const row = (templateId: string, line: number, score: number, severity: Severity, extra: Partial<AnomalyRow> = {}): AnomalyRow => ({
  file: 'a.log',
  line,
  timestamp: `2026-11-20T08:00:${String(line % 60).padStart(2, '0')}.000Z`,
  message: `message ${line}`,
  template: `template ${templateId}`,
  templateId,
  score,
  detectors: ['severity'],
  severity,
  reason: `reason ${line}`,
  tags: [],
  component: null,
  level: null,
  findings: [],
  ...extra,
});

describe('AnomalyGroups', () => {
  it('counts every line of a template, with its worst severity, best line, span, files and detectors', () => {
    const rows = [
      row('t1', 30, 0.6, 'medium'),
      row('t1', 10, 0.9, 'high', { detectors: ['flood', 'severity'] }),
      row('t1', 20, 0.9, 'medium', { file: 'b.log' }),
      row('t1', 40, 0.5, 'critical', { file: 'b.log', detectors: ['flood'] }),
      row('t2', 5, 1, 'low'),
    ];
    const { groups, templates, dropped } = groupAnomalies(rows);
    expect(templates).toBe(2);
    expect(dropped).toEqual({ groups: 0, lines: 0 });
    // most severe first, whatever the scores
    expect(groups.map((g) => g.templateId)).toEqual(['t1', 't2']);
    expect(groups[0]).toEqual({
      templateId: 't1',
      template: 'template t1',
      count: 4,
      severity: 'critical',
      maxScore: 0.9,
      // the first of the two lines at 0.9
      best: { file: 'a.log', line: 10, timestamp: '2026-11-20T08:00:10.000Z', message: 'message 10', reason: 'reason 10' },
      first: { file: 'a.log', line: 10, timestamp: '2026-11-20T08:00:10.000Z' },
      last: { file: 'b.log', line: 40, timestamp: '2026-11-20T08:00:40.000Z' },
      files: 2,
      detectors: [['severity', 3], ['flood', 2]],
    });
  });

  it('groups binary lines (no template) together, and orders equals by score, then lines, then key', () => {
    const rows = [row('', 1, 1, 'medium', { template: '', detectors: ['malformed'] }), row('', 2, 1, 'medium', { template: '', detectors: ['malformed'] }), row('b', 3, 1, 'medium'), row('b', 4, 1, 'medium'), row('b', 5, 1, 'medium'), row('a', 6, 1, 'medium'), row('c', 7, 0.7, 'medium')];
    expect(groupAnomalies(rows).groups.map((g) => [g.templateId, g.count])).toEqual([['b', 3], ['', 2], ['a', 1], ['c', 1]]);
  });

  it('keeps only a line\'s width of long messages and reasons, as flat strings', () => {
    const long = 'x'.repeat(100_000);
    const g = groupAnomalies([row('t', 1, 1, 'high', { message: long, reason: long })]).groups[0]!;
    expect(g.best.message).toBe('x'.repeat(200));
    expect(g.best.reason).toBe('x'.repeat(200));
  });

  it('stays bounded: past its limit it drops the half that matters least and counts what it dropped', () => {
    const groups = new AnomalyGroups(100);
    // one critical template among 1,000 one-off low ones, and a high one that keeps coming back
    groups.add(row('crit', 1, 1, 'critical'));
    for (let i = 0; i < 1_000; i++) {
      groups.add(row(`low${i}`, 10 + i, 0.5, 'low'));
      if (i % 10 === 0) groups.add(row('high', 5_000 + i, 0.8, 'high'));
    }
    const r = groups.report(5);
    expect(r.groups.slice(0, 2).map((g) => [g.templateId, g.count])).toEqual([['crit', 1], ['high', 100]]);
    expect(r.groups).toHaveLength(5);
    expect(r.templates).toBe(1_002);
    // every line is either in a group kept or counted as dropped
    const kept = groups.report(1_000);
    expect(kept.groups.length).toBeLessThanOrEqual(100);
    expect(kept.groups.reduce((n, g) => n + g.count, 0) + kept.dropped.lines).toBe(1 + 1_000 + 100);
    expect(kept.dropped.groups).toBe(1_002 - kept.groups.length);
  });
});
