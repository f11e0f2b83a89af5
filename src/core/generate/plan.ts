/**
 * Where anomalies go. The budget is `round(rate × lines)` anomalous lines, split evenly between
 * the six kinds; each kind's share is cut into episodes (a burst of a new error, one spike, one
 * flood, or one single line), and each kind's episodes are spread evenly, with jitter, over the
 * lines after the clean warm-up. Episodes that last (bursts, spikes, floods) start before 85% of
 * the run so they end inside it; single-line ones start before 97%.
 *
 * The plan is produced lazily in line order: memory grows with the number of multi-line episodes
 * (hundreds for millions of lines), not with the number of lines.
 */
import { ANOMALY_KINDS, type AnomalyKind } from './anomalies.js';
import type { Rng } from './prng.js';

export interface Episode {
  /** 1-based, in start order. */
  id: number;
  kind: AnomalyKind;
  /** Anomalous lines the episode writes. */
  size: number;
  /** The episode starts once this many lines have been written (≥ the warm-up). */
  startLine: number;
}

/** Episode sizes (lines) of the kinds that write more than one line. */
export const EPISODE_SIZES: Readonly<Partial<Record<AnomalyKind, readonly [number, number]>>> = {
  new_error: [3, 12],
  spike: [30, 250],
  flood: [100, 500],
};

const LONG_END = 0.85;
const SINGLE_END = 0.97;

/** Cuts `total` into sizes within [lo, hi] (one smaller piece when total < lo). */
export function splitSizes(r: Rng, total: number, lo: number, hi: number): number[] {
  const out: number[] = [];
  let rem = total;
  while (rem > 0) {
    let s: number;
    if (rem <= hi) s = rem;
    else {
      s = r.int(lo, hi);
      if (rem - s < lo) s = rem - lo;
    }
    out.push(s);
    rem -= s;
  }
  return out;
}

/** Anomalous lines per kind: the budget split evenly, the remainder to kinds in random order. */
export function kindShares(r: Rng, budget: number): Record<AnomalyKind, number> {
  const base = Math.floor(budget / ANOMALY_KINDS.length);
  const shares = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, base])) as Record<AnomalyKind, number>;
  const order = r.shuffle([...ANOMALY_KINDS]);
  for (let i = 0; i < budget - base * ANOMALY_KINDS.length; i++) shares[order[i]!]++;
  return shares;
}

/** One kind's episodes, positions evenly spread over [from, to) with jitter, produced in order. */
class KindStream {
  private i = 0;
  next: { startLine: number; size: number } | undefined;

  constructor(
    readonly kind: AnomalyKind,
    private readonly sizes: number[] | { count: number },
    private readonly from: number,
    private readonly to: number,
    private readonly r: Rng,
  ) {
    this.advance();
  }

  private get count(): number {
    return Array.isArray(this.sizes) ? this.sizes.length : this.sizes.count;
  }

  advance(): void {
    if (this.i >= this.count) {
      this.next = undefined;
      return;
    }
    const span = Math.max(1, this.to - this.from);
    // (i + jitter) grows with i for jitter in [0.05, 0.95), so positions come out in order
    const startLine = this.from + Math.floor(((this.i + this.r.float(0.05, 0.95)) * span) / this.count);
    const size = Array.isArray(this.sizes) ? this.sizes[this.i]! : 1;
    this.i++;
    this.next = { startLine, size };
  }
}

export class EpisodePlan {
  readonly budget: number;
  readonly warmupLines: number;
  readonly shares: Record<AnomalyKind, number>;
  private readonly streams: KindStream[];
  private nextId = 1;

  constructor(r: Rng, lines: number, rate: number, warmupFraction: number) {
    this.budget = Math.round(rate * lines);
    this.warmupLines = Math.ceil(warmupFraction * lines);
    this.shares = kindShares(r, this.budget);
    const longEnd = Math.max(this.warmupLines + 1, Math.floor(LONG_END * lines));
    const singleEnd = Math.max(this.warmupLines + 1, Math.floor(SINGLE_END * lines));
    this.streams = ANOMALY_KINDS.map((kind) => {
      const range = EPISODE_SIZES[kind];
      const sizes = range ? splitSizes(r, this.shares[kind], range[0], range[1]) : { count: this.shares[kind] };
      return new KindStream(kind, sizes, this.warmupLines, range ? longEnd : singleEnd, r);
    });
  }

  /** The next episode in start order, or undefined when all are out. */
  next(): Episode | undefined {
    let best: KindStream | undefined;
    for (const s of this.streams) if (s.next && (!best || s.next.startLine < best.next!.startLine)) best = s;
    if (!best) return undefined;
    const { startLine, size } = best.next!;
    best.advance();
    return { id: this.nextId++, kind: best.kind, size, startLine };
  }
}
