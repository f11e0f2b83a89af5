import { describe, expect, it } from 'vitest';
import { TemplateMiner } from './miner.js';

describe('TemplateMiner shortcuts', () => {
  it('mines a message read in place as it mines the message', () => {
    const lines = ['x: took 12 ms', 'x: took 13 ms', 'x: connection from 10.0.0.1 at Jun 5 12:00:00', 'x: user bob logged in', 'x: user bob logged in'];
    const a = new TemplateMiner();
    const b = new TemplateMiner();
    for (const line of lines) expect(b.addRange(line, 3, line.length)).toEqual(a.add(line.slice(3)));
    expect(b.snapshot()).toEqual(a.snapshot());
  });

  it('gives each line of a burst of one message its own values', () => {
    const m = new TemplateMiner();
    const first = m.add('retry 3 of job 42');
    first.params.push('changed by the caller');
    const second = m.add('retry 3 of job 42');
    expect(second.params).toEqual(['3', '42']);
    expect(second.params).not.toBe(first.params);
    expect(second.templateId).toBe(first.templateId);
  });

  it('counts limits on every line of a burst', () => {
    const m = new TemplateMiner({ maxTokens: 2 });
    m.add('a b c');
    m.add('a b c');
    expect(m.limits.tokens_truncated).toBe(2);
  });
});
