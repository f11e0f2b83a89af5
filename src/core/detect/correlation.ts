/**
 * Cross-service correlation: the lines of one request (request id, or the session key when there
 * is none) across the services it touched, and which requests failed where.
 *
 * A service is the record's component, else its host, else its source. A request fails when any of
 * its lines is an error: level error/fatal, or semantic severity high or critical (severity.ts). On
 * each failing line of a request that touched at least minServicesForFinding services, a finding
 * lists the services in the order the request reached them and names the first one that failed:
 * the usual suspect, since errors upstream often just echo it.
 *
 * failingRequests() returns the failing requests for reports, newest last. Everything is bounded:
 * requests followed (approximate LRU), services and trail lines per request, failing requests kept.
 */
import { NO_FINDINGS, type DetectInput, type Detector, type Finding } from './detector.js';
import { clamp, fmt } from './frequency.js';
import { InsertionOrder } from './insertion-order.js';
import { levelScore, severityOfScore, TemplateSeverityCache } from './severity.js';
import type { Level } from '../parse/record.js';

export interface CorrelationOptions {
  /** Requests followed at once. */
  maxRequests: number;
  /** Services remembered per request. */
  maxServicesPerRequest: number;
  /** Lines remembered per request (its trail). */
  maxTrailPerRequest: number;
  /** Failing requests kept for failingRequests() (the oldest go first). */
  maxFailingKept: number;
  /** A failing line gets a finding only when its request touched at least this many services. */
  minServicesForFinding: number;
  /** Semantic score from which a line is an error (0.7 = high). */
  errorMinScore: number;
}

export const DEFAULT_CORRELATION_OPTIONS: Readonly<CorrelationOptions> = Object.freeze({
  // 20,000 requests in flight: a minute of traffic at 300 requests a second; a request idle for that
  // many new ones is over (measured: at 50,000 the trails dominated analyze's heap)
  maxRequests: 20_000,
  // 16 services: deeper call chains exist but the first services tell the story
  maxServicesPerRequest: 16,
  // 8 lines: the steps before a failure in a typical request; the rest is in the log itself
  maxTrailPerRequest: 8,
  // 1,000 failing requests: a report lists the recent ones; counts cover the rest
  maxFailingKept: 1_000,
  // 2 services: an error in a request seen by one service is the severity detector's business;
  // correlation speaks when there is another service to connect it to
  minServicesForFinding: 2,
  errorMinScore: 0.7,
});

export interface TrailLine {
  seq: number;
  source: string;
  service: string;
  templateId: string;
  timeMs: number;
  level?: Level;
  failed: boolean;
}

export interface FirstError {
  service: string;
  source: string;
  seq: number;
  templateId: string;
  /** The template (values masked), not the raw line. */
  template: string;
  timeMs: number;
  level?: Level;
}

export interface FailingRequest {
  requestId: string;
  /** Services in the order the request reached them. */
  services: string[];
  /** The first service that failed. */
  failedAt: string;
  failingServices: string[];
  firstError: FirstError;
  lines: number;
  firstMs: number;
  lastMs: number;
}

/** Fields per trail line in RequestState.trail (flat: no object per line). */
const TRAIL_STRIDE = 7;
/** The services of a request before its first line, and its failing services until it fails: shared, never written (registered as a constant for detector snapshots). */
export const NO_SERVICES: string[] = Object.freeze([]) as unknown as string[];

interface RequestState {
  id: string;
  /** Replaced, never written: see appended(). */
  services: string[];
  /** NO_SERVICES (shared, never written) until the request fails; replaced, never written. */
  failingServices: string[];
  /** seq, source, service, templateId, timeMs, level, failed — TRAIL_STRIDE values per line. */
  trail: (number | string | boolean | undefined)[];
  lines: number;
  firstMs: number;
  lastMs: number;
  firstError?: FirstError;
  stamp: number;
}

export class CorrelationDetector implements Detector {
  readonly name = 'correlation';
  private readonly opts: CorrelationOptions;
  private readonly severity = new TemplateSeverityCache();
  private readonly requests = new Map<string, RequestState>();
  /** The requests map's order, for evicting its oldest entry cheaply. */
  private readonly order = new InsertionOrder<string>();
  private readonly failing = new Map<string, RequestState>();
  private stamp = 0;
  private evicted = 0;
  private failingTotal = 0;

  constructor(options: Partial<CorrelationOptions> = {}) {
    this.opts = { ...DEFAULT_CORRELATION_OPTIONS, ...options };
  }

