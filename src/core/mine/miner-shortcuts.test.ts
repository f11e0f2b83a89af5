import { describe, expect, it, vi } from 'vitest';
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

  it('tells a burst of one message read in place from a message of the same length', () => {
    const m = new TemplateMiner();
    const a = m.addRange('aa: retry 3 of job 42', 4, 21);
    // the same message at another place of another line: a repeat
    const b = m.addRange('b: retry 3 of job 42 ', 3, 20);
    // as long, but another message: not a repeat
    const c = m.addRange('b: retry 4 of job 42', 3, 20);
    const d = m.addRange('b: retry 4 of job 43', 3, 20);
    expect([a.params, b.params, c.params, d.params]).toEqual([['3', '42'], ['3', '42'], ['4', '42'], ['4', '43']]);
    expect(new Set([a.templateId, b.templateId, c.templateId, d.templateId]).size).toBe(1);
  });

  it('counts limits on every line of a burst', () => {
    const m = new TemplateMiner({ maxTokens: 2 });
    m.add('a b c');
    m.add('a b c');
    expect(m.limits.tokens_truncated).toBe(2);
  });

  it('finds shapes it has seen in its slots, without hashing the key in a Map', () => {
    const m = new TemplateMiner();
    const lines = ['alpha beta 1', 'gamma delta epsilon zeta 2', 'eta theta iota 3'];
    for (const l of lines) m.add(l);
    const get = vi.spyOn(Map.prototype, 'get');
    try {
      // lines of known shapes, one after another of a different shape: no Map lookup at all
      for (let round = 0; round < 3; round++) for (const l of lines) expect(m.add(l.replace(/\d/, String(round + 5))).created).toBe(false);
      expect(get).not.toHaveBeenCalled();
    } finally {
      get.mockRestore();
    }
  });

  it('turns the generations when the keys reach half the character budget, however few they are', () => {
    // keys of 14 and 28 characters: the second would pass 25 (half the budget), so the generations turn
    const m = new TemplateMiner({ shapeCacheSize: 1000, shapeCacheChars: 50 });
    const inner = m as unknown as { shapeCache: Map<string, unknown>; oldShapes: Map<string, unknown> };
    m.add('alpha beta 1');
    expect([...inner.shapeCache.keys()]).toEqual(['alpha beta <*>']);
    m.add('gamma delta epsilon zeta 2');
    expect([...inner.shapeCache.keys()]).toEqual(['gamma delta epsilon zeta <*>']);
    expect([...inner.oldShapes.keys()]).toEqual(['alpha beta <*>']);
    // a one-off line longer than the budget holds a generation of its own, and the shapes in use survive it
    m.add(`${'x'.repeat(60)} 3`);
    m.add('gamma delta epsilon zeta 4');
    expect([...inner.shapeCache.keys()]).toEqual(['gamma delta epsilon zeta <*>']);
    expect(m.add('gamma delta epsilon zeta 5').created).toBe(false);
  });

  it('moves a shape found in the previous generation back into the current one', () => {
    // two shapes per generation: the third turns them
    const m = new TemplateMiner({ shapeCacheSize: 4 });
    const shapes = (): Map<string, unknown> => (m as unknown as { shapeCache: Map<string, unknown> }).shapeCache;
    m.add('alpha beta 1');
    m.add('gamma delta epsilon 2');
    m.add('eta theta iota kappa 3');
    expect([...shapes().keys()]).toEqual(['eta theta iota kappa <*>']);
    // found in the old generation (its slot was cleared when the generations turned): moved back
    m.add('alpha beta 4');
    expect([...shapes().keys()]).toEqual(['eta theta iota kappa <*>', 'alpha beta <*>']);
  });
});
