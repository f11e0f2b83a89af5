import { describe, expect, it } from 'vitest';
import type { Finding } from '../detect/detector.js';
import { decide, DEFAULT_DECISION, severityOfLevel } from './decision.js';

const f = (detector: string, score: number, extra: Partial<Finding> = {}): Finding => ({ detector, score, reason: `${detector} fired`, ...extra });

describe('decide', () => {
  it('counts one strong finding of a trusted detector as an anomaly', () => {
    const d = decide([f('new_template', 1)], 'info', DEFAULT_DECISION);
    expect(d.anomaly).toBe(true);
    expect(d.score).toBe(0.9);
  });

  it('does not count one weak finding of a noisy detector, but adds up several', () => {
    expect(decide([f('rare_template', 0.6)], 'info', DEFAULT_DECISION).anomaly).toBe(false);
    const both = decide([f('rare_template', 0.6), f('outlier_message', 0.6)], 'info', DEFAULT_DECISION);
    // 1 - (1 - 0.5*0.6)(1 - 0.6*0.6) = 1 - 0.7*0.64 = 0.552
    expect(both.score).toBeCloseTo(0.552, 3);
    expect(both.anomaly).toBe(true);
    expect(both.detectors).toEqual(['rare_template', 'outlier_message']);
  });

  it('needs minDetectors distinct detectors when configured so', () => {
    const cfg = { ...DEFAULT_DECISION, minDetectors: 2 };
    expect(decide([f('sensitive_data', 1)], 'info', cfg).anomaly).toBe(false);
    expect(decide([f('sensitive_data', 1), f('new_template', 0.2)], 'info', cfg).anomaly).toBe(true);
  });

  it('takes the highest severity of the level and the findings, and unions the tags', () => {
    const d = decide([f('flood', 1, { severity: 'medium', tags: ['flood'] }), f('sensitive_data', 1, { severity: 'high', tags: ['security'] })], 'info', DEFAULT_DECISION);
    expect(d.severity).toBe('high');
    expect(d.tags).toEqual(['flood', 'security']);
    expect(decide([f('flood', 1, { severity: 'low' })], 'fatal', DEFAULT_DECISION).severity).toBe('critical');
  });

  it('explains itself with the strongest reasons first', () => {
    const d = decide([f('correlation', 0.2, { reason: 'weak' }), f('sensitive_data', 1, { reason: 'strong' })], 'info', DEFAULT_DECISION);
    expect(d.reason.startsWith('strong')).toBe(true);
  });

  it('maps level words to severities', () => {
    expect(severityOfLevel('fatal')).toBe('critical');
    expect(severityOfLevel('error')).toBe('high');
    expect(severityOfLevel('warn')).toBe('medium');
    expect(severityOfLevel(undefined)).toBe('info');
  });
});

describe('decide: the strongest findings', () => {
  it('hands out the findings the reason is made of, in its order', () => {
    const fs = [f('rare_template', 0.6), f('flood', 0.9), f('new_template', 1), f('correlation', 1), f('severity', 0.5)];
    const strongest: Finding[] = [];
    const d = decide(fs, 'info', DEFAULT_DECISION, strongest);
    expect(strongest).toEqual([fs[2], fs[1], fs[3]]);
    expect(d.reason).toBe(strongest.map((x) => x.reason).join('; '));
    const one: Finding[] = [];
    expect(decide([fs[0]!], 'info', DEFAULT_DECISION, one).reason).toBe('rare_template fired');
    expect(one).toEqual([fs[0]]);
  });
});