  observe(input: DetectInput): Finding[] {
    const id = input.record.requestId ?? input.sessionKey;
    if (id === undefined) return NO_FINDINGS;
    const o = this.opts;
    const r = this.requestOf(id, input.timeMs);
    const service = input.record.component ?? input.record.host ?? input.source;
    if (!r.services.includes(service) && r.services.length < o.maxServicesPerRequest) r.services = appended(r.services, service);
    r.lines++;
    if (input.timeMs > r.lastMs) r.lastMs = input.timeMs;

    const score = Math.max(this.severity.phrasesOf(input).score, levelScore(input.record.level));
    const failed = score >= o.errorMinScore;
    const trail = r.trail;
    if (trail.length < o.maxTrailPerRequest * TRAIL_STRIDE) {
      // a request's first line starts its trail as an array of exactly one line: grown from empty, a
      // trail took room for nearly four lines at once and again for eight by the fourth (most
      // requests have 3–5 lines); these arrays outlive young collections, so their size is copied
      if (trail.length === 0) r.trail = [input.seq, input.source, service, input.templateId, input.timeMs, input.record.level, failed];
      else trail.push(input.seq, input.source, service, input.templateId, input.timeMs, input.record.level, failed);
    }
    if (!failed) return NO_FINDINGS;

    const first = r.firstError === undefined;
    if (first) {
      r.firstError = { service, source: input.source, seq: input.seq, templateId: input.templateId, template: input.template, timeMs: input.timeMs };
      if (input.record.level !== undefined) r.firstError.level = input.record.level;
      this.failingTotal++;
      this.failing.set(id, r);
      if (this.failing.size > o.maxFailingKept) this.failing.delete(this.failing.keys().next().value!);
    }
    if (!r.failingServices.includes(service) && r.failingServices.length < o.maxServicesPerRequest) r.failingServices = appended(r.failingServices, service);
    if (r.services.length < o.minServicesForFinding) return NO_FINDINGS;

    const firstError = r.firstError!;
    const path = r.services.map((s) => `"${s}"`).join(' → ');
    const reason = first
      ? `request ${id} failed in "${service}" after touching ${r.services.length} services: ${path}`
      : `request ${id} failed again in "${service}"; it first failed in "${firstError.service}" and touched ${r.services.length} services: ${path}`;
    return [{
      detector: this.name,
      score: clamp(0.5 + 0.1 * (r.services.length - 1) + 0.1 * (r.failingServices.length - 1), 0.5, 1),
      reason,
      evidence: {
        requestId: id,
        services: [...r.services],
        failingServices: [...r.failingServices],
        firstFailingService: firstError.service,
        firstFailureSeq: firstError.seq,
        firstFailureTemplate: firstError.template,
        linesSoFar: r.lines,
      },
      tags: ['error', 'correlation'],
      severity: severityOfScore(score),
    }];
  }

  /** Failing requests kept (at most maxFailingKept, oldest first), as plain data for reports. */
  failingRequests(): FailingRequest[] {
    return [...this.failing.values()].map((r) => ({
      requestId: r.id,
      services: [...r.services],
      failedAt: r.firstError!.service,
      failingServices: [...r.failingServices],
      firstError: { ...r.firstError! },
      lines: r.lines,
      firstMs: r.firstMs,
      lastMs: r.lastMs,
    }));
  }

  /** The remembered lines of one request across services (its first maxTrailPerRequest lines). */
  trailOf(requestId: string): TrailLine[] | undefined {
    const r = this.requests.get(requestId) ?? this.failing.get(requestId);
    if (!r) return undefined;
    const out: TrailLine[] = [];
    for (let i = 0; i < r.trail.length; i += TRAIL_STRIDE) {
      const t = r.trail;
      const line: TrailLine = { seq: t[i] as number, source: t[i + 1] as string, service: t[i + 2] as string, templateId: t[i + 3] as string, timeMs: t[i + 4] as number, failed: t[i + 6] as boolean };
      if (t[i + 5] !== undefined) line.level = t[i + 5] as Level;
      out.push(line);
    }
    return out;
  }

  /** Counts for reports. */
  summary(): { requestsTracked: number; failingRequests: number; failingKept: number; requestsEvicted: number } {
    return { requestsTracked: this.requests.size, failingRequests: this.failingTotal, failingKept: this.failing.size, requestsEvicted: this.evicted };
  }

  /** Reason text for a summary line: "3 of 1,204 requests failed". */
  describe(): string {
    const s = this.summary();
    return `${fmt(s.failingRequests)} failing requests (${fmt(s.failingKept)} kept), ${fmt(s.requestsTracked)} followed`;
  }

  private requestOf(id: string, timeMs: number): RequestState {
    let r = this.requests.get(id);
    if (r === undefined) {
      r = { id, services: NO_SERVICES, failingServices: NO_SERVICES, trail: [], lines: 0, firstMs: timeMs, lastMs: timeMs, stamp: this.stamp++ };
      this.requests.set(id, r);
      this.order.push(id, r.stamp);
      if (this.requests.size > this.opts.maxRequests) {
        this.requests.delete(this.order.shift(this.requests)!);
        this.evicted++;
      }
    } else if (this.stamp - r.stamp > this.opts.maxRequests / 2) {
      // approximate LRU: a request keeps its place for at least half of maxRequests new ones
      this.requests.delete(id);
      r.stamp = this.stamp++;
      this.requests.set(id, r);
      this.order.push(id, r.stamp);
      this.order.prune(this.requests);
    }
    return r;
  }
}

/**
 * `list` with `item` appended, as a new array of exactly that length (`list` is left as it is). A
 * request's services outlive young collections: grown by push from empty, a list took room for 17
 * entries at its first service (most requests touch one to three), and the collector copied them.
 */
function appended(list: readonly string[], item: string): string[] {
  switch (list.length) {
    case 0: return [item];
    case 1: return [list[0]!, item];
    case 2: return [list[0]!, list[1]!, item];
    case 3: return [list[0]!, list[1]!, list[2]!, item];
    default: return list.concat(item);
  }
}
