import { describe, expect, it } from 'vitest';
import { ErrorRateDetector } from './error-rate.js';
import { FrequencyDetector, kthLargest } from './frequency.js';
import { feed, Stream } from './test-helpers.js';
import type { DetectInput } from './detector.js';

const MIN = 60_000;

/** One window of traffic: `counts` lines per template, spread over the window of index `w`. */
function windowOf(s: Stream, w: number, counts: Record<string, number>, extra: Partial<Parameters<Stream['next']>[0]> = {}): DetectInput[] {
  const lines: [string, number][] = Object.entries(counts);
  const total = lines.reduce((a, [, n]) => a + n, 0);
  const out: DetectInput[] = [];
  let i = 0;
  for (const [templateId, n] of lines) {
    for (let k = 0; k < n; k++) out.push(s.next({ ...extra, templateId, timeMs: w * MIN + Math.floor((i++ * MIN) / (total + 1)) }));
  }
  return out;
}

/** Windows 0..n-1 of steady traffic. */
function steady(d: FrequencyDetector | ErrorRateDetector, s: Stream, n: number, counts: Record<string, number>): void {
  for (let w = 0; w < n; w++) feed(d, windowOf(s, w, counts));
}

describe('FrequencyDetector spikes', () => {
  it('fires at 6× the baseline and not at 3×', () => {
    const run = (count: number) => {
      const d = new FrequencyDetector();
      const s = new Stream();
      steady(d, s, 10, { a: 10, bg: 30 });
      return feed(d, windowOf(s, 10, { a: count, bg: 30 }));
    };
    expect(run(30)).toEqual([]);
    const f = run(60);
    expect(f.length).toBeGreaterThan(0);
    expect(f.every((x) => x.detector === 'frequency_spike' && x.evidence!.templateId === 'a')).toBe(true);
  });

  it('fires on the line that crosses the threshold and on every later line of that template in the window', () => {
    // the short-term rate off, to see the window count alone
    const d = new FrequencyDetector({ burstMinCount: Number.MAX_SAFE_INTEGER });
    const s = new Stream();
    steady(d, s, 10, { a: 10 });
    const lines = windowOf(s, 10, { a: 70 });
    const f = feed(d, lines);
    // baseline 10 → threshold 50: lines 51..70 of the window
    expect(f).toHaveLength(20);
    expect(f[0]!.seq).toBe(lines[50]!.seq);
    expect(f[0]!.evidence).toMatchObject({ count: 51, threshold: 50 });
    expect(f[19]!.score).toBeGreaterThan(f[0]!.score);
    expect(f[0]!.reason).toMatch(/logged 51 times in the current 60 s window, 5\.1× its baseline of 10\.0/);
    expect(f[0]!.tags).toEqual(['spike']);
  });

  it('needs minVolume lines even when the baseline is tiny', () => {
    const run = (count: number) => {
      // window counts alone (windowOf packs a template's lines together, which the short-term rate would call a burst)
      const d = new FrequencyDetector({ burstMinCount: Number.MAX_SAFE_INTEGER });
      const s = new Stream();
      steady(d, s, 10, { a: 1, bg: 50 });
      return feed(d, windowOf(s, 10, { a: count, bg: 50 }));
    };
    expect(run(20)).toEqual([]);
    expect(run(21)).toHaveLength(1);
  });

  it('sees a burst within seconds from the short-term rate, whatever window boundary it straddles', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    steady(d, s, 10, { a: 10, bg: 30 });
    // 40 lines of "a" in 8 s, straddling the boundary of windows 9 and 10
    const start = 10 * MIN - 4_000;
    const burst = Array.from({ length: 40 }, (_, i) => s.next({ templateId: 'a', timeMs: start + i * 200 }));
    const f = feed(d, burst);
    // 40 lines at 300 a minute against a baseline of 10: all but the first dozen are flagged
    expect(f.length).toBeGreaterThanOrEqual(25);
    expect(f[0]!.reason).toMatch(/over the last 10 s/);
    // the same 40 lines spread over two minutes are no spike
    const d2 = new FrequencyDetector();
    const s2 = new Stream();
    steady(d2, s2, 10, { a: 10, bg: 30 });
    expect(feed(d2, Array.from({ length: 40 }, (_, i) => s2.next({ templateId: 'a', timeMs: 10 * MIN + i * 3_000 })))).toEqual([]);
  });

  it('calls a burst that recurs at a regular interval a habit once the interval has repeated', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    steady(d, s, 10, { a: 10, bg: 30 });
    for (const beat of [10, 25, 40]) {
      expect(feed(d, windowOf(s, beat, { a: 150, bg: 30 })).length, `beat at ${beat}`).toBeGreaterThan(0);
      for (let w = beat + 1; w < beat + 15; w++) feed(d, windowOf(s, w, { a: 10, bg: 30 }));
    }
    expect(feed(d, windowOf(s, 55, { a: 150, bg: 30 }))).toEqual([]);
    // …but a burst well above the habit's size is still a spike
    for (let w = 56; w < 70; w++) feed(d, windowOf(s, w, { a: 10, bg: 30 }));
    expect(feed(d, windowOf(s, 70, { a: 400, bg: 30 })).length).toBeGreaterThan(0);
  });

  it('keeps calling bursts that recur at irregular times spikes: a storm does not hide the next', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    const spikes = new Set([10, 13, 24, 29, 41, 43]);
    let fired = 0;
    for (let w = 0; w < 50; w++) {
      const found = feed(d, windowOf(s, w, { a: spikes.has(w) ? 150 : 10, bg: 30 }));
      if (spikes.has(w)) {
        expect(found.length, `window ${w}`).toBeGreaterThan(0);
        fired++;
      } else if (!spikes.has(w - 1)) expect(found, `window ${w}`).toEqual([]);
    }
    expect(fired).toBe(spikes.size);
    // the storms did not teach the baseline that 150 is normal
    expect(d.baselineOf('app', 'a')).toBeLessThan(20);
  });

  it('excuses a template that bursts in a large share of its windows: bursty by nature', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    // a burst in roughly every third minute, at irregular times
    const burst = (w: number) => (w * 7919) % 3 === 0 && w % 4 !== 1;
    const late: number[] = [];
    for (let w = 0; w < 90; w++) {
      const found = feed(d, windowOf(s, w, { a: burst(w) ? 150 : 10, bg: 30 }));
      if (w >= 60 && found.length > 0) late.push(w);
    }
    expect(late).toEqual([]);
  });

  it('says nothing during the warm-up windows', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    steady(d, s, 3, { a: 10 });
    expect(feed(d, windowOf(s, 3, { a: 500 }))).toEqual([]);
  });

  it('does not call a periodic burst a spike once it has been seen, but does call a bigger one', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    // a job writes 100 lines every 10 minutes
    for (let w = 0; w < 40; w++) feed(d, windowOf(s, w, w % 10 === 0 ? { job: 100, bg: 50 } : { bg: 50 }));
    expect(feed(d, windowOf(s, 40, { job: 100, bg: 50 }))).toEqual([]);
    for (let w = 41; w < 50; w++) feed(d, windowOf(s, w, { bg: 50 }));
    expect(feed(d, windowOf(s, 50, { job: 400, bg: 50 })).length).toBeGreaterThan(0);
  });

  it('treats a jump back in time as a clock reset, not as more lines in the open window', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    steady(d, s, 10, { a: 30, bg: 30 });
    // the same ten minutes again (a second file, a replay): without the reset, window 9 would hold them all
    let f = 0;
    for (let w = 0; w < 10; w++) f += feed(d, windowOf(s, w, { a: 30, bg: 30 })).length;
    expect(f).toBe(0);
  });

  it('keeps baselines per source', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    for (let w = 0; w < 10; w++) {
      feed(d, windowOf(s, w, { a: 100 }, { source: 'busy' }));
      feed(d, windowOf(s, w, { a: 5, bg: 20 }, { source: 'quiet' }));
    }
    expect(feed(d, windowOf(s, 10, { a: 100 }, { source: 'busy' }))).toEqual([]);
    expect(feed(d, windowOf(s, 10, { a: 100, bg: 20 }, { source: 'quiet' })).length).toBeGreaterThan(0);
  });
});

