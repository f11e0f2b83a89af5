/**
 * The miner's search compares a line only with the templates its index cannot rule out (a plain
 * word at some position that conflicts with the line's, or too few equal and flexible slots to
 * reach the similarity threshold), from facts about each token computed once. These tests hold it to the plain search it replaces — every
 * template of the bucket, in order, compared with fitsSlot, conflicts and sameKey on the strings —
 * on lines chosen to hit every rule (words, units, key=value with words and values, wrapped
 * values, generalised slots), through template creation, generalisation, eviction and restore.
 */
import { describe, expect, it } from 'vitest';
import { maskMessage, WILDCARD } from '../parse/mask.js';
import { conflicts, fitsSlot, sameKey, TemplateMiner, toSlots } from './miner.js';
import { mulberry32 as rng } from '../detect/random.js';

interface ClusterView {
  id: string;
  slots: string[];
  alive: boolean;
}

interface BucketView {
  list: ClusterView[];
  byWord: Map<string, ClusterView | ClusterView[]>[];
  openBits: Uint32Array[];
  discriminating: number[];
  exact: Map<string, ClusterView | ClusterView[]>[];
  flexible: number[];
}

interface MinerInternals {
  search(slots: readonly string[]): ClusterView | undefined;
  buckets: Map<number, BucketView>;
}

