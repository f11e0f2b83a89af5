import { describe, expect, it } from 'vitest';
import type { DetectInput, Finding, WindowFinding } from './detector.js';
import { describe as describeVector, describeKnown, postingsOf, TemplateOutlierDetector, WindowOutlierDetector } from './outlier.js';
import type { CompactVector } from './isolation-forest.js';
import { Random } from './random.js';

/** Numbered inputs of one or more sources; the template text doubles as its id. */
class Lines {
  private seq = 0;
  line(template: string, opts: { source?: string; timeMs?: number; id?: string } = {}): DetectInput {
    return {
      seq: ++this.seq,
      source: opts.source ?? 'hdfs',
      record: { message: template },
      templateId: opts.id ?? template,
      template,
      params: [],
      createdTemplate: false,
      timeMs: opts.timeMs ?? 0,
    };
  }
}

// Real HDFS templates: a source whose messages share words (block, received, namesystem …).
const HDFS = [
  'Received block <*> of size <*> from <*>',
  'Receiving block <*> src: <*> dest: <*>',
  'PacketResponder <*> for block <*> terminating',
  'BLOCK* NameSystem.addStoredBlock: blockMap updated: <*> is added to <*> size <*>',
  'BLOCK* NameSystem.allocateBlock: <*> <*>',
  'Deleting block <*> file <*>',
  'BLOCK* NameSystem.delete: <*> is added to invalidSet of <*>',
  'Verification succeeded for <*>',
  '<*> Served block <*> to <*>',
  '<*>:Got exception while serving <*> to <*>:',
  'Received block <*> src: <*> dest: <*> of size <*>',
  'writeBlock <*> received exception <*>',
  'PacketResponder <*> <*> Exception <*>',
  '<*>:Transmitted block <*> to <*>',
  '<*> Starting thread to transfer block <*> to <*>',
  'BLOCK* ask <*> to replicate <*> to datanode(s) <*>',
  'BLOCK* ask <*> to delete <*>',
  'BLOCK* Removing block <*> from neededReplications as it does not belong to any file.',
  'Unexpected error trying to delete block <*>. BlockInfo not found in volumeMap.',
  'PendingReplicationMonitor timed out block <*>',
];

/** n lines of HDFS traffic: a few templates make most of it, as in real logs. */
function hdfsTraffic(lines: Lines, n: number, seed = 1, source = 'hdfs'): DetectInput[] {
  const r = new Random(seed);
  const out: DetectInput[] = [];
  for (let i = 0; i < n; i++) {
    const u = r.next();
    const t = u < 0.6 ? HDFS[Math.floor(u * 10)]! : HDFS[r.int(HDFS.length)]!;
    out.push(lines.line(t, { source }));
  }
  return out;
}

const observeAll = (d: TemplateOutlierDetector, inputs: DetectInput[]): Finding[] => inputs.flatMap((i) => d.observe(i));

const ALIEN = 'cpu soft lockup detected on core <*> stuck <*>s kernel watchdog';

