import { describe, expect, it } from 'vitest';
import { LocalOutlierFactor } from './lof.js';
import { mulberry32 } from './random.js';

/** A 6 × 6 grid with spacing 1, then one far point (last). */
function gridWithFarPoint(): number[][] {
  const rows: number[][] = [];
  for (let x = 0; x < 6; x++) for (let y = 0; y < 6; y++) rows.push([x, y]);
  rows.push([20, 20]);
  return rows;
}

describe('LocalOutlierFactor', () => {
  it('matches a hand-computed tiny case: 0, 1, 2 and 4 on a line with k = 2', () => {
    // k-distances 2, 1, 2, 3; lrd 2/3, 1/2, 2/3, 2/5 (C's second neighbour is A, first of the tie with D)
    const lof = new LocalOutlierFactor().fit([[0], [1], [2], [4]], { k: 2 });
    const s = lof.trainingScores();
    expect(s[0]).toBeCloseTo(7 / 8, 12);
    expect(s[1]).toBeCloseTo(4 / 3, 12);
    expect(s[2]).toBeCloseTo(7 / 8, 12);
    expect(s[3]).toBeCloseTo(35 / 24, 12);
    // a newcomer at 10: neighbours 4 and 2, reach-distances 6 and 8, lrd 1/7
    expect(lof.score([10])).toBeCloseTo(56 / 15, 12);
  });

  it('gives grid points LOF ≈ 1 and a far point LOF ≫ 1', () => {
    const rows = gridWithFarPoint();
    const lof = new LocalOutlierFactor().fit(rows, { k: 4 });
    const s = lof.trainingScores();
    const interior = rows.flatMap((p, i) => (p[0]! >= 1 && p[0]! <= 4 && p[1]! >= 1 && p[1]! <= 4 ? [s[i]!] : []));
    for (const v of interior) expect(Math.abs(v - 1)).toBeLessThan(0.1);
    expect(s[rows.length - 1]).toBeGreaterThan(10);
    expect(lof.score([2.5, 2.5])).toBeLessThan(1.2);
    expect(lof.score([-10, 3])).toBeGreaterThan(5);
  });

  it('stays finite with duplicates: the data\'s own resolution replaces a k-distance of 0', () => {
    const rows = [...Array.from({ length: 10 }, () => [0, 0]), [1, 0], [0, 1], [1, 1], [2, 2]];
    const lof = new LocalOutlierFactor().fit(rows, { k: 3 });
    for (const v of lof.trainingScores()) expect(Number.isFinite(v)).toBe(true);
    // the smallest distance between points is 1: a point 1 away from the pile is ordinary, 10 away is not
    expect(lof.score([0, 0])).toBeCloseTo(1, 12);
    expect(lof.score([-1, 0])).toBeCloseTo(1, 12);
    expect(lof.score([-10, 0])).toBeCloseTo(10, 12);
  });

  it('stays finite when every reference point is the same', () => {
    const lof = new LocalOutlierFactor().fit(Array.from({ length: 5 }, () => [3, 3]), { k: 2 });
    expect(lof.score([3, 3])).toBe(1);
    const far = lof.score([4, 3]);
    expect(Number.isFinite(far) && far > 1e6).toBe(true);
  });

  it('measures angles with the cosine metric: length does not matter, direction does', () => {
    const rows: number[][] = [];
    for (let i = 0; i < 30; i++) rows.push([1 + i, (1 + i) * (1 + (i % 5) * 0.05)]);
    const lof = new LocalOutlierFactor().fit(rows, { k: 5, metric: 'cosine' });
    expect(lof.score([100, 110])).toBeCloseTo(lof.score([1, 1.1]), 9);
    expect(lof.score([1, 1.1])).toBeLessThan(1.5);
    expect(lof.score([1, -1])).toBeGreaterThan(10);
  });

  it('gives the same scores for sparse rows as for the same dense rows', () => {
    const dense = gridWithFarPoint().map((p) => [p[0]!, 0, p[1]!]);
    const sparse = dense.map((p) => ({ indices: [0, 2], values: [p[0]!, p[2]!] }));
    const a = new LocalOutlierFactor().fit(dense, { k: 4 });
    const b = new LocalOutlierFactor().fit(sparse, { k: 4 });
    const sa = a.trainingScores();
    const sb = b.trainingScores();
    for (let i = 0; i < sa.length; i++) expect(sb[i]).toBeCloseTo(sa[i]!, 9);
    expect(b.score({ indices: [0, 2], values: [7, 7] })).toBeCloseTo(a.score([7, 0, 7]), 9);
  });

  it('keeps at most maxReference points, sampled with the seed, and uses k ≤ points - 1', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => [i % 50, Math.floor(i / 50)]);
    const a = new LocalOutlierFactor().fit(rows, { k: 5, maxReference: 500, seed: 1 });
    const b = new LocalOutlierFactor().fit(rows, { k: 5, maxReference: 500, seed: 1 });
    expect(a.size).toBe(500);
    expect(a.score([25.5, 30])).toBe(b.score([25.5, 30]));
    const small = new LocalOutlierFactor().fit([[0], [1], [3]], { k: 20 });
    expect(small.neighbours).toBe(2);
  });

  it('rejects fewer than two reference rows, and scoring before fitting', () => {
    expect(() => new LocalOutlierFactor().fit([[1]])).toThrow(RangeError);
    expect(() => new LocalOutlierFactor().score([1])).toThrow(Error);
  });
});

describe('LOF on dense rows stops far pairs early without changing a number', () => {
  it('gives the scores of the same rows given sparse (whose distances are always computed in full)', () => {
    const rand = mulberry32(17);
    for (const [n, dims, k] of [[300, 203, 10], [120, 5, 3], [60, 40, 20]] as const) {
      // clusters, duplicates and zeros, as windows of template counts look
      const rows = Array.from({ length: n }, (_, i) => {
        if (i % 17 === 3) return new Array<number>(dims).fill(0);
        const c = i % 3;
        return Array.from({ length: dims }, (_, d) => (rand() < 0.4 ? 0 : Math.log1p(Math.floor(rand() * (c + 1) * 20 + (d % 7)))));
      });
      rows.push(rows[5]!.slice(), rows[5]!.slice());
      const sparse = rows.map((r) => {
        const indices: number[] = [];
        const values: number[] = [];
        r.forEach((v, d) => {
          if (v !== 0) {
            indices.push(d);
            values.push(v);
          }
        });
        return { indices, values };
      });
      const a = new LocalOutlierFactor().fit(rows, { k });
      const b = new LocalOutlierFactor().fit(sparse, { k });
      expect(Array.from(a.trainingScores())).toEqual(Array.from(b.trainingScores()));
      for (let q = 0; q < 50; q++) {
        const row = Array.from({ length: dims }, () => (rand() < 0.5 ? 0 : rand() * 6));
        expect(a.score(row)).toBe(b.score({ indices: row.flatMap((v, d) => (v !== 0 ? [d] : [])), values: row.filter((v) => v !== 0) }));
        expect(a.score(rows[q]!)).toBe(b.score(sparse[q]!));
      }
    }
  });
});
