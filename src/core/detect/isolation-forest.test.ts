import { describe, expect, it } from 'vitest';
import { averagePathLength, harmonic, IsolationForest, quantile, thresholdFor, toSparse, type Row, type SparseVector } from './isolation-forest.js';
import { mulberry32, Random } from './random.js';

/** Two round clusters of 2-D points (Box–Muller from a seeded generator) and one far point, last. */
function clustersWithOutlier(seed = 1): number[][] {
  const r = new Random(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
  const rows: number[][] = [];
  for (let i = 0; i < 150; i++) rows.push([gauss() * 0.5, gauss() * 0.5]);
  for (let i = 0; i < 150; i++) rows.push([5 + gauss() * 0.5, 5 + gauss() * 0.5]);
  rows.push([2.5, 9]);
  return rows;
}

const argmax = (xs: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
};

describe('averagePathLength c(n)', () => {
  it('has the known values c(1) = 0, c(2) = 1, c(3) = 5/3 and c(256) ≈ 10.24', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(3)).toBeCloseTo(2 * 1.5 - 4 / 3, 12);
    expect(averagePathLength(256)).toBeCloseTo(10.24, 1);
    // 2 H(255) - 510/256, with H(255) summed exactly
    let h = 0;
    for (let i = 1; i <= 255; i++) h += 1 / i;
    expect(averagePathLength(256)).toBeCloseTo(2 * h - 510 / 256, 12);
  });

  it('uses harmonic numbers that stay continuous where the exact table gives way to the expansion', () => {
    expect(harmonic(1)).toBe(1);
    expect(harmonic(4)).toBeCloseTo(25 / 12, 12);
    expect(harmonic(4097) - harmonic(4096)).toBeCloseTo(1 / 4097, 9);
  });
});

