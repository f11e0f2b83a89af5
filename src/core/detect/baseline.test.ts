import { describe, expect, it } from 'vitest';
import { tfidfIsolationForestBaseline, tfidfIsolationForestScores } from './baseline.js';
import { quantile } from './isolation-forest.js';
import { Random } from './random.js';

const RARE = [
  'kernel panic not syncing fatal exception',
  'disk quota exceeded for volume backup',
  'certificate expired for host gateway',
  'segmentation fault in worker thread',
  'replica lag exceeds limit on shard',
  'oom killer terminated process java',
  'checksum mismatch detected during scrub',
  'license server unreachable retrying later',
  'clock skew detected between nodes',
  'deadlock detected while updating ledger',
];

/** 1,000 lines: four everyday messages with changing numbers, and ten rare ones at seeded positions (returned). */
function corpus(seed = 1): { lines: string[]; rare: Set<number> } {
  const r = new Random(seed);
  const lines: string[] = [];
  for (let i = 0; i < 990; i++) {
    const n = r.int(100_000);
    lines.push(
      [
        `GET /api/items/${n} returned 200 in ${n % 97} ms`,
        `user ${n} logged in from 10.0.${n % 255}.${n % 13}`,
        `cache hit ratio ${n % 100}% over ${n} keys`,
        `request ${n} completed with status ok`,
      ][r.int(4)]!,
    );
  }
  const rare = new Set<number>();
  for (const msg of RARE) {
    const at = r.int(lines.length + 1);
    lines.splice(at, 0, msg);
  }
  lines.forEach((l, i) => {
    if (RARE.includes(l)) rare.add(i);
  });
  return { lines, rare };
}

describe('tfidfIsolationForestBaseline', () => {
  it('returns one verdict per line, in order, and flags at most the contamination share', () => {
    const { lines } = corpus();
    const flags = tfidfIsolationForestBaseline(lines, { contamination: 0.05, seed: 42 });
    expect(flags).toHaveLength(lines.length);
    const flagged = flags.filter(Boolean).length;
    expect(flagged).toBeGreaterThan(0);
    expect(flagged).toBeLessThanOrEqual(Math.ceil(0.05 * lines.length));
  });

  it('flags the rare messages, not the everyday ones', () => {
    const { lines, rare } = corpus();
    const flags = tfidfIsolationForestBaseline(lines);
    const flaggedRare = [...rare].filter((i) => flags[i]).length;
    expect(flaggedRare).toBe(rare.size);
  });

  it('scores lines that differ only in values the same (the message is masked first)', () => {
    const { lines } = corpus();
    const withTwins = [...lines, 'GET /api/items/1 returned 200 in 5 ms', 'GET /api/items/99999 returned 200 in 71 ms'];
    const { scores } = tfidfIsolationForestScores(withTwins);
    expect(scores[withTwins.length - 1]).toBe(scores[withTwins.length - 2]);
  });

  it('uses scikit-learn\'s threshold: the (1 - contamination) quantile of all lines\' scores, strictly exceeded', () => {
    const { lines } = corpus(2);
    const { scores, threshold, anomalous } = tfidfIsolationForestScores(lines, { contamination: 0.1 });
    expect(threshold).toBe(quantile(scores, 0.9));
    anomalous.forEach((a, i) => expect(a).toBe(scores[i]! > threshold));
  });

  it('gives the same verdicts for the same seed', () => {
    const { lines } = corpus(3);
    expect(tfidfIsolationForestBaseline(lines, { seed: 9 })).toEqual(tfidfIsolationForestBaseline(lines, { seed: 9 }));
  });

  it('flags nothing when every line says the same, and handles no lines', () => {
    expect(tfidfIsolationForestBaseline(Array.from({ length: 100 }, (_, i) => `heartbeat ${i} ok`))).toEqual(new Array(100).fill(false));
    expect(tfidfIsolationForestBaseline([])).toEqual([]);
  });
});
