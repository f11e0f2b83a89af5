import { describe, expect, it } from 'vitest';
import { FloodDetector } from './flood.js';
import { feed, Stream } from './test-helpers.js';

/** `n` records of varied traffic: 20 templates in turn, 10 ms apart, each with a distinct message. */
function* background(s: Stream, n: number) {
  for (let i = 0; i < n; i++) {
    s.advance(10);
    yield s.next({ templateId: `bg${i % 20}`, message: `bg ${i}` });
  }
}

/** Interleaves: every `every`-th record is template x, the rest background. */
function* mix(s: Stream, n: number, every: number, message?: (i: number) => string) {
  for (let i = 0; i < n; i++) {
    s.advance(10);
    if (i % every === 0) yield s.next({ templateId: 'x', template: 'disk <*> retry', message: message ? message(i) : `disk ${i} retry` });
    else yield s.next({ templateId: `bg${i % 20}`, message: `bg ${i}` });
  }
}

describe('FloodDetector', () => {
  it('fires when one template fills half of the last 1,000 records, and not at 40%', () => {
    const at = (share: number) => {
      const d = new FloodDetector({ repeatCount: 1e9 });
      const s = new Stream();
      feed(d, background(s, 3_000));
      let out = 0;
      for (let i = 0; i < 2_000; i++) {
        s.advance(10);
        const isX = Math.floor((i + 1) * share) > Math.floor(i * share); // `share` of the lines, evenly spread
        out += feed(d, [s.next(isX ? { templateId: 'x', message: `x ${i}` } : { templateId: `bg${i % 20}`, message: `bg ${i}` })]).length;
      }
      return out;
    };
    expect(at(0.4)).toBe(0);
    expect(at(0.6)).toBeGreaterThan(0);
  });

  it('explains the flood with the share, the count and the usual share', () => {
    const d = new FloodDetector({ repeatCount: 1e9 });
    const s = new Stream();
    feed(d, background(s, 3_000));
    const f = feed(d, mix(s, 2_000, 1));
    expect(f.length).toBeGreaterThan(0);
    const last = f[f.length - 1]!;
    expect(last.detector).toBe('flood');
    expect(last.tags).toEqual(['flood']);
    expect(last.evidence).toMatchObject({ templateId: 'x', countInWindow: 1_000, shareInWindow: 1, pastShare: expect.any(Number) });
    expect(last.reason).toMatch(/one template fills 100% of the last 1,000 records/);
    expect(last.score).toBe(1);
    // the first finding came as soon as x held 500 of the last 1,000
    expect(f[0]!.evidence).toMatchObject({ countInWindow: 500, shareInWindow: 0.5 });
  });

  it('does not call a template that always dominates the stream a flood', () => {
    const d = new FloodDetector({ repeatCount: 1e9 });
    const s = new Stream();
    // 90% "GET … 200", forever
    expect(feed(d, mix(s, 20_000, 1.1))).toEqual([]);
  });

  it('fires when the same message repeats 50 times within 10 s, not 49 times, not over 20 s', () => {
    const run = (times: number, gapMs: number) => {
      const d = new FloodDetector();
      const s = new Stream();
      feed(d, background(s, 3_000));
      const out = [];
      for (let i = 0; i < times; i++) {
        s.advance(gapMs);
        out.push(...feed(d, [s.next({ templateId: 'x', message: 'disk sda1 retry' })]));
        // other traffic in between keeps x far from dominating
        out.push(...feed(d, background(s, 5)));
      }
      return out;
    };
    expect(run(49, 100)).toEqual([]);
    expect(run(50, 400)).toEqual([]); // 49 gaps of ~450 ms: 22 s
    const f = run(50, 100);
    expect(f).toHaveLength(1);
    expect(f[0]!.tags).toEqual(['flood', 'repeat']);
    expect(f[0]!.evidence).toMatchObject({ identicalRun: 50 });
    expect(f[0]!.reason).toMatch(/the same message came 50 times in/);
  });

  it('does not count messages of one template with different values as repeats', () => {
    const d = new FloodDetector();
    const s = new Stream();
    feed(d, background(s, 3_000));
    expect(feed(d, mix(s, 600, 3, (i) => `disk ${i} retry`))).toEqual([]);
  });

  it('does not call a heartbeat that always repeats a flood', () => {
    const d = new FloodDetector();
    const s = new Stream();
    const out = [];
    for (let i = 0; i < 20_000; i++) {
      s.advance(20);
      out.push(...feed(d, [s.next(i % 4 === 0 ? { templateId: 'hb', message: 'heartbeat ok' } : { templateId: `bg${i % 20}`, message: `bg ${i}` })]));
    }
    expect(out).toEqual([]);
  });

  it('keeps windows per source', () => {
    const d = new FloodDetector({ repeatCount: 1e9 });
    const s = new Stream();
    feed(d, background(s, 3_000));
    for (let i = 0; i < 2_000; i++) feed(d, [s.advance(10).next({ source: 'other', templateId: 'x', message: `x ${i}` })]);
    expect(feed(d, background(s, 10))).toEqual([]);
  });

  it('follows at most maxTemplatesPerSource templates outside the window', () => {
    const d = new FloodDetector({ windowRecords: 10, maxTemplatesPerSource: 100 });
    const s = new Stream();
    for (let i = 0; i < 50_000; i++) feed(d, [s.advance(1).next({ templateId: `t${i}`, message: `m${i}` })]);
    // reach into the state only to count: the bound is the point of the test
    const state = (d as unknown as { sources: Map<string, { templates: Map<string, unknown> }> }).sources.get('app')!;
    expect(state.templates.size).toBeLessThanOrEqual(100);
  });
});
