import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Incident, IncidentEvent } from '../core/incidents/incident.js';
import type { IncidentChange } from '../core/incidents/tracker.js';
import { FeedRings, MemoryIncidentFeed, mergeObservers, parseEventId, PipelineFeedPublisher, type FeedSignal, type IncidentFeedEvent } from './incident-feed.js';

const P = 'project-a';
const Q = 'project-b';

function collect(): { signals: FeedSignal[]; listener: (s: FeedSignal) => void; kinds(): string[] } {
  const signals: FeedSignal[] = [];
  return { signals, listener: (s) => signals.push(s), kinds: () => signals.map((s) => (s.type === 'event' ? `event:${JSON.parse(s.data).n}` : s.type)) };
}

const ev = (n: number): IncidentFeedEvent => ({ n } as unknown as IncidentFeedEvent);

describe('FeedRings and the in-process feed', () => {
  it('numbers each project’s events 1, 2, 3 … under one epoch and delivers them to that project only', () => {
    const feed = new MemoryIncidentFeed({ epoch: 'e1' });
    const a = collect();
    const b = collect();
    feed.subscribe(P, a.listener);
    feed.subscribe(Q, b.listener);
    void feed.publish(P, ev(1));
    void feed.publish(P, ev(2));
    void feed.publish(Q, ev(3));
    expect(a.signals).toEqual([{ type: 'ready', id: 'e1-0', replayed: 0 }, { type: 'event', id: 'e1-1', data: '{"n":1}' }, { type: 'event', id: 'e1-2', data: '{"n":2}' }]);
    expect(b.signals).toEqual([{ type: 'ready', id: 'e1-0', replayed: 0 }, { type: 'event', id: 'e1-1', data: '{"n":3}' }]);
  });

  it('replays what a subscriber missed after its last id, then says ready', () => {
    const feed = new MemoryIncidentFeed({ epoch: 'e1' });
    for (let i = 1; i <= 5; i++) void feed.publish(P, ev(i));
    const c = collect();
    feed.subscribe(P, c.listener, { lastEventId: 'e1-3' });
    expect(c.kinds()).toEqual(['event:4', 'event:5', 'ready']);
    expect(c.signals.at(-1)).toEqual({ type: 'ready', id: 'e1-5', replayed: 2 });
    const upToDate = collect();
    feed.subscribe(P, upToDate.listener, { lastEventId: 'e1-5' });
    expect(upToDate.signals).toEqual([{ type: 'ready', id: 'e1-5', replayed: 0 }]);
  });

  it('resets a subscriber whose events are no longer held, whose id is of another epoch, ahead, or not an id', () => {
    const feed = new MemoryIncidentFeed({ epoch: 'e1', maxEventsPerProject: 3 });
    for (let i = 1; i <= 6; i++) void feed.publish(P, ev(i));
    for (const [id, reason] of [['e1-2', /no longer held/], ['e0-5', /reset since/], ['e1-9', /ahead/], ['hello', /not one this feed gave out/]] as const) {
      const c = collect();
      feed.subscribe(P, c.listener, { lastEventId: id });
      expect(c.signals).toEqual([{ type: 'reset', id: 'e1-6', reason: expect.stringMatching(reason) }]);
    }
    // the oldest held is 4: after 3 nothing is missing
    const c = collect();
    feed.subscribe(P, c.listener, { lastEventId: 'e1-3' });
    expect(c.kinds()).toEqual(['event:4', 'event:5', 'event:6', 'ready']);
  });

  it('never replays another project’s events, whatever id is presented', () => {
    const feed = new MemoryIncidentFeed({ epoch: 'e1' });
    for (let i = 1; i <= 3; i++) void feed.publish(P, ev(i));
    const c = collect();
    feed.subscribe(Q, c.listener, { lastEventId: 'e1-0' });
    expect(c.signals).toEqual([{ type: 'ready', id: 'e1-0', replayed: 0 }]);
    const d = collect();
    feed.subscribe(Q, d.listener, { lastEventId: 'e1-1' });
    expect(d.signals.map((s) => s.type)).toEqual(['reset']);
  });

  it('keeps the rings of the most recently active projects only', () => {
    const rings = new FeedRings('e', { maxProjects: 2, maxEventsPerProject: 10 });
    rings.append('x', 1, '1');
    rings.append('y', 1, '1');
    rings.append('z', 1, '1');
    const x = collect();
    rings.subscribe('x', x.listener, { lastEventId: 'e-0' });
    expect(x.signals.map((s) => s.type)).toEqual(['reset']);
    const z = collect();
    rings.subscribe('z', z.listener, { lastEventId: 'e-0' });
    expect(z.signals.map((s) => s.type)).toEqual(['event', 'ready']);
  });

  it('tells live subscribers to reset when seqs are skipped, and when a resync finds their project moved on', () => {
    const rings = new FeedRings('e');
    const c = collect();
    rings.append(P, 1, '{"n":1}');
    rings.subscribe(P, c.listener);
    rings.append(P, 3, '{"n":3}');
    rings.append(P, 3, '{"n":3}');
    expect(c.signals.slice(1)).toEqual([{ type: 'reset', id: 'e-2', reason: expect.any(String) }, { type: 'event', id: 'e-3', data: '{"n":3}' }]);
    rings.resync('e', new Map([[P, 7], [Q, 4]]));
    expect(c.signals.at(-1)).toEqual({ type: 'reset', id: 'e-7', reason: expect.stringMatching(/missed/) });
    expect(rings.lastSeq(Q)).toBe(4);
    rings.resync('f', new Map([[P, 2]]));
    expect(c.signals.at(-1)).toEqual({ type: 'reset', id: 'f-2', reason: expect.stringMatching(/counter was reset/) });
  });

  it('counts subscribers and forgets them when they unsubscribe (twice is harmless)', () => {
    const feed = new MemoryIncidentFeed();
    const off = feed.subscribe(P, () => {});
    feed.subscribe(Q, () => {});
    expect([feed.subscribers(P), feed.subscribers()]).toEqual([1, 2]);
    off();
    off();
    expect([feed.subscribers(P), feed.subscribers()]).toEqual([0, 1]);
  });

  it('parses ids of the form epoch-seq only', () => {
    expect(parseEventId('ab12-7')).toEqual({ epoch: 'ab12', seq: 7 });
    expect(parseEventId('ab12-')).toBeUndefined();
    expect(parseEventId('AB-1')).toBeUndefined();
    expect(parseEventId(undefined)).toBeUndefined();
  });
});

