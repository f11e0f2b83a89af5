import { describe, expect, it } from 'vitest';
import type { DetectInput, Detector } from '../detect/detector.js';
import { sessionKeyOf } from '../detect/session-key.js';
import { generateCorpus } from '../generate/corpus.js';
import { TemplateMiner } from '../mine/miner.js';
import { DEFAULT_LIMITS, resolveConfig, type AnalyzeConfig } from './analyze-config.js';
import { DetectorStateError, restoreDetectors, snapshotDetectors } from './detector-state.js';
import { createDetectors, DETECTOR_SPECS, DETECTORS } from './detectors.js';
import { FileRecords } from './file-records.js';
import { base64ToBytes, bytesToBase64, decodeState, encodeState, StateCodecError } from './state-codec.js';

/** Through JSON, as a snapshot travels to the database and back. */
const viaJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

class Point {
  constructor(public x: number, public y: number) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
class Unregistered {
  v = 1;
}

describe('the state codec', () => {
  it('round-trips maps, sets, typed arrays, special numbers, holes, undefined, dates, regexps and bigints through JSON', () => {
    const holey = [1, , 3];
    const re = /a+/g;
    re.lastIndex = 2;
    const state = {
      map: new Map<unknown, unknown>([['b', 1], ['a', { deep: [1, 2] }], [3, 'three']]),
      set: new Set(['z', 'y']),
      f64: Float64Array.from([1.5, -0, NaN, Infinity, 1e-310]),
      i32: Int32Array.from([-1, 2 ** 31 - 1]),
      u8: Uint8Array.from([0, 255, 7]),
      nums: [NaN, Infinity, -Infinity, -0, 0, 0.1 + 0.2, Number.MAX_VALUE, 5e-324],
      holey,
      missing: undefined,
      when: new Date(1_700_000_000_123),
      re,
      big: 12345678901234567890n,
      nested: { 'odd key': 'x', __proto__: null } as unknown,
      str: 'lone \ud800 surrogate and \u0000 nul',
    };
    const back = decodeState(viaJson(encodeState(state, { classes: {} })), { classes: {} }) as typeof state;
    expect(back.map).toBeInstanceOf(Map);
    expect([...back.map.keys()]).toEqual(['b', 'a', 3]);
    expect(back.map.get('a')).toEqual({ deep: [1, 2] });
    expect([...back.set]).toEqual(['z', 'y']);
    expect(back.f64).toBeInstanceOf(Float64Array);
    expect(Object.is(back.f64[1], -0)).toBe(true);
    expect(Number.isNaN(back.f64[2])).toBe(true);
    expect(back.f64[3]).toBe(Infinity);
    expect(back.f64[4]).toBe(1e-310);
    expect([...back.i32]).toEqual([-1, 2 ** 31 - 1]);
    expect([...back.u8]).toEqual([0, 255, 7]);
    expect(Number.isNaN(back.nums[0])).toBe(true);
    expect(back.nums.slice(1, 3)).toEqual([Infinity, -Infinity]);
    expect(Object.is(back.nums[3], -0)).toBe(true);
    expect(Object.is(back.nums[4], 0)).toBe(true);
    expect(back.nums.slice(5)).toEqual([0.1 + 0.2, Number.MAX_VALUE, 5e-324]);
    expect(back.holey.length).toBe(3);
    expect(1 in back.holey).toBe(false);
    expect('missing' in back).toBe(true);
    expect(back.when.getTime()).toBe(1_700_000_000_123);
    expect(back.re.source).toBe('a+');
    expect(back.re.flags).toBe('g');
    expect(back.re.lastIndex).toBe(2);
    expect(back.big).toBe(12345678901234567890n);
    expect(Object.getPrototypeOf(back.nested)).toBe(null);
    expect((back.nested as Record<string, unknown>)['odd key']).toBe('x');
    expect(back.str).toBe(state.str);
  });

  it('keeps shared references and cycles, and restores registered classes with their prototype', () => {
    const p = new Point(3, 4);
    const a: Record<string, unknown> = { name: 'a', p };
    const b = { name: 'b', a, p, list: [p, p] };
    a.self = a;
    a.b = b;
    const m = new Map<object, object>([[p, a]]);
    const back = decodeState(viaJson(encodeState({ a, b, m }, { classes: { Point } })), { classes: { Point } }) as { a: typeof a; b: typeof b; m: typeof m };
    expect(back.a.self).toBe(back.a);
    expect(back.b.a).toBe(back.a);
    expect(back.b.p).toBe(back.a.p);
    expect(back.b.list[0]).toBe(back.b.list[1]);
    expect(back.b.p).toBeInstanceOf(Point);
    expect(back.b.p.norm()).toBe(5);
    expect(back.m.get(back.b.p)).toBe(back.a);
  });

  it('restores registered constants as the very same object, and frozen objects frozen', () => {
    const NONE = Object.freeze({ score: 0, matched: Object.freeze([]) });
    const registry = { classes: {}, constants: { NONE } };
    const state = { a: NONE, b: [NONE], own: Object.freeze({ x: 1 }), list: Object.freeze([1, 2]) };
    const back = decodeState(viaJson(encodeState(state, registry)), registry) as typeof state;
    expect(back.a).toBe(NONE);
    expect(back.b[0]).toBe(NONE);
    expect(back.own).toEqual({ x: 1 });
    expect(Object.isFrozen(back.own)).toBe(true);
    expect(Object.isFrozen(back.list)).toBe(true);
    expect(() => decodeState(viaJson(encodeState(state, registry)), { classes: {} })).toThrow(/constant NONE is not registered/);
  });

  it('refuses functions and unregistered classes, naming where they are', () => {
    expect(() => encodeState({ outer: { fn: () => 1 } }, { classes: {} })).toThrow(/function \(at \(root\)\.outer\.fn\)/);
    expect(() => encodeState({ list: [new Map([['k', new Unregistered()]])] }, { classes: {} })).toThrow(/class Unregistered \(at \(root\)\.list\[0\]\.get\("k"\)\) is not registered/);
    expect(() => encodeState(Symbol('s'), { classes: {} })).toThrow(StateCodecError);
  });

  it('refuses an unknown format, version, tag or class on the way back', () => {
    const g = encodeState({ p: new Point(1, 2) }, { classes: { Point } });
    expect(() => decodeState({ ...g, format: 'other' }, { classes: { Point } })).toThrow(/not a state graph/);
    expect(() => decodeState({ ...g, version: 99 }, { classes: { Point } })).toThrow(/version 99 is not supported/);
    expect(() => decodeState(g, { classes: {} })).toThrow(/class Point is not registered/);
    expect(() => decodeState({ ...g, objects: [['?']] }, { classes: { Point } })).toThrow(/unknown tag/);
  });

  it('writes base64 that decodes to the same bytes at every length', () => {
    for (let n = 0; n < 20; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 13) & 255);
      expect([...base64ToBytes(bytesToBase64(bytes))]).toEqual([...bytes]);
    }
    expect(bytesToBase64(new TextEncoder().encode('Man is'))).toBe('TWFuIGlz');
  });
});

