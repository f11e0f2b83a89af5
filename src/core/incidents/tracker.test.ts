import { describe, expect, it } from 'vitest';
import { isMilestone, nextMilestone } from './incident.js';
import { IncidentTracker, type AnomalyOccurrence } from './tracker.js';

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

function setup(windowMs = 120_000) {
  let now = T0;
  let n = 0;
  const clock = { now: () => now };
  const tracker = new IncidentTracker(clock, () => `inc-${++n}`, { windowMs });
  return { tracker, advance: (ms: number) => { now += ms; } };
}

function occ(over: Partial<AnomalyOccurrence> = {}): AnomalyOccurrence {
  return {
    projectId: 'p1',
    source: 'default',
    signature: 'tpl-a',
    title: 'connection refused to <*>',
    severity: 'high',
    timeMs: T0,
    message: 'connection refused to 10.0.0.5:5432',
    reason: 'line logged at ERROR says "connection refused"',
    score: 0.8,
    detectors: ['severity'],
    ...over,
  };
}

describe('milestones', () => {
  it('are 1, 5, 10, 20, 40 and each doubling after that', () => {
    const hits = [];
    for (let n = 1; n <= 700; n++) if (isMilestone(n)) hits.push(n);
    expect(hits).toEqual([1, 5, 10, 20, 40, 80, 160, 320, 640]);
    expect(isMilestone(5 * 2 ** 40)).toBe(true);
    expect(isMilestone(0)).toBe(false);
  });

  it('name the next one above any count', () => {
    expect([0, 1, 4, 5, 9, 10, 39, 40].map(nextMilestone)).toEqual([1, 5, 5, 10, 10, 20, 40, 80]);
  });
});

