/**
 * The online template miner: Drain's idea (lines of equal length, bucketed by their first token,
 * join the most similar template above a threshold) with the fixes its users ask for:
 *
 * - Values are masked before mining (see parse/mask.ts), and a run of adjacent values counts as one
 *   slot, so a value spanning a varying number of tokens does not split a template. A slot that has
 *   always held the same number of tokens is written with that many `<*>`.
 * - `match` and `add` run the same search, so matching a line and adding it give the same answer.
 * - Limits: templates per miner (least recently used are evicted), message length and token count;
 *   every line that hits a limit is counted by reason.
 * - Ids are stable (see template-id.ts) and state is saved in an explicit, versioned snapshot.
 */
import { maskMessage, WILDCARD } from '../parse/mask.js';
import { templateIdFor } from './template-id.js';

export interface MinerConfig {
  /** Share of a line's slots that must equal a template's for the line to join it. Drain's default. */
  similarityThreshold: number;
  /** Templates kept per miner (one miner per source); the least recently used go first. */
  maxTemplates: number;
  /** Longer messages are cut to this many characters before mining (counted as `message_truncated`). */
  maxMessageChars: number;
  /** Tokens mined per message; the rest becomes one final value (counted as `tokens_truncated`). */
  maxTokens: number;
  /** Exact-shape lookups remembered (a cache: lines of a seen shape skip the similarity search). */
  shapeCacheSize: number;
}

export const DEFAULT_MINER_CONFIG: Readonly<MinerConfig> = Object.freeze({
  similarityThreshold: 0.5,
  maxTemplates: 10_000,
  maxMessageChars: 16_384,
  maxTokens: 256,
  shapeCacheSize: 50_000,
});

export type LimitReason = 'message_truncated' | 'tokens_truncated' | 'template_evicted';

interface Cluster {
  id: string;
  /** Template slots: constant text, or `<*>` for a run of one or more values. */
  slots: string[];
  /** Per slot: for `<*>` slots the number of tokens the value has always spanned, 0 when it varied. */
  runs: number[];
  count: number;
  lastUsed: number;
  bucket: string;
  alive: boolean;
  text: string;
}

export interface MineResult {
  templateId: string;
  /** The template with `<*>` for values. */
  template: string;
  /** The masked values of this line, in order. */
  params: string[];
  /** True when this line created the template. */
  created: boolean;
}

export interface TemplateInfo {
  templateId: string;
  template: string;
  count: number;
}

/** The miner's saved state. Bump `version` on any change of meaning. */
export interface MinerSnapshot {
  format: 'vigil.miner';
  version: 1;
  config: MinerConfig;
  tick: number;
  limits: Record<LimitReason, number>;
  templates: { id: string; slots: string[]; runs: number[]; count: number; lastUsed: number }[];
}

export class SnapshotError extends Error {
  readonly code = 'VIGIL_MINER_BAD_SNAPSHOT';
}

interface Shape {
  slots: string[];
  runs: number[];
}

/** Collapses runs of adjacent `<*>` tokens into one slot, remembering each run's length. */
function toShape(tokens: readonly string[]): Shape {
  const slots: string[] = [];
  const runs: number[] = [];
  for (const t of tokens) {
    if (t === WILDCARD && slots.length > 0 && slots[slots.length - 1] === WILDCARD) runs[runs.length - 1]!++;
    else {
      slots.push(t);
      runs.push(t === WILDCARD ? 1 : 0);
    }
  }
  return { slots, runs };
}

function bucketKey(slots: readonly string[]): string {
  const first = slots[0] ?? '';
  return `${slots.length}\u0000${first.includes(WILDCARD) ? WILDCARD : first}`;
}

function renderTemplate(slots: readonly string[], runs: readonly number[]): string {
  let out = '';
  for (let i = 0; i < slots.length; i++) {
    if (i > 0) out += ' ';
    const r = runs[i]!;
    if (slots[i] === WILDCARD && r > 1) out += Array(r).fill(WILDCARD).join(' ');
    else out += slots[i];
  }
  return out;
}

