import { describe, expect, it } from 'vitest';
import { mulberry32, Random, seedFromString } from './random.js';

describe('mulberry32', () => {
  it('keeps its output stable: the first draws for seed 42 are those of the reference implementation', () => {
    const r = mulberry32(42);
    expect([r(), r(), r()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const sa = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c())).not.toEqual(sa);
  });

  it('returns floats in [0, 1) spread evenly: mean near 1/2, every tenth of the interval hit about equally', () => {
    const r = mulberry32(123);
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
      bins[Math.floor(x * 10)]!++;
    }
    expect(outside).toBe(0);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    for (const b of bins) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });
});

describe('seedFromString', () => {
  it('is FNV-1a: the same uint32 for the same name in every process', () => {
    expect(seedFromString('')).toBe(0x811c9dc5);
    expect(seedFromString('a')).toBe(0xe40c292c);
    expect(seedFromString('app')).toBe(seedFromString('app'));
    expect(seedFromString('app')).not.toBe(seedFromString('api'));
  });
});

describe('Random', () => {
  it('draws integers in [0, n) and hits every one of them', () => {
    const r = new Random(5);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const x = r.int(7);
      expect(Number.isInteger(x) && x >= 0 && x < 7).toBe(true);
      seen.add(x);
    }
    expect(seen.size).toBe(7);
  });

  it('samples k distinct indices without replacement, with both the small-k and the large-k algorithm', () => {
    const r = new Random(9);
    for (const [n, k] of [[1000, 10], [100, 60], [5, 5], [5, 0]] as const) {
      const s = Array.from(r.sampleIndices(n, k));
      expect(s).toHaveLength(k);
      expect(new Set(s).size).toBe(k);
      for (const i of s) expect(i >= 0 && i < n).toBe(true);
    }
  });

  it('returns every index when asked for more than there are', () => {
    expect(Array.from(new Random(1).sampleIndices(4, 10))).toEqual([0, 1, 2, 3]);
    expect(new Random(1).sample(['a', 'b'], 5)).toEqual(['a', 'b']);
  });

  it('samples the same indices for the same seed', () => {
    expect(Array.from(new Random(3).sampleIndices(1_000_000, 256))).toEqual(Array.from(new Random(3).sampleIndices(1_000_000, 256)));
    expect(new Random(3).sample(['a', 'b', 'c', 'd', 'e'], 2)).toEqual(new Random(3).sample(['a', 'b', 'c', 'd', 'e'], 2));
  });

  it('gives every item the same chance of being sampled (3 of 10, 30,000 times: each about 9,000)', () => {
    for (const [n, k] of [[10, 3], [40, 2]] as const) {
      const r = new Random(11);
      const hits = new Array<number>(n).fill(0);
      const rounds = 30_000;
      for (let t = 0; t < rounds; t++) for (const i of r.sampleIndices(n, k)) hits[i]!++;
      const expected = (rounds * k) / n;
      for (const h of hits) expect(Math.abs(h - expected) / expected).toBeLessThan(0.08);
    }
  });

  it('samples by weight without replacement: weight-0 items never, heavier items more often', () => {
    const r = new Random(2);
    const hits = [0, 0, 0, 0];
    for (let t = 0; t < 10_000; t++) {
      const s = Array.from(r.weightedSampleIndices([0, 1, 1, 8], 2));
      expect(new Set(s).size).toBe(2);
      for (const i of s) hits[i]!++;
    }
    expect(hits[0]).toBe(0);
    expect(hits[3]).toBeGreaterThan(9000);
    expect(Math.abs(hits[1]! - hits[2]!)).toBeLessThan(400);
  });

  it('weighted samples are exactly those of a full sort by key (the heap is only faster), ties and all', () => {
    /** The straightforward version: every key, sorted, the first k (index order when all are drawn). */
    function reference(source: () => number, weights: number[], k: number): number[] {
      const keys: { i: number; key: number }[] = [];
      weights.forEach((w, i) => {
        if (w > 0) keys.push({ i, key: Math.log(1 - source()) / w });
      });
      if (k < keys.length) keys.sort((a, b) => b.key - a.key || a.i - b.i);
      return keys.slice(0, Math.min(k, keys.length)).map((x) => x.i);
    }
    const gen = new Random(5);
    for (let round = 0; round < 200; round++) {
      const n = 1 + gen.int(400);
      // equal weights and zeros too; Infinity weights give equal keys (0), so ties are exercised
      const weights = Array.from({ length: n }, () => [0, 1, 1, 2.5, gen.next() * 10, Infinity][gen.int(6)]!);
      const k = [0, 1, 7, 256, n, n + 3][gen.int(6)]!;
      const seed = gen.int(1_000_000);
      const ref = reference(mulberry32(seed), weights, k);
      expect(Array.from(new Random(seed).weightedSampleIndices(weights, k)), `round ${round}`).toEqual(ref);
    }
    // as outlier_message draws them (thousands of templates weighted by log counts, 256 drawn): most
    // items are passed over by the bound without their key; tiny and huge weights at the edges
    for (let round = 0; round < 40; round++) {
      const n = 2_000 + gen.int(4_000);
      const weights = Array.from({ length: n }, () => (gen.next() < 0.02 ? [1e-300, 1e300, 0, 5e-324][gen.int(4)]! : Math.log1p(1 + gen.int(100_000))));
      const k = [1, 16, 256, 1_000][gen.int(4)]!;
      const seed = gen.int(1_000_000);
      expect(Array.from(new Random(seed).weightedSampleIndices(weights, k)), `large round ${round}`).toEqual(reference(mulberry32(seed), weights, k));
    }
  });
});
