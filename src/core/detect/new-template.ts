/**
 * New and rare templates, per source.
 *
 * - `new_template`: a record whose template this source has never shown, once the source is past its
 *   warm-up. A template first seen during the warm-up is part of the baseline, never "new". The score
 *   says how surprising novelty is here: the Good–Turing estimate of the chance that the next record
 *   brings a new template is (templates seen once) / (records seen); a stream that rarely shows
 *   anything new scores its new templates near 1, a stream that keeps inventing them near 0.5.
 * - `rare_template`: after the warm-up, a known template whose count so far is tiny (≤ 3) and tiny
 *   relative to the records seen (< 1 in 10,000). Its first sighting is `new_template` or part of the
 *   warm-up, so rare findings are for its 2nd and 3rd sightings; the score grows with rarity.
 *
 * Memory: per source, one small entry per template, capped (the least recently seen go first);
 * sources themselves are capped (the least recently active go first).
 */
import { NO_FINDINGS, type DetectInput, type Detector, type Finding } from './detector.js';

export interface NewTemplateOptions {
  /** Records a source must show before novelty counts. */
  warmupRecords: number;
  /** Event time (ms) a source must cover before novelty counts (both conditions must hold). */
  warmupMs: number;
  /** The warm-up ends after this many records even if the clock has not moved (no timestamps, bursts). */
  warmupMaxRecords: number;
  /**
   * …or, once `warmupRecords` have passed, as soon as template discovery has settled: by
   * Good–Turing, the chance that the next record brings an unseen template is about the share of
   * records whose template was seen once; below this, what is new is news.
   */
  settleNewRate: number;
  /** Occurrences of a new template that are all reported (a new error's burst), score fading. */
  youngCount: number;
  /** Also emit `rare_template` findings. */
  rareEnabled: boolean;
  /** A template is rare only while seen at most this many times. */
  rareMaxCount: number;
  /** …and while its share of the source's records is below this. */
  rareMaxFrequency: number;
  /** Templates remembered per source. */
  maxTemplatesPerSource: number;
  /** Sources remembered. */
  maxSources: number;
}

export const DEFAULT_NEW_TEMPLATE_OPTIONS: Readonly<NewTemplateOptions> = Object.freeze({
  // 2,000 records: on the Loghub-2k corpora the miner has met the common templates of a system well
  // before its 2,000th line, so what comes after is mostly the long tail or real novelty.
  warmupRecords: 2_000,
  // 10 minutes: start-up chatter, the first periodic jobs (minutely crons, heartbeats, flushes) and
  // the first client requests all belong to the baseline, even on a quiet stream that needs longer
  // than 2,000 lines to show them. Whichever comes later ends the warm-up.
  warmupMs: 10 * 60_000,
  // 10× the record warm-up: a stream without timestamps (a clock that never moves) or a burst that
  // writes 20,000 lines in a minute has shown its shape anyway.
  warmupMaxRecords: 20_000,
  // 1 in 2,000: routine templates have all been met, so a new one is worth a look, even before the
  // clock has covered 10 minutes
  settleNewRate: 5e-4,
  // a new error usually comes as a burst of a few to a few dozen lines: report them all, not just
  // the first; past 20 the template is established (a spike of it is frequency_spike's to find)
  youngCount: 20,
  rareEnabled: true,
  // 3 sightings and 1 in 10,000: a template seen a handful of times in tens of thousands of lines is
  // the kind a person would want to read; more often than that it is routine, if infrequent.
  rareMaxCount: 3,
  rareMaxFrequency: 1e-4,
  // the miner's default template cap: both forget the least recently seen first, so the templates the
  // miner still knows are known here
  maxTemplatesPerSource: 10_000,
  // sources are files or streams; a thousand is generous and bounds memory at 1,000 × 10,000 entries
  maxSources: 1_000,
});

interface TemplateStats {
  count: number;
  lastSeq: number;
  /** Born after the warm-up: a new template, young while seen at most `youngCount` times. */
  young: boolean;
  /** The score its first occurrence got. */
  firstScore: number;
}

interface SourceState {
  records: number;
  firstMs: number;
  warm: boolean;
  templates: Map<string, TemplateStats>;
  /** Templates seen exactly once (Good–Turing's N1). */
  singletons: number;
  evictedTemplates: number;
  lastTouch: number;
}

/** Share of a full map dropped at once when it overflows, so the cost of choosing is paid rarely. */
const EVICT_FRACTION = 0.1;

export class NewTemplateDetector implements Detector {
  readonly name = 'new_template';
  readonly rareName = 'rare_template';
  private readonly opts: NewTemplateOptions;
  private readonly sources = new Map<string, SourceState>();
  private touch = 0;

  constructor(options: Partial<NewTemplateOptions> = {}) {
    this.opts = { ...DEFAULT_NEW_TEMPLATE_OPTIONS, ...options };
  }

