/**
 * Isolation Forest (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008; TKDD 2012).
 *
 * Anomalies are few and different, so random axis-parallel cuts isolate them in fewer steps than
 * normal points. Each tree is grown on a subsample of ψ rows (default 256) drawn without
 * replacement, to a height limit of ceil(log2 ψ); at each node a feature is drawn uniformly among the
 * features whose values are not constant in the node's rows, and a cut point uniformly between
 * their minimum and maximum. The score of x is
 *
 *     s(x) = 2^(-E[h(x)] / c(ψ))   in (0, 1]
 *
 * where h(x) is the depth of the leaf x falls into plus c(size of that leaf) (the average path an
 * unbuilt subtree of that many rows would have added), and c(n) = 2H(n-1) - 2(n-1)/n is the
 * average path length of an unsuccessful search in a binary search tree of n nodes. s near 1:
 * isolated at once (anomalous); s ≈ 0.5 everywhere: no distinct anomaly; s well below 0.5: normal.
 *
 * Drawing the feature among the non-constant ones is what scikit-learn does (its random splitter
 * skips constant features without counting them) and is what makes sparse rows work: a TF-IDF row
 * has a handful of non-zero terms out of thousands, and a feature that is zero in every row of a node
 * cannot cut it. Rows may be dense (number[] or Float64Array), sparse (ascending `indices` with
 * their `values`) or a Map from feature index to value; absent features are 0.
 */
import { Random } from './random.js';

/** A sparse row: feature indices in ascending order and their values (absent features are 0). */
export interface SparseVector {
  readonly indices: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

/** A row: dense, sparse, or a Map from feature index to value. */
export type Row = ArrayLike<number> | SparseVector | ReadonlyMap<number, number>;

/** A sparse row with typed storage, indices ascending, no zeros. */
export interface CompactVector {
  indices: Int32Array;
  values: Float64Array;
}

const isSparse = (row: Row): row is SparseVector => !(row instanceof Map) && (row as Partial<SparseVector>).indices !== undefined;

/**
 * Any row as a compact sparse vector: indices ascending (sorted when they were not), duplicate
 * indices summed, zeros dropped. Throws on a negative or fractional index and on a non-finite value.
 */
export function toSparse(row: Row): CompactVector {
  let idx: number[] = [];
  let val: number[] = [];
  if (row instanceof Map) {
    for (const [f, v] of row) {
      idx.push(f);
      val.push(v);
    }
  } else if (isSparse(row)) {
    if (row.indices.length !== row.values.length) throw new RangeError('sparse row: indices and values differ in length');
    for (let i = 0; i < row.indices.length; i++) {
      idx.push(row.indices[i]!);
      val.push(row.values[i]!);
    }
  } else {
    const dense = row as ArrayLike<number>;
    for (let i = 0; i < dense.length; i++) {
      const v = dense[i]!;
      if (!Number.isFinite(v)) throw new RangeError(`row value at ${i} is not a finite number`);
      if (v !== 0) {
        idx.push(i);
        val.push(v);
      }
    }
    return { indices: Int32Array.from(idx), values: Float64Array.from(val) };
  }
  let sorted = true;
  for (let i = 0; i < idx.length; i++) {
    const f = idx[i]!;
    if (!Number.isInteger(f) || f < 0 || f > 0x7fffffff) throw new RangeError(`feature index ${f} is not a non-negative 31-bit integer`);
    if (!Number.isFinite(val[i]!)) throw new RangeError(`value of feature ${f} is not a finite number`);
    if (i > 0 && f <= idx[i - 1]!) sorted = false;
  }
  if (!sorted) {
    const order = idx.map((_, i) => i).sort((a, b) => idx[a]! - idx[b]!);
    const si: number[] = [];
    const sv: number[] = [];
    for (const o of order) {
      if (si.length > 0 && si[si.length - 1] === idx[o]) sv[sv.length - 1]! += val[o]!;
      else {
        si.push(idx[o]!);
        sv.push(val[o]!);
      }
    }
    idx = si;
    val = sv;
  }
  const outIdx: number[] = [];
  const outVal: number[] = [];
  for (let i = 0; i < idx.length; i++) {
    if (val[i] !== 0) {
      outIdx.push(idx[i]!);
      outVal.push(val[i]!);
    }
  }
  return { indices: Int32Array.from(outIdx), values: Float64Array.from(outVal) };
}

/** Value of feature f in a sparse row with ascending indices (binary search), 0 when absent. */
export function sparseValue(indices: ArrayLike<number>, values: ArrayLike<number>, f: number): number {
  let lo = 0;
  let hi = indices.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const g = indices[mid]!;
    if (g < f) lo = mid + 1;
    else if (g > f) hi = mid - 1;
    else return values[mid]!;
  }
  return 0;
}