// ── detectors ──────────────────────────────────────────────────────────────────────────────────

const LINES = 24_000;

/** The detectors' inputs over a generated corpus (parse → mine → session key), fresh objects each call. */
function corpusInputs(): DetectInput[] {
  const records = new FileRecords(2026, { maxLinesPerRecord: DEFAULT_LIMITS.maxLinesPerRecord, maxRecordChars: DEFAULT_LIMITS.maxRecordChars });
  const miner = new TemplateMiner();
  const out: DetectInput[] = [];
  let lastMs = 0;
  const emit = (a: { record: DetectInput['record']; firstLine: number }): void => {
    const rec = a.record;
    const mined = miner.add(rec.message);
    if (rec.timestamp !== undefined && Number.isFinite(rec.timestamp)) lastMs = rec.timestamp;
    const input: DetectInput = { seq: a.firstLine, source: 'app.log', record: rec, templateId: mined.templateId, template: mined.template, params: mined.params, createdTemplate: mined.created, timeMs: lastMs };
    const key = sessionKeyOf(rec, mined.params);
    if (key !== undefined) input.sessionKey = key;
    out.push(input);
  };
  let n = 0;
  for (const l of generateCorpus({ lines: LINES, anomalyRate: 0.05, seed: 7, startMs: Date.UTC(2026, 10, 20, 8), services: 8 })) records.push(l.line, ++n, emit);
  records.end(emit);
  return out;
}

