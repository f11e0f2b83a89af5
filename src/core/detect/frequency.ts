/**
 * Per-template volume against its own baseline, in event-time windows (one set per source).
 *
 * - Spike: the line that lifts its template's count in the current window above
 *   max(minVolume, spikeRatio × baseline, peakRatio × recent peak) fires, and so does every later
 *   line of that template in that window; the score grows with count / baseline.
 * - Drop: when a window closes with a template's count below dropRatio × a baseline of at least
 *   minVolume, a WindowFinding is emitted (once per drop: it re-arms when the count recovers).
 *
 * The baseline is an exponentially weighted mean of the template's counts in the source's past
 * windows, with bias correction (so the first windows are not pulled towards zero), and zeros for
 * windows in which the template was absent. Only windows in which the source logged anything count:
 * a source that was switched off for a night does not teach every template that zero is normal.
 *
 * Bursts do not teach the baseline that they are normal: a window above the spike threshold is
 * folded into the mean at twice the mean, not at its count (once the template has a few windows of
 * history), so one storm does not hide the next; ten burst windows in a row are a new level and
 * count whole.
 *
 * A spike must also be well above the template's ordinary variability: the recent peak of its
 * normal windows (see peakRank). Bursts that are the template's habit are excused too, but only
 * those: bursts that recur at a regular interval (a job that writes 100 lines every ten minutes,
 * an hourly report) or that fill a large share of recent windows (a template that is bursty by
 * nature). A habitual burst must be well above the habit's own size to be a spike. Irregular
 * bursts, however many, stay spikes.
 *
 * Cost: a Map lookup and a few float operations per line. When a window closes only templates whose
 * baseline is at least minVolume are visited (the only ones that can drop); the others catch up on
 * the windows they missed, in closed form, the next time they are seen.
 */
import { NO_FINDINGS, type DetectInput, type Detector, type Finding, type WindowFinding } from './detector.js';

export interface FrequencyOptions {
  /** Window length in ms of event time. */
  windowMs: number;
  /** Fewest lines in a window for a spike, and smallest baseline (lines per window) for a drop. */
  minVolume: number;
  /** A spike is more than this many times the baseline. */
  spikeRatio: number;
  /** …and more than this many times the recent peak window count. */
  peakRatio: number;
  /**
   * The recent peak is the `peakRank`-th largest count of the normal (non-burst) windows among the
   * last `peakWindows` windows: the template's ordinary variability.
   */
  peakWindows: number;
  peakRank: number;
  /** Bursts in at least this share of the last `peakWindows` windows are the template's nature. */
  habitualBurstShare: number;
  /** A burst that comes after the same interval (within this share of it, at least one window) as the two intervals before it is periodic. */
  periodTolerance: number;
  /**
   * Horizon (ms) of the short-term rate: a decaying count over about this long, so a burst is seen
   * within seconds and whatever window boundary it straddles.
   */
  burstMs: number;
  /** Fewest lines in the short horizon before the short-term rate can call a spike. */
  burstMinCount: number;
  /** A drop is a closed window below this share of the baseline. */
  dropRatio: number;
  /** EWMA weight of the newest window in the baseline. */
  baselineAlpha: number;
  /** Windows (with traffic) a source must close before spikes and drops count. */
  warmupWindows: number;
  /** Templates followed per source (the least recently seen go first). */
  maxTemplatesPerSource: number;
  /** Sources followed (the least recently active go first). */
  maxSources: number;
  /** Window findings held until drained; more are dropped and counted. */
  maxPendingWindowFindings: number;
}

