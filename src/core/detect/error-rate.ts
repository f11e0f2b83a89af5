/**
 * Error rate per service: the share of a service's lines that are errors, per event-time window,
 * against its own baseline.
 *
 * A line is an error when its level is error/fatal or when it reads as one (semantic severity high
 * or critical, see severity.ts: "connection refused" at INFO counts). The service is the record's
 * component, or its source when it has none; services are followed per source.
 *
 * - On an error line: fires when the open window already holds ≥ minErrors errors, an error share ≥
 *   minRate, and ≥ rateRatio × the service's baseline share. While the window is young, the share
 *   is taken over at least the service's usual lines per window, so a burst of errors at the start
 *   of a window is judged by what it means for the whole window.
 * - When a window closes with the same three conditions true for the whole window, a WindowFinding
 *   says so (`phase: "rise"` for the first such window, `"continues"` after).
 *
 * The baseline is an EWMA of the per-window error share over the windows in which the service logged
 * anything, bias-corrected. A service first seen once its source is past warm-up starts from a prior
 * of "no errors": a component that appears only to fail is news.
 */
import { NO_FINDINGS, type DetectInput, type Detector, type Finding, type WindowFinding } from './detector.js';
import { clamp, evictLeastRecent, fmt, fmtMs, round } from './frequency.js';
import { TemplateSeverityCache } from './severity.js';

export interface ErrorRateOptions {
  /** Window length in ms of event time. */
  windowMs: number;
  /** Fewest errors in a window before the rate means anything. */
  minErrors: number;
  /** Lowest error share (0–1) worth reporting. */
  minRate: number;
  /** The share must be at least this many times the baseline share. */
  rateRatio: number;
  /** EWMA weight of the newest window. */
  baselineAlpha: number;
  /** Windows (with traffic) a source must close before error rates count. */
  warmupWindows: number;
  /** Semantic score from which a line counts as an error (0.7 = high). */
  errorMinScore: number;
  /** Services followed per source (the least recently active go first). */
  maxServicesPerSource: number;
  /** Sources followed. */
  maxSources: number;
  /** Window findings held until drained; more are dropped and counted. */
  maxPendingWindowFindings: number;
}

export const DEFAULT_ERROR_RATE_OPTIONS: Readonly<ErrorRateOptions> = Object.freeze({
  // one minute, as for template frequencies: the two speak about the same windows
  windowMs: 60_000,
  // 10 errors: fewer is a handful of lines a person reads anyway, and ratios of tiny counts are noise
  minErrors: 10,
  // 5%: an error share lower than this is background on most services, whatever its ratio
  minRate: 0.05,
  // 3×: a share that triples is a change in behaviour, beyond minute-to-minute wobble
  rateRatio: 3,
  // 0.1: remembers roughly the last 10–20 windows with traffic
  baselineAlpha: 0.1,
  // 5 windows of a source before its services are judged
  warmupWindows: 5,
  errorMinScore: 0.7,
  // components can be logger names; a thousand per source covers real services and bounds memory
  maxServicesPerSource: 1_000,
  maxSources: 1_000,
  maxPendingWindowFindings: 10_000,
});

interface ServiceWindow {
  name: string;
  total: number;
  errors: number;
  /** EWMA of the per-window error share. */
  ewma: number;
  /** EWMA of the lines per window (same weights). */
  ewmaLines: number;
  weight: number;
  alerting: boolean;
  lastTouch: number;
}

interface ErrorRateSource {
  calWindow: number;
  /** Windows with traffic closed so far. */
  closed: number;
  services: Map<string, ServiceWindow>;
  /** Services with lines in the open window. */
  dirty: ServiceWindow[];
  lastTouch: number;
}

/** Key of records without a component: they belong to the source itself. */
const NO_COMPONENT = '';

export class ErrorRateDetector implements Detector {
  readonly name = 'error_rate';
  private readonly opts: ErrorRateOptions;
  private readonly severity = new TemplateSeverityCache();
  private readonly sources = new Map<string, ErrorRateSource>();
  private pending: WindowFinding[] = [];
  private touch = 0;
  droppedWindowFindings = 0;

  constructor(options: Partial<ErrorRateOptions> = {}) {
    this.opts = { ...DEFAULT_ERROR_RATE_OPTIONS, ...options };
  }

