/**
 * Sequence anomalies: within one session (request, block, trace, job …), a template that follows
 * its predecessors in a way normal sessions never or hardly ever did.
 *
 * Per source, the detector learns transition counts: bigrams (previous template → this one) and
 * trigrams (two previous → this one), with a START marker before each session's first record. It
 * learns from everything during the warm-up, and keeps learning afterwards: a normal transition
 * counts 1, a flagged one only novelLearnWeight, so a new pattern has to recur (about 20 times at
 * the defaults) before it is normal, and one bad session never teaches the model that it was fine.
 *
 * After the warm-up a record is flagged when
 * - its bigram was seen fewer than minTransitionCount times while its previous template was seen at
 *   least minContextCount times: an unknown step; or
 * - (n = 3) its bigram is known but its trigram was seen fewer than minTransitionCount times while
 *   that two-template context was seen at least minContextCount times: a known step in an unknown
 *   place. Weaker, so it scores lower.
 * The score is scaled by how predictable the context is (Witten–Bell escape: a context with many
 * different successors makes an unseen one less surprising than a context that always had one).
 * A transition that is common the other way round (B → A known, A → B not) is two steps written
 * concurrently by different services, not a broken flow: it scores low (support, not an alarm).
 *
 * Bounded: sessions per source (approximate LRU: a session survives at least half of maxSessions new
 * sessions after its last line), n-grams per source (the rarest are pruned first: they carry the
 * least evidence; pair contexts go with their last trigram), templates per source (when full, the
 * source's model starts over and warms up again).
 */
import { NO_FINDINGS, type DetectInput, type Detector, type Finding } from './detector.js';
import { evictLeastRecent, fmt, round } from './frequency.js';
import { grown, SlotLru } from './slot-lru.js';

export interface SequenceOptions {
  /** 2 (bigrams only) or 3 (bigrams and trigrams). */
  ngram: 2 | 3;
  /** A transition seen fewer times than this (before the current record) is unusual. */
  minTransitionCount: number;
  /** …and so is one whose share of its context's transitions is below `rareTransitionShare`, once the context was seen `rareContextCount` times. */
  rareContextCount: number;
  rareTransitionShare: number;
  /** Weight with which a flagged transition is learned after the warm-up. */
  novelLearnWeight: number;
  /** A transition is judged only when its context (previous template, or pair) was seen at least this often. */
  minContextCount: number;
  /** Records with a session key a source must show before sequences are judged… */
  warmupRecords: number;
  /** …and event time (ms) it must cover (both must hold)… */
  warmupMs: number;
  /** …unless it has shown this many keyed records (a frozen clock or a burst). */
  warmupMaxRecords: number;
  /** Sessions followed per source. */
  maxSessionsPerSource: number;
  /** Templates known per source (below 2^17); when full, the source's model starts over. */
  maxTemplatesPerSource: number;
  /** Bigrams and, separately, trigrams kept per source. */
  maxNgramsPerSource: number;
  /** Sources followed (each holds a model; the least recently active go first). */
  maxSources: number;
}

export const DEFAULT_SEQUENCE_OPTIONS: Readonly<SequenceOptions> = Object.freeze({
  // a step that follows a well-known step (seen 500+ times) in fewer than 1 in 500 cases is as odd as
  // one never seen: anomalies that slipped into the warm-up must not become normal by repetition
  rareContextCount: 500,
  rareTransitionShare: 0.002,
  ngram: 3,
  // 2: seen once may be the one bad session itself; seen twice before is a pattern
  minTransitionCount: 2,
  // 0.1: a new transition must recur ~20 times before it counts as normal
  novelLearnWeight: 0.1,
  // 10: below that, the context itself is rare (often a template that just appeared, which
  // new_template reports) and "never seen after it" means little
  minContextCount: 10,
  // 5,000 keyed records: a few hundred sessions of typical length (10–20 lines) to learn from
  warmupRecords: 5_000,
  // 10 minutes of event time, as for new templates: start-up and the first periodic work are normal
  warmupMs: 10 * 60_000,
  // 10× the record warm-up: streams without timestamps or bursts still leave the warm-up
  warmupMaxRecords: 50_000,
  // 100,000 open sessions: far more than the concurrent requests or blocks of one service
  maxSessionsPerSource: 100_000,
  // 200,000 n-grams: thousands of templates with tens of successors each
  maxNgramsPerSource: 200_000,
  // 5× the miner's template cap: templates it evicts come back under the same id and stay known
  maxTemplatesPerSource: 50_000,
  // a model per source costs up to ~30 MB at the caps above: 16 sources with sessions bound memory
  maxSources: 16,
});