const EULER_GAMMA = 0.5772156649015329;
const HARMONIC_TABLE_SIZE = 4096;
const HARMONIC: Float64Array = (() => {
  const t = new Float64Array(HARMONIC_TABLE_SIZE + 1);
  for (let i = 1; i <= HARMONIC_TABLE_SIZE; i++) t[i] = t[i - 1]! + 1 / i;
  return t;
})();

/** The harmonic number H(m) = 1 + 1/2 + … + 1/m: exact up to 4096, asymptotic expansion above. */
export function harmonic(m: number): number {
  if (m <= 0) return 0;
  if (m <= HARMONIC_TABLE_SIZE && Number.isInteger(m)) return HARMONIC[m]!;
  return Math.log(m) + EULER_GAMMA + 1 / (2 * m) - 1 / (12 * m * m);
}

/**
 * c(n) = 2H(n-1) - 2(n-1)/n: the average path length of an unsuccessful search in a binary search
 * tree of n nodes, used to normalise path lengths; c(1) = 0, c(2) = 1, c(256) ≈ 10.24.
 * (The paper writes H(i) ≈ ln i + 0.5772; the exact sum is used here, which gives c(2) = 1 without
 * a special case and differs from the approximation by under 0.01 at n = 256.)
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  return 2 * harmonic(n - 1) - (2 * (n - 1)) / n;
}

/**
 * The q-quantile of values (0 ≤ q ≤ 1) with linear interpolation between the closest ranks,
 * like numpy.percentile's default. NaN for no values.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = Math.min(Math.max(q, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * The score threshold for an expected share of anomalies: the (1 - contamination) quantile of the
 * scores. As in scikit-learn's IsolationForest(contamination=…), a row is anomalous when its score
 * is strictly above it (so rows tied at the threshold are not all flagged).
 */
export function thresholdFor(scores: ArrayLike<number>, contamination: number): number {
  if (!(contamination > 0 && contamination <= 0.5)) throw new RangeError(`contamination must be in (0, 0.5], got ${contamination}`);
  return quantile(scores, 1 - contamination);
}

export interface IsolationForestOptions {
  /** Number of trees (default 100, as in the paper and scikit-learn). */
  trees?: number;
  /** Subsample size ψ per tree (default 256; min(ψ, rows) is used). */
  sampleSize?: number;
  /** Seed of the generator: the same seed and rows give the same forest. */
  seed?: number;
  /**
   * Optional weight per row: each tree's subsample is drawn without replacement with probability
   * proportional to weight (rows with weight ≤ 0 are never drawn). Without weights every row is
   * equally likely.
   */
  weights?: ArrayLike<number>;
  /**
   * Sampled rows are also copied dense while renumbered features × distinct sampled rows are at
   * most this (default 2^20, 8 MB; 0: never). It changes the cost of a fit, never the forest.
   */
  maxDenseValues?: number;
}

export const ISOLATION_FOREST_DEFAULTS = { trees: 100, sampleSize: 256, seed: 42 } as const;

/** Isolation Forest over dense or sparse rows; `fit` once, then `score` any number of rows. */
export class IsolationForest {
  /** Feature of each node, or -1 for a leaf. Trees are stored in preorder: a left child follows its parent. */
  private feature = new Int32Array(0);
  /** Cut point of an internal node (left when value < cut), or the path length h of a leaf. */
  private value = new Float64Array(0);
  /** Index of the right child of an internal node. */
  private right = new Int32Array(0);
  private lo = new Float64Array(0);
  private hi = new Float64Array(0);
  private roots = new Int32Array(0);
  private norm = 1;
  private psi = 0;
  private fitted = false;

