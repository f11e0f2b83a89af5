/**
 * Cross-service correlation: the lines of one request (request id, or the session key when there
 * is none) across the services it touched, and which requests failed where.
 *
 * A service is the record's component, else its host, else its bracket group when that names a
 * service (`[api-gateway]`, not a thread: see serviceOf), else its source. A request fails when any of
 * its lines is an error: level error/fatal, or semantic severity high or critical (severity.ts). On
 * each failing line of a request that touched at least minServicesForFinding services (unless the
 * failure is routine, see routineBouts, and stays in one service), a finding
 * lists the services in the order the request reached them and names the first one that failed:
 * the usual suspect, since errors upstream often just echo it.
 *
 * failingRequests() returns the failing requests for reports, newest last. Everything is bounded:
 * requests followed (approximate LRU), services and trail lines per request, failing requests kept.
 */
import { NO_FINDINGS, type DetectInput, type Detector, type Finding } from './detector.js';
import { clamp, fmt } from './frequency.js';
import { Bouts } from './bouts.js';
import { grown, SlotLru } from './slot-lru.js';
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
  /**
   * Bouts after which a failure (a source's failing template) is routine: a routine failure that
   * stays in one service of its request gets no finding (as severity.ts fades it).
   */
  routineBouts: number;
  /** A bout: a failure's occurrences within this long (ms of event time) of the bout's first. */
  boutMs: number;
  /** Failures (source and template) whose bouts are counted; the oldest go first. */
  maxFailures: number;
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
  // as severity.ts: an error a system logs in bout after bout all day (declined cards, failed
  // logins) is its background, and a request it fails in one service is not news; a new failure,
  // or one that spreads to a second service of its request, is
  routineBouts: 3,
  boutMs: 60_000,
  maxFailures: 10_000,
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

/** The services of a request before its first line, and its failing services until it fails: shared, never written (registered as a constant for detector snapshots). */
export const NO_SERVICES: string[] = Object.freeze([]) as unknown as string[];

/**
 * A failing request, for failingRequests(): `slot` while the request is still followed (its
 * numbers are read from the tables), -1 once it was evicted (they were copied here then).
 */
interface FailingEntry {
  slot: number;
  id: string;
  services: string[];
  failingServices: string[];
  firstError?: FirstError;
  lines: number;
  firstMs: number;
  lastMs: number;
  trail: TrailLine[];
}

/**
 * Bracket groups that name a thread, not a service: `main`, `pool-1-thread-3`, `http-nio-8080-exec-1`,
 * `Thread-12`, `qtp1234-56`, `ForkJoinPool.commonPool-worker-1`, `RMI TCP Connection(2)-10.0.0.1`,
 * a number. Java-style logs put the thread where logs of several services in one file put the
 * service (`INFO [api-gateway] …`); a request moving between the threads of one service has not
 * touched another service.
 */