/** Interned template ids are < 2^17, so three of them pack into one safe integer key. */
const ID_SPACE = 131_072;
const MAX_INTERNED = ID_SPACE - 1;
const START = 0;

interface Context {
  total: number;
  /** Distinct successors. */
  types: number;
}

interface SequenceSource {
  ids: Map<string, number>;
  /** Interned id → template id and text, for evidence. */
  idNames: string[];
  idTemplates: string[];
  /**
   * Sessions followed: key → slot in the session tables below (a slot is reused when its session
   * is evicted). Tables, not an object per session: sessions live for many lines, and an object
   * each outlived young collections on the judge's thread and was copied and promoted.
   */
  sessions: SlotLru<string>;
  /** By slot: the session's last and second-to-last templates (interned ids). */
  sessionP1: Int32Array;
  sessionP2: Int32Array;
  bigrams: Map<number, number>;
  trigrams: Map<number, number>;
  /** Outgoing totals of one template (bigram contexts), indexed by interned id. */
  ctx1: Context[];
  /** Outgoing totals of a template pair (trigram contexts). */
  ctx2: Map<number, Context>;
  keyed: number;
  firstMs: number;
  warm: boolean;
  lastTouch: number;
  /** Times the model started over because the template id space filled. */
  resets: number;
}

export class SequenceDetector implements Detector {
  readonly name = 'sequence';
  private readonly opts: SequenceOptions;
  private readonly sources = new Map<string, SequenceSource>();
  private touch = 0;

  constructor(options: Partial<SequenceOptions> = {}) {
    this.opts = { ...DEFAULT_SEQUENCE_OPTIONS, ...options };
    this.opts.maxTemplatesPerSource = Math.min(this.opts.maxTemplatesPerSource, MAX_INTERNED);
  }