  /** Number of trees in the fitted forest. */
  get trees(): number {
    return this.roots.length;
  }

  /** Subsample size ψ actually used (min of the option and the number of rows). */
  get sampleSize(): number {
    return this.psi;
  }

  get isFitted(): boolean {
    return this.fitted;
  }

  /** Number of nodes over all trees (32 bytes each). */
  get nodeCount(): number {
    return this.feature.length;
  }

  fit(rows: readonly Row[], options: IsolationForestOptions = {}): this {
    const trees = options.trees ?? ISOLATION_FOREST_DEFAULTS.trees;
    const sampleSize = options.sampleSize ?? ISOLATION_FOREST_DEFAULTS.sampleSize;
    const rng = new Random(options.seed ?? ISOLATION_FOREST_DEFAULTS.seed);
    if (!(Number.isInteger(trees) && trees >= 1)) throw new RangeError(`trees must be a positive integer, got ${trees}`);
    if (!(Number.isInteger(sampleSize) && sampleSize >= 1)) throw new RangeError(`sampleSize must be a positive integer, got ${sampleSize}`);
    const n = rows.length;
    if (n === 0) throw new RangeError('cannot fit an Isolation Forest on no rows');
    if (options.weights && options.weights.length !== n) throw new RangeError('weights must have one entry per row');

    // 1. each tree's subsample (row indices)
    const samples: Int32Array[] = [];
    for (let t = 0; t < trees; t++) {
      samples.push(options.weights ? rng.weightedSampleIndices(options.weights, sampleSize) : rng.sampleIndices(n, sampleSize));
    }
    let psi = 0;
    for (const s of samples) psi = Math.max(psi, s.length);
    if (psi === 0) throw new RangeError('no row has a positive weight');

    // 2. the sampled rows, converted once, with features renumbered 0…D-1 for the scratch arrays
    // by row index (sample indices are < n): an array, not a Map keyed by number
    const compactOf: (Compact | undefined)[] = new Array<Compact | undefined>(n).fill(undefined);
    const byObject = new Map<Row, Compact>();
    const local = new Map<number, number>();
    const original: number[] = [];
    for (const s of samples) {
      for (const i of s) {
        if (compactOf[i] !== undefined) continue;
        const row = rows[i]!;
        let c = byObject.get(row);
        if (!c) {
          const sp = toSparse(row);
          const m = sp.indices.length;
          const idx = new Int32Array(m);
          const val = new Float64Array(m);
          for (let j = 0; j < m; j++) {
            const f = sp.indices[j]!;
            let l = local.get(f);
            if (l === undefined) {
              l = original.length;
              local.set(f, l);
              original.push(f);
            }
            // insertion by renumbered feature (distinct in a row): the order a sort of pairs gives
            let at = j;
            while (at > 0 && idx[at - 1]! > l) {
              idx[at] = idx[at - 1]!;
              val[at] = val[at - 1]!;
              at--;
            }
            idx[at] = l;
            val[at] = sp.values[j]!;
          }
          c = { idx, val, dense: NO_DENSE };
          byObject.set(row, c);
        }
        compactOf[i] = c;
      }
    }

    // 2b. when they fit in a few MB, each also as a dense row, so a node reads a feature's value
    // in place instead of by binary search (the same values: absent features are 0)
    const d = original.length;
    const dense = d > 0 && d * byObject.size <= (options.maxDenseValues ?? MAX_DENSE_VALUES);
    if (dense) {
      for (const c of byObject.values()) {
        const row = new Float64Array(d);
        for (let j = 0; j < c.idx.length; j++) row[c.idx[j]!] = c.val[j]!;
        c.dense = row;
      }
    }

    // 3. grow the trees
    const maxNodes = trees * (2 * psi - 1);
    const builder = new TreeBuilder(maxNodes, original, Math.ceil(Math.log2(Math.max(psi, 2))), rng, dense);
    const roots = new Int32Array(trees);
    for (let t = 0; t < trees; t++) {
      const sample = samples[t]!;
      const nodeRows: Compact[] = new Array<Compact>(sample.length);
      for (let j = 0; j < sample.length; j++) nodeRows[j] = compactOf[sample[j]!]!;
      roots[t] = builder.build(nodeRows, 0, nodeRows.length, 0);
    }
    this.feature = builder.feature.slice(0, builder.next);
    this.value = builder.value.slice(0, builder.next);
    this.right = builder.right.slice(0, builder.next);
    this.lo = builder.lo.slice(0, builder.next);
    this.hi = builder.hi.slice(0, builder.next);
    this.roots = roots;
    this.psi = psi;
    this.norm = averagePathLength(psi);
    this.fitted = true;
    return this;
  }

