/**
 * A small seeded pseudo-random generator, so that every model the detectors fit (Isolation Forest
 * subsamples and splits, LOF reference samples) is the same for the same seed and input: results
 * are reproducible across runs, machines and workers. Never Math.random() in src/core.
 *
 * The generator is mulberry32 (Tommy Ettinger, public domain): 32 bits of state, period 2^32,
 * passes the usual statistical batteries at the sizes used here (well under 10^8 draws per fit),
 * and is a few integer operations per draw. It is not cryptographic.
 */

/** A seeded generator of floats in [0, 1). */
export type RandomSource = () => number;

/** mulberry32: uint32 seed → a function returning floats in [0, 1), 2^-32 apart. */
export function mulberry32(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string to a uint32: a seed per source name, the same in every process. */
export function seedFromString(text: string, base = 0x811c9dc5): number {
  let h = base >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A seeded generator with the helpers the detectors need. */
export class Random {
  private readonly source: RandomSource;

  constructor(seed: number) {
    this.source = mulberry32(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    return this.source();
  }

  /** An integer in [0, n) (n ≥ 1, n ≤ 2^32). */
  int(n: number): number {
    return Math.floor(this.source() * n);
  }

  /** A float in [min, max). */
  uniform(min: number, max: number): number {
    return min + this.source() * (max - min);
  }

  /**
   * k distinct indices from [0, n), each k-subset equally likely (fewer when k > n: all of them).
   * Partial Fisher–Yates when k is a large share of n, Floyd's algorithm (O(k) memory) otherwise.
   */
  sampleIndices(n: number, k: number): Int32Array {
    if (k >= n) {
      const all = new Int32Array(Math.max(0, n));
      for (let i = 0; i < n; i++) all[i] = i;
      return all;
    }
    const out = new Int32Array(Math.max(0, k));
    if (k <= 0) return out;
    if (k * 4 >= n) {
      const pool = new Int32Array(n);
      for (let i = 0; i < n; i++) pool[i] = i;
      for (let i = 0; i < k; i++) {
        const j = i + this.int(n - i);
        const t = pool[i]!;
        pool[i] = pool[j]!;
        pool[j] = t;
        out[i] = pool[i]!;
      }
      return out;
    }
    // Floyd: for j = n-k … n-1 pick t in [0, j]; take t, or j when t is already taken
    const taken = new Set<number>();
    let m = 0;
    for (let j = n - k; j < n; j++) {
      const t = this.int(j + 1);
      const pick = taken.has(t) ? j : t;
      taken.add(pick);
      out[m++] = pick;
    }
    return out;
  }

  /** k distinct items of `items` (without replacement); all of them, in order, when k ≥ length. */
  sample<T>(items: readonly T[], k: number): T[] {
    const idx = this.sampleIndices(items.length, k);
    const out: T[] = new Array<T>(idx.length);
    for (let i = 0; i < idx.length; i++) out[i] = items[idx[i]!]!;
    return out;
  }

  /**
   * k distinct indices from [0, weights.length), drawn without replacement with probability
   * proportional to weight (Efraimidis & Spirakis 2006, A-ES: keep the k largest u^(1/w)).
   * Items with weight ≤ 0 are never drawn.
   */
  weightedSampleIndices(weights: ArrayLike<number>, k: number): Int32Array {
    const n = weights.length;
    // the k largest keys are kept in a min-heap (by key, larger index first on ties, so the heap's
    // root is always the item the full sort would rank last): O(n log k), no object per item
    const cap = Math.max(0, Math.min(k, n));
    const heapKey = new Float64Array(cap);
    const heapIdx = new Int32Array(cap);
    let size = 0;
    let positive = 0;
    // a ranks after b: smaller key, or the same key and a larger index
    const after = (ka: number, ia: number, kb: number, ib: number): boolean => ka < kb || (ka === kb && ia > ib);
    // once the heap is full, an item whose key cannot beat the root's is skipped without its log:
    // ln(1 - u) ≤ -u, so key ≤ -u/w; with a relative margin far above rounding (1e-9), -u/w below
    // `bar` means the exact key is below the root's, i.e. it ranks after it (its index is larger)
    let bar = -Infinity;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(w > 0)) continue;
      const u = this.source();
      positive++;
      if (cap === 0) continue;
      if (size === cap && -u / w < bar) continue;
      // log(u)/w orders like u^(1/w) and does not underflow; 1 - next() is in (0, 1]
      const key = Math.log(1 - u) / w;
      let at: number;
      if (size < cap) {
        // sift up
        at = size++;
        while (at > 0) {
          const parent = (at - 1) >> 1;
          if (!after(key, i, heapKey[parent]!, heapIdx[parent]!)) break;
          heapKey[at] = heapKey[parent]!;
          heapIdx[at] = heapIdx[parent]!;
          at = parent;
        }
      } else {
        if (after(key, i, heapKey[0]!, heapIdx[0]!)) continue;
        // replace the root, sift down
        at = 0;
        for (;;) {
          const l = 2 * at + 1;
          if (l >= size) break;
          const r = l + 1;
          const c = r < size && after(heapKey[r]!, heapIdx[r]!, heapKey[l]!, heapIdx[l]!) ? r : l;
          if (!after(heapKey[c]!, heapIdx[c]!, key, i)) break;
          heapKey[at] = heapKey[c]!;
          heapIdx[at] = heapIdx[c]!;
          at = c;
        }
      }
      heapKey[at] = key;
      heapIdx[at] = i;
      if (size === cap) bar = heapKey[0]! - Math.abs(heapKey[0]!) * 1e-9;
    }
    // in index order when every item is drawn
    if (positive <= k) return heapIdx.slice(0, size).sort();
    // largest key first, smaller index first on ties: the heap's root is the item ranked last, so
    // popping it size times fills the output from its end (no comparator sort: ~3× cheaper)
    const out = new Int32Array(size);
    for (let end = size - 1; end >= 0; end--) {
      out[end] = heapIdx[0]!;
      const key = heapKey[end]!;
      const idx = heapIdx[end]!;
      // the heap's last item replaces the root and sinks
      let at = 0;
      for (;;) {
        const l = 2 * at + 1;
        if (l >= end) break;
        const r = l + 1;
        const c = r < end && after(heapKey[r]!, heapIdx[r]!, heapKey[l]!, heapIdx[l]!) ? r : l;
        if (!after(heapKey[c]!, heapIdx[c]!, key, idx)) break;
        heapKey[at] = heapKey[c]!;
        heapIdx[at] = heapIdx[c]!;
        at = c;
      }
      heapKey[at] = key;
      heapIdx[at] = idx;
    }
    return out;
  }
}