  observe(input: DetectInput): Finding[] {
    const key = input.sessionKey ?? input.record.requestId;
    if (key === undefined) return NO_FINDINGS;
    const o = this.opts;
    const s = this.stateOf(input.source, input.timeMs);
    s.lastTouch = ++this.touch;
    if (!s.warm) {
      s.warm = s.keyed >= o.warmupRecords && (input.timeMs - s.firstMs >= o.warmupMs || s.keyed >= o.warmupMaxRecords);
    }
    s.keyed++;
    const cur = this.intern(s, input);
    const session = this.sessionOf(s, key);
    const p1 = s.sessionP1[session]!;
    const p2 = s.sessionP2[session]!;
    const firstInSession = p1 === START;

    const biKey = p1 * ID_SPACE + cur;
    const bi = s.bigrams.get(biKey) ?? 0;
    let c1 = s.ctx1[p1];
    if (c1 === undefined) s.ctx1[p1] = c1 = { total: 0, types: 0 };
    const ctx1Total = c1.total;
    const ctx1Types = c1.types;

    let triKey = -1;
    let tri = 0;
    let c2: Context | undefined;
    if (o.ngram === 3 && !firstInSession) {
      triKey = (p2 * ID_SPACE + p1) * ID_SPACE + cur;
      tri = s.trigrams.get(triKey) ?? 0;
      const ctxKey = p2 * ID_SPACE + p1;
      c2 = s.ctx2.get(ctxKey);
      if (c2 === undefined) s.ctx2.set(ctxKey, (c2 = { total: 0, types: 0 }));
    }
    const ctx2Total = c2?.total ?? 0;
    const ctx2Types = c2?.types ?? 0;

    let finding: Finding | undefined;
    if (s.warm) {
      // a context seen a handful of times (a template that just appeared) says too little to judge by
      if ((bi < o.minTransitionCount && ctx1Total >= o.minContextCount) || (ctx1Total >= o.rareContextCount && bi / ctx1Total < o.rareTransitionShare)) {
        const escape = ctx1Total > 0 ? ctx1Types / (ctx1Total + ctx1Types) : 1;
        // two steps that are well known the other way round were logged concurrently (services
        // writing at the same moment), not a broken flow: weak alone, support for other detectors
        const swapped = p1 !== START && (s.bigrams.get(cur * ID_SPACE + p1) ?? 0) >= o.minContextCount;
        const score = swapped ? 0.3 + 0.2 * (1 - escape) : 0.3 + 0.7 * (1 - escape) * (bi === 0 ? 1 : 0.8);
        finding = this.finding(s, input, key, 'bigram', swapped, score, bi, ctx1Total, ctx1Types, p1, p2, cur);
      } else if (c2 !== undefined && ((tri < o.minTransitionCount && ctx2Total >= o.minContextCount) || (ctx2Total >= o.rareContextCount && tri / ctx2Total < o.rareTransitionShare))) {
        const escape = ctx2Types / (ctx2Total + ctx2Types);
        // the same steps with the two before in the other order is a concurrent write, as above
        const swapped = p2 !== START && (s.trigrams.get((p1 * ID_SPACE + p2) * ID_SPACE + cur) ?? 0) >= o.minContextCount;
        // an unseen step after a well-known pair of steps is as telling as an unseen pair, when the
        // pair's followers are few (low escape); masked templates often make only the triple new
        const score = swapped ? 0.3 + 0.2 * (1 - escape) : 0.3 + 0.6 * (1 - escape) * (tri === 0 ? 1 : 0.8);
        finding = this.finding(s, input, key, 'trigram', swapped, score, tri, ctx2Total, ctx2Types, p1, p2, cur);
      }
    }

    // learn
    const w = finding === undefined ? 1 : o.novelLearnWeight;
    if (bi === 0) c1.types++;
    c1.total += w;
    s.bigrams.set(biKey, bi + w);
    if (s.bigrams.size > o.maxNgramsPerSource) {
      prune(s.bigrams, (k) => {
        const ctx = s.ctx1[Math.floor(k / ID_SPACE)];
        if (ctx !== undefined && ctx.types > 0) ctx.types--;
      });
    }
    if (c2 !== undefined) {
      if (tri === 0) c2.types++;
      c2.total += w;
      s.trigrams.set(triKey, tri + w);
      if (s.trigrams.size > o.maxNgramsPerSource) {
        prune(s.trigrams, (k) => {
          // a pair context lives as long as one of its trigrams: this keeps ctx2 within the trigram cap
          const ctxKey = Math.floor(k / ID_SPACE);
          const ctx = s.ctx2.get(ctxKey);
          if (ctx !== undefined && --ctx.types <= 0) s.ctx2.delete(ctxKey);
        });
      }
    }
    s.sessionP2[session] = p1;
    s.sessionP1[session] = cur;
    return finding === undefined ? NO_FINDINGS : [finding];
  }

  /** The slot of a session, a new one (evicting the least recently active session when full) if it is new. */
  private sessionOf(s: SequenceSource, key: string): number {
    const slot = s.sessions.slotOf(key);
    if (s.sessions.added) {
      if (slot >= s.sessionP1.length) {
        s.sessionP1 = grown(s.sessionP1, s.sessions.capacity);
        s.sessionP2 = grown(s.sessionP2, s.sessions.capacity);
      }
      s.sessionP1[slot] = START;
      s.sessionP2[slot] = START;
    }
    return slot;
  }

  /** Sessions and n-grams held for a source (for reports and tests). */
  statsOf(source: string): { sessions: number; bigrams: number; trigrams: number; templates: number; warm: boolean; resets: number } | undefined {
    const s = this.sources.get(source);
    return s && { sessions: s.sessions.size, bigrams: s.bigrams.size, trigrams: s.trigrams.size, templates: s.ids.size, warm: s.warm, resets: s.resets };
  }

