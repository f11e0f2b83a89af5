/**
 * How often each template of each source has come back: its occurrences, and its bouts (runs of
 * occurrences within boutMs of event time of the bout's first). A burst of one error is one bout
 * however many lines it has; an error that keeps coming back in new bouts is routine. severity.ts
 * fades routine errors by it; correlation.ts stops reporting a routine failure that stays in one
 * service. Bounded: past maxKeys, the oldest key goes first.
 */
import type { DetectInput } from './detector.js';

export interface BoutCount {
  bouts: number;
  boutStartMs: number;
  count: number;
}

export class Bouts {
  private readonly seen = new Map<string, BoutCount>();

  constructor(
    private readonly boutMs: number,
    private readonly maxKeys: number,
  ) {}

  /** Counts one occurrence of the input's template at its time; returns its bouts and occurrences so far. */
  add(input: DetectInput): Readonly<BoutCount> {
    const key = `${input.source}\u0000${input.templateId}`;
    let seen = this.seen.get(key);
    if (seen === undefined) {
      if (this.seen.size >= this.maxKeys) this.seen.delete(this.seen.keys().next().value!);
      seen = { bouts: 1, boutStartMs: input.timeMs, count: 0 };
      this.seen.set(key, seen);
    } else if (Math.abs(input.timeMs - seen.boutStartMs) > this.boutMs) {
      seen.bouts++;
      seen.boutStartMs = input.timeMs;
    }
    seen.count++;
    return seen;
  }
}
