/**
 * Floods: one template or one exact message taking over a source's stream.
 *
 * - Dominance: the template fills ≥ dominantShare of the source's last `windowRecords` records and
 *   appears there ≥ minDominantCount times.
 * - Repetition: the exact same message (same template, same values) comes ≥ repeatCount times within
 *   repeatWindowMs of event time (counted over its consecutive identical sightings within the template).
 *
 * Both only fire when the template's share of the recent window is at least minShareLift × its
 * share of the source's past (the records that already left the window): a stream that is always
 * 90% "GET … 200", or a heartbeat that always repeats, is its normal, not a flood. A template with no
 * past is always lifted.
 *
 * State per source: a ring of the last records' template entries (no lookups when a record leaves
 * it), one entry per template (in-window count, decayed past count, last message, the times of its
 * last identical repeats). Past counts are halved every pastHalvingRecords records, which keeps them
 * recent and lets dead templates be forgotten.
 */
import { NO_FINDINGS, type DetectInput, type Detector, type Finding } from './detector.js';
import { clamp, evictLeastRecent, fmt, fmtMs, round, short } from './frequency.js';

export interface FloodOptions {
  /** Records in the rolling count window, per source. */
  windowRecords: number;
  /** Share of the window one template must fill. */
  dominantShare: number;
  /** …and the fewest occurrences in the window. */
  minDominantCount: number;
  /** Identical messages that make a repetition… */
  repeatCount: number;
  /** …within this much event time (ms). */
  repeatWindowMs: number;
  /** The template's window share must be at least this many times its past share. */
  minShareLift: number;
  /** Records that must have left the window (the past) before anything is judged. */
  warmupRecords: number;
  /** Past counts are halved every this many records. */
  pastHalvingRecords: number;
  /** Messages longer than this are not compared for repetition (dominance still applies). */
  maxRepeatMessageChars: number;
  /** Templates followed per source. */
  maxTemplatesPerSource: number;
  /** Sources followed. */
  maxSources: number;
}

export const DEFAULT_FLOOD_OPTIONS: Readonly<FloodOptions> = Object.freeze({
  // 1,000 records: big enough that 50% is not a short run of one event, small enough to notice a
  // flood within a second on a busy stream and to cost 8 KB per source
  windowRecords: 1_000,
  // half the stream: on healthy systems even the busiest template rarely holds half of every
  // thousand lines unless it always does (which minShareLift excuses)
  dominantShare: 0.5,
  // 200 lines: with a full window the 50% rule already implies 500; this keeps a young, partly
  // filled window from calling a few dozen lines a flood
  minDominantCount: 200,
  // 50 identical lines in 10 s: five a second of the very same text is a loop or a retry storm,
  // not traffic (real traffic varies its values)
  repeatCount: 50,
  repeatWindowMs: 10_000,
  // 3×: a template must fill three times its usual share of the stream to be flooding it
  minShareLift: 3,
  // one full window of past: shares are compared with something
  warmupRecords: 1_000,
  // 100,000 records: the past share follows the last few hundred thousand lines
  pastHalvingRecords: 100_000,
  // identical repeats of very long messages are rare; comparing them costs time and holding them memory
  maxRepeatMessageChars: 1_000,
  // the miner's template cap per source: state grows with templates, up to what the miner keeps
  maxTemplatesPerSource: 10_000,
  maxSources: 1_000,
});

interface TemplateFlood {
  id: string;
  template: string;
  /** Occurrences in the ring. */
  inWindow: number;
  /** Decayed count of occurrences that left the ring. */
  past: number;
  lastMessage: string | undefined;
  /** Consecutive identical sightings of lastMessage within this template. */
  run: number;
  /** Event time of the first sighting of lastMessage. */
  firstMs: number;
  /** Event times of the last repeatCount identical sightings (a ring), allocated on the first repeat. */
  times: Float64Array | undefined;
  lastSeq: number;
}

interface FloodSource {
  ring: (TemplateFlood | undefined)[];
  pos: number;
  filled: number;
  /** Decayed count of records that left the ring. */
  pastTotal: number;
  sinceHalving: number;
  templates: Map<string, TemplateFlood>;
  lastTouch: number;
}

export class FloodDetector implements Detector {
  readonly name = 'flood';
  private readonly opts: FloodOptions;
  private readonly sources = new Map<string, FloodSource>();
  private touch = 0;

  constructor(options: Partial<FloodOptions> = {}) {
    this.opts = { ...DEFAULT_FLOOD_OPTIONS, ...options };
  }