  /** Mean path length E[h(x)] over the trees. */
  pathLength(row: Row): number {
    if (!this.fitted) throw new Error('IsolationForest.pathLength called before fit');
    const { feature, value, right, roots } = this;
    let total = 0;
    if (row instanceof Map) {
      for (let t = 0; t < roots.length; t++) {
        let node = roots[t]!;
        let f: number;
        while ((f = feature[node]!) >= 0) node = (row.get(f) ?? 0) < value[node]! ? node + 1 : right[node]!;
        total += value[node]!;
      }
    } else if (isSparse(row)) {
      const { indices, values } = row;
      for (let t = 0; t < roots.length; t++) {
        let node = roots[t]!;
        let f: number;
        while ((f = feature[node]!) >= 0) node = sparseValue(indices, values, f) < value[node]! ? node + 1 : right[node]!;
        total += value[node]!;
      }
    } else {
      const dense = row as ArrayLike<number>;
      for (let t = 0; t < roots.length; t++) {
        let node = roots[t]!;
        let f: number;
        while ((f = feature[node]!) >= 0) node = (dense[f] ?? 0) < value[node]! ? node + 1 : right[node]!;
        total += value[node]!;
      }
    }
    return total / roots.length;
  }

  /** Anomaly score 2^(-E[h(x)]/c(ψ)) in (0, 1]; 0.5 when ψ = 1 (nothing to compare with). */
  score(row: Row): number {
    const h = this.pathLength(row);
    if (this.norm === 0) return 0.5;
    return 2 ** (-h / this.norm);
  }

  /**
   * Mean path length where a value outside the range of the rows a node was cut from may be
   * isolated at that node (see `noveltyScore`).
   */
  noveltyPathLength(row: Row): number {
    if (!this.fitted) throw new Error('IsolationForest.noveltyPathLength called before fit');
    const { feature, value, right, roots, lo, hi } = this;
    if (!(row instanceof Map) && !isSparse(row)) return this.noveltyPathLengthDense(row as ArrayLike<number>);
    const get = valueGetter(row);
    let total = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let depth = 0;
      let reach = 1;
      let h = 0;
      let f: number;
      while ((f = feature[node]!) >= 0) {
        const v = get(f);
        const a = lo[node]!;
        const b = hi[node]!;
        // a cut drawn over the range widened to v falls between v and the rows with this probability
        const g = v < a ? (a - v) / (b - v) : v > b ? (v - b) / (v - a) : 0;
        if (g > 0) {
          h += reach * g * (depth + 1);
          reach *= 1 - g;
        }
        node = v < value[node]! ? node + 1 : right[node]!;
        depth++;
      }
      total += h + reach * value[node]!;
    }
    return total / roots.length;
  }

  /** noveltyPathLength of a dense row: the same arithmetic, the value read in place (no getter per node). */
  private noveltyPathLengthDense(dense: ArrayLike<number>): number {
    const { feature, value, right, roots, lo, hi } = this;
    let total = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let depth = 0;
      let reach = 1;
      let h = 0;
      let f: number;
      while ((f = feature[node]!) >= 0) {
        const v = dense[f] ?? 0;
        const a = lo[node]!;
        const b = hi[node]!;
        const g = v < a ? (a - v) / (b - v) : v > b ? (v - b) / (v - a) : 0;
        if (g > 0) {
          h += reach * g * (depth + 1);
          reach *= 1 - g;
        }
        node = v < value[node]! ? node + 1 : right[node]!;
        depth++;
      }
      total += h + reach * value[node]!;
    }
    return total / roots.length;
  }

  /**
   * Like `score`, for rows that may lie outside everything the forest was fitted on. A standard
   * Isolation Forest cannot tell a row far beyond the fitted rows from the most extreme fitted row:
   * its cuts were all drawn inside the data, so both fall into the same leaves. Here, at each node on
   * the row's path whose split feature has the row's value outside [min, max] of the node's rows,
   * the row is isolated at that node with the probability that a cut drawn uniformly over the
   * widened range would separate it, (distance beyond the range) / (widened range) — what growing
   * the tree with the row in the sample would have done at that node. Inside the ranges the score
   * is the standard one.
   */
  noveltyScore(row: Row): number {
    const h = this.noveltyPathLength(row);
    if (this.norm === 0) return 0.5;
    return 2 ** (-h / this.norm);
  }

  /** Scores of many rows. */
  scoreAll(rows: readonly Row[]): Float64Array {
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = this.score(rows[i]!);
    return out;
  }
}

