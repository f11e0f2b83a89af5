import { describe, expect, it } from 'vitest';
import { CorrelationDetector, DEFAULT_CORRELATION_OPTIONS, NO_SERVICES, serviceOf, type CorrelationOptions, type FailingRequest, type FirstError, type TrailLine } from './correlation.js';
import { NO_FINDINGS, type DetectInput, type Detector, type Finding } from './detector.js';
import { clamp, fmt } from './frequency.js';
import { levelScore, severityOfScore, TemplateSeverityCache } from './severity.js';
import { feed, input, Stream } from './test-helpers.js';
import type { Level } from '../parse/record.js';
import { mulberry32 } from './random.js';

const line = (s: Stream, requestId: string | undefined, component: string, template: string, level: Level = 'info') =>
  s.advance(5).next({ templateId: template, template, record: requestId === undefined ? { component, level } : { component, level, requestId } });

describe('CorrelationDetector', () => {
  it('names the services a failing request touched and the first one that failed', () => {
    const d = new CorrelationDetector();
    const s = new Stream();
    const f = feed(d, [
      line(s, 'r1', 'gateway', 'GET /checkout'),
      line(s, 'r1', 'orders', 'create order'),
      line(s, 'r1', 'payments', 'charge card'),
      line(s, 'r1', 'payments', 'charge failed: card declined', 'error'),
      line(s, 'r1', 'gateway', 'upstream returned 502', 'error'),
    ]);
    expect(f).toHaveLength(2);
    expect(f[0]!.detector).toBe('correlation');
    expect(f[0]!.tags).toEqual(['error', 'correlation']);
    expect(f[0]!.reason).toBe('request r1 failed in "payments" after touching 3 services: "gateway" → "orders" → "payments"');
    expect(f[0]!.evidence).toMatchObject({ requestId: 'r1', services: ['gateway', 'orders', 'payments'], firstFailingService: 'payments' });
    expect(f[1]!.reason).toContain('failed again in "gateway"; it first failed in "payments"');
    expect(f[1]!.evidence).toMatchObject({ failingServices: ['payments', 'gateway'], firstFailingService: 'payments' });
    expect(f[1]!.score).toBeGreaterThan(f[0]!.score);
  });

  it('counts a line that reads as an error, whatever its level', () => {
    const d = new CorrelationDetector();
    const s = new Stream();
    const f = feed(d, [line(s, 'r2', 'web', 'proxy'), line(s, 'r2', 'db', 'connect failed: Connection refused', 'info')]);
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('high');
  });

  it('keeps single-service failures for the report without a finding', () => {
    const d = new CorrelationDetector();
    const s = new Stream();
    expect(feed(d, [line(s, 'r3', 'web', 'start'), line(s, 'r3', 'web', 'boom', 'error')])).toEqual([]);
    expect(d.failingRequests()).toEqual([
      expect.objectContaining({ requestId: 'r3', services: ['web'], failedAt: 'web', firstError: expect.objectContaining({ service: 'web', template: 'boom', level: 'error' }) }),
    ]);
  });

  it('follows a request by its session key when the record has no request id', () => {
    const d = new CorrelationDetector();
    const s = new Stream();
    const a = s.next({ templateId: 'a', template: 'recv', sessionKey: 'blk_1', record: { component: 'datanode' } });
    const b = s.next({ templateId: 'b', template: 'write failed', sessionKey: 'blk_1', record: { component: 'namenode', level: 'error' } });
    expect(feed(d, [a, b])).toHaveLength(1);
    expect(d.trailOf('blk_1')!.map((l) => [l.service, l.failed])).toEqual([['datanode', false], ['namenode', true]]);
  });

  it('uses the host, then the source, as the service when there is no component', () => {
    const d = new CorrelationDetector();
    const s = new Stream();
    feed(d, [s.next({ source: 'api.log', record: { requestId: 'r4' } }), s.next({ source: 'db.log', record: { requestId: 'r4', host: 'db-1', level: 'fatal' } })]);
    expect(d.failingRequests()[0]).toMatchObject({ services: ['api.log', 'db-1'], failedAt: 'db-1' });
  });

  it('names a service by the bracket group of a line without a component (`INFO [api-gateway] …`), never by a thread', () => {
    const bracket = (group: string, extra: Partial<DetectInput> = {}): DetectInput => ({ ...input({ source: 'app.log', record: { attributes: { thread: group } } }), ...extra });
    for (const name of ['api-gateway', 'payments', 'auth', 'orders-v2']) expect(serviceOf(bracket(name))).toBe(name);
    for (const thread of ['main', 'pool-1-thread-3', 'http-nio-8080-exec-1', 'Thread-12', 'qtp1234-56', 'ForkJoinPool.commonPool-worker-1', 'RMI TCP Connection(2)-10.0.0.1', '7', 'scheduling-1', 'worker#3']) {
      expect(serviceOf(bracket(thread))).toBe('app.log');
    }
    // the judge's thread has no attributes, but the group the front worked out (component, else bracket group, else file)
    expect(serviceOf({ ...input({ source: 'app.log' }), group: 'api-gateway' })).toBe('api-gateway');
    expect(serviceOf({ ...input({ source: 'app.log' }), group: 'app.log' })).toBe('app.log');
    expect(serviceOf({ ...input({ source: 'app.log' }), group: 'http-nio-8080-exec-1' })).toBe('app.log');
    // a component or a host comes first
    expect(serviceOf(bracket('api-gateway', { record: { message: 'm', component: 'orders', attributes: { thread: 'api-gateway' } } }))).toBe('orders');
    expect(serviceOf(bracket('api-gateway', { record: { message: 'm', host: 'db-1', attributes: { thread: 'api-gateway' } } }))).toBe('db-1');
  });

  it('follows a request across the services of one file named in brackets', () => {
    const d = new CorrelationDetector();
    const s = new Stream();
    const at = (group: string, template: string, level: Level = 'info'): DetectInput => s.advance(5).next({ source: 'app.log', templateId: template, record: { requestId: 'r9', level, attributes: { thread: group } } });
    const f = feed(d, [at('api-gateway', 'POST /checkout'), at('orders', 'order created'), at('payments', 'charge failed', 'error')]);
    expect(f).toHaveLength(1);
    expect(f[0]!.reason).toBe('request r9 failed in "payments" after touching 3 services: "api-gateway" → "orders" → "payments"');
  });

  it('gives a routine failure that stays in one service no finding, and a new or spreading one a finding', () => {
    const d = new CorrelationDetector();
    const s = new Stream();
    let n = 0;
    // one request: the gateway, then a declined card in payments (an error logged all day)
    const declined = (): Finding[] => {
      const r = `r${++n}`;
      return feed(d, [line(s, r, 'gateway', 'POST /checkout'), line(s, r, 'payments', 'card declined', 'error')]);
    };
    // bouts a minute apart: the first three are news, later ones routine
    const found: number[] = [];
    for (let bout = 0; bout < 6; bout++) {
      s.advance(61_000);
      found.push(declined().length, declined().length);
    }
    expect(found).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    // a routine failure that spreads to a second service of its request is news again
    const spread = feed(d, [line(s, 'rs', 'gateway', 'POST /checkout'), line(s, 'rs', 'payments', 'card declined', 'error'), line(s, 'rs', 'gateway', 'upstream returned 502', 'error')]);
    expect(spread.map((x) => x.evidence!['failingServices'])).toEqual([['payments', 'gateway']]);
    // and a new failure in the same service still gets its finding
    expect(feed(d, [line(s, 'rn', 'gateway', 'POST /checkout'), line(s, 'rn', 'payments', 'psp unreachable', 'error')])).toHaveLength(1);
    // the requests are still counted as failing for the report
    expect(d.summary().failingRequests).toBe(n + 2);
  });

  it('ignores records without a request id or session key', () => {
    const d = new CorrelationDetector();
    const s = new Stream();
    expect(feed(d, [line(s, undefined, 'web', 'boom', 'error')])).toEqual([]);
    expect(d.summary().requestsTracked).toBe(0);
  });

  it('stays within its bounds: requests followed, failing requests kept, services and trail per request', () => {
    const d = new CorrelationDetector({ maxRequests: 100, maxFailingKept: 10, maxServicesPerRequest: 3, maxTrailPerRequest: 4 });
    const s = new Stream();
    for (let i = 0; i < 10_000; i++) feed(d, [line(s, `r${i}`, 'a', 'x'), line(s, `r${i}`, 'b', 'fail', 'error')]);
    for (let k = 0; k < 10; k++) feed(d, [line(s, 'wide', `svc${k}`, 'x')]);
    const sum = d.summary();
    expect(sum.requestsTracked).toBeLessThanOrEqual(100);
    expect(sum.failingKept).toBe(10);
    expect(sum.failingRequests).toBe(10_000);
    expect(d.failingRequests().map((r) => r.requestId)).toEqual(Array.from({ length: 10 }, (_, i) => `r${9_990 + i}`));
    expect(d.trailOf('wide')).toHaveLength(4);
    feed(d, [line(s, 'wide', 'svc0', 'boom', 'error')]);
    expect(d.failingRequests().at(-1)!.services).toEqual(['svc0', 'svc1', 'svc2']);
  });

  it('lists services and failing services in first-touch order, each request its own, up to the cap', () => {
    const d = new CorrelationDetector({ maxServicesPerRequest: 6 });
    const s = new Stream();
    // interleaved requests: the lists are replaced as they grow (one, two, three, four, then more
    // services take different paths), never shared or written in place
    for (let k = 0; k < 8; k++) {
      feed(d, [line(s, 'wide', `svc${k}`, 'x'), line(s, 'narrow', k % 2 === 0 ? 'web' : 'db', 'x'), line(s, 'wide', `svc${k}`, 'fail', 'error')]);
    }
    feed(d, [line(s, 'narrow', 'db', 'boom', 'error'), line(s, 'late', 'solo', 'boom', 'error')]);
    const byId = new Map(d.failingRequests().map((r) => [r.requestId, r]));
    expect(byId.get('wide')).toMatchObject({ services: ['svc0', 'svc1', 'svc2', 'svc3', 'svc4', 'svc5'], failingServices: ['svc0', 'svc1', 'svc2', 'svc3', 'svc4', 'svc5'] });
    expect(byId.get('narrow')).toMatchObject({ services: ['web', 'db'], failingServices: ['db'] });
    expect(byId.get('late')).toMatchObject({ services: ['solo'], failingServices: ['solo'] });
    // a request that has not failed has no failing services, and the shared empty list stays empty
    feed(d, [line(s, 'quiet', 'web', 'ok')]);
    feed(d, [line(s, 'quiet', 'db', 'bad', 'error')]);
    expect(d.failingRequests().at(-1)).toMatchObject({ requestId: 'quiet', services: ['web', 'db'], failingServices: ['db'] });
    expect(NO_SERVICES).toEqual([]);
  });


  it('finds, keeps and forgets exactly what one object per request did, through evictions and slot reuse', () => {
    for (const [seed, opts] of [[1, { maxRequests: 8, maxFailingKept: 5, maxServicesPerRequest: 3, maxTrailPerRequest: 2 }], [2, { maxRequests: 1, maxFailingKept: 2 }], [3, { maxRequests: 40, maxFailingKept: 10, minServicesForFinding: 1 }]] as const) {
      const d = new CorrelationDetector(opts);
      const ref = new ReferenceCorrelation(opts);
      const rnd = mulberry32(seed);
      const s = new Stream();
      const ids = Array.from({ length: 60 }, (_, i) => `req-${i}`);
      const services = ['gateway', 'orders', 'payments', 'db', 'cache'];
      for (let i = 0; i < 5_000; i++) {
        const id = ids[Math.floor(rnd() * (rnd() < 0.5 ? 10 : ids.length))]!;
        const bad = rnd() < 0.15;
        const x = line(s, rnd() < 0.05 ? undefined : id, services[Math.floor(rnd() * services.length)]!, bad ? 'charge failed' : `step ${Math.floor(rnd() * 4)}`, bad ? 'error' : 'info');
        expect(d.observe(x)).toEqual(ref.observe(x));
        if (i % 500 === 0 || i === 4_999) {
          expect(d.failingRequests()).toEqual(ref.failingRequests());
          expect(d.summary()).toEqual(ref.summary());
          for (const k of ids) expect(d.trailOf(k)).toEqual(ref.trailOf(k));
        }
      }
      expect(d.summary().requestsEvicted).toBeGreaterThan(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The detector as it was written before its state moved into tables by slot (one object per
// request): the reference the tables are held to, finding for finding.
/** Fields per trail line in RequestState.trail (flat: no object per line). */
const TRAIL_STRIDE = 7;
/** The services of a request before its first line, and its failing services until it fails: shared, never written (registered as a constant for detector snapshots). */
const REF_NO_SERVICES: string[] = Object.freeze([]) as unknown as string[];

interface RequestState {
  id: string;
  /** Replaced, never written: see appended(). */
  services: string[];
  /** REF_NO_SERVICES (shared, never written) until the request fails; replaced, never written. */
  failingServices: string[];
  /** seq, source, service, templateId, timeMs, level, failed — TRAIL_STRIDE values per line. */
  trail: (number | string | boolean | undefined)[];
  lines: number;
  firstMs: number;
  lastMs: number;
  firstError?: FirstError;
  stamp: number;
}

class ReferenceCorrelation implements Detector {
  readonly name = 'correlation';
  private readonly opts: CorrelationOptions;
  private readonly severity = new TemplateSeverityCache();
  private readonly requests = new Map<string, RequestState>();
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
      r = { id, services: REF_NO_SERVICES, failingServices: REF_NO_SERVICES, trail: [], lines: 0, firstMs: timeMs, lastMs: timeMs, stamp: this.stamp++ };
      this.requests.set(id, r);
      if (this.requests.size > this.opts.maxRequests) {
        this.requests.delete(this.requests.keys().next().value!);
        this.evicted++;
      }
    } else if (this.stamp - r.stamp > this.opts.maxRequests / 2) {
      // approximate LRU: a request keeps its place for at least half of maxRequests new ones
      this.requests.delete(id);
      r.stamp = this.stamp++;
      this.requests.set(id, r);
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