export const DEFAULT_FREQUENCY_OPTIONS: Readonly<FrequencyOptions> = Object.freeze({
  // one minute: long enough to hold tens of lines of a template that matters, short enough that a
  // burst is not averaged away and an alert comes within a minute of it
  windowMs: 60_000,
  // 20 lines a minute: below that, counts are small numbers whose ratios are noise (3 vs 1 is "3×")
  minVolume: 20,
  // 5×: ordinary traffic swings by 2–3× between minutes; 5× is beyond that on real systems
  spikeRatio: 5,
  // 2× the recent peak: a burst must be clearly bigger than the bursts this template already had
  peakRatio: 2,
  // the 5th largest normal window of the last 60 (an hour at 1-minute windows): ordinary
  // variability, which a few odd minutes (the edges of a burst, a hiccup) do not set
  peakWindows: 60,
  peakRank: 5,
  // a fifth of the last hour's minutes: a template that bursts that often is bursty, not failing
  habitualBurstShare: 0.2,
  // ±15% of the interval: cron jobs and timers drift by seconds, not by a sixth of their period
  periodTolerance: 0.15,
  // 10 s: a sixth of a window; a burst at 5× a 20-a-minute baseline shows ~8 lines in 10 s, enough
  // to tell from noise, and the alarm comes within seconds rather than at the window's end
  burstMs: 10_000,
  // 8 lines in the horizon: a handful of lines close together is not a spike yet
  burstMinCount: 8,
  // 0.2: a template down to a fifth of its usual volume has mostly stopped, beyond ordinary dips
  dropRatio: 0.2,
  // 0.1: the baseline remembers roughly the last 10–20 windows; a single burst moves it by a tenth,
  // and a lasting change becomes the new normal within about half an hour at 1-minute windows
  baselineAlpha: 0.1,
  // 5 windows: enough history for a mean that is not one window's accident
  warmupWindows: 5,
  // the miner's template cap per source: both forget the least recently seen templates first, so
  // this holds the templates the miner still knows, and state grows with templates up to that cap
  maxTemplatesPerSource: 10_000,
  maxSources: 1_000,
  maxPendingWindowFindings: 10_000,
});

interface TemplateWindow {
  templateId: string;
  template: string;
  /** Active-window index of `count`. */
  window: number;
  count: number;
  ewma: number;
  /** Sum of the EWMA weights so far (1 - (1-α)^n): divides out the start-up bias. */
  weight: number;
  peak: number;
  watched: boolean;
  dropping: boolean;
  lastSeq: number;
  /** Decaying count over the last ~burstMs (see burstMs) and when it was last updated. */
  burst: number;
  burstAt: number;
  /** `peak` and `burstPeak` predate the last change of the history (recomputed when needed). */
  peaksStale: boolean;
  /** Largest short-term count in the open window, and the recent peak of those (its usual burstiness). */
  burstMax: number;
  burstPeak: number;
  /** Counts and short-term maxima of the normal windows among the last `peakWindows`, newest last. */
  history: number[];
  burstHistory: number[];
  /** Active-window indices of recent burst windows (within the last `peakWindows`), oldest first. */
  burstWindows: number[];
  /** The last few burst episodes (runs of consecutive burst windows), oldest first. */
  episodes: BurstEpisode[];
  /** Whether a burst in the open window would be this template's habit (set when the window opens). */
  habitual: boolean;
  /** The size of the habit's bursts (largest count and short-term count of the recent episodes). */
  habitCount: number;
  habitBurst: number;
}

interface BurstEpisode {
  /** Active-window indices of its first and last windows. */
  start: number;
  end: number;
  count: number;
  burstMax: number;
  habitual: boolean;
}

interface FrequencySource {
  /** Calendar index (timeMs / windowMs) of the open window. */
  calWindow: number;
  /** Active-window index of the open window = windows with traffic closed so far. */
  active: number;
  lastMs: number;
  templates: Map<string, TemplateWindow>;
  /** Templates with a baseline ≥ minVolume: the only ones a closing window must visit. */
  watched: Set<TemplateWindow>;
  lastTouch: number;
}

/** Consecutive burst windows after which the higher volume is a new level, not a burst. */
const LEVEL_SHIFT_WINDOWS = 10;
/** Burst episodes remembered per template (enough to see an interval repeat). */
const EPISODES = 4;
/** Share of a full template map dropped at once when it overflows. */
const EVICT_FRACTION = 0.1;
/** A partly covered last window (at finish) is judged only when it covers at least this share. */
const MIN_PARTIAL_WINDOW = 0.5;