/** Feature lookup for one row (used where the three specialised loops are not worth it). */
function valueGetter(row: Row): (f: number) => number {
  if (row instanceof Map) return (f) => row.get(f) ?? 0;
  if (isSparse(row)) return (f) => sparseValue(row.indices, row.values, f);
  const dense = row as ArrayLike<number>;
  return (f) => dense[f] ?? 0;
}

interface Compact {
  idx: Int32Array;
  val: Float64Array;
  /** Every renumbered feature's value (when the fit keeps dense rows), else empty. */
  dense: Float64Array;
}

const NO_DENSE = new Float64Array(0);
/**
 * Dense copies of the sampled rows are kept while renumbered features × distinct rows stay under
 * this (8 MB): outlier_message's 3 features over thousands of templates and outlier_window's ~200
 * over hundreds of windows, not TF-IDF rows over a vocabulary of thousands. Measured on the
 * generated 1M corpus's last window fit (450 windows, 203 features, ~90 non-zero): 20 → 9 ms.
 */
const MAX_DENSE_VALUES = 1 << 20;

/**
 * Grows trees into shared preorder arrays; scratch arrays are indexed by renumbered feature.
 *
 * Choosing the feature: draw features in random order (a partial Fisher–Yates shuffle of all of
 * them) and take the first whose values in the node are not all equal — the first non-constant
 * feature of a random order is uniform among the non-constant ones, as the algorithm wants, and on
 * dense rows the first draw usually succeeds, at the cost of one pass over the node's rows. When
 * the draws have cost as much as one scan of every value in the node (sparse rows in a node where
 * few features vary), the node is scanned once for the exact set of non-constant features and one
 * is drawn uniformly from it. Either way the choice is uniform and no node costs more than two scans.
 */
class TreeBuilder {
  readonly feature: Int32Array;
  readonly value: Float64Array;
  readonly right: Int32Array;
  /** Range of the split feature over the node's rows. */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  next = 0;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly count: Int32Array;
  private readonly touched: Int32Array;
  private readonly candidates: Int32Array;
  /** A permutation of the features, reshuffled in part at every node. */
  private readonly order: Int32Array;

  constructor(
    maxNodes: number,
    private readonly original: readonly number[],
    private readonly maxDepth: number,
    private readonly rng: Random,
    /** Rows carry dense copies (Compact.dense): values are read from them. */
    private readonly dense: boolean,
  ) {
    this.feature = new Int32Array(maxNodes);
    this.value = new Float64Array(maxNodes);
    this.right = new Int32Array(maxNodes);
    this.lo = new Float64Array(maxNodes);
    this.hi = new Float64Array(maxNodes);
    const d = Math.max(1, original.length);
    this.min = new Float64Array(d);
    this.max = new Float64Array(d);
    this.count = new Int32Array(d);
    this.touched = new Int32Array(d);
    this.candidates = new Int32Array(d);
    this.order = new Int32Array(d);
    for (let i = 0; i < d; i++) this.order[i] = i;
  }