describe('FrequencyDetector drops', () => {
  it('emits a window finding when a window closes below 0.2× the baseline', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    steady(d, s, 10, { a: 50, bg: 30 });
    feed(d, windowOf(s, 10, { a: 5, bg: 30 }));
    expect(d.drainWindowFindings()).toEqual([]);
    feed(d, windowOf(s, 11, { a: 50, bg: 30 }).slice(0, 1)); // the next window opens: window 10 closes
    const drops = d.drainWindowFindings();
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ detector: 'frequency_drop', source: 'app', templateId: 'a', startMs: 10 * MIN, endMs: 11 * MIN });
    expect(drops[0]!.evidence).toMatchObject({ count: 5 });
    expect(drops[0]!.reason).toMatch(/fell to 5 lines in the 60 s window \(baseline 50\.0 per window, −90%/);
    expect(d.drainWindowFindings()).toEqual([]);
  });

  it('does not call a dip to 0.3× a drop', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    steady(d, s, 10, { a: 50, bg: 30 });
    feed(d, windowOf(s, 10, { a: 15, bg: 30 }));
    feed(d, windowOf(s, 11, { a: 50, bg: 30 }));
    expect(d.drainWindowFindings()).toEqual([]);
  });

  it('notices a template that went silent while the rest of the source kept logging, once', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    steady(d, s, 10, { a: 50, bg: 30 });
    for (let w = 10; w < 15; w++) feed(d, windowOf(s, w, { bg: 30 }));
    const drops = d.drainWindowFindings();
    expect(drops).toHaveLength(1);
    expect(drops[0]!.score).toBe(1);
    // it re-arms when the template comes back
    for (let w = 15; w < 40; w++) feed(d, windowOf(s, w, { a: 50, bg: 30 }));
    feed(d, windowOf(s, 40, { bg: 30 }));
    feed(d, windowOf(s, 41, { a: 50, bg: 30 }));
    expect(d.drainWindowFindings()).toHaveLength(1);
  });

  it('ignores templates whose baseline is below minVolume', () => {
    const d = new FrequencyDetector();
    const s = new Stream();
    steady(d, s, 10, { a: 10, bg: 30 });
    for (let w = 10; w < 13; w++) feed(d, windowOf(s, w, { bg: 30 }));
    expect(d.drainWindowFindings()).toEqual([]);
  });

  it('judges the last window at finish against the part of it the stream covered', () => {
    const full = new FrequencyDetector();
    const s1 = new Stream();
    steady(full, s1, 10, { a: 50, bg: 30 });
    feed(full, windowOf(s1, 10, { bg: 30 }));
    full.finish();
    expect(full.drainWindowFindings()).toHaveLength(1);

    const partial = new FrequencyDetector();
    const s2 = new Stream();
    steady(partial, s2, 10, { a: 50, bg: 30 });
    feed(partial, [s2.next({ templateId: 'bg', timeMs: 10 * MIN + 1_000 })]); // 2 s of the last window
    partial.finish();
    expect(partial.drainWindowFindings()).toEqual([]);
  });

  it('follows at most maxTemplatesPerSource templates', () => {
    const d = new FrequencyDetector({ maxTemplatesPerSource: 50 });
    const s = new Stream();
    for (let i = 0; i < 5_000; i++) feed(d, [s.next({ templateId: `t${i}`, timeMs: i * 100 })]);
    let known = 0;
    for (let i = 0; i < 5_000; i++) if (d.baselineOf('app', `t${i}`) !== undefined) known++;
    expect(known).toBeLessThanOrEqual(50);
    expect(d.baselineOf('app', 't4999')).toBeDefined();
  });
});