describe('quantile and thresholdFor', () => {
  it('interpolates between ranks like numpy.percentile', () => {
    const xs = [0.5, 0.1, 0.3, 0.2, 0.4];
    expect(quantile(xs, 0)).toBe(0.1);
    expect(quantile(xs, 1)).toBe(0.5);
    expect(quantile(xs, 0.5)).toBe(0.3);
    expect(quantile(xs, 0.9)).toBeCloseTo(0.46, 12);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('puts the threshold at the (1 - contamination) quantile, so scores strictly above it are the top share', () => {
    const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    const t = thresholdFor(scores, 0.1);
    expect(t).toBeCloseTo(0.91, 12);
    expect(scores.filter((s) => s > t)).toEqual([1.0]);
    expect(() => thresholdFor(scores, 0)).toThrow(RangeError);
    expect(() => thresholdFor(scores, 0.6)).toThrow(RangeError);
  });
});

describe('toSparse', () => {
  it('turns dense rows, unsorted index/value arrays and Maps into one ascending form without zeros', () => {
    const want = { indices: Int32Array.from([1, 4]), values: Float64Array.from([2, 3]) };
    expect(toSparse([0, 2, 0, 0, 3])).toEqual(want);
    expect(toSparse({ indices: [4, 1, 2], values: [3, 2, 0] })).toEqual(want);
    expect(toSparse(new Map([[4, 3], [1, 2]]))).toEqual(want);
    expect(toSparse({ indices: [4, 4], values: [1, 2] })).toEqual({ indices: Int32Array.from([4]), values: Float64Array.from([3]) });
  });

  it('rejects non-finite values and bad indices', () => {
    expect(() => toSparse([1, Number.NaN])).toThrow(RangeError);
    expect(() => toSparse({ indices: [-1], values: [1] })).toThrow(RangeError);
    expect(() => toSparse({ indices: [0.5], values: [1] })).toThrow(RangeError);
  });
});

describe('IsolationForest', () => {
  it('gives the far point among two 2-D clusters the highest score, well above the clusters', () => {
    const rows = clustersWithOutlier();
    const forest = new IsolationForest().fit(rows, { seed: 1 });
    const scores = forest.scoreAll(rows);
    expect(argmax(scores)).toBe(rows.length - 1);
    expect(scores[rows.length - 1]).toBeGreaterThan(0.65);
    expect(quantile(scores.subarray(0, 300), 0.5)).toBeLessThan(0.5);
    // the cluster centres are the most normal places there are
    expect(forest.score([0, 0])).toBeLessThan(0.45);
    expect(forest.score([5, 5])).toBeLessThan(0.45);
  });

  it('scores in (0, 1]', () => {
    const rows = clustersWithOutlier(2);
    const forest = new IsolationForest().fit(rows, { seed: 2, trees: 20 });
    for (const s of forest.scoreAll([...rows, [100, -100], [0, 0]])) expect(s > 0 && s <= 1).toBe(true);
  });

  it('gives the same scores for the same seed, and other scores (same verdict) for another seed', () => {
    const rows = clustersWithOutlier(3);
    const a = new IsolationForest().fit(rows, { seed: 7 }).scoreAll(rows);
    const b = new IsolationForest().fit(rows, { seed: 7 }).scoreAll(rows);
    const c = new IsolationForest().fit(rows, { seed: 8 }).scoreAll(rows);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    expect(argmax(c)).toBe(argmax(a));
  });

  it('grows trees on min(sampleSize, rows) rows to height ceil(log2 ψ): at most 2ψ - 1 nodes a tree', () => {
    const rows = clustersWithOutlier();
    const forest = new IsolationForest().fit(rows, { seed: 1, trees: 10, sampleSize: 64 });
    expect(forest.trees).toBe(10);
    expect(forest.sampleSize).toBe(64);
    expect(forest.nodeCount).toBeLessThanOrEqual(10 * 127);
    expect(new IsolationForest().fit(rows.slice(0, 20), { seed: 1 }).sampleSize).toBe(20);
  });

  it('gives the same scores for the same data as dense rows, sparse vectors and Maps', () => {
    const dense = clustersWithOutlier(4).map((p) => [0, p[0]!, 0, p[1]!]);
    const sparse: SparseVector[] = dense.map((p) => ({ indices: [1, 3], values: [p[1]!, p[3]!] }));
    const maps = dense.map((p) => new Map([[3, p[3]!], [1, p[1]!]]));
    const a = new IsolationForest().fit(dense, { seed: 5 });
    const b = new IsolationForest().fit(sparse, { seed: 5 });
    const c = new IsolationForest().fit(maps, { seed: 5 });
    for (let i = 0; i < dense.length; i += 17) {
      expect(b.score(sparse[i]!)).toBe(a.score(dense[i]!));
      expect(c.score(maps[i]!)).toBe(a.score(dense[i]!));
      expect(a.score(sparse[i]!)).toBe(a.score(dense[i]!));
    }
  });

  it('grows the same forest from dense copies of the rows as from their sparse form (maxDenseValues)', () => {
    const gen = new Random(11);
    for (let round = 0; round < 12; round++) {
      const d = [1, 3, 40, 203][round % 4]!;
      const n = 30 + gen.int(600);
      // mostly zeros in the wide rows (as window counts are), repeated rows, negatives and ties
      const rows = Array.from({ length: n }, () => Float64Array.from({ length: d }, () => (gen.next() < (d > 3 ? 0.6 : 0.1) ? 0 : gen.next() < 0.2 ? -1 : Math.round(gen.next() * 8) / 4)));
      for (let i = 0; i < n; i += 7) rows[i] = rows[0]!;
      const weights = round % 2 === 0 ? Array.from({ length: n }, () => gen.next() * 3) : undefined;
      const opts = { seed: round, trees: 30, ...(weights ? { weights } : {}) };
      const dense = new IsolationForest().fit(rows, opts);
      const sparse = new IsolationForest().fit(rows, { ...opts, maxDenseValues: 0 });
      expect(dense.nodeCount).toBe(sparse.nodeCount);
      // every private array: the same nodes, features, cuts and ranges
      for (const k of ['feature', 'value', 'right', 'lo', 'hi', 'roots'] as const) {
        expect(Array.from((dense as unknown as Record<string, ArrayLike<number>>)[k]!), `${k} round ${round}`).toEqual(Array.from((sparse as unknown as Record<string, ArrayLike<number>>)[k]!));
      }
      const probe = [...rows.slice(0, 20), Float64Array.from({ length: d }, () => 9)];
      for (const r of probe) expect(dense.noveltyScore(r)).toBe(sparse.noveltyScore(r));
    }
  });

  it('cuts only features that vary in the node: 49 constant features do not dilute the one that matters', () => {
    const r = new Random(6);
    const rows: number[][] = [];
    for (let i = 0; i < 200; i++) {
      const row = new Array<number>(50).fill(7);
      row[20] = r.uniform(0, 1);
      rows.push(row);
    }
    const odd = new Array<number>(50).fill(7);
    odd[20] = 4;
    rows.push(odd);
    const scores = new IsolationForest().fit(rows, { seed: 6 }).scoreAll(rows);
    expect(argmax(scores)).toBe(200);
    expect(scores[200]).toBeGreaterThan(0.7);
  });

  it('isolates a sparse row holding a term no other row has, among 5,000-term rows', () => {
    const r = new Random(8);
    const rows: SparseVector[] = [];
    // three kinds of message, each a fixed set of terms with a little noise in the weights
    const kinds = [[10, 200, 3000], [11, 201, 4000], [12, 202, 4999]];
    for (let i = 0; i < 300; i++) {
      const terms = kinds[i % 3]!;
      rows.push({ indices: terms, values: terms.map(() => 0.5 + r.uniform(0, 0.1)) });
    }
    rows.push({ indices: [10, 200, 2500], values: [0.55, 0.55, 0.55] });
    const scores = new IsolationForest().fit(rows, { seed: 8 }).scoreAll(rows);
    expect(argmax(scores)).toBe(300);
  });

  it('says nothing (0.5 everywhere) when all rows are the same, or there is only one', () => {
    const same = new IsolationForest().fit(Array.from({ length: 50 }, () => [1, 2]), { seed: 1 });
    expect(same.score([1, 2])).toBeCloseTo(0.5, 12);
    expect(same.score([100, 2])).toBeCloseTo(0.5, 12);
    expect(new IsolationForest().fit([[1, 2]], { seed: 1 }).score([3, 4])).toBe(0.5);
  });

  it('draws each tree\'s rows by weight: rows of weight 0 are never fitted', () => {
    const rows = [...Array.from({ length: 100 }, (_, i) => [i % 10, Math.floor(i / 10)]), [50, 50]];
    const weights = rows.map((_, i) => (i < 100 ? 1 : 0));
    const withWeights = new IsolationForest().fit(rows, { seed: 3, weights });
    const without = new IsolationForest().fit(rows.slice(0, 100), { seed: 3 });
    // the far row is scored as a newcomer would be, not as a fitted row
    expect(withWeights.score([50, 50])).toBeGreaterThan(0.6);
    expect(withWeights.sampleSize).toBe(100);
    expect(without.score([50, 50])).toBeGreaterThan(0.6);
    expect(() => new IsolationForest().fit(rows, { weights: rows.map(() => 0) })).toThrow(RangeError);
  });

  it('rejects fitting on no rows and scoring before fitting', () => {
    expect(() => new IsolationForest().fit([])).toThrow(RangeError);
    expect(() => new IsolationForest().score([1])).toThrow(Error);
  });

  describe('noveltyScore', () => {
    const line = Array.from({ length: 100 }, (_, i) => [i]);
    const forest = new IsolationForest().fit(line, { seed: 4 });

    it('tells a row far beyond the fitted rows from the most extreme fitted row, which the standard score cannot', () => {
      // every cut was drawn inside [0, 99]: 99 and 1,000 fall into the same leaves
      expect(forest.score([1000])).toBe(forest.score([99]));
      expect(forest.noveltyScore([1000])).toBeGreaterThan(forest.noveltyScore([99]) + 0.2);
      expect(forest.noveltyScore([120])).toBeGreaterThan(forest.noveltyScore([99]));
      expect(forest.noveltyScore([1000])).toBeGreaterThan(forest.noveltyScore([120]));
      expect(forest.noveltyScore([1e9])).toBeLessThanOrEqual(1);
    });

    it('equals the standard score for rows inside the fitted ranges', () => {
      for (const x of [0, 13, 50, 99]) expect(forest.noveltyScore([x])).toBeCloseTo(forest.score([x]), 12);
    });
  });
});

describe('fast paths give the forest and scores of the plain ones', () => {
  // the expected values were written by the implementation before the fast paths (pairs sorted per
  // row, a getter per node): any change to the trees or the arithmetic shows here
  it('grows the same trees from rows whose renumbered features come out of order, and scores alike', () => {
    const rand = mulberry32(99);
    const rows: Row[] = [];
    for (let i = 0; i < 300; i++) {
      const m = new Map<number, number>();
      const n = 1 + Math.floor(rand() * 12);
      for (let k = 0; k < n; k++) m.set(Math.floor(rand() * 60) * 7, Math.round(rand() * 1000) / 100);
      const keys = [...m.keys()].sort((a, b) => a - b);
      rows.push(i % 2 ? m : { indices: keys, values: keys.map((k) => m.get(k)!) });
    }
    const dense = Array.from({ length: 200 }, () => Array.from({ length: 5 }, () => (rand() < 0.3 ? 0 : rand() * 10)));
    const f1 = new IsolationForest().fit(rows, { trees: 50, sampleSize: 64, seed: 3, weights: rows.map((_, i) => 1 + (i % 5)) });
    const f2 = new IsolationForest().fit(dense, { trees: 50, sampleSize: 64, seed: 4 });
    const out: number[] = [];
    for (const r of rows.slice(0, 40)) out.push(f1.noveltyScore(r), f1.score(r));
    for (const r of dense.slice(0, 40)) out.push(f2.noveltyScore(r), f2.noveltyScore(r.map((x) => x * 3 - 5)), f2.score(r));
    expect(out.reduce((a, b) => a + b, 0)).toBe(103.14728334964649);
    expect(out.slice(0, 3)).toEqual([0.3158506910500234, 0.3158506910500234, 0.3973678158923977]);
    expect(out.slice(-3)).toEqual([0.5903206529498977, 0.8088294253492269, 0.5815863020228519]);
    // a dense row and the same row as a Map (read through the getter) score exactly alike
    for (const r of dense) {
      const far = r.map((x, i) => (i % 2 ? x * 7 : -x * 3));
      for (const q of [r, far]) expect(f2.noveltyScore(q)).toBe(f2.noveltyScore(new Map(q.map((x, i) => [i, x] as [number, number]))));
    }
  });
});