export class FrequencyDetector implements Detector {
  readonly name = 'frequency';
  private readonly opts: FrequencyOptions;
  private readonly sources = new Map<string, FrequencySource>();
  private pending: WindowFinding[] = [];
  private touch = 0;
  /** Window findings dropped because nobody drained them. */
  droppedWindowFindings = 0;

  constructor(options: Partial<FrequencyOptions> = {}) {
    this.opts = { ...DEFAULT_FREQUENCY_OPTIONS, ...options };
  }

  observe(input: DetectInput): Finding[] {
    const o = this.opts;
    const cal = Math.floor(input.timeMs / o.windowMs);
    const s = this.stateOf(input.source, cal);
    s.lastTouch = ++this.touch;
    // a record from an earlier window (slight disorder) counts in the open one; a jump back by more
    // than a window is a clock reset (a new file, a replay) and opens a window there
    if (cal > s.calWindow) this.closeWindow(input.source, s, cal, 1);
    else if (cal < s.calWindow - 1) this.closeWindow(input.source, s, cal, this.coverage(s));
    if (input.timeMs > s.lastMs) s.lastMs = input.timeMs;

    let t = s.templates.get(input.templateId);
    if (t === undefined) {
      // absent so far: `active` windows of zeros
      const weight = 1 - Math.pow(1 - o.baselineAlpha, s.active);
      t = { templateId: input.templateId, template: input.template, window: s.active, count: 0, ewma: 0, weight, peak: 0, peaksStale: false, watched: false, dropping: false, lastSeq: 0, burst: 0, burstAt: input.timeMs, burstMax: 0, burstPeak: 0, history: [], burstHistory: [], burstWindows: [], episodes: [], habitual: false, habitCount: 0, habitBurst: 0 };
      s.templates.set(input.templateId, t);
      if (s.templates.size > o.maxTemplatesPerSource) this.evictTemplates(s, t);
    } else if (t.window < s.active) {
      this.fold(t, s.active);
    }
    t.count++;
    t.lastSeq = input.seq;
    t.template = input.template;
    const baseline = t.weight > 0 ? t.ewma / t.weight : 0;
    if (!t.watched && baseline >= o.minVolume) {
      t.watched = true;
      s.watched.add(t);
    }
    // short-term rate: a count decaying with time constant burstMs (≈ lines in the last burstMs)
    if (input.timeMs < t.burstAt - o.burstMs) {
      // the clock jumped back (a replay, another file): the short-term count starts over
      t.burst = 0;
      t.burstAt = input.timeMs;
    }
    const dt = Math.max(0, input.timeMs - t.burstAt);
    t.burst = t.burst * Math.exp(-dt / o.burstMs) + 1;
    t.burstAt = Math.max(t.burstAt, input.timeMs);
    if (t.burst > t.burstMax) t.burstMax = t.burst;
    if (s.active < o.warmupWindows) return NO_FINDINGS;
    // most lines are below the baseline's bar: the peaks (a selection over the history) are only
    // brought up to date for those that are not
    const bar = Math.max(o.minVolume, o.spikeRatio * baseline);
    const perWindow = (t.burst * o.windowMs) / o.burstMs;
    if (t.count <= bar && (t.burst < o.burstMinCount || perWindow <= bar)) return NO_FINDINGS;
    if (t.peaksStale) this.updatePeaks(t);
    const usualBurst = t.habitual ? Math.max(t.burstPeak, t.habitBurst) : t.burstPeak;
    const threshold = Math.max(bar, o.peakRatio * t.peak, t.habitual ? o.peakRatio * t.habitCount : 0);
    if (t.count > threshold) return [this.spikeFinding(input, s, t, baseline, threshold)];
    // the same test on the short-term rate, scaled to a window, and beyond this template's usual bursts
    if (t.burst >= o.burstMinCount && perWindow > threshold && t.burst > o.peakRatio * usualBurst) {
      return [this.spikeFinding(input, s, t, baseline, threshold, perWindow)];
    }
    return NO_FINDINGS;
  }