describe('TemplateOutlierDetector (outlier_message)', () => {
  it('says nothing during the warm-up, even about a message from another world', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 2000 });
    expect(observeAll(d, hdfsTraffic(lines, 500))).toEqual([]);
    expect(d.observe(lines.line(ALIEN))).toEqual([]);
    expect(d.modelInfo('hdfs')?.known).toBe(0);
  });

  it('flags a new message unlike the known templates, says why, and never flags the known ones', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 2000 });
    const normal = observeAll(d, hdfsTraffic(lines, 5000));
    expect(normal).toEqual([]);
    const found = d.observe(lines.line(ALIEN));
    expect(found).toHaveLength(1);
    const f = found[0]!;
    expect(f.detector).toBe('outlier_message');
    expect(f.reason).toMatch(/^message unlike the 20 known templates \(isolation score 0\.\d\d, no word in common with any\)$/);
    expect(f.score).toBeGreaterThanOrEqual(d.modelInfo('hdfs')!.threshold - 1e-3);
    expect(f.score).toBeLessThanOrEqual(1);
    expect(f.tags).toEqual(['outlier']);
    expect(f.evidence).toMatchObject({ knownTemplates: 20, similarity: 0, unknownWordShare: 1, unknownWords: ['cpu', 'soft', 'lockup', 'detected', 'on'] });
  });

  it('judges a close variant of a known template as normal, whatever its isolation score', () => {
    const lines = new Lines();
    const strict = new TemplateOutlierDetector({ warmupRecords: 2000 });
    const lenient = new TemplateOutlierDetector({ warmupRecords: 2000, minThreshold: 0, thresholdQuantile: 0 });
    for (const i of hdfsTraffic(lines, 3000)) {
      strict.observe(i);
      lenient.observe(i);
    }
    // more similar to "Received block … from <*>" than known templates usually are to each other
    const variant = lines.line('Received block <*> of size <*> from <*> after retry');
    expect(strict.observe(variant)).toEqual([]);
    expect(lenient.observe(variant)).toEqual([]);
  });

  it('names the closest known template and the words no known template uses', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 2000, minThreshold: 0, thresholdQuantile: 0 });
    observeAll(d, hdfsTraffic(lines, 3000));
    const f = d.observe(lines.line('checksum mismatch on block <*> during scrub'))[0]!;
    expect(f.evidence?.nearestTemplate).toContain('block');
    expect(f.evidence?.unknownWords).toEqual(['checksum', 'mismatch', 'on', 'during', 'scrub']);
    expect(f.reason).toMatch(/^message unlike the 20 known templates \(isolation score 0\.\d\d, closest ".*block.*" at similarity 0\.\d\d\)$/);
  });

  it('does not judge a template without words', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 2000, minThreshold: 0, thresholdQuantile: 0 });
    observeAll(d, hdfsTraffic(lines, 3000));
    expect(d.observe(lines.line('<*>|<*>|<*>'))).toEqual([]);
  });

  it('scores each template once per model and refits after 50 new templates', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 1000, refitEvery: 50, refitGrowth: 0.1 });
    observeAll(d, hdfsTraffic(lines, 1000));
    expect(d.modelInfo('hdfs')).toMatchObject({ known: 20, fits: 1 });
    for (let i = 0; i < 49; i++) d.observe(lines.line(`worker task ${i} finished stage`, { id: `w${i}` }));
    expect(d.modelInfo('hdfs')!.fits).toBe(1);
    d.observe(lines.line('worker task 49 finished stage', { id: 'w49' }));
    expect(d.modelInfo('hdfs')).toMatchObject({ known: 70, fits: 2 });
  });

  it('refits less often as the known set grows (every 10% of it), so refits stay amortised', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 10, maxTemplates: 10_000, refitEvery: 50, refitGrowth: 0.1 });
    for (let i = 0; i < 2000; i++) d.observe(lines.line(`job stage ${i % 7} event${i} done`, { id: `t${i}` }));
    // fits at 10, 60, 110 … 510 known templates (11), then each after 10% more: 561, 618 … 1946 (14);
    // every 50 would have been 40 fits, and grows linearly with the templates
    expect(d.modelInfo('hdfs')).toMatchObject({ fits: 25, known: 1946 });
  });

  it('by default refits only after the known set grows by half, so fits stay few', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 10, maxTemplates: 10_000 });
    for (let i = 0; i < 2000; i++) d.observe(lines.line(`job stage ${i % 7} event${i} done`, { id: `t${i}` }));
    expect(d.modelInfo('hdfs')!.fits).toBeLessThanOrEqual(12);
  });

  it('remembers at most maxTemplates templates per source', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 100, maxTemplates: 100 });
    for (let i = 0; i < 1000; i++) d.observe(lines.line(`event ${i} kind${i % 13}`, { id: `t${i}` }));
    expect(d.modelInfo('hdfs')!.templates).toBeLessThanOrEqual(100);
  });

  it('keeps sources apart: another source\'s lines count toward neither its warm-up nor its model', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 2000 });
    observeAll(d, hdfsTraffic(lines, 3000, 1, 'a'));
    observeAll(d, hdfsTraffic(lines, 1000, 2, 'b'));
    expect(d.modelInfo('a')!.known).toBe(20);
    expect(d.modelInfo('b')!.known).toBe(0);
    expect(d.observe(lines.line(ALIEN, { source: 'b' }))).toEqual([]);
    expect(d.observe(lines.line(ALIEN, { source: 'a' }))).toHaveLength(1);
  });

  it('is deterministic: the same lines give the same findings', () => {
    const run = (): Finding[] => {
      const lines = new Lines();
      const d = new TemplateOutlierDetector({ warmupRecords: 1000, minThreshold: 0.5, thresholdQuantile: 0.5 });
      return observeAll(d, [...hdfsTraffic(lines, 2000), lines.line(ALIEN), ...hdfsTraffic(lines, 500, 3)]);
    };
    const a = run();
    expect(a.length).toBeGreaterThan(0);
    expect(run()).toEqual(a);
  });

  it('follows a template whose text the miner generalised under the same id', () => {
    const lines = new Lines();
    const d = new TemplateOutlierDetector({ warmupRecords: 1000, minThreshold: 0, thresholdQuantile: 0 });
    observeAll(d, hdfsTraffic(lines, 1000));
    d.observe(lines.line('kernel watchdog fired on core one', { id: 'k' }));
    const after = d.observe(lines.line('kernel watchdog fired on core <*>', { id: 'k' }))[0]!;
    expect(after.evidence?.unknownWords).toEqual(['kernel', 'watchdog', 'fired', 'on', 'core']);
  });
});