/** What a run produced: every finding with its record, and every window finding, as JSON. */
function run(detectors: Detector[], inputs: DetectInput[], out: string[]): void {
  for (const input of inputs) {
    for (const d of detectors) for (const f of d.observe(input)) out.push(JSON.stringify([input.seq, f]));
    if ((input.seq & 255) === 0) for (const d of detectors) for (const w of d.drainWindowFindings?.() ?? []) out.push(JSON.stringify(['window', w]));
  }
}

function onlyDetector(name: string): AnalyzeConfig {
  const config = resolveConfig(undefined, DETECTOR_SPECS);
  for (const [n, d] of Object.entries(config.detectors)) d.enabled = n === name;
  return config;
}

describe('detector snapshots', () => {
  const inputs = corpusInputs();
  const cuts = [Math.floor(inputs.length * 0.3), Math.floor(inputs.length * 0.75)];

  it.each(Object.keys(DETECTORS))('%s: a run cut at snapshots and restored finds exactly what an uninterrupted run finds, and ends in the same state', (name) => {
    const config = onlyDetector(name);
    const whole: string[] = [];
    const uninterrupted = createDetectors(config);
    run(uninterrupted, corpusInputs(), whole);

    const split: string[] = [];
    const fresh = corpusInputs();
    let detectors = createDetectors(config);
    let from = 0;
    for (const cut of [...cuts, fresh.length]) {
      run(detectors, fresh.slice(from, cut), split);
      if (cut === fresh.length) break;
      detectors = restoreDetectors(config, viaJson(snapshotDetectors(detectors, config)));
      from = cut;
    }
    expect(split.length).toBe(whole.length);
    expect(split).toEqual(whole);
    // the same state, object for object (a copy where the original pointed to a shared constant
    // would show here: one more object)
    const a = JSON.stringify(snapshotDetectors(uninterrupted, config));
    const b = JSON.stringify(snapshotDetectors(detectors, config));
    expect(b.length).toBe(a.length);
    expect(b === a).toBe(true);
  });

  it('all detectors together round-trip, and the findings are not empty (the corpus exercises them)', () => {
    const config = resolveConfig(undefined, DETECTOR_SPECS);
    const whole: string[] = [];
    run(createDetectors(config), inputs, whole);
    expect(whole.length).toBeGreaterThan(100);
    const detectors = createDetectors(config);
    const split: string[] = [];
    run(detectors, inputs.slice(0, cuts[0]), split);
    const restored = restoreDetectors(config, viaJson(snapshotDetectors(detectors, config)));
    run(restored, corpusInputs().slice(cuts[0]), split);
    expect(split).toEqual(whole);
  });

  it('refuses a snapshot of other detectors, other options, another format or version', () => {
    const config = resolveConfig(undefined, DETECTOR_SPECS);
    const snap = viaJson(snapshotDetectors(createDetectors(config), config));
    expect(() => restoreDetectors(onlyDetector('flood'), snap)).toThrow(DetectorStateError);
    expect(() => restoreDetectors(onlyDetector('flood'), snap)).toThrow(/configuration enables \[flood\]/);
    const other = resolveConfig({ detectors: { flood: { options: { windowRecords: 500 } } } }, DETECTOR_SPECS);
    expect(() => restoreDetectors(other, snap)).toThrow(/options of flood changed/);
    expect(() => restoreDetectors(config, { ...snap, version: 1 })).toThrow(/version 1 is not supported/);
    expect(() => restoreDetectors(config, { format: 'vigil.miner' })).toThrow(/not a detector snapshot/);
    expect(() => restoreDetectors(config, undefined)).toThrow(DetectorStateError);
  });

  it('refuses a snapshot written before a detector class gained a field', () => {
    const config = onlyDetector('flood');
    const snap = viaJson(snapshotDetectors(createDetectors(config), config));
    const entry = snap.state.objects.find((e) => e[0] === 'C' && e[1] === 'FloodDetector')!;
    const shape = snap.state.shapes[entry[2] as number]!;
    const at = shape.indexOf('touch');
    shape.splice(at, 1);
    entry.splice(3 + at, 1);
    expect(() => restoreDetectors(config, snap)).toThrow(/FloodDetector has fields the snapshot lacks \(touch\)/);
  });
});