  private finding(s: SequenceSource, input: DetectInput, key: string, kind: 'bigram' | 'trigram', swapped: boolean, score: number, count: number, contextCount: number, contextSuccessors: number, p1: number, p2: number, cur: number): Finding {
    const prev = kind === 'bigram' ? [p1] : [p2, p1];
    const prevIds = prev.map((p) => (p === START ? '(session start)' : s.idNames[p]!));
    const prevTemplates = prev.map((p) => (p === START ? '(session start)' : s.idTemplates[p]!));
    const after = prevTemplates.map((t) => `"${shortT(t)}"`).join(' → ');
    // counts are weights (a flagged step is learned at a fraction), so speak of them as such
    const seen = count === 0 ? 'never seen' : `rarely seen (weight ${round(count)} of the ${this.opts.minTransitionCount} that make a step normal)`;
    const reason = swapped
      ? `in session ${key}, "${shortT(input.template)}" followed ${after}: an order ${seen} before, though the other order is common (likely two steps logged at the same moment)`
      : kind === 'bigram'
      ? `in session ${key}, "${shortT(input.template)}" followed ${after}: a step ${seen} before (the ${fmt(Math.round(contextCount))} steps seen from there led to ${fmt(contextSuccessors)} other templates)`
      : `in session ${key}, "${shortT(input.template)}" followed ${after}: each step is known, but this order was ${seen} in ${fmt(Math.round(contextCount))} passes through that pair`;
    return {
      detector: this.name,
      score: Math.min(1, score),
      reason,
      evidence: {
        sessionKey: key,
        kind,
        swapped,
        templateId: s.idNames[cur],
        previousTemplateIds: prevIds,
        previousTemplates: prevTemplates,
        transitionCount: round(count),
        contextCount: round(contextCount),
        contextSuccessors,
      },
      tags: ['sequence'],
      severity: 'medium',
    };
  }

  private intern(s: SequenceSource, input: DetectInput): number {
    let id = s.ids.get(input.templateId);
    if (id === undefined) {
      if (s.ids.size >= this.opts.maxTemplatesPerSource) this.reset(s);
      id = s.ids.size + 1;
      s.ids.set(input.templateId, id);
      s.idNames[id] = input.templateId;
    }
    s.idTemplates[id] = input.template;
    return id;
  }

  /** Starts a source's model over (its template id space is full) and warms it up again. */
  private reset(s: SequenceSource): void {
    s.ids.clear();
    s.idNames = [];
    s.idTemplates = [];
    s.sessions.clear();
    s.bigrams.clear();
    s.trigrams.clear();
    s.ctx1 = [];
    s.ctx2.clear();
    s.keyed = 0;
    s.warm = false;
    s.resets++;
  }

  private stateOf(source: string, timeMs: number): SequenceSource {
    let s = this.sources.get(source);
    if (s !== undefined) return s;
    if (this.sources.size >= this.opts.maxSources) evictLeastRecent(this.sources);
    s = {
      ids: new Map(), idNames: [], idTemplates: [],
      sessions: new SlotLru<string>(this.opts.maxSessionsPerSource), sessionP1: new Int32Array(0), sessionP2: new Int32Array(0),
      bigrams: new Map(), trigrams: new Map(), ctx1: [], ctx2: new Map(),
      keyed: 0, firstMs: timeMs, warm: false, lastTouch: 0, resets: 0,
    };
    this.sources.set(source, s);
    return s;
  }
}

/**
 * Drops the rarest n-grams until a tenth of the map is free: first those seen less than once (novel
 * transitions learned at a fraction), then below 2, 4 … Their contexts forget them as successors.
 */
function prune(map: Map<number, number>, forget: (key: number) => void): void {
  const target = Math.floor(map.size * 0.9);
  for (let below = 1; map.size > target; below *= 2) {
    for (const [k, c] of map) {
      if (c < below) {
        map.delete(k);
        forget(k);
        if (map.size <= target) break;
      }
    }
  }
}

const shortT = (t: string): string => (t.length > 60 ? `${t.slice(0, 57)}…` : t);
