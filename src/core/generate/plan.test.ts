import { describe, expect, it } from 'vitest';
import { ANOMALY_KINDS } from './anomalies.js';
import { EpisodePlan, EPISODE_SIZES, kindShares, splitSizes, type Episode } from './plan.js';
import { Rng } from './prng.js';

const all = (p: EpisodePlan): Episode[] => {
  const out: Episode[] = [];
  for (let e = p.next(); e; e = p.next()) out.push(e);
  return out;
};

describe('anomaly plan', () => {
  it('splits a share into episode sizes within bounds that add up', () => {
    const r = new Rng(3);
    for (const total of [0, 1, 2, 29, 30, 250, 251, 279, 1000, 41_667]) {
      const sizes = splitSizes(r, total, 30, 250);
      expect(sizes.reduce((s, x) => s + x, 0)).toBe(total);
      if (total >= 30) for (const s of sizes) expect(s >= 30 && s <= 250).toBe(true);
    }
  });

  it('shares the budget evenly between the six kinds', () => {
    const s = kindShares(new Rng(1), 1003);
    expect(Object.values(s).reduce((a, b) => a + b, 0)).toBe(1003);
    for (const k of ANOMALY_KINDS) expect(s[k] === 167 || s[k] === 168).toBe(true);
  });

  it('places every episode after the warm-up, in order, with the exact budget', () => {
    for (const [lines, rate] of [[20_000, 0.05], [100, 0.5], [1_000_000, 0.02], [5000, 0]] as const) {
      const p = new EpisodePlan(new Rng(11), lines, rate, 0.1);
      const eps = all(p);
      expect(eps.reduce((s, e) => s + e.size, 0)).toBe(Math.round(rate * lines));
      expect(eps.map((e) => e.id)).toEqual(eps.map((_, i) => i + 1));
      for (let i = 0; i < eps.length; i++) {
        expect(eps[i]!.startLine).toBeGreaterThanOrEqual(p.warmupLines);
        expect(eps[i]!.startLine).toBeLessThan(lines);
        if (i > 0) expect(eps[i]!.startLine).toBeGreaterThanOrEqual(eps[i - 1]!.startLine);
        if (EPISODE_SIZES[eps[i]!.kind]) expect(eps[i]!.startLine).toBeLessThan(0.85 * lines + 1);
        else expect(eps[i]!.size).toBe(1);
      }
    }
  });
});