export class TemplateMiner {
  readonly config: MinerConfig;
  private readonly buckets = new Map<string, Cluster[]>();
  private readonly byId = new Map<string, Cluster>();
  private readonly shapeCache = new Map<string, Cluster>();
  private tick = 0;
  readonly limits: Record<LimitReason, number> = { message_truncated: 0, tokens_truncated: 0, template_evicted: 0 };

  constructor(config: Partial<MinerConfig> = {}) {
    this.config = { ...DEFAULT_MINER_CONFIG, ...config };
  }

  get templateCount(): number {
    return this.byId.size;
  }

  /** Mines one message: finds or creates its template and learns from it. */
  add(message: string): MineResult {
    const { tokens, params, key } = this.prepare(message, true);
    let cluster = this.lookup(key);
    let created = false;
    const shape = toShape(tokens);
    if (!cluster) {
      cluster = this.search(shape);
      if (cluster) this.generalise(cluster, shape);
      else {
        cluster = this.create(shape);
        created = true;
      }
      this.remember(key, cluster);
    }
    cluster.count++;
    cluster.lastUsed = ++this.tick;
    return { templateId: cluster.id, template: cluster.text, params, created };
  }

  /** The template a message would join, without learning anything; undefined if it would be new. */
  match(message: string): MineResult | undefined {
    const { tokens, params, key } = this.prepare(message, false);
    const cluster = this.lookup(key) ?? this.search(toShape(tokens));
    return cluster ? { templateId: cluster.id, template: cluster.text, params, created: false } : undefined;
  }

  templates(): TemplateInfo[] {
    return [...this.byId.values()].map((c) => ({ templateId: c.id, template: c.text, count: c.count }));
  }

  template(id: string): TemplateInfo | undefined {
    const c = this.byId.get(id);
    return c ? { templateId: c.id, template: c.text, count: c.count } : undefined;
  }

  snapshot(): MinerSnapshot {
    return {
      format: 'vigil.miner',
      version: 1,
      config: { ...this.config },
      tick: this.tick,
      limits: { ...this.limits },
      templates: [...this.byId.values()].map((c) => ({ id: c.id, slots: [...c.slots], runs: [...c.runs], count: c.count, lastUsed: c.lastUsed })),
    };
  }

  static restore(snapshot: unknown): TemplateMiner {
    const s = snapshot as Partial<MinerSnapshot> | null;
    if (!s || typeof s !== 'object' || s.format !== 'vigil.miner') throw new SnapshotError('not a Vigil miner snapshot (expected format "vigil.miner")');
    if (s.version !== 1) throw new SnapshotError(`unsupported miner snapshot version ${String(s.version)} (this build reads version 1)`);
    if (!Array.isArray(s.templates)) throw new SnapshotError('miner snapshot has no templates array');
    const miner = new TemplateMiner(s.config ?? {});
    miner.tick = Number(s.tick) || 0;
    Object.assign(miner.limits, s.limits ?? {});
    for (const t of s.templates) {
      if (typeof t.id !== 'string' || !Array.isArray(t.slots) || !Array.isArray(t.runs) || t.slots.length !== t.runs.length) {
        throw new SnapshotError(`malformed template in miner snapshot: ${JSON.stringify(t).slice(0, 120)}`);
      }
      const c: Cluster = { id: t.id, slots: t.slots, runs: t.runs, count: t.count, lastUsed: t.lastUsed, bucket: bucketKey(t.slots), alive: true, text: renderTemplate(t.slots, t.runs) };
      miner.insert(c);
    }
    return miner;
  }

  private prepare(message: string, counting: boolean): { tokens: string[]; params: string[]; key: string } {
    let msg = message;
    if (msg.length > this.config.maxMessageChars) {
      msg = msg.slice(0, this.config.maxMessageChars);
      if (counting) this.limits.message_truncated++;
    }
    const { tokens, params, truncatedTokens } = maskMessage(msg, this.config.maxTokens);
    if (truncatedTokens && counting) this.limits.tokens_truncated++;
    return { tokens, params, key: tokens.join(' ') };
  }