  observe(input: DetectInput): Finding[] {
    const s = this.stateOf(input.source, input.timeMs);
    s.lastTouch = ++this.touch;
    const recordsBefore = s.records;
    s.records++;
    if (!s.warm) {
      const elapsed = input.timeMs - s.firstMs;
      const settled = recordsBefore > 0 && s.singletons / recordsBefore <= this.opts.settleNewRate;
      s.warm = recordsBefore >= this.opts.warmupRecords && (elapsed >= this.opts.warmupMs || recordsBefore >= this.opts.warmupMaxRecords || settled);
    }
    let t = s.templates.get(input.templateId);
    if (t === undefined) {
      const singletonsBefore = s.singletons;
      const known = s.templates.size;
      const finding = s.warm ? this.newFinding(input, known, recordsBefore, singletonsBefore) : undefined;
      t = { count: 1, lastSeq: input.seq, young: s.warm, firstScore: finding?.score ?? 0 };
      s.templates.set(input.templateId, t);
      s.singletons++;
      if (s.templates.size > this.opts.maxTemplatesPerSource) this.evictTemplates(s);
      return finding ? [finding] : NO_FINDINGS;
    }
    t.count++;
    t.lastSeq = input.seq;
    if (t.count === 2) s.singletons--;
    if (t.young && t.count <= this.opts.youngCount) return [this.youngFinding(input, t)];
    if (!s.warm || !this.opts.rareEnabled || t.count > this.opts.rareMaxCount) return NO_FINDINGS;
    const frequency = t.count / s.records;
    if (frequency >= this.opts.rareMaxFrequency) return NO_FINDINGS;
    return [this.rareFinding(input, s, t.count, frequency)];
  }

  /** Records seen and templates known for a source (for reports and tests). */
  statsOf(source: string): { records: number; templates: number; warm: boolean; evictedTemplates: number } | undefined {
    const s = this.sources.get(source);
    return s && { records: s.records, templates: s.templates.size, warm: s.warm, evictedTemplates: s.evictedTemplates };
  }

  private newFinding(input: DetectInput, known: number, recordsBefore: number, singletonsBefore: number): Finding {
    const pNew = (singletonsBefore + 1) / (recordsBefore + 1);
    // 1 in 10 records brings a new template → 0.5; 1 in 10,000 or fewer → 1
    const score = clamp(0.5 + (-Math.log10(pNew) - 1) / 6, 0.5, 1);
    const oneIn = Math.max(1, Math.round(1 / pNew));
    return {
      detector: this.name,
      score,
      reason: `template never seen before in ${fmt(recordsBefore)} records of source "${input.source}" (new templates arrive about 1 in ${fmt(oneIn)} records here)`,
      evidence: {
        templateId: input.templateId,
        template: input.template,
        recordsSeen: recordsBefore,
        templatesKnown: known,
        templatesSeenOnce: singletonsBefore,
        newTemplateRate: round(pNew),
      },
      tags: ['new'],
      severity: 'medium',
    };
  }

  private youngFinding(input: DetectInput, t: TemplateStats): Finding {
    // fades from the first occurrence's score towards 60% of it by the last young occurrence
    const score = t.firstScore * (1 - 0.4 * ((t.count - 1) / Math.max(1, this.opts.youngCount - 1)));
    return {
      detector: this.name,
      score,
      reason: `occurrence ${t.count} of a template first seen after the warm-up of source "${input.source}" (new templates stay news for ${this.opts.youngCount} occurrences)`,
      evidence: { templateId: input.templateId, template: input.template, occurrence: t.count, youngCount: this.opts.youngCount },
      tags: ['new'],
      severity: 'medium',
    };
  }

  private rareFinding(input: DetectInput, s: SourceState, count: number, frequency: number): Finding {
    const score = clamp(0.4 + 0.2 * Math.log10(this.opts.rareMaxFrequency / frequency), 0.4, 1);
    return {
      detector: this.rareName,
      score,
      reason: `template seen ${count} times in ${fmt(s.records)} records of source "${input.source}" (1 in ${fmt(Math.round(1 / frequency))}; rare is at most ${this.opts.rareMaxCount} times and below 1 in ${fmt(Math.round(1 / this.opts.rareMaxFrequency))})`,
      evidence: { templateId: input.templateId, template: input.template, count, recordsSeen: s.records, frequency: round(frequency), maxFrequency: this.opts.rareMaxFrequency },
      tags: ['rare'],
      severity: 'low',
    };
  }

  private stateOf(source: string, timeMs: number): SourceState {
    let s = this.sources.get(source);
    if (s !== undefined) return s;
    if (this.sources.size >= this.opts.maxSources) evictLeastRecent(this.sources);
    s = { records: 0, firstMs: timeMs, warm: false, templates: new Map(), singletons: 0, evictedTemplates: 0, lastTouch: 0 };
    this.sources.set(source, s);
    return s;
  }

  /** Drops the least recently seen tenth of a source's templates. */
  private evictTemplates(s: SourceState): void {
    const entries = [...s.templates].sort((a, b) => a[1].lastSeq - b[1].lastSeq);
    const drop = Math.max(1, Math.floor(entries.length * EVICT_FRACTION));
    for (let i = 0; i < drop; i++) {
      const [id, t] = entries[i]!;
      if (t.count === 1) s.singletons--;
      s.templates.delete(id);
    }
    s.evictedTemplates += drop;
  }
}

function evictLeastRecent(sources: Map<string, { lastTouch: number }>): void {
  let oldest: string | undefined;
  let min = Infinity;
  for (const [k, v] of sources) {
    if (v.lastTouch < min) {
      min = v.lastTouch;
      oldest = k;
    }
  }
  if (oldest !== undefined) sources.delete(oldest);
}

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
const round = (x: number): number => Number(x.toPrecision(3));
/** 12345 → "12,345" (locale-free, so reasons read the same everywhere). */
const fmt = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
