/**
 * Local Outlier Factor (Breunig, Kriegel, Ng & Sander, "LOF: Identifying Density-Based Local
 * Outliers", SIGMOD 2000), in novelty mode: fitted on a reference set, then scoring new rows.
 *
 *   k-distance(o)         distance from o to its k-th nearest reference neighbour
 *   reach-dist_k(p, o)    max(k-distance(o), d(p, o))
 *   lrd(p)                1 / mean of reach-dist_k(p, o) over p's k nearest neighbours o
 *   LOF(p)                mean of lrd(o) over those neighbours, divided by lrd(p)
 *
 * LOF ≈ 1: p is as dense as its neighbours (an inlier); LOF > 1: sparser than its neighbours (an
 * outlier); the further above 1, the stronger. Exactly k neighbours are used, ties at the k-th
 * broken by reference order (as scikit-learn does; the paper admits every tie).
 *
 * Duplicates: k or more identical reference points have k-distance 0, which would make their lrd
 * infinite and the LOF of anything near them astronomically large. A k-distance of 0 is raised to
 * the smallest positive distance between reference points — the data's own resolution — so a point
 * that differs from a duplicate cluster by that resolution has LOF ≈ 1, and one ten times further
 * ≈ 10. (When no two reference points differ, the floor is 1e-10, scikit-learn's guard.)
 *
 * Brute force: fitting is O(n² · nnz) over the reference set (no n × n matrix is kept), scoring
 * O(n · nnz), so the reference set is bounded (default 2,000 points, a seeded sample when more rows are given).
 */
import { toSparse, type CompactVector, type Row } from './isolation-forest.js';
import { Random } from './random.js';

export type LofMetric = 'euclidean' | 'cosine';

export interface LofOptions {
  /** Neighbours per point (default 20, scikit-learn's; min(k, reference points - 1) is used). */
  k?: number;
  /** Distance: Euclidean, or cosine (1 - cos θ; 0 between two zero rows, 1 from a zero row). */
  metric?: LofMetric;
  /** Reference points kept (default 2,000); more rows are sampled down with `seed`. */
  maxReference?: number;
  seed?: number;
}

export const LOF_DEFAULTS = { k: 20, metric: 'euclidean' as LofMetric, maxReference: 2000, seed: 42 };

interface Point extends CompactVector {
  /** Euclidean norm. */
  norm: number;
  /** The row itself when it came dense (distances between dense rows of one length skip the merge). */
  dense?: Float64Array;
}

const isDense = (row: Row): row is ArrayLike<number> => !(row instanceof Map) && (row as { indices?: unknown }).indices === undefined;

function toPoint(row: Row): Point {
  const sp = toSparse(row);
  let s = 0;
  for (let i = 0; i < sp.values.length; i++) s += sp.values[i]! * sp.values[i]!;
  const p: Point = { indices: sp.indices, values: sp.values, norm: Math.sqrt(s) };
  if (isDense(row)) p.dense = Float64Array.from(row);
  return p;
}

function euclideanDense(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

/**
 * euclideanDense when it is below `limit`; Infinity once the partial sum shows it is not (it only
 * grows: the terms are not negative), so a pair that cannot be anyone's neighbour stops early. The
 * terms are added in the same order, so a distance computed in full is the same number.
 */
function euclideanDenseWithin(a: Float64Array, b: Float64Array, limit: number): number {
  // a margin far above rounding: s ≥ limit² (1 + 1e-12) means √s ≥ limit
  const limitSq = limit * limit * (1 + 1e-12);
  const n = a.length;
  let s = 0;
  let i = 0;
  while (i < n) {
    const end = Math.min(n, i + 16);
    for (; i < end; i++) {
      const d = a[i]! - b[i]!;
      s += d * d;
    }
    if (s >= limitSq) return Infinity;
  }
  return Math.sqrt(s);
}

function cosineDense(a: Point, b: Point): number {
  if (a.norm === 0 || b.norm === 0) return a.norm === b.norm ? 0 : 1;
  const x = a.dense!;
  const y = b.dense!;
  let dot = 0;
  for (let i = 0; i < x.length; i++) dot += x[i]! * y[i]!;
  const d = 1 - dot / (a.norm * b.norm);
  return d > 1e-12 ? d : 0;
}

function euclidean(a: Point, b: Point): number {
  const ai = a.indices;
  const av = a.values;
  const bi = b.indices;
  const bv = b.values;
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < ai.length && j < bi.length) {
    const fa = ai[i]!;
    const fb = bi[j]!;
    if (fa === fb) {
      const d = av[i++]! - bv[j++]!;
      s += d * d;
    } else if (fa < fb) {
      s += av[i]! * av[i]!;
      i++;
    } else {
      s += bv[j]! * bv[j]!;
      j++;
    }
  }
  for (; i < ai.length; i++) s += av[i]! * av[i]!;
  for (; j < bi.length; j++) s += bv[j]! * bv[j]!;
  return Math.sqrt(s);
}

function cosine(a: Point, b: Point): number {
  if (a.norm === 0 || b.norm === 0) return a.norm === b.norm ? 0 : 1;
  const ai = a.indices;
  const av = a.values;
  const bi = b.indices;
  const bv = b.values;
  let i = 0;
  let j = 0;
  let dot = 0;
  while (i < ai.length && j < bi.length) {
    const fa = ai[i]!;
    const fb = bi[j]!;
    if (fa === fb) dot += av[i++]! * bv[j++]!;
    else if (fa < fb) i++;
    else j++;
  }
  const d = 1 - dot / (a.norm * b.norm);
  // identical directions can come out at 1e-16 from rounding: that is a duplicate, not a distance
  return d > 1e-12 ? d : 0;
}