  private lookup(key: string): Cluster | undefined {
    const c = this.shapeCache.get(key);
    if (c && !c.alive) {
      this.shapeCache.delete(key);
      return undefined;
    }
    return c;
  }

  private remember(key: string, cluster: Cluster): void {
    if (this.shapeCache.size >= this.config.shapeCacheSize) this.shapeCache.clear();
    this.shapeCache.set(key, cluster);
  }

  /** The most similar template of the same length and first token, if similar enough. */
  private search(shape: Shape): Cluster | undefined {
    const n = shape.slots.length;
    const own = this.buckets.get(bucketKey(shape.slots));
    const wild = shape.slots[0] !== undefined && !shape.slots[0].includes(WILDCARD) ? this.buckets.get(`${n}\u0000${WILDCARD}`) : undefined;
    let best: Cluster | undefined;
    let bestSim = -1;
    let bestExact = -1;
    for (const list of [own, wild]) {
      if (!list) continue;
      for (const c of list) {
        let same = 0;
        let exact = 0;
        for (let i = 0; i < n; i++) {
          const t = c.slots[i]!;
          if (t === shape.slots[i]) {
            same++;
            if (t !== WILDCARD) exact++;
          }
        }
        const sim = n === 0 ? 1 : same / n;
        if (sim > bestSim || (sim === bestSim && exact > bestExact)) {
          best = c;
          bestSim = sim;
          bestExact = exact;
        }
      }
    }
    return best && bestSim >= this.config.similarityThreshold ? best : undefined;
  }

  private generalise(c: Cluster, shape: Shape): void {
    let changed = false;
    for (let i = 0; i < c.slots.length; i++) {
      const t = c.slots[i]!;
      const s = shape.slots[i]!;
      if (t !== s) {
        if (t !== WILDCARD) {
          c.slots[i] = WILDCARD;
          // the template had one constant token here; a value run of another length means it varies
          c.runs[i] = s === WILDCARD && shape.runs[i] !== 1 ? 0 : 1;
          changed = true;
        } else if (c.runs[i] !== 0 && c.runs[i] !== 1) {
          c.runs[i] = 0;
          changed = true;
        }
      } else if (t === WILDCARD && c.runs[i] !== 0 && c.runs[i] !== shape.runs[i]) {
        c.runs[i] = 0;
        changed = true;
      }
    }
    if (changed) {
      c.text = renderTemplate(c.slots, c.runs);
      const b = bucketKey(c.slots);
      if (b !== c.bucket) {
        this.unbucket(c);
        c.bucket = b;
        this.bucket(c);
      }
    }
  }

  private create(shape: Shape): Cluster {
    if (this.byId.size >= this.config.maxTemplates) this.evict();
    const text = renderTemplate(shape.slots, shape.runs);
    let id = templateIdFor(text);
    for (let k = 2; this.byId.has(id); k++) id = `${templateIdFor(text)}-${k}`;
    const c: Cluster = { id, slots: [...shape.slots], runs: [...shape.runs], count: 0, lastUsed: this.tick, bucket: bucketKey(shape.slots), alive: true, text };
    this.insert(c);
    return c;
  }

  private insert(c: Cluster): void {
    this.byId.set(c.id, c);
    this.bucket(c);
  }

  private bucket(c: Cluster): void {
    const list = this.buckets.get(c.bucket);
    if (list) list.push(c);
    else this.buckets.set(c.bucket, [c]);
  }

  private unbucket(c: Cluster): void {
    const list = this.buckets.get(c.bucket);
    if (!list) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.buckets.delete(c.bucket);
  }

  /** Drops the least recently used tenth of the templates (one sort, amortised over many inserts). */
  private evict(): void {
    const all = [...this.byId.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    const n = Math.max(1, Math.floor(this.config.maxTemplates / 10));
    for (const c of all.slice(0, n)) {
      c.alive = false;
      this.byId.delete(c.id);
      this.unbucket(c);
      this.limits.template_evicted++;
    }
  }
}
