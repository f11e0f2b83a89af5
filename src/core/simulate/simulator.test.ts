import { describe, expect, it } from 'vitest';
import { detectFormat, LineParser } from '../parse/line-parser.js';
import type { LogRecord } from '../parse/record.js';
import { ERROR_KIND_IDS, ERROR_KINDS } from './catalog.js';
import {
  BURST_WINDOW_MS, EventStream, LogSimulator, renderJson, renderText, SIMULATOR_DEFAULTS, SimulatorError,
  type SimEvent, type SimulatorStartOptions,
} from './simulator.js';

const T0 = Date.UTC(2025, 2, 14, 9, 0, 0);

class FakeClock {
  constructor(public t = T0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

function events(seed: number, n: number, ratePerSecond = 20): SimEvent[] {
  const s = new EventStream(seed, T0, ratePerSecond);
  return Array.from({ length: n }, () => s.next());
}

/** Runs a simulator to its end, ticking every `stepMs`; returns every line and the simulator. */
function runToEnd(opts: SimulatorStartOptions, stepMs = 3_000): { lines: string[]; sim: LogSimulator; clock: FakeClock; ticks: number } {
  const clock = new FakeClock();
  const sim = new LogSimulator({ clock });
  sim.start(opts);
  const lines: string[] = [];
  let ticks = 0;
  while (sim.running) {
    clock.advance(stepMs);
    const batch = sim.tick();
    sim.markShipped(batch.length);
    lines.push(...batch);
    if (++ticks > 1e6) throw new Error('never stopped');
  }
  return { lines, sim, clock, ticks };
}

/** The analyzer's rule: `[api-gateway]` after the level is the line's component (see analyzer.ts). */
const componentOf = (r: LogRecord): string | undefined => r.component ?? r.attributes?.thread;

describe('the mix', () => {
  it.each([1, 2, 3])('is 70/20/10 within ±3 points over 20,000 lines (seed %i), by class and by parsed level', (seed) => {
    const evs = events(seed, 20_000);
    const share = (cls: string): number => evs.filter((e) => e.cls === cls).length / evs.length;
    expect(Math.abs(share('info') - 0.7)).toBeLessThan(0.03);
    expect(Math.abs(share('error') - 0.2)).toBeLessThan(0.03);
    expect(Math.abs(share('warn') - 0.1)).toBeLessThan(0.03);

    const lines = evs.map(renderText);
    const parser = new LineParser(detectFormat(lines.slice(0, 64), 2025), 2025);
    const levels: Record<string, number> = {};
    for (const l of lines) {
      const lv = parser.parse(l).record.level ?? 'none';
      levels[lv] = (levels[lv] ?? 0) + 1;
    }
    expect(Math.abs(levels.info! / 20_000 - 0.7)).toBeLessThan(0.03);
    expect(Math.abs(((levels.error ?? 0) + (levels.fatal ?? 0)) / 20_000 - 0.2)).toBeLessThan(0.03);
    expect(Math.abs(levels.warn! / 20_000 - 0.1)).toBeLessThan(0.03);
    expect(levels.none).toBeUndefined();
  });

  it('shows all 33 error kinds over a long run, each several times, known and unknown alike', () => {
    const counts = new Map<string, number>();
    for (const e of events(4, 20_000)) if (e.cls === 'error') counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...ERROR_KIND_IDS].sort());
    for (const id of ERROR_KIND_IDS) expect(counts.get(id), id).toBeGreaterThanOrEqual(40);
  });

  it('shows all 33 kinds within one default 5-minute run', () => {
    const { sim } = runToEnd({ seed: 9 });
    const s = sim.status();
    expect(Object.values(s.errorsByKind).filter((n) => n > 0)).toHaveLength(33);
    expect(s.knownErrors + s.unknownErrors).toBe(s.byClass.error);
    expect(s.unknownErrors).toBeGreaterThan(0);
  });
});