  drainWindowFindings(): WindowFinding[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Closes every open window; the last one is judged against a baseline scaled to the part of it the stream covered. */
  finish(): void {
    for (const [source, s] of this.sources) this.closeWindow(source, s, s.calWindow + 1, this.coverage(s));
  }

  /** Share of the open window the stream has covered so far (its last record's place in it). */
  private coverage(s: FrequencySource): number {
    return Math.min(1, (s.lastMs - s.calWindow * this.opts.windowMs + 1) / this.opts.windowMs);
  }

  /** The baseline (lines per window) of a template, folded up to the open window. For reports and tests. */
  baselineOf(source: string, templateId: string): number | undefined {
    const t = this.sources.get(source)?.templates.get(templateId);
    if (t === undefined) return undefined;
    return t.weight > 0 ? t.ewma / t.weight : 0;
  }

  private spikeFinding(input: DetectInput, s: FrequencySource, t: TemplateWindow, baseline: number, threshold: number, shortTermPerWindow?: number): Finding {
    const o = this.opts;
    const observed = shortTermPerWindow ?? t.count;
    // a baseline under minVolume / spikeRatio is as good as none: measure against that floor
    const ratio = observed / Math.max(baseline, o.minVolume / o.spikeRatio);
    const score = clamp(0.5 + 0.5 * Math.log10(ratio / o.spikeRatio), 0.5, 1);
    const windowStartMs = s.calWindow * o.windowMs;
    return {
      detector: 'frequency_spike',
      score,
      reason: `${shortTermPerWindow === undefined ? `template logged ${fmt(t.count)} times in the current ${fmtMs(o.windowMs)} window` : `template logging at ${fmt(Math.round(shortTermPerWindow))} per ${fmtMs(o.windowMs)} over the last ${fmtMs(o.burstMs)}`}, ${baseline * o.spikeRatio >= o.minVolume ? `${ratio.toFixed(1)}× its baseline of ${baseline.toFixed(1)} per window` : `where it usually logs ${baseline.toFixed(1)} per window`} (spike threshold ${threshold.toFixed(0)}): ${short(t.template)}`,
      evidence: {
        templateId: t.templateId,
        template: t.template,
        source: input.source,
        windowStartMs,
        windowMs: o.windowMs,
        count: t.count,
        baselinePerWindow: round(baseline),
        recentPeak: round(t.peak),
        ratio: round(ratio),
        threshold: round(threshold),
      },
      tags: ['spike'],
      severity: 'medium',
    };
  }

  /** Adds a closed normal window to the template's recent history (the peaks are recomputed by the caller). */
  private remember(t: TemplateWindow, count: number, burstMax: number): void {
    t.history.push(count);
    t.burstHistory.push(burstMax);
    if (t.history.length > this.opts.peakWindows) {
      t.history.shift();
      t.burstHistory.shift();
    }
  }

  /** Folds the template's open count and the windows it missed, so it stands at active window `upTo`. */
  private fold(t: TemplateWindow, upTo: number): void {
    const o = this.opts;
    const a = o.baselineAlpha;
    const baseline = t.weight > 0 ? t.ewma / t.weight : 0;
    const bar = Math.max(o.minVolume, o.spikeRatio * baseline);
    let folded = t.count;
    // a template's first windows are its start-up, not bursts: judged once it has some history
    const judged = t.weight >= 1 - Math.pow(1 - a, o.warmupWindows);
    if (judged && t.count > bar) {
      this.rememberBurst(t, t.window);
      // a burst enters the mean at twice the mean, so it does not hide the next burst; a lasting
      // change still becomes the new normal: the mean grows by a tenth per window, and a run of
      // burst windows long enough to be a new level is taken whole
      const run = t.episodes[t.episodes.length - 1]!;
      folded = run.end - run.start + 1 >= LEVEL_SHIFT_WINDOWS ? t.count : Math.min(t.count, Math.max(o.minVolume, 2 * baseline));
    } else if (!judged || t.count <= Math.max(o.minVolume, (o.spikeRatio / 2) * baseline) || t.episodes[t.episodes.length - 1]?.end !== t.window - 1) {
      // (the tail of a burst, above half the bar in the window after it, is neither a burst nor
      // ordinary variability that should set the bar for the next one)
      this.remember(t, t.count, t.burstMax);
    }
    t.ewma = (1 - a) * t.ewma + a * folded;
    t.weight = (1 - a) * t.weight + a;
    t.burstMax = 0;
    const missed = upTo - t.window - 1;
    if (missed > 0) {
      const f = Math.pow(1 - a, missed);
      t.ewma *= f;
      t.weight = t.weight * f + (1 - f);
      for (let i = 0; i < Math.min(missed, o.peakWindows); i++) this.remember(t, 0, 0);
    }
    t.peaksStale = true;
    t.window = upTo;
    t.count = 0;
    this.judgeHabit(t, upTo);
  }

  private updatePeaks(t: TemplateWindow): void {
    t.peak = kthLargest(t.history, this.opts.peakRank);
    t.burstPeak = kthLargest(t.burstHistory, this.opts.peakRank);
    t.peaksStale = false;
  }

  /** Records window `w` of the template as a burst: it extends the last episode or starts one. */
  private rememberBurst(t: TemplateWindow, w: number): void {
    t.burstWindows.push(w);
    const last = t.episodes[t.episodes.length - 1];
    if (last !== undefined && last.end === w - 1) {
      last.end = w;
      if (t.count > last.count) last.count = t.count;
      if (t.burstMax > last.burstMax) last.burstMax = t.burstMax;
      return;
    }
    t.episodes.push({ start: w, end: w, count: t.count, burstMax: t.burstMax, habitual: t.habitual });
    if (t.episodes.length > EPISODES) t.episodes.shift();
  }

  /**
   * Decides, as window `w` opens, whether a burst in it would be the template's habit: the next
   * beat of a regular interval, a continuation of a habitual burst, or one more burst of a template
   * that bursts in a large share of its windows.
   */
  private judgeHabit(t: TemplateWindow, w: number): void {
    const o = this.opts;
    while (t.burstWindows.length > 0 && t.burstWindows[0]! < w - o.peakWindows) t.burstWindows.shift();
    const eps = t.episodes;
    const last = eps[eps.length - 1];
    let habitual = false;
    if (last !== undefined && last.end === w - 1) {
      habitual = last.habitual;
    } else if (eps.length >= 3) {
      // two equal intervals in a row, and this window a third: a timer, not chance
      const interval = last!.start - eps[eps.length - 2]!.start;
      const before = eps[eps.length - 2]!.start - eps[eps.length - 3]!.start;
      const near = (gap: number): boolean => Math.abs(gap - interval) <= Math.max(1, o.periodTolerance * interval);
      habitual = near(before) && near(w - last!.start);
    }
    if (!habitual && t.burstWindows.length >= o.habitualBurstShare * o.peakWindows) habitual = true;
    t.habitual = habitual;
    if (habitual) {
      t.habitCount = 0;
      t.habitBurst = 0;
      for (const e of eps) {
        if (e.count > t.habitCount) t.habitCount = e.count;
        if (e.burstMax > t.habitBurst) t.habitBurst = e.burstMax;
      }
    }
  }

  /**
   * Closes the open window of a source: judges the watched templates for drops, folds them, and
   * opens calendar window `nextCal`. `coverage` < 1 scales the expectation for a partly seen window.
   */
  private closeWindow(source: string, s: FrequencySource, nextCal: number, coverage: number): void {
    const o = this.opts;
    const closed = s.active;
    const judge = closed >= o.warmupWindows && coverage >= MIN_PARTIAL_WINDOW;
    for (const t of s.watched) {
      if (t.window < closed) this.fold(t, closed);
      const baseline = t.weight > 0 ? t.ewma / t.weight : 0;
      const expected = baseline * coverage;
      if (judge && baseline >= o.minVolume) {
        if (t.count < o.dropRatio * expected) {
          if (!t.dropping) {
            t.dropping = true;
            this.emit(this.dropFinding(source, s, t, baseline, expected, coverage));
          }
        } else {
          t.dropping = false;
        }
      }
      this.fold(t, closed + 1);
      if (t.ewma / t.weight < o.minVolume) {
        t.watched = false;
        t.dropping = false;
        s.watched.delete(t);
      }
    }
    s.active = closed + 1;
    s.calWindow = nextCal;
    s.lastMs = nextCal * o.windowMs;
  }

  private dropFinding(source: string, s: FrequencySource, t: TemplateWindow, baseline: number, expected: number, coverage: number): WindowFinding {
    const o = this.opts;
    const startMs = s.calWindow * o.windowMs;
    const fall = 1 - t.count / expected;
    // at the threshold (count = dropRatio × expected) 0.5; silence 1
    const score = clamp(0.5 + 0.5 * (1 - t.count / (o.dropRatio * expected)), 0.5, 1);
    return {
      detector: 'frequency_drop',
      source,
      templateId: t.templateId,
      startMs,
      endMs: startMs + o.windowMs,
      score,
      reason: `template fell to ${fmt(t.count)} lines in the ${fmtMs(o.windowMs)} window (baseline ${baseline.toFixed(1)} per window, −${(fall * 100).toFixed(0)}%; a drop is below ${(o.dropRatio * 100).toFixed(0)}%): ${short(t.template)}`,
      evidence: {
        templateId: t.templateId,
        template: t.template,
        count: t.count,
        baselinePerWindow: round(baseline),
        expected: round(expected),
        windowCoverage: round(coverage),
        dropRatio: o.dropRatio,
      },
      tags: ['drop'],
      severity: 'medium',
    };
  }

  private emit(f: WindowFinding): void {
    if (this.pending.length >= this.opts.maxPendingWindowFindings) {
      this.droppedWindowFindings++;
      return;
    }
    this.pending.push(f);
  }

  private stateOf(source: string, cal: number): FrequencySource {
    let s = this.sources.get(source);
    if (s !== undefined) return s;
    if (this.sources.size >= this.opts.maxSources) evictLeastRecent(this.sources);
    s = { calWindow: cal, active: 0, lastMs: cal * this.opts.windowMs, templates: new Map(), watched: new Set(), lastTouch: 0 };
    this.sources.set(source, s);
    return s;
  }

  private evictTemplates(s: FrequencySource, keep: TemplateWindow): void {
    const entries = [...s.templates.values()].filter((t) => t !== keep).sort((a, b) => a.lastSeq - b.lastSeq);
    const drop = Math.max(1, Math.floor(entries.length * EVICT_FRACTION));
    for (let i = 0; i < drop; i++) {
      const t = entries[i]!;
      s.templates.delete(t.templateId);
      s.watched.delete(t);
    }
  }
}

/** The k-th largest value (1-based) of a short list; 0 when it has fewer than k values. No allocation for k ≤ 8. */
export function kthLargest(values: readonly number[], k: number): number {
  if (values.length < k) return 0;
  if (k > TOP.length) return [...values].sort((a, b) => b - a)[k - 1]!;
  // the k largest so far, descending, by insertion
  TOP.fill(-Infinity, 0, k);
  for (const v of values) {
    if (v <= TOP[k - 1]!) continue;
    let i = k - 1;
    while (i > 0 && TOP[i - 1]! < v) {
      TOP[i] = TOP[i - 1]!;
      i--;
    }
    TOP[i] = v;
  }
  return TOP[k - 1]!;
}
const TOP = new Float64Array(8);

/** Removes the entry with the smallest `lastTouch` (a linear scan, run only when a new key overflows the map). */
export function evictLeastRecent(map: Map<string, { lastTouch: number }>): void {
  let oldest: string | undefined;
  let min = Infinity;
  for (const [k, v] of map) {
    if (v.lastTouch < min) {
      min = v.lastTouch;
      oldest = k;
    }
  }
  if (oldest !== undefined) map.delete(oldest);
}

export const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
export const round = (x: number): number => Number(x.toPrecision(4));
/** 12345 → "12,345" (locale-free, so reasons read the same everywhere). */
export const fmt = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
/** 60000 → "60 s", 300000 → "5 min". */
export const fmtMs = (ms: number): string => (ms % 60_000 === 0 && ms >= 120_000 ? `${ms / 60_000} min` : `${ms / 1000} s`);
/** A template cut for a reason sentence (the evidence keeps it whole). */
export const short = (template: string): string => (template.length > 100 ? `${template.slice(0, 97)}…` : template);