describe('ErrorRateDetector', () => {
  const errs = (s: Stream, w: number, lines: number, errors: number, extra: Parameters<Stream['next']>[0] = {}): DetectInput[] =>
    Array.from({ length: lines }, (_, i) =>
      s.next({ ...extra, templateId: i < errors ? 'boom' : 'ok', template: i < errors ? 'request failed' : 'request ok', record: { ...extra.record, level: i < errors ? 'error' : 'info', message: '' }, timeMs: w * MIN + i * 100 }));

  it('fires on error lines when the share of errors triples past 5% with at least 10 errors, and reports the window', () => {
    const d = new ErrorRateDetector();
    const s = new Stream();
    for (let w = 0; w < 6; w++) feed(d, errs(s, w, 200, 2)); // 1%
    const lines = errs(s, 6, 200, 0).concat(errs(s, 6, 40, 40)); // 40 errors in 240 lines: 16.7%
    const f = feed(d, lines);
    expect(f.length).toBeGreaterThan(0);
    expect(f[0]!.detector).toBe('error_rate');
    expect(f[0]!.evidence).toMatchObject({ service: 'app', errors: 11, lines: 211 });
    expect(f[0]!.tags).toEqual(['error', 'error_rate']);
    feed(d, errs(s, 7, 1, 0));
    const w = d.drainWindowFindings();
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ detector: 'error_rate', service: 'app', startMs: 6 * MIN, endMs: 7 * MIN });
    expect(w[0]!.evidence).toMatchObject({ errors: 40, lines: 240, phase: 'rise' });
    expect(w[0]!.reason).toMatch(/rose at 17% \(40 of 240 lines\)/);
  });

  it('does not fire below 3× the baseline, below 10 errors or below 5%', () => {
    const run = (errors: number, lines: number): number => {
      const d = new ErrorRateDetector();
      const s = new Stream();
      for (let w = 0; w < 6; w++) feed(d, errs(s, w, 200, 6)); // 3%
      return feed(d, errs(s, 6, lines, errors)).length;
    };
    expect(run(16, 200)).toBe(0); // 8% < 3 × 3%
    expect(run(9, 50)).toBe(0); // 18% but 9 errors
    expect(run(20, 200)).toBeGreaterThan(0); // 10%
  });

  it('counts lines that read as errors even at INFO', () => {
    const d = new ErrorRateDetector();
    const s = new Stream();
    for (let w = 0; w < 6; w++) feed(d, errs(s, w, 100, 0));
    const refused = Array.from({ length: 20 }, (_, i) => s.next({ templateId: 'conn', template: 'connect to <*> failed: Connection refused', record: { level: 'info' }, timeMs: 6 * MIN + i }));
    expect(feed(d, refused).length).toBeGreaterThan(0);
  });

  it('keeps services apart: errors of one component do not raise another', () => {
    const d = new ErrorRateDetector();
    const s = new Stream();
    for (let w = 0; w < 6; w++) {
      feed(d, errs(s, w, 100, 1, { record: { component: 'db', message: '' } }));
      feed(d, errs(s, w, 100, 1, { record: { component: 'web', message: '' } }));
    }
    const f = feed(d, [...errs(s, 6, 100, 40, { record: { component: 'db', message: '' } }), ...errs(s, 6, 100, 1, { record: { component: 'web', message: '' } })]);
    expect(new Set(f.map((x) => x.evidence!.service))).toEqual(new Set(['db']));
  });

  it('treats a service that first appears after the warm-up as having had no errors', () => {
    const d = new ErrorRateDetector();
    const s = new Stream();
    for (let w = 0; w < 6; w++) feed(d, errs(s, w, 100, 0));
    const f = feed(d, errs(s, 6, 20, 20, { record: { component: 'newcomer', message: '' } }));
    expect(f.length).toBeGreaterThan(0);
    expect(f[0]!.reason).toContain('service "newcomer"');
  });
});

describe('kthLargest', () => {
  it('agrees with sorting for every k, duplicates and short lists included', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 200; trial++) {
      const values = Array.from({ length: Math.floor(rnd() * 70) }, () => Math.floor(rnd() * 20));
      for (const k of [1, 2, 5, 8, 9]) {
        const sorted = [...values].sort((a, b) => b - a);
        expect(kthLargest(values, k)).toBe(values.length < k ? 0 : sorted[k - 1]);
      }
    }
  });
});