describe('IncidentTracker', () => {
  it('opens one incident per signature and counts the occurrences of a burst on it', () => {
    const { tracker } = setup();
    const first = tracker.observe(occ());
    expect(first.map((e) => e.kind)).toEqual(['created']);
    for (let k = 1; k < 4; k++) expect(tracker.observe(occ({ timeMs: T0 + k * 1000 }))).toEqual([]);
    const i = tracker.find('p1', 'default', 'tpl-a')!;
    expect(i).toMatchObject({ id: 'inc-1', status: 'open', occurrences: 4, bursts: 1, firstSeenMs: T0, lastSeenMs: T0 + 3000, severity: 'high' });
    expect(i.milestones).toEqual([{ occurrences: 1, atMs: T0 }]);
  });

  it('keeps signatures, sources and projects apart', () => {
    const { tracker } = setup();
    tracker.observe(occ());
    tracker.observe(occ({ signature: 'tpl-b' }));
    tracker.observe(occ({ source: 'worker' }));
    tracker.observe(occ({ projectId: 'p2' }));
    expect(tracker.size).toBe(4);
  });

  it('asks for re-analysis at 5, 10 and 20 occurrences, and records each milestone', () => {
    const { tracker } = setup();
    const kinds: [number, string][] = [];
    for (let k = 1; k <= 20; k++) for (const e of tracker.observe(occ({ timeMs: T0 + k }))) kinds.push([e.occurrences, e.kind]);
    expect(kinds).toEqual([[1, 'created'], [5, 'reanalyze'], [10, 'reanalyze'], [20, 'reanalyze']]);
    expect(tracker.find('p1', 'default', 'tpl-a')!.milestones.map((m) => m.occurrences)).toEqual([1, 5, 10, 20]);
  });

  it('keeps the ten newest samples, with secrets masked', () => {
    const { tracker } = setup();
    for (let k = 1; k <= 12; k++) tracker.observe(occ({ timeMs: T0 + k, message: `login failed for key AKIAIOSFODNN7EXAMPL${String.fromCharCode(64 + k)} attempt ${k}` }));
    const i = tracker.find('p1', 'default', 'tpl-a')!;
    expect(i.samples).toHaveLength(10);
    expect(i.samples[0]!.message).toMatch(/attempt 12$/);
    expect(i.samples[9]!.message).toMatch(/attempt 3$/);
    expect(i.samples.every((s) => !s.message.includes('AKIAIOSFODNN7EXAMPL'))).toBe(true);
  });

  it('reopens a closed incident that recurs', () => {
    const { tracker, advance } = setup();
    const [created] = tracker.observe(occ());
    advance(1000);
    expect(tracker.setStatus('p1', created!.incidentId, 'closed')!.status).toBe('closed');
    const events = tracker.observe(occ({ timeMs: T0 + 10_000 }));
    expect(events.map((e) => e.kind)).toEqual(['reopened']);
    expect(tracker.get('p1', created!.incidentId)!.status).toBe('open');
  });

  it('keeps counting an ignored incident quietly: no events, no milestones', () => {
    const { tracker } = setup();
    const [created] = tracker.observe(occ());
    tracker.setStatus('p1', created!.incidentId, 'ignored');
    const events = [];
    for (let k = 1; k <= 30; k++) events.push(...tracker.observe(occ({ timeMs: T0 + k * 600_000 })));
    expect(events).toEqual([]);
    const i = tracker.get('p1', created!.incidentId)!;
    expect(i).toMatchObject({ status: 'ignored', occurrences: 31, lastSeenMs: T0 + 30 * 600_000 });
    expect(i.milestones).toHaveLength(1);
    // back to open, the next milestone (40) is news again
    tracker.setStatus('p1', created!.incidentId, 'open');
    const later = [];
    for (let k = 31; k <= 40; k++) later.push(...tracker.observe(occ({ timeMs: T0 + 30 * 600_000 + k })));
    expect(later.map((e) => [e.kind, e.occurrences])).toEqual([['reanalyze', 40]]);
  });

  it('starts a new burst after a quiet spell longer than the window, and says so for an open incident', () => {
    const { tracker } = setup(120_000);
    tracker.observe(occ());
    expect(tracker.observe(occ({ timeMs: T0 + 119_000 }))).toEqual([]);
    const events = tracker.observe(occ({ timeMs: T0 + 119_000 + 120_001 }));
    expect(events.map((e) => e.kind)).toEqual(['recurred']);
    expect(tracker.find('p1', 'default', 'tpl-a')!.bursts).toBe(2);
  });

  it('takes the worst severity and the widest time span, whatever the order of arrival', () => {
    const { tracker } = setup();
    tracker.observe(occ({ severity: 'medium', timeMs: T0 + 5000 }));
    tracker.observe(occ({ severity: 'critical', timeMs: T0 }));
    tracker.observe(occ({ severity: 'low', timeMs: T0 + 2000 }));
    expect(tracker.find('p1', 'default', 'tpl-a')).toMatchObject({ severity: 'critical', firstSeenMs: T0, lastSeenMs: T0 + 5000 });
  });

  it('only changes the status of an incident of the caller’s project', () => {
    const { tracker } = setup();
    const [created] = tracker.observe(occ());
    expect(tracker.setStatus('p2', created!.incidentId, 'closed')).toBeUndefined();
    expect(tracker.get('p2', created!.incidentId)).toBeUndefined();
    expect(tracker.get('p1', created!.incidentId)!.status).toBe('open');
  });

  it('hands over changes with the occurrences added since the last take, and takes back a failed one', () => {
    const { tracker, advance } = setup();
    tracker.observe(occ());
    tracker.observe(occ({ timeMs: T0 + 1 }));
    const first = tracker.takeChanges();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ occurrencesDelta: 2, isNew: true });
    expect(tracker.takeChanges()).toEqual([]);
    tracker.observe(occ({ timeMs: T0 + 2 }));
    const second = tracker.takeChanges();
    expect(second[0]).toMatchObject({ occurrencesDelta: 1, isNew: false });
    // the write failed: the change comes back, merged with what happened since
    tracker.observe(occ({ timeMs: T0 + 3 }));
    tracker.returnChanges(second);
    advance(5);
    const third = tracker.takeChanges();
    expect(third[0]).toMatchObject({ occurrencesDelta: 2, isNew: false });
    expect(third[0]!.incident.occurrences).toBe(4);
    // a status change alone is a change too
    tracker.setStatus('p1', third[0]!.incident.id, 'closed');
    expect(tracker.takeChanges()[0]).toMatchObject({ occurrencesDelta: 0, incident: { status: 'closed' } });
  });

  it('continues restored incidents without creating them again, and keeps newer unsaved state over a restore', () => {
    const { tracker } = setup();
    const restored = {
      id: 'stored-1', projectId: 'p1', source: 'default', signature: 'tpl-a', title: 't', severity: 'high' as const, status: 'closed' as const,
      occurrences: 7, bursts: 1, firstSeenMs: T0 - 60_000, lastSeenMs: T0 - 30_000, samples: [], milestones: [{ occurrences: 1, atMs: T0 - 60_000 }, { occurrences: 5, atMs: T0 - 40_000 }],
      createdAtMs: T0 - 60_000, updatedAtMs: T0 - 30_000,
    };
    tracker.restore([restored]);
    const events = tracker.observe(occ());
    expect(events.map((e) => e.kind)).toEqual(['reopened']);
    expect(tracker.find('p1', 'default', 'tpl-a')).toMatchObject({ id: 'stored-1', occurrences: 8, status: 'open' });
    tracker.restore([{ ...restored, occurrences: 1 }]);
    expect(tracker.find('p1', 'default', 'tpl-a')!.occurrences).toBe(8);
    expect(tracker.takeChanges()[0]).toMatchObject({ occurrencesDelta: 1, isNew: false });
  });
});
