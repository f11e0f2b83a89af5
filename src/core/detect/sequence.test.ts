import { describe, expect, it } from 'vitest';
import { SequenceDetector } from './sequence.js';
import { feed, Stream } from './test-helpers.js';
import type { DetectInput, Detector } from './detector.js';
import { DETECTOR_STATE } from '../analyze/detector-state.js';
import { decodeState, encodeState } from '../analyze/state-codec.js';

const small = { warmupRecords: 300, warmupMs: 0, warmupMaxRecords: 3_000 };

/** One session's records, in order. */
const session = (s: Stream, key: string, templates: string[]): DetectInput[] =>
  templates.map((t) => s.advance(1).next({ templateId: t, template: `step ${t} of <*>`, sessionKey: key }));

/** Sessions interleaved two at a time, so sessions really are told apart by key. */
function sessions(s: Stream, n: number, shape: (i: number) => string[], prefix = 'blk_'): DetectInput[] {
  const out: DetectInput[] = [];
  for (let i = 0; i < n; i += 2) {
    const a = session(s, `${prefix}${i}`, shape(i));
    const b = session(s, `${prefix}${i + 1}`, shape(i + 1));
    for (let k = 0; k < Math.max(a.length, b.length); k++) {
      if (a[k]) out.push(a[k]!);
      if (b[k]) out.push(b[k]!);
    }
  }
  return out;
}