/** A bucket's index by template id, in a form two indexes of the same templates share. */
function indexView(b: BucketView): unknown {
  const ids = (v: ClusterView | ClusterView[]): string[] => (Array.isArray(v) ? v : [v]).map((c) => c.id).sort();
  const filed = (m: Map<string, ClusterView | ClusterView[]>): [string, string[]][] => [...m].map(([k, v]): [string, string[]] => [k, ids(v)]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return b.byWord.map((words, i) => ({
    words: filed(words),
    open: b.list.filter((c, k) => ((b.openBits[i]![k >>> 5] ?? 0) >>> (k & 31)) & 1).map((c) => c.id).sort(),
    discriminating: b.discriminating[i],
    exact: filed(b.exact[i]!),
    flexible: b.list.map((c, k) => `${c.id}:${b.flexible[k]}`).sort(),
  }));
}

/** Checks that the miner's index is the one a fresh miner builds from its snapshot. */
function checkIndexAsRebuilt(miner: TemplateMiner): void {
  const live = (miner as unknown as MinerInternals).buckets;
  const fresh = (TemplateMiner.restore(miner.snapshot()) as unknown as MinerInternals).buckets;
  for (const [n, b] of fresh) expect(indexView(live.get(n)!), `bucket of ${n} slots`).toEqual(indexView(b));
}

/** The search as it was before the index: every template of the bucket, in order. */
function plainSearch(list: readonly ClusterView[], slots: readonly string[], threshold: number): ClusterView | undefined {
  const n = slots.length;
  let best: ClusterView | undefined;
  let bestSim = -1;
  let bestExact = -1;
  outer: for (const c of list) {
    let same = 0;
    let exact = 0;
    for (let i = 0; i < n; i++) {
      const t = c.slots[i]!;
      const s = slots[i]!;
      if (t === s) {
        same++;
        if (t !== WILDCARD) exact++;
      } else if (fitsSlot(t, s)) same++;
      else if (conflicts(t, s, i > 0 && c.slots[i - 1] === slots[i - 1] ? c.slots[i - 1] : undefined)) continue outer;
      else if (sameKey(t, s)) same++;
    }
    const sim = n === 0 ? 1 : same / n;
    if (sim > bestSim || (sim === bestSim && exact > bestExact)) {
      best = c;
      bestSim = sim;
      bestExact = exact;
    }
  }
  return best && bestSim >= threshold ? best : undefined;
}

const WORDS = ['start', 'stop', 'VM', 'Paused', 'Resumed', 'user', 'User', 'host', 'cyrus', 'news', 'logged', 'rebooting', 'session', 'opened', 'closed', 'for', 'from', 'block', 'error', 'failed', 'Inode-cache', 'Step_LSC', 'mapred.job.id', 'mapred.task.id', 'onExtend:', '(Lifecycle', 'Event)', 'done.', '"View', 'root,'];
const UNITS = ['B', 'KB', 'MB', 'ms', 's', 'bytes'];
const KEYS = ['user', 'rhost', 'name', 'status', 'mode'];
const KEY_WORDS = ['root', 'guest', 'news', 'com.a.b', 'com.c.d', 'fast', '"quoted"'];

function token(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const k = r();
  if (k < 0.45) return pick(WORDS);
  if (k < 0.6) return String(Math.floor(r() * 5000));
  if (k < 0.68) return pick(UNITS);
  if (k < 0.8) return `${pick(KEYS)}=${r() < 0.5 ? pick(KEY_WORDS) : Math.floor(r() * 100)}`;
  if (k < 0.85) return `(${Math.floor(r() * 10)})`;
  if (k < 0.9) return `${pick(KEYS)}:${pick(KEY_WORDS)}`;
  if (k < 0.94) return `10.0.0.${Math.floor(r() * 9)}:80`;
  if (k < 0.97) return `[${pick(WORDS)}]`;
  return `x${pick(['#', '@', '/'])}${Math.floor(r() * 9)}`;
}

/** Lines from a few dozen "events" (a fixed word skeleton with some slots varying), and noise. */
function corpus(seed: number, count: number): string[] {
  const r = rng(seed);
  const events: string[][] = [];
  for (let e = 0; e < 60; e++) {
    const len = 1 + Math.floor(r() * 7);
    const skeleton: string[] = [];
    for (let i = 0; i < len; i++) skeleton.push(token(r));
    events.push(skeleton);
  }
  const lines: string[] = [];
  for (let k = 0; k < count; k++) {
    if (r() < 0.1) {
      const len = 1 + Math.floor(r() * 7);
      lines.push(Array.from({ length: len }, () => token(r)).join(' '));
      continue;
    }
    const skeleton = events[Math.floor(r() * events.length)]!;
    lines.push(skeleton.map((t) => (r() < 0.25 ? token(r) : t)).join(' '));
  }
  return lines;
}

/** Adds every line, checking first that the search finds what the plain search finds. */
function checkAgainstPlainSearch(miner: TemplateMiner, lines: readonly string[]): number {
  const m = miner as unknown as MinerInternals;
  let compared = 0;
  let added = 0;
  for (const line of lines) {
    const slots = toSlots(maskMessage(line, miner.config.maxTokens).tokens).slots;
    const list = m.buckets.get(slots.length)?.list ?? [];
    const expected = plainSearch(list, slots, miner.config.similarityThreshold);
    expect(m.search(slots)?.id, line).toBe(expected?.id);
    compared += list.length;
    miner.add(line);
    if (++added % 250 === 0) checkIndexAsRebuilt(miner);
  }
  checkIndexAsRebuilt(miner);
  return compared;
}

describe('TemplateMiner search index', () => {
  it('finds the template the plain search finds, line after line', () => {
    for (const seed of [1, 2, 3]) {
      const miner = new TemplateMiner();
      const compared = checkAgainstPlainSearch(miner, corpus(seed, 3000));
      // buckets grew past the size where the index is used
      expect(compared).toBeGreaterThan(3000 * 8);
    }
  });

  it('stays right when templates are evicted and buckets re-indexed', () => {
    const miner = new TemplateMiner({ maxTemplates: 40 });
    checkAgainstPlainSearch(miner, corpus(7, 4000));
    expect(miner.limits.template_evicted).toBeGreaterThan(0);
  });

  it('stays right after a restore from a snapshot', () => {
    const lines = corpus(11, 4000);
    const first = new TemplateMiner();
    for (const line of lines.slice(0, 2000)) first.add(line);
    const restored = TemplateMiner.restore(JSON.parse(JSON.stringify(first.snapshot())));
    checkAgainstPlainSearch(restored, lines.slice(2000));
  });

  it('ties go to the older template, as in the plain search', () => {
    const m = new TemplateMiner({ similarityThreshold: 0.3 });
    // eight templates of three slots sharing the middle word, so the index is used
    for (const w of ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta']) m.add(`${w} shared end${w}`);
    const older = m.add('one shared <*>');
    m.add('two shared <*>');
    const slots = toSlots(maskMessage('<*> shared <*>').tokens).slots;
    const internals = m as unknown as MinerInternals;
    expect(internals.search(slots)?.id).toBe(plainSearch(internals.buckets.get(3)!.list, slots, 0.3)?.id);
    expect(internals.search(slots)?.id).toBe(older.templateId);
  });
});