  observe(input: DetectInput): Finding[] {
    const o = this.opts;
    const s = this.stateOf(input.source);
    s.lastTouch = ++this.touch;
    let t = s.templates.get(input.templateId);
    if (t === undefined) {
      t = { id: input.templateId, template: input.template, inWindow: 0, past: 0, lastMessage: undefined, run: 0, firstMs: 0, times: undefined, lastSeq: 0 };
      s.templates.set(input.templateId, t);
      if (s.templates.size > o.maxTemplatesPerSource) this.evictTemplates(s);
    }
    t.template = input.template;
    t.lastSeq = input.seq;

    // slide the window
    const leaving = s.ring[s.pos];
    if (leaving !== undefined) {
      leaving.inWindow--;
      leaving.past++;
      s.pastTotal++;
    } else s.filled++;
    s.ring[s.pos] = t;
    s.pos = s.pos + 1 === o.windowRecords ? 0 : s.pos + 1;
    t.inWindow++;
    if (++s.sinceHalving >= o.pastHalvingRecords) this.halvePast(s);

    const repeats = this.trackRepeat(t, input);
    if (s.pastTotal < o.warmupRecords) return NO_FINDINGS;
    const share = t.inWindow / s.filled;
    const pastShare = s.pastTotal > 0 ? t.past / s.pastTotal : 0;
    if (share < o.minShareLift * pastShare) return NO_FINDINGS;
    const dominant = t.inWindow >= o.minDominantCount && share >= o.dominantShare;
    if (!dominant && repeats === undefined) return NO_FINDINGS;

    const evidence: Record<string, unknown> = {
      templateId: t.id,
      template: t.template,
      windowRecords: s.filled,
      countInWindow: t.inWindow,
      shareInWindow: round(share),
      pastShare: round(pastShare),
    };
    let score = 0;
    const parts: string[] = [];
    if (dominant) {
      score = clamp(0.5 + (0.5 * (share - o.dominantShare)) / (1 - o.dominantShare), 0.5, 1);
      parts.push(`one template fills ${pct(share)} of the last ${fmt(s.filled)} records (${fmt(t.inWindow)} lines; usually ${pct(pastShare)})`);
    }
    if (repeats !== undefined) {
      const perSec = (o.repeatCount * 1000) / Math.max(repeats, 1);
      const threshold = (o.repeatCount * 1000) / o.repeatWindowMs;
      score = Math.max(score, clamp(0.5 + 0.5 * Math.log10(perSec / threshold), 0.5, 1));
      parts.push(`the same message came ${fmt(o.repeatCount)} times in ${fmtMs(repeats)} (${fmt(t.run)} in a row for this template)`);
      evidence.identicalRun = t.run;
      evidence.repeatSpanMs = repeats;
      evidence.repeatWindowMs = o.repeatWindowMs;
    }
    return [{
      detector: this.name,
      score,
      reason: `${parts.join('; ')}: ${short(t.template)}`,
      evidence,
      tags: repeats !== undefined ? ['flood', 'repeat'] : ['flood'],
      severity: 'medium',
    }];
  }

  /**
   * Counts an identical sighting; returns the event time spanned by the last repeatCount identical
   * messages when they fit in repeatWindowMs, else undefined.
   */
  private trackRepeat(t: TemplateFlood, input: DetectInput): number | undefined {
    const o = this.opts;
    const message = input.record.message;
    if (message.length > o.maxRepeatMessageChars) {
      t.lastMessage = undefined;
      t.run = 0;
      return undefined;
    }
    if (message !== t.lastMessage) {
      t.lastMessage = message;
      t.run = 1;
      t.firstMs = input.timeMs;
      return undefined;
    }
    // sighting k of this message is kept at times[k % repeatCount]
    const r = o.repeatCount;
    const k = t.run;
    t.times ??= new Float64Array(r);
    if (k === 1) t.times[0] = t.firstMs;
    t.times[k % r] = input.timeMs;
    t.run = k + 1;
    if (t.run < r) return undefined;
    const span = input.timeMs - t.times[(k + 1) % r]!;
    return span <= o.repeatWindowMs ? span : undefined;
  }

  private halvePast(s: FloodSource): void {
    s.sinceHalving = 0;
    s.pastTotal /= 2;
    for (const [id, t] of s.templates) {
      t.past /= 2;
      // a template gone from the window with next to no past is forgotten
      if (t.inWindow === 0 && t.past < 0.5) s.templates.delete(id);
    }
  }

  private stateOf(source: string): FloodSource {
    let s = this.sources.get(source);
    if (s !== undefined) return s;
    if (this.sources.size >= this.opts.maxSources) evictLeastRecent(this.sources);
    s = { ring: new Array<TemplateFlood | undefined>(this.opts.windowRecords).fill(undefined), pos: 0, filled: 0, pastTotal: 0, sinceHalving: 0, templates: new Map(), lastTouch: 0 };
    this.sources.set(source, s);
    return s;
  }

  /** Forgets the least recently seen templates that are not in the window (those in it stay: the ring holds them). */
  private evictTemplates(s: FloodSource): void {
    const out = [...s.templates.values()].filter((t) => t.inWindow === 0).sort((a, b) => a.lastSeq - b.lastSeq);
    const drop = Math.max(1, Math.floor(s.templates.size * 0.1));
    for (let i = 0; i < drop && i < out.length; i++) s.templates.delete(out[i]!.id);
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