describe('error bursts', () => {
  it('groups errors into incidents: a kind repeats a few times within a minute', () => {
    for (const rate of [1, 20]) {
      const errs = events(5, rate === 1 ? 6_000 : 20_000, rate).filter((e) => e.cls === 'error');
      // lines of a kind closer than the burst window belong to one incident
      const last = new Map<string, number>();
      const sizes: number[] = [];
      const open = new Map<string, number>();
      for (const e of errs) {
        const prev = last.get(e.kind);
        if (prev !== undefined && e.time - prev < BURST_WINDOW_MS) open.set(e.kind, open.get(e.kind)! + 1);
        else {
          if (open.has(e.kind)) sizes.push(open.get(e.kind)!);
          open.set(e.kind, 1);
        }
        last.set(e.kind, e.time);
      }
      const singles = sizes.filter((n) => n === 1).length;
      const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
      expect(singles / sizes.length, `rate ${rate}`).toBeLessThan(0.1);
      expect(mean, `rate ${rate}`).toBeGreaterThanOrEqual(3);
    }
  });

  it('keeps one message shape and sticky values (the attacker) through a burst', () => {
    const brute = events(6, 20_000).filter((e) => e.kind === 'security_brute_force');
    const ipOf = (e: SimEvent): unknown => e.fields.find(([k]) => k === 'client_ip')?.[1];
    let sameShape = 0;
    let sameIp = 0;
    let pairs = 0;
    for (let i = 1; i < brute.length; i++) {
      const [a, b] = [brute[i - 1]!, brute[i]!];
      if (b.time - a.time > 2_000) continue; // a new burst
      pairs++;
      if (a.message.replace(/\d+/g, '#') === b.message.replace(/\d+/g, '#')) sameShape++;
      if (ipOf(a) === ipOf(b)) sameIp++;
    }
    expect(pairs).toBeGreaterThan(50);
    expect(sameShape / pairs).toBeGreaterThan(0.95);
    expect(sameIp / pairs).toBeGreaterThan(0.95);
  });
});

describe('determinism', () => {
  it('gives the same lines for the same seed, whatever the tick schedule', () => {
    const a = runToEnd({ seed: 42, durationMs: 60_000 }, 3_000).lines;
    const b = runToEnd({ seed: 42, durationMs: 60_000 }, 7_000).lines;
    const c = runToEnd({ seed: 42, durationMs: 60_000 }, 60_000).lines;
    expect(a.length).toBeGreaterThan(1_000);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(runToEnd({ seed: 43, durationMs: 60_000 }).lines).not.toEqual(a);
  });

  it('seeds an unseeded run from newSeed, or else from the start time, and reports the seed', () => {
    const clock = new FakeClock();
    const sim = new LogSimulator({ clock });
    expect(sim.start().seed).toBe(T0);
    sim.stop();
    const seeded = new LogSimulator({ clock, newSeed: () => 1234 });
    expect(seeded.start().seed).toBe(1234);
    clock.advance(5_000);
    const replay = new LogSimulator({ clock: new FakeClock() });
    replay.start({ seed: 1234 });
    expect(replay.tick(T0 + 5_000)).toEqual(seeded.tick());
  });
});