/** The k nearest reference points of a query: indices and distances, nearest first. */
interface Neighbours {
  idx: Int32Array;
  dist: Float64Array;
}

/** Keeps candidate j if it is among the k nearest so far (a later equal distance stays behind). */
function offer(nb: Neighbours, j: number, v: number): void {
  const dd = nb.dist;
  const idx = nb.idx;
  let p = dd.length - 1;
  if (!(v < dd[p]!)) return;
  while (p > 0 && dd[p - 1]! > v) {
    dd[p] = dd[p - 1]!;
    idx[p] = idx[p - 1]!;
    p--;
  }
  dd[p] = v;
  idx[p] = j;
}

/** Local Outlier Factor over a bounded reference set. */
export class LocalOutlierFactor {
  private ref: Point[] = [];
  private kDist = new Float64Array(0);
  private lrd = new Float64Array(0);
  private trainLof = new Float64Array(0);
  private k = 0;
  private metric: LofMetric = 'euclidean';
  private resolution = 1e-10;

  /** Number of reference points kept. */
  get size(): number {
    return this.ref.length;
  }

  /** Neighbours used (k, or fewer when the reference set is small). */
  get neighbours(): number {
    return this.k;
  }

  get isFitted(): boolean {
    return this.ref.length > 0;
  }

  fit(rows: readonly Row[], options: LofOptions = {}): this {
    const k = options.k ?? LOF_DEFAULTS.k;
    const maxReference = options.maxReference ?? LOF_DEFAULTS.maxReference;
    const metric = options.metric ?? LOF_DEFAULTS.metric;
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, got ${k}`);
    if (rows.length < 2) throw new RangeError('LOF needs at least 2 reference rows');
    const chosen = rows.length > maxReference ? Array.from(new Random(options.seed ?? LOF_DEFAULTS.seed).sampleIndices(rows.length, maxReference)).sort((a, b) => a - b) : null;
    this.ref = chosen ? chosen.map((i) => toPoint(rows[i]!)) : rows.map(toPoint);
    this.metric = metric;
    const n = this.ref.length;
    this.k = Math.min(k, n - 1);

    // each point's k nearest others: every pair once, offered to both (no n × n matrix in memory);
    // candidates reach each list in reference order, so ties keep reference order
    let resolution = Infinity;
    const neighbours: Neighbours[] = [];
    for (let i = 0; i < n; i++) neighbours.push(this.emptyNeighbours());
    for (let i = 0; i < n; i++) {
      const a = this.ref[i]!;
      const nbI = neighbours[i]!.dist;
      for (let j = i + 1; j < n; j++) {
        // a pair farther than both k-th neighbours so far (and than the resolution) changes nothing
        const v = this.distanceWithin(a, this.ref[j]!, Math.max(nbI[this.k - 1]!, neighbours[j]!.dist[this.k - 1]!, resolution));
        if (v > 0 && v < resolution) resolution = v;
        offer(neighbours[i]!, j, v);
        offer(neighbours[j]!, i, v);
      }
    }
    this.resolution = Number.isFinite(resolution) ? resolution : 1e-10;
    this.kDist = new Float64Array(n);
    for (let i = 0; i < n; i++) this.kDist[i] = Math.max(neighbours[i]!.dist[this.k - 1]!, this.resolution);
    this.lrd = new Float64Array(n);
    for (let i = 0; i < n; i++) this.lrd[i] = this.lrdOf(neighbours[i]!);
    this.trainLof = new Float64Array(n);
    for (let i = 0; i < n; i++) this.trainLof[i] = this.lofOf(neighbours[i]!, this.lrd[i]!);
    return this;
  }

  /** LOF of each reference point among the others (scikit-learn's negative_outlier_factor_, negated). */
  trainingScores(): Float64Array {
    return this.trainLof.slice();
  }

  /** LOF of a new row against the reference set: ≈ 1 inlier, > 1 outlier. */
  score(row: Row): number {
    if (this.ref.length === 0) throw new Error('LocalOutlierFactor.score called before fit');
    const p = toPoint(row);
    const nb = this.emptyNeighbours();
    for (let j = 0; j < this.ref.length; j++) offer(nb, j, this.distanceWithin(p, this.ref[j]!, nb.dist[this.k - 1]!));
    return this.lofOf(nb, this.lrdOf(nb));
  }

  private distance(a: Point, b: Point): number {
    if (a.dense && b.dense && a.dense.length === b.dense.length) return this.metric === 'cosine' ? cosineDense(a, b) : euclideanDense(a.dense, b.dense);
    return this.metric === 'cosine' ? cosine(a, b) : euclidean(a, b);
  }

  /**
   * The distance, or Infinity when it is at least `limit` and the dense Euclidean shortcut applies:
   * callers only compare it with `limit` and smaller values (see euclideanDenseWithin).
   */
  private distanceWithin(a: Point, b: Point, limit: number): number {
    if (this.metric === 'euclidean' && a.dense && b.dense && a.dense.length === b.dense.length) return euclideanDenseWithin(a.dense, b.dense, limit);
    return this.distance(a, b);
  }

  private emptyNeighbours(): Neighbours {
    return { idx: new Int32Array(this.k).fill(-1), dist: new Float64Array(this.k).fill(Infinity) };
  }

  private lrdOf(nb: Neighbours): number {
    let s = 0;
    for (let m = 0; m < nb.idx.length; m++) s += Math.max(this.kDist[nb.idx[m]!]!, nb.dist[m]!);
    return nb.idx.length / s;
  }

  private lofOf(nb: Neighbours, lrdP: number): number {
    let s = 0;
    for (let m = 0; m < nb.idx.length; m++) s += this.lrd[nb.idx[m]!]!;
    return s / nb.idx.length / lrdP;
  }
}