// ---------------------------------------------------------------------------------------------

const MINUTE = 60_000;

/** A source with Poisson traffic per template, one window at a time. */
class WindowTraffic {
  private readonly r: Random;
  private readonly lines = new Lines();
  rates: Record<string, number> = { a: 100, b: 40, c: 20, d: 5, e: 1, f: 0.3 };
  constructor(
    readonly detector: WindowOutlierDetector,
    seed = 7,
  ) {
    this.r = new Random(seed);
  }

  private poisson(lambda: number): number {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.r.next();
    } while (p > limit);
    return k - 1;
  }

  /** Sends window w: Poisson counts (rates × scale) plus `extra` lines, spread over `spanMs`. */
  window(w: number, opts: { scale?: number; extra?: Record<string, number>; spanMs?: number } = {}): void {
    const names: string[] = [];
    for (const [t, rate] of Object.entries(this.rates)) for (let i = this.poisson(rate * (opts.scale ?? 1)); i > 0; i--) names.push(t);
    for (const [t, n] of Object.entries(opts.extra ?? {})) for (let i = 0; i < n; i++) names.push(t);
    const span = opts.spanMs ?? MINUTE;
    names.forEach((t, i) => {
      const found = this.detector.observe(this.lines.line(`template ${t} <*>`, { source: 'api', id: t, timeMs: w * MINUTE + Math.floor((i * span) / names.length) }));
      expect(found).toHaveLength(0);
    });
  }
}