describe('start, stop, status and auto-stop', () => {
  it('is idle before the first start, with the defaults', () => {
    const s = new LogSimulator({ clock: new FakeClock() }).status();
    expect(s).toMatchObject({ state: 'idle', running: false, seed: null, startedAt: null, logsGenerated: 0, ...SIMULATOR_DEFAULTS });
    expect(Object.keys(s.errorsByKind)).toHaveLength(33);
  });

  it('stops by itself at endsAt, after batches every batchIntervalMs, and reports its stats', () => {
    const { lines, sim, clock, ticks } = runToEnd({ seed: 1 });
    const s = sim.status();
    expect(ticks).toBe(100); // 5 minutes of 3-second batches
    expect(s).toMatchObject({ state: 'completed', running: false, startedAt: T0, endsAt: T0 + 300_000, stoppedAt: T0 + 300_000, elapsedMs: 300_000, remainingMs: 0 });
    expect(s.logsGenerated).toBe(lines.length);
    expect(s.logsShipped).toBe(lines.length);
    expect(lines.length).toBeGreaterThan(6_000 * 0.93);
    expect(lines.length).toBeLessThan(6_000 * 1.07);
    expect(s.batches).toBe(100);
    expect(s.lastBatchAt).toBe(T0 + 300_000);
    expect(s.byClass.info + s.byClass.error + s.byClass.warn).toBe(lines.length);
    expect(Object.values(s.errorsByKind).reduce((a, b) => a + b, 0)).toBe(s.byClass.error);
    const times = lines.map((l) => Date.parse(l.slice(0, 24)));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(T0);
    expect(Math.max(...times)).toBeLessThanOrEqual(T0 + 300_000);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    // nothing after the end
    clock.advance(60_000);
    expect(sim.tick()).toEqual([]);
    expect(sim.status().logsGenerated).toBe(lines.length);
  });

  it('completes on the first tick at or after endsAt, even a late one', () => {
    const clock = new FakeClock();
    const sim = new LogSimulator({ clock });
    sim.start({ seed: 3, durationMs: 10_000 });
    clock.advance(9_999);
    expect(sim.tick().length).toBeGreaterThan(0);
    expect(sim.status()).toMatchObject({ running: true, remainingMs: 1 });
    clock.advance(3_600_000);
    const last = sim.tick();
    expect(last.every((l) => Date.parse(l.slice(0, 24)) <= T0 + 10_000)).toBe(true);
    expect(sim.status()).toMatchObject({ state: 'completed', running: false, stoppedAt: T0 + 10_000, elapsedMs: 10_000 });
  });

  it('stops on demand, keeps the last stats, refuses a second start while running and restarts afresh', () => {
    const clock = new FakeClock();
    const sim = new LogSimulator({ clock });
    const started = sim.start({ seed: 5, durationMs: 60_000, batchIntervalMs: 1_000, ratePerSecond: 50 });
    expect(started).toMatchObject({ state: 'running', running: true, seed: 5, startedAt: T0, endsAt: T0 + 60_000, remainingMs: 60_000, batchIntervalMs: 1_000, ratePerSecond: 50 });
    expect(() => sim.start()).toThrow(expect.objectContaining({ code: 'VIGIL_SIMULATOR_RUNNING' }));

    clock.advance(1_000);
    const batch = sim.tick();
    sim.markShipped(batch.length - 2);
    sim.markFailed(2, 'ingestion returned 503');
    clock.advance(500);
    expect(sim.status()).toMatchObject({ running: true, elapsedMs: 1_500, remainingMs: 58_500 });

    const stopped = sim.stop();
    expect(stopped).toMatchObject({ state: 'stopped', running: false, stoppedAt: T0 + 1_500, elapsedMs: 1_500, remainingMs: 0, batches: 1, logsGenerated: batch.length, logsShipped: batch.length - 2, logsFailed: 2, lastError: 'ingestion returned 503' });
    clock.advance(10_000);
    expect(sim.tick()).toEqual([]);
    expect(sim.stop()).toEqual(stopped); // idempotent
    expect(sim.status().elapsedMs).toBe(1_500);

    const again = sim.start({ seed: 6 });
    expect(again).toMatchObject({ state: 'running', seed: 6, logsGenerated: 0, logsShipped: 0, batches: 0, lastError: null, durationMs: 300_000 });
  });

  it('returns nothing for a tick before any line is due or when the clock goes back', () => {
    const clock = new FakeClock();
    const sim = new LogSimulator({ clock });
    expect(sim.tick()).toEqual([]);
    sim.start({ seed: 1, ratePerSecond: 0.01 });
    expect(sim.tick(T0)).toEqual([]);
    expect(sim.tick(T0 - 60_000)).toEqual([]);
    expect(sim.status()).toMatchObject({ running: true, batches: 0, lastBatchAt: null });
  });

  it('caps a batch at maxLinesPerTick and catches up on the next ticks without losing lines', () => {
    const clock = new FakeClock();
    const capped = new LogSimulator({ clock, maxLinesPerTick: 100 });
    capped.start({ seed: 8, durationMs: 30_000 });
    clock.advance(30_000);
    const batches: string[][] = [];
    while (capped.running) batches.push(capped.tick());
    expect(batches.slice(0, -1).every((b) => b.length === 100)).toBe(true);
    expect(batches.flat()).toEqual(runToEnd({ seed: 8, durationMs: 30_000 }).lines);
  });

  it('validates its options', () => {
    const sim = new LogSimulator({ clock: new FakeClock() });
    const bad: SimulatorStartOptions[] = [
      { durationMs: 0 }, { durationMs: -1 }, { durationMs: Number.NaN }, { durationMs: 25 * 3_600_000 },
      { batchIntervalMs: 10 }, { batchIntervalMs: 120_000 }, { ratePerSecond: 0 }, { ratePerSecond: 5_000 },
      { seed: 1.5 }, { format: 'xml' as 'text' },
    ];
    for (const o of bad) expect(() => sim.start(o), JSON.stringify(o)).toThrow(SimulatorError);
    expect(() => sim.start({ ratePerSecond: 0 })).toThrow(/ratePerSecond/);
    expect(sim.running).toBe(false);
    sim.start({ durationMs: 1 });
    expect(() => sim.markShipped(-1)).toThrow(RangeError);
    expect(() => sim.markShipped(1.5)).toThrow(RangeError);
  });
});