  private leaf(id: number, depth: number, size: number): number {
    this.feature[id] = -1;
    this.value[id] = depth + averagePathLength(size);
    return id;
  }

  build(rows: Compact[], lo: number, hi: number, depth: number): number {
    const id = this.next++;
    const size = hi - lo;
    if (depth >= this.maxDepth || size <= 1) return this.leaf(id, depth, size);
    let values = 0;
    for (let i = lo; i < hi; i++) values += rows[i]!.idx.length;
    if (values === 0) return this.leaf(id, depth, size);
    let f = -1;
    let fMin = 0;
    let fMax = 0;
    // 1. lazy: features in random order until one varies, within the cost of one full scan
    const d = this.original.length;
    const order = this.order;
    const dense = this.dense;
    const lookupCost = size * (1 + Math.ceil(Math.log2(values / size + 1)));
    let spent = 0;
    let k = 0;
    for (; k < d && spent < values; k++) {
      const j = k + this.rng.int(d - k);
      const g = order[j]!;
      order[j] = order[k]!;
      order[k] = g;
      let a = Infinity;
      let b = -Infinity;
      if (dense) {
        for (let i = lo; i < hi; i++) {
          const v = rows[i]!.dense[g]!;
          if (v < a) a = v;
          if (v > b) b = v;
        }
      } else {
        for (let i = lo; i < hi; i++) {
          const r = rows[i]!;
          const v = sparseValue(r.idx, r.val, g);
          if (v < a) a = v;
          if (v > b) b = v;
        }
      }
      spent += lookupCost;
      if (a < b) {
        f = g;
        fMin = a;
        fMax = b;
        break;
      }
    }
    if (f < 0) {
      if (k >= d) return this.leaf(id, depth, size); // every feature checked: all constant
      // 2. exact: one scan for the non-constant features, one drawn uniformly
      const chosen = this.scan(rows, lo, hi);
      if (chosen < 0) return this.leaf(id, depth, size);
      f = chosen;
      fMin = this.min[f]!;
      fMax = this.max[f]!;
    }
    // cut in (min, max]: the row(s) at the minimum go left, those at the maximum right
    let cut = fMax - this.rng.next() * (fMax - fMin);
    if (!(cut > fMin)) cut = fMax;
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      const r = rows[i]!;
      if ((dense ? r.dense[f]! : sparseValue(r.idx, r.val, f)) < cut) i++;
      else {
        rows[i] = rows[j]!;
        rows[j] = r;
        j--;
      }
    }
    this.feature[id] = this.original[f]!;
    this.value[id] = cut;
    this.lo[id] = fMin;
    this.hi[id] = fMax;
    this.build(rows, lo, i, depth + 1);
    this.right[id] = this.build(rows, i, hi, depth + 1);
    return id;
  }

  /** Range of every feature in the node's rows (absent means 0); a uniformly drawn non-constant one, or -1. */
  private scan(rows: Compact[], lo: number, hi: number): number {
    const { min, max, count, touched, candidates } = this;
    const size = hi - lo;
    let nTouched = 0;
    for (let i = lo; i < hi; i++) {
      const r = rows[i]!;
      const idx = r.idx;
      const val = r.val;
      for (let j = 0; j < idx.length; j++) {
        const f = idx[j]!;
        const v = val[j]!;
        if (count[f] === 0) {
          touched[nTouched++] = f;
          min[f] = v;
          max[f] = v;
        } else {
          if (v < min[f]!) min[f] = v;
          if (v > max[f]!) max[f] = v;
        }
        count[f]!++;
      }
    }
    let nCandidates = 0;
    for (let t = 0; t < nTouched; t++) {
      const f = touched[t]!;
      if (count[f]! < size) {
        if (min[f]! > 0) min[f] = 0;
        if (max[f]! < 0) max[f] = 0;
      }
      count[f] = 0;
      if (min[f]! < max[f]!) candidates[nCandidates++] = f;
    }
    return nCandidates === 0 ? -1 : candidates[this.rng.int(nCandidates)]!;
  }
}
