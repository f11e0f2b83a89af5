import { describe, expect, it } from 'vitest';
import { CorrelationDetector, NO_SERVICES } from './correlation.js';
import { feed, Stream } from './test-helpers.js';
import type { Level } from '../parse/record.js';

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
});