const THREAD_NAME = /^(?:main|\d+)$|thread|exec|worker|pool|schedul|timer|dispatch|[-#]\d+$|\s/i;

/**
 * A record's service: its component, else its host, else its bracket group when that names a
 * service (`[api-gateway]`) rather than a thread, else its source.
 */
export function serviceOf(input: DetectInput): string {
  const r = input.record;
  if (r.component !== undefined) return r.component;
  if (r.host !== undefined) return r.host;
  const group = input.group ?? r.attributes?.thread;
  return group !== undefined && !THREAD_NAME.test(group) ? group : input.source;
}

export class CorrelationDetector implements Detector {
  readonly name = 'correlation';
  private readonly opts: CorrelationOptions;
  private readonly severity = new TemplateSeverityCache();
  /**
   * Requests followed: id → slot in the tables below. A request's numbers and lists live in
   * tables indexed by slot (a slot is reused when its request is evicted), not in an object per
   * request: requests live for tens of thousands of lines, so an object per request (with its
   * lists and boxed times) outlived young collections and was copied and promoted (measured on
   * the generated 1M corpus: ~120 MB promoted, most of the judge thread's collection work).
   */
  private readonly requests: SlotLru<string>;
  private readonly failing = new Map<string, FailingEntry>();
  private evicted = 0;
  private failingTotal = 0;
  private lines: Float64Array = new Float64Array(0);
  private firstMs: Float64Array = new Float64Array(0);
  private lastMs: Float64Array = new Float64Array(0);
  private firstErrors: (FirstError | undefined)[] = [];
  /** A request's failing entry, while it is one of the failing requests kept. */
  private failingOf: (FailingEntry | undefined)[] = [];
  /** maxServicesPerRequest entries per slot; `serviceCount` of them in use. */
  private services: string[] = [];
  private serviceCount: Int32Array = new Int32Array(0);
  private failingServices: string[] = [];
  private failingServiceCount: Int32Array = new Int32Array(0);
  /** maxTrailPerRequest lines per slot, `trailCount` of them in use. */
  private trailSeq: Float64Array = new Float64Array(0);
  private trailTime: Float64Array = new Float64Array(0);
  private trailFailed: Uint8Array = new Uint8Array(0);
  private trailSource: string[] = [];
  private trailService: string[] = [];
  private trailTemplate: string[] = [];
  private trailLevel: (Level | undefined)[] = [];
  private trailCount: Int32Array = new Int32Array(0);
  /** Bouts of each failure (source and failing template). */
  private readonly failureBouts: Bouts;

  constructor(options: Partial<CorrelationOptions> = {}) {
    this.opts = { ...DEFAULT_CORRELATION_OPTIONS, ...options };
    this.requests = new SlotLru(this.opts.maxRequests);
    this.failureBouts = new Bouts(this.opts.boutMs, this.opts.maxFailures);
  }

  observe(input: DetectInput): Finding[] {
    const id = input.record.requestId ?? input.sessionKey;
    if (id === undefined) return NO_FINDINGS;
    const o = this.opts;
    const slot = this.slotOf(id, input.timeMs);
    const service = serviceOf(input);
    this.addService(this.services, this.serviceCount, slot, service);
    this.lines[slot]!++;
    if (input.timeMs > this.lastMs[slot]!) this.lastMs[slot] = input.timeMs;

    const score = Math.max(this.severity.phrasesOf(input).score, levelScore(input.record.level));
    const failed = score >= o.errorMinScore;
    const steps = this.trailCount[slot]!;
    if (steps < o.maxTrailPerRequest) {
      const at = slot * o.maxTrailPerRequest + steps;
      this.trailSeq[at] = input.seq;
      this.trailTime[at] = input.timeMs;
      this.trailFailed[at] = failed ? 1 : 0;
      this.trailSource[at] = input.source;
      this.trailService[at] = service;
      this.trailTemplate[at] = input.templateId;
      this.trailLevel[at] = input.record.level;
      this.trailCount[slot] = steps + 1;
    }
    if (!failed) return NO_FINDINGS;

    const first = this.firstErrors[slot] === undefined;
    if (first) {
      const firstError: FirstError = { service, source: input.source, seq: input.seq, templateId: input.templateId, template: input.template, timeMs: input.timeMs };
      if (input.record.level !== undefined) firstError.level = input.record.level;
      this.firstErrors[slot] = firstError;
      this.failingTotal++;
      const entry: FailingEntry = { slot, id, services: NO_SERVICES, failingServices: NO_SERVICES, lines: 0, firstMs: 0, lastMs: 0, trail: [] };
      this.failingOf[slot] = entry;
      this.failing.set(id, entry);
      if (this.failing.size > o.maxFailingKept) {
        const oldest = this.failing.keys().next().value!;
        const gone = this.failing.get(oldest)!;
        if (gone.slot >= 0) this.failingOf[gone.slot] = undefined;
        this.failing.delete(oldest);
      }
    }
    this.addService(this.failingServices, this.failingServiceCount, slot, service);
    const routine = this.failureBouts.add(input).bouts > o.routineBouts;
    const touched = this.serviceCount[slot]!;
    if (touched < o.minServicesForFinding) return NO_FINDINGS;
    if (routine && this.failingServiceCount[slot]! < 2) return NO_FINDINGS;

    const firstError = this.firstErrors[slot]!;
    const list = this.servicesAt(this.services, this.serviceCount, slot);
    const failingList = this.servicesAt(this.failingServices, this.failingServiceCount, slot);
    const path = list.map((s) => `"${s}"`).join(' → ');
    const reason = first
      ? `request ${id} failed in "${service}" after touching ${touched} services: ${path}`
      : `request ${id} failed again in "${service}"; it first failed in "${firstError.service}" and touched ${touched} services: ${path}`;
    return [{
      detector: this.name,
      score: clamp(0.5 + 0.1 * (touched - 1) + 0.1 * (failingList.length - 1), 0.5, 1),
      reason,
      evidence: {
        requestId: id,
        services: list,
        failingServices: failingList,
        firstFailingService: firstError.service,
        firstFailureSeq: firstError.seq,
        firstFailureTemplate: firstError.template,
        linesSoFar: this.lines[slot]!,
      },
      tags: ['error', 'correlation'],
      severity: severityOfScore(score),
    }];
  }

  /** Failing requests kept (at most maxFailingKept, oldest first), as plain data for reports. */
  failingRequests(): FailingRequest[] {
    return [...this.failing.values()].map((e) => {
      const r = e.slot >= 0 ? this.entryOf(e.slot) : e;
      return {
        requestId: e.id,
        services: [...r.services],
        failedAt: r.firstError!.service,
        failingServices: [...r.failingServices],
        firstError: { ...r.firstError! },
        lines: r.lines,
        firstMs: r.firstMs,
        lastMs: r.lastMs,
      };
    });
  }

  /** The remembered lines of one request across services (its first maxTrailPerRequest lines). */
  trailOf(requestId: string): TrailLine[] | undefined {
    const slot = this.requests.get(requestId);
    if (slot !== undefined) return this.trailAt(slot);
    const e = this.failing.get(requestId);
    return e === undefined ? undefined : e.slot >= 0 ? this.trailAt(e.slot) : e.trail.map((l) => ({ ...l }));
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

  /** The slot of a request, a new one (evicting the least recently active request when full) if it is new. */
  private slotOf(id: string, timeMs: number): number {
    const requests = this.requests;
    const slot = requests.slotOf(id);
    if (!requests.added) return slot;
    if (requests.evicted >= 0) {
      this.evicted++;
      this.release(slot);
    } else if (slot >= this.lines.length) this.grow(requests.capacity);
    this.lines[slot] = 0;
    this.firstMs[slot] = timeMs;
    this.lastMs[slot] = timeMs;
    this.serviceCount[slot] = 0;
    this.failingServiceCount[slot] = 0;
    this.trailCount[slot] = 0;
    return slot;
  }

  /** Empties a slot whose request was evicted; a failing request kept for reports takes a copy. */
  private release(slot: number): void {
    const failing = this.failingOf[slot];
    if (failing !== undefined) {
      Object.assign(failing, this.entryOf(slot), { slot: -1, trail: this.trailAt(slot) });
      this.failingOf[slot] = undefined;
    }
    this.firstErrors[slot] = undefined;
    // (the slot's lists are not cleared: their counts are reset, and what they still point to is
    // names and template ids the run keeps anyway, bounded by the tables' size)
  }

  /** The tables grown to `size` slots (the key table's capacity). */
  private grow(size: number): void {
    const o = this.opts;
    const values = <T>(a: T[], per: number, empty: T): T[] => {
      const b = new Array<T>(size * per).fill(empty);
      for (let i = 0; i < a.length; i++) b[i] = a[i]!;
      return b;
    };
    this.lines = grown(this.lines, size);
    this.firstMs = grown(this.firstMs, size);
    this.lastMs = grown(this.lastMs, size);
    this.firstErrors = values<FirstError | undefined>(this.firstErrors, 1, undefined);
    this.failingOf = values<FailingEntry | undefined>(this.failingOf, 1, undefined);
    this.services = values(this.services, o.maxServicesPerRequest, '');
    this.serviceCount = grown(this.serviceCount, size);
    this.failingServices = values(this.failingServices, o.maxServicesPerRequest, '');
    this.failingServiceCount = grown(this.failingServiceCount, size);
    this.trailSeq = grown(this.trailSeq, size * o.maxTrailPerRequest);
    this.trailTime = grown(this.trailTime, size * o.maxTrailPerRequest);
    this.trailFailed = grown(this.trailFailed, size * o.maxTrailPerRequest);
    this.trailSource = values(this.trailSource, o.maxTrailPerRequest, '');
    this.trailService = values(this.trailService, o.maxTrailPerRequest, '');
    this.trailTemplate = values(this.trailTemplate, o.maxTrailPerRequest, '');
    this.trailLevel = values<Level | undefined>(this.trailLevel, o.maxTrailPerRequest, undefined);
    this.trailCount = grown(this.trailCount, size);
  }

  /** Adds `service` to a slot's list (services, or failing services) unless it holds it or is full. */
  private addService(list: string[], counts: Int32Array, slot: number, service: string): void {
    const n = counts[slot]!;
    const max = this.opts.maxServicesPerRequest;
    if (n >= max) return;
    const from = slot * max;
    for (let i = from; i < from + n; i++) if (list[i] === service) return;
    list[from + n] = service;
    counts[slot] = n + 1;
  }

  /** A slot's list (services, or failing services), as a new array. */
  private servicesAt(list: readonly string[], counts: Int32Array, slot: number): string[] {
    const from = slot * this.opts.maxServicesPerRequest;
    return list.slice(from, from + counts[slot]!);
  }

  /** What failingRequests() reports of the request in a slot. */
  private entryOf(slot: number): Omit<FailingEntry, 'slot' | 'id' | 'trail'> {
    const firstError = this.firstErrors[slot];
    return {
      services: this.servicesAt(this.services, this.serviceCount, slot),
      failingServices: this.servicesAt(this.failingServices, this.failingServiceCount, slot),
      ...(firstError !== undefined ? { firstError } : {}),
      lines: this.lines[slot]!,
      firstMs: this.firstMs[slot]!,
      lastMs: this.lastMs[slot]!,
    };
  }

  private trailAt(slot: number): TrailLine[] {
    const out: TrailLine[] = [];
    const from = slot * this.opts.maxTrailPerRequest;
    for (let at = from; at < from + this.trailCount[slot]!; at++) {
      const line: TrailLine = { seq: this.trailSeq[at]!, source: this.trailSource[at]!, service: this.trailService[at]!, templateId: this.trailTemplate[at]!, timeMs: this.trailTime[at]!, failed: this.trailFailed[at] === 1 };
      const level = this.trailLevel[at];
      if (level !== undefined) line.level = level;
      out.push(line);
    }
    return out;
  }
}