function incident(id: string, occurrences: number, over: Partial<Incident> = {}): Incident {
  return {
    id, projectId: P, source: 's', signature: `sig-${id}`, title: 't', severity: 'high', status: 'open', occurrences, bursts: 1,
    firstSeenMs: 0, lastSeenMs: 1_000, samples: [{ timeMs: 0, message: 'm', reason: 'r', score: 1, detectors: ['x'] }], milestones: [], createdAtMs: 0, updatedAtMs: 0, ...over,
  };
}

const change = (i: Incident, delta: number, isNew = false): IncidentChange => ({ incident: i, occurrencesDelta: delta, isNew });
const event = (kind: IncidentEvent['kind'], id: string, occurrences: number): IncidentEvent => ({ kind, incidentId: id, projectId: P, source: 's', signature: `sig-${id}`, severity: 'high', occurrences, atMs: 1_000 });

describe('PipelineFeedPublisher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(coalesceMs = 250) {
    vi.useFakeTimers();
    const feed = new MemoryIncidentFeed({ epoch: 'e' });
    const seen: IncidentFeedEvent[] = [];
    feed.subscribe(P, (s) => {
      if (s.type === 'event') seen.push(JSON.parse(s.data));
    });
    const pub = new PipelineFeedPublisher(feed, { coalesceMs, now: () => Date.now() });
    return { pub, obs: pub.observer(), seen };
  }

  it('holds the pipeline’s events until a flush stores the state they describe', () => {
    const { obs, seen } = setup();
    obs.incidentEvent!(event('created', 'i1', 1));
    obs.incidentEvent!(event('reanalyze', 'i1', 5));
    expect(seen).toEqual([]);
    obs.incidentsStored!([change(incident('i1', 3), 3, true)]);
    expect(seen.map((e) => [e.kind, e.milestone, e.incident.occurrences])).toEqual([['created', 1, 3]]);
    expect(seen[0]!.incident).not.toHaveProperty('samples');
    obs.incidentsStored!([change(incident('i1', 6), 3)]);
    expect(seen.map((e) => [e.kind, e.milestone, e.incident.occurrences])).toEqual([['created', 1, 3], ['reanalyze', 5, 6]]);
  });

  it('sends at most one update per incident per window, with the latest stored state', () => {
    const { obs, seen } = setup(250);
    obs.incidentsStored!([change(incident('i1', 10), 1)]);
    for (let n = 11; n <= 30; n++) {
      vi.advanceTimersByTime(20);
      obs.incidentsStored!([change(incident('i1', n), 1)]);
    }
    // 400 ms of stored changes, one every 20 ms: the first at once, the next when its 250 ms are up
    expect(seen.map((e) => e.incident.occurrences)).toEqual([10, 22]);
    vi.advanceTimersByTime(1_000);
    expect(seen.map((e) => [e.kind, e.incident.occurrences])).toEqual([['updated', 10], ['updated', 22], ['updated', 30]]);
  });

  it('lets a newer stored state (a status change) replace a waiting update, and sends nothing for a change without occurrences', () => {
    const { obs, seen } = setup(250);
    obs.incidentsStored!([change(incident('i1', 10), 1)]);
    obs.incidentsStored!([change(incident('i1', 11), 1)]);
    obs.incidentsStored!([change(incident('i1', 11, { status: 'closed' }), 0)]);
    obs.incidentsStored!([change(incident('i2', 4, { status: 'ignored' }), 0)]);
    vi.advanceTimersByTime(300);
    expect(seen.map((e) => [e.incident.id, e.incident.occurrences, e.incident.status])).toEqual([['i1', 10, 'open'], ['i1', 11, 'closed']]);
  });

  it('drops what is waiting when closed', () => {
    const { pub, obs, seen } = setup(250);
    obs.incidentsStored!([change(incident('i1', 10), 1)]);
    obs.incidentsStored!([change(incident('i1', 11), 1)]);
    pub.close();
    vi.advanceTimersByTime(1_000);
    obs.incidentsStored!([change(incident('i1', 12), 1)]);
    expect(seen).toHaveLength(1);
  });

  it('merges observers so each hook calls all of them', () => {
    const calls: string[] = [];
    const merged = mergeObservers({ processed: (n) => calls.push(`a${n}`), flushed: () => calls.push('f') }, { processed: (n) => calls.push(`b${n}`) });
    merged.processed!(3, 0);
    merged.flushed!(0, 0);
    expect(calls).toEqual(['a3', 'b3', 'f']);
    expect(merged.incidentEvent).toBeUndefined();
  });
});
