import { describe, expect, it } from 'vitest';
import { NewTemplateDetector } from './new-template.js';
import { feed, Stream } from './test-helpers.js';

// settleNewRate -1: the Good–Turing early end never applies, so the time and record rules are tested alone
const small = { warmupRecords: 100, warmupMs: 1_000, warmupMaxRecords: 1_000, settleNewRate: -1 };

/** `n` records cycling through `templates` ids, one ms apart. */
function* traffic(stream: Stream, n: number, templates: string[], source = 'app') {
  for (let i = 0; i < n; i++) {
    stream.advance(1);
    yield stream.next({ templateId: templates[i % templates.length]!, source });
  }
}

describe('NewTemplateDetector', () => {
  it('fires on a template first seen after the warm-up, and not on templates of the warm-up', () => {
    const d = new NewTemplateDetector(small);
    const s = new Stream();
    const warm = feed(d, [s.next({ templateId: 'early' }), ...traffic(s, 1_500, ['a', 'b', 'c'])]);
    expect(warm).toEqual([]);
    const later = feed(d, [s.next({ templateId: 'early' }), s.next({ templateId: 'fresh' })]);
    expect(later.map((f) => f.detector)).toEqual(['new_template']);
    expect(later[0]!.evidence).toMatchObject({ templateId: 'fresh', recordsSeen: 1_502 });
    expect(later[0]!.reason).toContain('1,502 records');
    expect(later[0]!.tags).toContain('new');
  });

  it('waits for both the record count and the event time of the warm-up', () => {
    const d = new NewTemplateDetector(small);
    const s = new Stream();
    // 200 records (> 100) but only 200 ms (< 1,000 ms): still warming up
    feed(d, traffic(s, 200, ['a']));
    expect(feed(d, [s.next({ templateId: 'n1' })])).toEqual([]);
    s.advance(1_000);
    expect(feed(d, [s.next({ templateId: 'n2' })])).toHaveLength(1);
  });

  it('ends the warm-up after warmupMaxRecords when the clock never moves', () => {
    const d = new NewTemplateDetector(small);
    const s = new Stream();
    const frozen = Array.from({ length: 999 }, () => s.next({ templateId: 'a' }));
    feed(d, frozen);
    expect(feed(d, [s.next({ templateId: 'n1' })])).toEqual([]);
    feed(d, [s.next({ templateId: 'a' })]);
    expect(feed(d, [s.next({ templateId: 'n2' })])).toHaveLength(1);
  });

  it('keeps templates per source: a template known in one source is new in another', () => {
    const d = new NewTemplateDetector(small);
    const s = new Stream();
    feed(d, traffic(s, 1_500, ['a', 'shared'], 'one'));
    feed(d, traffic(s, 1_500, ['b'], 'two'));
    const f = feed(d, [s.next({ templateId: 'shared', source: 'two' }), s.next({ templateId: 'shared', source: 'one' })]);
    expect(f).toHaveLength(1);
    expect(f[0]!.reason).toContain('"two"');
  });

  it('scores a new template higher in a stream that rarely shows new ones than in one that keeps inventing them', () => {
    const stable = new NewTemplateDetector(small);
    const s1 = new Stream();
    feed(stable, traffic(s1, 5_000, ['a', 'b', 'c']));
    const [calm] = feed(stable, [s1.next({ templateId: 'x' })]);

    const churning = new NewTemplateDetector(small);
    const s2 = new Stream();
    // every 8th record brings a template never seen again
    for (let i = 0; i < 5_000; i++) feed(churning, [s2.advance(1).next({ templateId: i % 8 === 0 ? `once${i}` : 'a' })]);
    const [busy] = feed(churning, [s2.next({ templateId: 'x' })]);
    expect(calm!.score).toBeGreaterThan(0.9);
    expect(busy!.score).toBeLessThan(0.7);
    expect(busy!.score).toBeGreaterThanOrEqual(0.5);
  });

  it('calls a template rare on its 2nd and 3rd sightings when below 1 in 10,000, and not on its 4th', () => {
    const d = new NewTemplateDetector({ ...small, youngCount: 1 });
    const s = new Stream();
    feed(d, traffic(s, 30_000, ['a', 'b']));
    const first = feed(d, [s.next({ templateId: 'r' })]);
    expect(first.map((f) => f.detector)).toEqual(['new_template']);
    const next = feed(d, [s.next({ templateId: 'r' }), s.next({ templateId: 'r' }), s.next({ templateId: 'r' })]);
    expect(next.map((f) => f.detector)).toEqual(['rare_template', 'rare_template']);
    expect(next[0]!.evidence).toMatchObject({ count: 2, recordsSeen: 30_002 });
    expect(next[0]!.reason).toContain('seen 2 times in 30,002 records');
  });

  it('does not call a template rare while it is 1 in 10,000 or more frequent', () => {
    const d = new NewTemplateDetector(small);
    const s = new Stream();
    // "r" first seen in the warm-up; at 15,000 records its 2nd sighting is 1 in 7,500
    feed(d, [s.next({ templateId: 'r' }), ...traffic(s, 15_000, ['a'])]);
    expect(feed(d, [s.next({ templateId: 'r' })])).toEqual([]);
  });

  it('ends the warm-up early once template discovery has settled (Good–Turing)', () => {
    const d = new NewTemplateDetector({ warmupRecords: 100, warmupMs: 3_600_000, warmupMaxRecords: 100_000, settleNewRate: 5e-4 });
    const s = new Stream();
    // 3 templates, each seen many times: no singletons, so the next new template is news at once
    feed(d, traffic(s, 300, ['a', 'b', 'c']));
    expect(feed(d, [s.next({ templateId: 'n' })])).toHaveLength(1);
    // a stream still meeting one-off templates stays in warm-up
    const e = new NewTemplateDetector({ warmupRecords: 100, warmupMs: 3_600_000, warmupMaxRecords: 100_000, settleNewRate: 5e-4 });
    const s2 = new Stream();
    feed(e, Array.from({ length: 300 }, (_, i) => s2.next({ templateId: i % 10 === 0 ? `once${i}` : 'a' })));
    expect(feed(e, [s2.next({ templateId: 'n' })])).toEqual([]);
  });

  it('reports every occurrence of a template born after the warm-up while it is young, fading', () => {
    const d = new NewTemplateDetector({ ...small, youngCount: 5 });
    const s = new Stream();
    feed(d, traffic(s, 2_000, ['a']));
    const burst = feed(d, Array.from({ length: 7 }, () => s.next({ templateId: 'boom' })));
    expect(burst.map((f) => f.detector)).toEqual(['new_template', 'new_template', 'new_template', 'new_template', 'new_template']);
    expect(burst[4]!.score).toBeLessThan(burst[0]!.score);
    expect(burst[4]!.score).toBeCloseTo(burst[0]!.score * 0.6, 5);
  });

  it('scores rarer templates higher', () => {
    const score = (records: number): number => {
      const d = new NewTemplateDetector(small);
      const s = new Stream();
      feed(d, [s.next({ templateId: 'r' }), ...traffic(s, records, ['a'])]);
      return feed(d, [s.next({ templateId: 'r' })])[0]!.score;
    };
    expect(score(100_000)).toBeGreaterThan(score(25_000));
  });

  it('holds at most maxTemplatesPerSource templates and maxSources sources', () => {
    const d = new NewTemplateDetector({ ...small, maxTemplatesPerSource: 100, maxSources: 3 });
    const s = new Stream();
    feed(d, traffic(s, 10_000, Array.from({ length: 5_000 }, (_, i) => `t${i}`)));
    expect(d.statsOf('app')!.templates).toBeLessThanOrEqual(100);
    expect(d.statsOf('app')!.evictedTemplates).toBeGreaterThan(0);
    for (const src of ['b', 'c', 'd', 'e']) feed(d, [s.next({ source: src })]);
    expect(['app', 'b', 'c', 'd', 'e'].filter((x) => d.statsOf(x) !== undefined)).toEqual(['c', 'd', 'e']);
  });
});
