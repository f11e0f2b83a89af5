/**
 * The seeded generator behind `vigil generate`. A corpus must be byte-identical for the same seed
 * and options on every machine and in every future version that keeps this file, so the generator
 * has its own copy of mulberry32 (the detectors' generator may change without changing corpora).
 *
 * mulberry32 (Tommy Ettinger, public domain): 32 bits of state, a few integer operations per draw.
 * Independent streams (traffic, anomalies, planning) are derived from the seed and a label with a
 * hash, so adding a draw to one stream never shifts the others.
 */

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit stream seed from a user seed (any safe integer, negative too) and a stream label.
 * Both halves of a seed wider than 32 bits count.
 */
export function streamSeed(seed: number, label: string): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  let h = fmix32(lo ^ 0x9e3779b9);
  h = fmix32(h ^ hi ^ 0x7f4a7c15);
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return fmix32(h);
}

const HEX = '0123456789abcdef';
const DIGITS = '0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A generator for stream `label` of user seed `seed`. */
  static stream(seed: number, label: string): Rng {
    return new Rng(streamSeed(seed, label));
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A float in [lo, hi). */
  float(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An index drawn with probability proportional to `weights[i]` (weights ≥ 0, sum > 0). */
  weightedIndex(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** An exponential waiting time with the given rate (mean 1/rate). */
  exp(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }

  /** A standard normal draw (Box–Muller; one draw per call keeps the stream simple). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A log-normal draw with the given median and shape (sigma of the log). */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  private chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }

  /** n lowercase hex digits, the first one a decimal digit (so a log masker always sees a value). */
  hex(n: number): string {
    return this.chars(DIGITS, 1) + this.chars(HEX, n - 1);
  }

  /** n decimal digits, the first one not 0. */
  digits(n: number): string {
    return this.chars('123456789', 1) + this.chars(DIGITS, n - 1);
  }

  /** n characters of [A-Za-z0-9], with at least one digit among them. */
  alnum(n: number): string {
    const s = this.chars(ALNUM, n);
    if (/\d/.test(s)) return s;
    const at = this.int(0, n - 1);
    return s.slice(0, at) + this.chars(DIGITS, 1) + s.slice(at + 1);
  }

  /** n characters of [A-Z0-9]. */
  upperAlnum(n: number): string {
    return this.chars(UPPER_ALNUM, n);
  }

  /** n characters of the given alphabet. */
  fromAlphabet(alphabet: string, n: number): string {
    return this.chars(alphabet, n);
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}