describe('WindowOutlierDetector (outlier_window)', () => {
  // these windows hold tens of lines: refits are timed by windows alone (refitLines 0)
  it('returns nothing per line, and stays quiet on ordinary windows', () => {
    const d = new WindowOutlierDetector({ refitLines: 0 });
    const traffic = new WindowTraffic(d);
    for (let w = 0; w < 200; w++) traffic.window(w);
    const found = d.drainWindowFindings();
    expect(found.length).toBeLessThanOrEqual(2);
    expect(d.modelInfo('api')).toMatchObject({ windows: 180, features: 9, history: 199 });
  });

  it('reports a burst of a new error template in the window it closes, with the template as evidence', () => {
    const d = new WindowOutlierDetector({ refitLines: 0 });
    const traffic = new WindowTraffic(d);
    for (let w = 0; w < 100; w++) traffic.window(w);
    d.drainWindowFindings();
    traffic.window(100, { extra: { err: 10 } });
    traffic.window(101);
    const found = d.drainWindowFindings();
    expect(found).toHaveLength(1);
    const f: WindowFinding = found[0]!;
    expect(f).toMatchObject({ detector: 'outlier_window', source: 'api', startMs: 100 * MINUTE, endMs: 101 * MINUTE, templateId: 'err', tags: ['outlier', 'window'] });
    expect(f.reason).toMatch(/^window 1970-01-01 01:40–01:41 UTC unlike the previous 100 windows \(LOF \d+\.\d, isolation 0\.\d\d\); most changed: "template err <\*>" 10× \(usually 0\.0\)$/);
    const ev = f.evidence as { firedBy: string[]; lof: number; deviations: { templateId: string; count: number; z: number }[] };
    expect(ev.firedBy).toContain('lof');
    expect(ev.lof).toBeGreaterThan(3);
    expect(ev.deviations[0]).toMatchObject({ templateId: 'err', count: 10, z: 10 });
    expect(f.score).toBeGreaterThan(0.5);
    expect(f.score).toBeLessThanOrEqual(1);
  });

  it('reports a window whose whole volume tripled or fell to a third, seen by both models', () => {
    for (const scale of [3, 0.3]) {
      const d = new WindowOutlierDetector();
      const traffic = new WindowTraffic(d);
      for (let w = 0; w < 100; w++) traffic.window(w);
      d.drainWindowFindings();
      traffic.window(100, { scale });
      traffic.window(101);
      const found = d.drainWindowFindings();
      expect(found).toHaveLength(1);
      expect((found[0]!.evidence as { firedBy: string[] }).firedBy).toEqual(['isolation_forest', 'lof']);
      expect(found[0]!.templateId).toBe('a');
    }
  });

  it('reports a regular template that went missing from a window', () => {
    const d = new WindowOutlierDetector();
    const traffic = new WindowTraffic(d);
    for (let w = 0; w < 100; w++) traffic.window(w);
    d.drainWindowFindings();
    traffic.rates.c = 0;
    traffic.window(100);
    traffic.rates.c = 20;
    traffic.window(101);
    const found = d.drainWindowFindings();
    expect(found).toHaveLength(1);
    expect((found[0]!.evidence as { deviations: { templateId: string; count: number }[] }).deviations[0]).toMatchObject({ templateId: 'c', count: 0 });
  });

  it('says nothing before minWindows windows have closed', () => {
    const d = new WindowOutlierDetector({ minWindows: 30 });
    const traffic = new WindowTraffic(d);
    for (let w = 0; w < 20; w++) traffic.window(w);
    traffic.window(20, { extra: { err: 200 } });
    traffic.window(21);
    expect(d.drainWindowFindings()).toEqual([]);
    expect(d.modelInfo('api')!.windows).toBe(0);
  });

  it('scores the last window at finish() only when its lines span most of a window', () => {
    const run = (spanMs: number): WindowFinding[] => {
      const d = new WindowOutlierDetector();
      const traffic = new WindowTraffic(d);
      for (let w = 0; w < 60; w++) traffic.window(w);
      d.drainWindowFindings();
      traffic.window(60, { extra: { err: 30 }, spanMs });
      d.finish();
      return d.drainWindowFindings();
    };
    expect(run(MINUTE)).toHaveLength(1);
    expect(run(20_000)).toEqual([]);
  });

  it('starts over when the clock goes back more than a window, closing the open window as at the end', () => {
    const d = new WindowOutlierDetector();
    const traffic = new WindowTraffic(d);
    for (let w = 0; w < 40; w++) traffic.window(w);
    expect(d.modelInfo('api')!.history).toBe(39);
    traffic.window(2); // files out of order: this minute is 38 minutes back
    expect(d.modelInfo('api')!.history).toBe(40);
    traffic.window(3);
    expect(d.modelInfo('api')!.history).toBe(41);
  });

  it('keeps at most maxWindows windows and refits on them', () => {
    const d = new WindowOutlierDetector({ maxWindows: 50, minWindows: 20, refitEvery: 10, refitLines: 0 });
    const traffic = new WindowTraffic(d);
    for (let w = 0; w < 120; w++) traffic.window(w);
    expect(d.modelInfo('api')).toMatchObject({ history: 50, windows: 50 });
  });

  it('pays for refits with lines: no refit before refitLines more lines, however many windows closed', () => {
    const d = new WindowOutlierDetector({ maxWindows: 50, minWindows: 20, refitEvery: 10, refitLines: 1_000_000 });
    const traffic = new WindowTraffic(d);
    for (let w = 0; w < 120; w++) traffic.window(w);
    // fitted once, at minWindows, and not since
    expect(d.modelInfo('api')).toMatchObject({ history: 50, windows: 20 });
  });

  it('neither fits nor scores windows too sparse to judge, so a sparse or back-filled stream costs little', () => {
    const d = new WindowOutlierDetector();
    const lines = new Lines();
    const started = performance.now();
    // one line a minute for three days, as a back-fill of a quiet log would arrive
    for (let i = 0; i < 4_320; i++) expect(d.observe(lines.line(`template t${i % 7} <*>`, { source: 'quiet', id: `t${i % 7}`, timeMs: i * 61_000 }))).toHaveLength(0);
    d.finish();
    expect(d.drainWindowFindings()).toEqual([]);
    expect(d.modelInfo('quiet')).toMatchObject({ history: 0, windows: 0, sparseWindows: 4_320 });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('holds at most maxPending undrained findings and counts the ones it dropped', () => {
    const d = new WindowOutlierDetector({ minIsolationScore: 0, minLof: 0, thresholdQuantile: 0, maxPending: 5 });
    const traffic = new WindowTraffic(d);
    for (let w = 0; w < 60; w++) traffic.window(w);
    expect(d.drainWindowFindings()).toHaveLength(5);
    expect(d.droppedFindings).toBeGreaterThan(0);
  });

  it('is deterministic: the same lines give the same window findings', () => {
    const run = (): WindowFinding[] => {
      const d = new WindowOutlierDetector({ minLof: 1.2, thresholdQuantile: 0.9 });
      const traffic = new WindowTraffic(d, 3);
      for (let w = 0; w < 80; w++) traffic.window(w);
      return d.drainWindowFindings();
    };
    const a = run();
    expect(a.length).toBeGreaterThan(0);
    expect(run()).toEqual(a);
  });
});

describe('describeKnown', () => {
  it('gives every known template the description describe() gives it with itself left out', () => {
    const gen = new Random(3);
    for (let round = 0; round < 30; round++) {
      const n = 1 + gen.int(300);
      const words = 1 + gen.int(60);
      const oov = words;
      // a few weights only, so similarities tie; words of one template only; the oov feature; empty rows
      const vectors: CompactVector[] = Array.from({ length: n }, () => {
        const idx: number[] = [];
        const val: number[] = [];
        for (let f = 0; f <= oov; f++) {
          if (gen.next() < (f === oov ? 0.3 : 4 / words)) {
            idx.push(f);
            val.push([0.25, 0.5, 0.125, gen.next()][gen.int(4)]!);
          }
        }
        return { indices: Int32Array.from(idx), values: Float64Array.from(val) };
      });
      const model = { ...postingsOf(vectors, oov), oov, acc: new Float64Array(n), touched: new Int32Array(n) } as unknown as Parameters<typeof describeKnown>[0];
      const expected = vectors.map((v, t) => describeVector(model, v, t));
      expect(describeKnown(model, vectors), `round ${round}`).toEqual(expected);
      // the scratch arrays are left clean for the next use
      expect(model.acc.every((x) => x === 0)).toBe(true);
    }
  });
});