describe('lines Vigil can read', () => {
  it('writes `ISO LEVEL [service] message k=v … request_id=…` lines that parse into timestamp, level, component and message', () => {
    const evs = events(12, 3_000);
    const lines = evs.map(renderText);
    const format = detectFormat(lines.slice(0, 64), 2025);
    expect(format).toMatchObject({ kind: 'text', signature: 'ts:iso level bracket' });
    const parser = new LineParser(format, 2025);
    const levels = { INFO: 'info', WARN: 'warn', ERROR: 'error', CRITICAL: 'fatal' } as const;
    evs.forEach((ev, i) => {
      const line = lines[i]!;
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR|CRITICAL) \[[a-z-]+\] \S.* request_id=req-[0-9a-f]{16}$/);
      const { record, headerMatched } = parser.parse(line);
      expect(headerMatched).toBe(true);
      expect(record.timestamp).toBe(ev.time);
      expect(record.level).toBe(levels[ev.level]);
      expect(componentOf(record)).toBe(ev.service);
      expect(record.message.startsWith(ev.message)).toBe(true);
      expect(record.message.endsWith(`request_id=${ev.requestId}`)).toBe(true);
    });
  });

  it('writes the JSON variant that parses into the same fields, service as the component', () => {
    const evs = events(13, 2_000);
    const lines = evs.map(renderJson);
    const format = detectFormat(lines.slice(0, 64), 2025);
    expect(format).toEqual({ kind: 'json' });
    const parser = new LineParser(format, 2025);
    evs.forEach((ev, i) => {
      const { record } = parser.parse(lines[i]!);
      expect(record).toMatchObject({ timestamp: ev.time, component: ev.service, message: ev.message, requestId: ev.requestId });
      expect(record.level).toBe(({ INFO: 'info', WARN: 'warn', ERROR: 'error', CRITICAL: 'fatal' } as const)[ev.level]);
    });
  });

  it('ticks JSON lines when started with format json', () => {
    const clock = new FakeClock();
    const sim = new LogSimulator({ clock });
    sim.start({ seed: 2, format: 'json' });
    clock.advance(3_000);
    const batch = sim.tick();
    expect(batch.length).toBeGreaterThan(20);
    for (const l of batch) expect(JSON.parse(l)).toHaveProperty('service');
  });

  it('quotes field values with spaces so key=value stays readable', () => {
    const ev: SimEvent = { time: T0, cls: 'error', kind: 'x', level: 'ERROR', service: 'svc', message: 'boom', fields: [['a', 'two words'], ['b', 3], ['c', true], ['d', '']], requestId: 'req-0123456789abcdef' };
    expect(renderText(ev)).toBe('2025-03-14T09:00:00.000Z ERROR [svc] boom a="two words" b=3 c=true d="" request_id=req-0123456789abcdef');
    expect(JSON.parse(renderJson(ev))).toEqual({ timestamp: '2025-03-14T09:00:00.000Z', level: 'ERROR', service: 'svc', message: 'boom', a: 'two words', b: 3, c: true, d: '', request_id: 'req-0123456789abcdef' });
  });

  it('uses each error kind\'s own service and level', () => {
    const byId = new Map(ERROR_KINDS.map((k) => [k.id, k]));
    for (const e of events(14, 5_000)) {
      if (e.cls !== 'error') continue;
      const k = byId.get(e.kind)!;
      expect([e.service, e.level, e.known]).toEqual([k.service, k.level, k.known]);
    }
  });
});