describe('SequenceDetector', () => {
  it('flags a step never seen in normal sessions, with the session key, the previous template and the count', () => {
    const d = new SequenceDetector(small);
    const s = new Stream();
    expect(feed(d, sessions(s, 200, () => ['open', 'write', 'close']))).toEqual([]);
    expect(feed(d, session(s, 'blk_ok', ['open', 'write', 'close']))).toEqual([]);
    const f = feed(d, session(s, 'blk_bad', ['open', 'close']));
    expect(f).toHaveLength(1);
    expect(f[0]!.detector).toBe('sequence');
    expect(f[0]!.tags).toEqual(['sequence']);
    expect(f[0]!.evidence).toMatchObject({ sessionKey: 'blk_bad', kind: 'bigram', templateId: 'close', previousTemplateIds: ['open'], transitionCount: 0, contextCount: 201 });
    expect(f[0]!.reason).toMatch(/in session blk_bad, "step close of <\*>" followed "step open of <\*>": a step never seen before/);
    expect(f[0]!.score).toBeGreaterThan(0.9);
  });

  it('scores two steps written in the other order than usual low: a concurrent write, not a broken flow', () => {
    const d = new SequenceDetector(small);
    const s = new Stream();
    feed(d, sessions(s, 200, () => ['recv', 'auth', 'profile', 'done']));
    const swapped = feed(d, session(s, 'blk_swap', ['recv', 'profile', 'auth', 'done']));
    const skipped = feed(d, session(s, 'blk_skip', ['recv', 'auth', 'done']));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.evidence).toMatchObject({ swapped: false });
    // recv → profile is new either way (a step looks skipped); profile → auth is auth → profile reversed
    const reversed = swapped.find((f) => f.evidence!.templateId === 'auth');
    expect(reversed?.evidence).toMatchObject({ swapped: true, previousTemplateIds: ['profile'] });
    expect(reversed!.score).toBeLessThanOrEqual(0.5);
    expect(reversed!.reason).toMatch(/the other order is common/);
    expect(skipped[0]!.score).toBeGreaterThan(0.8);
  });

  it('flags a session that starts with an unusual template', () => {
    const d = new SequenceDetector(small);
    const s = new Stream();
    feed(d, sessions(s, 200, () => ['open', 'write', 'close']));
    const f = feed(d, session(s, 'blk_x', ['write', 'close']));
    expect(f).toHaveLength(1);
    expect(f[0]!.evidence).toMatchObject({ previousTemplateIds: ['(session start)'] });
  });

  it('flags a known step in an unknown order (trigram), below an unseen pair of steps', () => {
    const d = new SequenceDetector(small);
    const s = new Stream();
    // a → m → b and c → m → d are normal; a → m → d is not, though m → d is
    feed(d, sessions(s, 400, (i) => (i % 2 === 0 ? ['a', 'm', 'b'] : ['c', 'm', 'd'])));
    const f = feed(d, session(s, 'blk_t', ['a', 'm', 'd']));
    expect(f).toHaveLength(1);
    expect(f[0]!.evidence).toMatchObject({ kind: 'trigram', previousTemplateIds: ['a', 'm'], transitionCount: 0 });
    // an unseen triple after a well-known pair: strong, but below an unseen pair (0.3 + 0.7 at best)
    expect(f[0]!.score).toBeLessThan(0.91);
    expect(f[0]!.score).toBeGreaterThan(0.6);
    const pair = feed(d, session(s, 'blk_u', ['a', 'x']));
    expect(pair[0]!.score).toBeGreaterThan(f[0]!.score);
  });

  it('uses bigrams only when n = 2', () => {
    const d = new SequenceDetector({ ...small, ngram: 2 });
    const s = new Stream();
    feed(d, sessions(s, 400, (i) => (i % 2 === 0 ? ['a', 'm', 'b'] : ['c', 'm', 'd'])));
    expect(feed(d, session(s, 'blk_t', ['a', 'm', 'd']))).toEqual([]);
  });

  it('scores an unseen step lower after a template that is followed by many different ones', () => {
    const d = new SequenceDetector(small);
    const s = new Stream();
    // "hub" is followed by 30 different templates; "pipe" always by "next"
    feed(d, sessions(s, 600, (i) => ['hub', `x${i % 30}`, 'pipe', 'next']));
    const [afterHub] = feed(d, session(s, 'k1', ['hub', 'novel1']));
    const [afterPipe] = feed(d, session(s, 'k2', ['hub', 'x1', 'pipe', 'novel2']));
    expect(afterHub!.score).toBeLessThan(afterPipe!.score);
  });

  it('says nothing during the warm-up', () => {
    const d = new SequenceDetector(small);
    const s = new Stream();
    expect(feed(d, [...sessions(s, 20, () => ['open', 'write', 'close']), ...session(s, 'blk_bad', ['close', 'open'])])).toEqual([]);
  });

  it('learns a recurring new step only slowly: about 20 flagged sightings before it is normal', () => {
    const d = new SequenceDetector(small);
    const s = new Stream();
    feed(d, sessions(s, 200, () => ['open', 'write', 'close']));
    let flagged = 0;
    for (let i = 0; i < 40; i++) flagged += feed(d, session(s, `r${i}`, ['open', 'retry'])).length;
    expect(flagged).toBe(20);
  });

  it('ignores records without a session key', () => {
    const d = new SequenceDetector(small);
    const s = new Stream();
    expect(feed(d, Array.from({ length: 1_000 }, (_, i) => s.next({ templateId: `t${i}` })))).toEqual([]);
    expect(d.statsOf('app')).toBeUndefined();
  });

  it('holds at most maxSessionsPerSource sessions after a million, and at most maxNgramsPerSource n-grams', () => {
    const d = new SequenceDetector({ ...small, maxSessionsPerSource: 1_000, maxNgramsPerSource: 500 });
    const rec = { message: '' };
    for (let i = 0; i < 1_000_000; i++) {
      d.observe({ seq: i, source: 'app', record: rec, templateId: `t${i % 997}`, template: 't', params: [], createdTemplate: false, timeMs: i, sessionKey: `s${i}` });
    }
    const st = d.statsOf('app')!;
    expect(st.sessions).toBeLessThanOrEqual(1_000);
    expect(st.bigrams).toBeLessThanOrEqual(500);
  });

  it('keeps pair contexts within the trigram cap, and starts over when the template cap fills', () => {
    const d = new SequenceDetector({ ...small, maxNgramsPerSource: 300, maxTemplatesPerSource: 2_000 });
    const rec = { message: '' };
    for (let i = 0; i < 200_000; i++) {
      d.observe({ seq: i, source: 'app', record: rec, templateId: `t${(i * 7919) % 1_500}`, template: 't', params: [], createdTemplate: false, timeMs: i, sessionKey: `s${i % 50}` });
    }
    const internals = (d as unknown as { sources: Map<string, { ctx2: Map<number, unknown> }> }).sources.get('app')!;
    expect(internals.ctx2.size).toBeLessThanOrEqual(300);
    expect(d.statsOf('app')!.resets).toBe(0);
    for (let i = 0; i < 600; i++) d.observe({ seq: i, source: 'app', record: rec, templateId: `new${i}`, template: 't', params: [], createdTemplate: false, timeMs: 0, sessionKey: 's' });
    expect(d.statsOf('app')!.resets).toBe(1);
    expect(d.statsOf('app')!.templates).toBeLessThanOrEqual(2_000);
  });

  it('keeps a session that is still active while older ones are evicted', () => {
    const d = new SequenceDetector({ ...small, maxSessionsPerSource: 100 });
    const s = new Stream();
    feed(d, sessions(s, 200, () => ['open', 'write', 'close']));
    feed(d, session(s, 'long', ['open']));
    for (let i = 0; i < 1_000; i++) {
      feed(d, session(s, `short${i}`, ['open']));
      if (i % 20 === 0) feed(d, session(s, 'long', ['write']));
    }
    // "close" never started a session: after "long" it is judged against its history, after an
    // evicted session it is a session start
    const kept = feed(d, session(s, 'long', ['close']));
    expect(kept.map((f) => f.evidence!.previousTemplateIds)).not.toContainEqual(['(session start)']);
    const evicted = feed(d, session(s, 'short0', ['close']));
    expect(evicted.map((f) => f.evidence!.previousTemplateIds)).toEqual([['(session start)']]);
  });

  it('evicts sessions in the same order after a snapshot and restore (session tables by slot, and their order)', () => {
    const opts = { ...small, maxSessionsPerSource: 40 };
    const shape = (i: number): string[] => (i % 7 === 0 ? ['open', 'close'] : ['open', 'write', 'close']);
    const inputs = (): DetectInput[] => {
      const st = new Stream();
      // sessions come back after others started (moved to the end) and many are evicted
      // then sessions carry on: blk_30 … blk_399, some still followed (a step after their last one),
      // most evicted (a step after the session's start): which ones depends on the eviction order
      return [...sessions(st, 400, shape), ...sessions(st, 100, () => ['write', 'close'], 'blk_3'), ...sessions(st, 200, shape, 'req-')];
    };
    const whole = new SequenceDetector(opts);
    const expected = inputs().map((i) => whole.observe(i));
    let cut: Detector = new SequenceDetector(opts);
    const got = inputs().map((input, n) => {
      if (n === 1_000) cut = (decodeState(JSON.parse(JSON.stringify(encodeState([cut], DETECTOR_STATE))), DETECTOR_STATE) as Detector[])[0]!;
      return cut.observe(input);
    });
    expect(got).toEqual(expected);
    expect(expected.flat().length).toBeGreaterThan(0);
  });
});