  observe(input: DetectInput): Finding[] {
    const o = this.opts;
    const cal = Math.floor(input.timeMs / o.windowMs);
    const s = this.stateOf(input.source, cal);
    s.lastTouch = ++this.touch;
    // slight disorder counts in the open window; a jump back by more than a window is a clock reset
    if (cal > s.calWindow || cal < s.calWindow - 1) this.closeWindow(input.source, s, cal);
    const key = input.record.component ?? NO_COMPONENT;
    let svc = s.services.get(key);
    if (svc === undefined) {
      if (s.services.size >= o.maxServicesPerSource) evictLeastRecent(s.services);
      // a service new to a warmed-up source starts from "no errors"; otherwise from nothing
      const prior = s.closed >= o.warmupWindows ? 1 : 0;
      svc = { name: input.record.component ?? input.source, total: 0, errors: 0, ewma: 0, ewmaLines: 0, weight: prior, alerting: false, lastTouch: 0 };
      s.services.set(key, svc);
    }
    svc.lastTouch = this.touch;
    if (svc.total === 0) s.dirty.push(svc);
    svc.total++;
    if (this.severity.scoreOf(input) < o.errorMinScore) return NO_FINDINGS;
    svc.errors++;
    if (s.closed < o.warmupWindows) return NO_FINDINGS;
    const baseline = svc.weight > 0 ? svc.ewma / svc.weight : 0;
    // early in a window a few errors are a large share of the few lines so far: measure them against
    // at least a usual window's volume, so a burst at the start of a window is not a 100% error rate
    const usualLines = svc.weight > 0 ? svc.ewmaLines / svc.weight : 0;
    const rate = svc.errors / Math.max(svc.total, usualLines);
    if (!this.isHigh(svc.errors, rate, baseline)) return NO_FINDINGS;
    const ratio = rate / Math.max(baseline, o.minRate / o.rateRatio);
    return [{
      detector: this.name,
      score: clamp(0.5 + 0.5 * Math.log10(ratio / o.rateRatio), 0.5, 1),
      reason: `service "${svc.name}" has ${fmt(svc.errors)} errors in ${fmt(svc.total)} lines (${pct(rate)} of a window's lines) in the current ${fmtMs(o.windowMs)} window, ${versus(rate, baseline, o)}`,
      evidence: { service: svc.name, source: input.source, windowStartMs: s.calWindow * o.windowMs, windowMs: o.windowMs, errors: svc.errors, lines: svc.total, usualLinesPerWindow: round(usualLines), errorRate: round(rate), baselineRate: round(baseline), ratio: round(ratio) },
      tags: ['error', 'error_rate'],
      severity: 'high',
    }];
  }

  drainWindowFindings(): WindowFinding[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Closes every open window (the rate of a partial window is still a rate). */
  finish(): void {
    for (const [source, s] of this.sources) this.closeWindow(source, s, s.calWindow + 1);
  }

  private isHigh(errors: number, rate: number, baseline: number): boolean {
    const o = this.opts;
    return errors >= o.minErrors && rate >= o.minRate && rate >= o.rateRatio * baseline;
  }

  private closeWindow(source: string, s: ErrorRateSource, nextCal: number): void {
    const o = this.opts;
    const a = o.baselineAlpha;
    const judge = s.closed >= o.warmupWindows;
    const startMs = s.calWindow * o.windowMs;
    for (const svc of s.dirty) {
      const rate = svc.errors / svc.total;
      const baseline = svc.weight > 0 ? svc.ewma / svc.weight : 0;
      const high = judge && this.isHigh(svc.errors, rate, baseline);
      if (high) {
        const ratio = rate / Math.max(baseline, o.minRate / o.rateRatio);
        this.emit({
          detector: this.name,
          source,
          service: svc.name,
          startMs,
          endMs: startMs + o.windowMs,
          score: clamp(0.5 + 0.5 * Math.log10(ratio / o.rateRatio), 0.5, 1),
          reason: `error rate of service "${svc.name}" ${svc.alerting ? 'stayed' : 'rose'} at ${pct(rate)} (${fmt(svc.errors)} of ${fmt(svc.total)} lines) in a ${fmtMs(o.windowMs)} window, ${versus(rate, baseline, o)}`,
          evidence: { service: svc.name, errors: svc.errors, lines: svc.total, errorRate: round(rate), baselineRate: round(baseline), ratio: round(ratio), phase: svc.alerting ? 'continues' : 'rise' },
          tags: ['error', 'error_rate'],
          severity: 'high',
        });
      }
      svc.alerting = high;
      svc.ewma = (1 - a) * svc.ewma + a * rate;
      svc.ewmaLines = (1 - a) * svc.ewmaLines + a * svc.total;
      svc.weight = (1 - a) * svc.weight + a;
      svc.total = 0;
      svc.errors = 0;
    }
    if (s.dirty.length > 0) s.closed++;
    s.dirty = [];
    s.calWindow = nextCal;
  }

  private emit(f: WindowFinding): void {
    if (this.pending.length >= this.opts.maxPendingWindowFindings) {
      this.droppedWindowFindings++;
      return;
    }
    this.pending.push(f);
  }

  private stateOf(source: string, cal: number): ErrorRateSource {
    let s = this.sources.get(source);
    if (s !== undefined) return s;
    if (this.sources.size >= this.opts.maxSources) evictLeastRecent(this.sources);
    s = { calWindow: cal, closed: 0, services: new Map(), dirty: [], lastTouch: 0 };
    this.sources.set(source, s);
    return s;
  }
}

/** "4.0× its usual 2.5%", or "where it usually has 0.0%" when the baseline is too small for a ratio to mean much. */
function versus(rate: number, baseline: number, o: ErrorRateOptions): string {
  return baseline * o.rateRatio >= o.minRate ? `${(rate / baseline).toFixed(1)}× its usual ${pct(baseline)}` : `where it usually has ${pct(baseline)}`;
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
