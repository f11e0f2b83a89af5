/**
 * The built-in log simulator: realistic production logs for a project to try Vigil on, started and
 * stopped on demand (`POST /api/log-server/start|stop`, `GET /api/log-server/status`).
 *
 * Pure: time comes from an injected clock and every draw from a seeded PRNG. The simulator runs no
 * timer. The server calls `tick()` every `batchIntervalMs`, ships the returned batch through
 * ingestion and reports the outcome with `markShipped` / `markFailed`. A run stops by itself at
 * `endsAt` (the tick that reaches it returns the last lines).
 *
 * Lines lie on one timeline drawn from the seed (a Poisson process at `ratePerSecond`), so the
 * same seed and start time give the same lines however the ticks fall. Each line is info (70%),
 * error (20%) or slow-request warning (10%), drawn independently, so the mix holds over any long
 * run. Errors come in bursts: up to two incidents are active at once, each a kind that repeats a few
 * times within a minute with the same message shape and sticky values (host, IP, pod); new
 * incidents deal kinds from a shuffled deck, so every one of the 33 kinds turns up every 33
 * incidents.
 */
import { Rng } from '../generate/prng.js';
import {
  CLASS_MIX, ERROR_KIND_IDS, ERROR_KINDS, INFO_KINDS, WARN_KINDS,
  type ErrorKind, type EventClass, type FieldValue, type RenderContext, type SimLevel, type TrafficKind,
} from './catalog.js';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export type SimulatorFormat = 'text' | 'json';

export interface SimulatorStartOptions {
  /** How long the run lasts (default 5 minutes); it stops by itself then. */
  durationMs?: number;
  /** How often the caller is expected to tick and ship a batch (default 3 s). */
  batchIntervalMs?: number;
  /** Mean lines per second (default 20). */
  ratePerSecond?: number;
  /** Any safe integer; the same seed and start time give the same lines. */
  seed?: number;
  /** `text` (default): `ISO LEVEL [service] message k=v … request_id=…`; `json`: one object per line. */
  format?: SimulatorFormat;
}

export interface SimulatorConfig {
  durationMs: number;
  batchIntervalMs: number;
  ratePerSecond: number;
  format: SimulatorFormat;
}

export const SIMULATOR_DEFAULTS: Readonly<SimulatorConfig> = Object.freeze({
  durationMs: 5 * 60_000,
  batchIntervalMs: 3_000,
  ratePerSecond: 20,
  format: 'text',
});

export const SIMULATOR_LIMITS = Object.freeze({
  maxDurationMs: 24 * 3_600_000,
  minBatchIntervalMs: 100,
  maxBatchIntervalMs: 60_000,
  maxRatePerSecond: 1_000,
  /** A tick returns at most this many lines; the rest come with the next ticks. */
  maxLinesPerTick: 20_000,
});

/** How many error incidents (bursts) are active at once. */
export const MAX_ACTIVE_BURSTS = 2;
/** A burst ends this long after its first line, even when it has lines left. */
export const BURST_WINDOW_MS = 60_000;

export type SimulatorErrorCode = 'VIGIL_SIMULATOR_RUNNING' | 'VIGIL_SIMULATOR_OPTIONS';

export class SimulatorError extends Error {
  constructor(
    readonly code: SimulatorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SimulatorError';
  }
}

// ---------------------------------------------------------------------------------------------
// events and their lines

export interface SimEvent {
  /** Epoch milliseconds (whole). */
  time: number;
  cls: EventClass;
  /** The error kind id, or the info / warning kind id. */
  kind: string;
  /** For errors: whether runbooks know the kind. */
  known?: boolean;
  level: SimLevel;
  service: string;
  message: string;
  fields: ReadonlyArray<readonly [string, FieldValue]>;
  requestId: string;
}

/** Keys the line format owns; a kind's fields never use them. */
export const RESERVED_FIELD_KEYS: ReadonlySet<string> = new Set(['timestamp', 'level', 'service', 'message', 'request_id']);

const PLAIN_VALUE = /^[^\s"=]+$/;

function formatValue(v: FieldValue): string {
  const s = String(v);
  return PLAIN_VALUE.test(s) ? s : JSON.stringify(s);
}

/** `2025-03-14T09:21:07.412Z ERROR [payment-service] Payment gateway timeout after 30000ms provider=stripe … request_id=req-…` */
export function renderText(ev: SimEvent): string {
  let line = `${new Date(ev.time).toISOString()} ${ev.level} [${ev.service}] ${ev.message}`;
  for (const [k, v] of ev.fields) line += ` ${k}=${formatValue(v)}`;
  return `${line} request_id=${ev.requestId}`;
}

/** `{"timestamp":"…","level":"ERROR","service":"…","message":"…",…fields,"request_id":"…"}` */
export function renderJson(ev: SimEvent): string {
  const o: Record<string, FieldValue> = { timestamp: new Date(ev.time).toISOString(), level: ev.level, service: ev.service, message: ev.message };
  for (const [k, v] of ev.fields) o[k] = v;
  o.request_id = ev.requestId;
  return JSON.stringify(o);
}

export function renderLine(ev: SimEvent, format: SimulatorFormat): string {
  return format === 'json' ? renderJson(ev) : renderText(ev);
}

// ---------------------------------------------------------------------------------------------
// the event timeline

interface Burst {
  kind: ErrorKind;
  variant: number;
  remaining: number;
  endsAt: number;
  pins: Map<string, unknown>;
}

/**
 * An endless, seeded stream of events starting at `startMs`. Independent PRNG streams for time,
 * class, kinds, values and ids, so a change to one kind's values never shifts the mix.
 */
export class EventStream {
  private readonly timeRng: Rng;
  private readonly classRng: Rng;
  private readonly kindRng: Rng;
  private readonly valueRng: Rng;
  private readonly idRng: Rng;
  private readonly ratePerMs: number;
  private readonly infoWeights: number[];
  private readonly warnWeights: number[];
  private t: number;
  private bursts: Burst[] = [];
  private deck: ErrorKind[] = [];

  constructor(
    seed: number,
    startMs: number,
    ratePerSecond: number,
  ) {
    this.timeRng = Rng.stream(seed, 'simulate.time');
    this.classRng = Rng.stream(seed, 'simulate.class');
    this.kindRng = Rng.stream(seed, 'simulate.kind');
    this.valueRng = Rng.stream(seed, 'simulate.values');
    this.idRng = Rng.stream(seed, 'simulate.ids');
    this.ratePerMs = ratePerSecond / 1000;
    this.infoWeights = INFO_KINDS.map((k) => k.weight);
    this.warnWeights = WARN_KINDS.map((k) => k.weight);
    this.t = startMs + this.timeRng.exp(this.ratePerMs);
  }

  /** The time of the next event (epoch ms, whole). */
  peekTime(): number {
    return Math.floor(this.t);
  }

  next(): SimEvent {
    const time = Math.floor(this.t);
    this.t += this.timeRng.exp(this.ratePerMs);
    const x = this.classRng.next();
    const requestId = `req-${this.idRng.hex(16)}`;
    if (x < CLASS_MIX.info) return this.traffic(time, INFO_KINDS, this.infoWeights, requestId);
    if (x < CLASS_MIX.info + CLASS_MIX.error) return this.error(time, requestId);
    return this.traffic(time, WARN_KINDS, this.warnWeights, requestId);
  }

  private traffic(time: number, kinds: readonly TrafficKind[], weights: readonly number[], requestId: string): SimEvent {
    const kind = kinds[this.kindRng.weightedIndex(weights)]!;
    const service = this.kindRng.pick(kind.services);
    const variant = this.kindRng.pick(kind.variants);
    const ctx: RenderContext = { rng: this.valueRng, now: time, pin: (_key, make) => make() };
    const { message, fields } = variant(ctx);
    return { time, cls: kind.cls, kind: kind.id, level: kind.level, service, message, fields, requestId };
  }

  private error(time: number, requestId: string): SimEvent {
    this.bursts = this.bursts.filter((b) => b.remaining > 0 && b.endsAt > time);
    if (this.bursts.length < MAX_ACTIVE_BURSTS) this.bursts.push(this.openBurst(time));
    const burst = this.bursts.length === 1 ? this.bursts[0]! : this.kindRng.pick(this.bursts);
    burst.remaining--;
    const kind = burst.kind;
    const ctx: RenderContext = {
      rng: this.valueRng,
      now: time,
      pin: <T>(key: string, make: () => T): T => {
        if (burst.pins.has(key)) return burst.pins.get(key) as T;
        const v = make();
        burst.pins.set(key, v);
        return v;
      },
    };
    const { message, fields } = kind.variants[burst.variant]!(ctx);
    return { time, cls: 'error', kind: kind.id, known: kind.known, level: kind.level, service: kind.service, message, fields, requestId };
  }

  private openBurst(time: number): Burst {
    const skipped: ErrorKind[] = [];
    let kind: ErrorKind | undefined;
    while (!kind) {
      if (this.deck.length === 0) this.deck = this.kindRng.shuffle([...ERROR_KINDS]);
      const k = this.deck.pop()!;
      if (this.bursts.some((b) => b.kind === k)) skipped.push(k);
      else kind = k;
    }
    this.deck.unshift(...skipped);
    return {
      kind,
      variant: this.kindRng.int(0, kind.variants.length - 1),
      remaining: this.kindRng.int(kind.burst[0], kind.burst[1]),
      endsAt: time + BURST_WINDOW_MS,
      pins: new Map(),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// the simulator

export type SimulatorState = 'idle' | 'running' | 'completed' | 'stopped';

/** What a run has done so far: kept by the run, reported by status(). */
interface RunCounters {
  logsGenerated: number;
  logsShipped: number;
  logsFailed: number;
  /** Non-empty batches returned by tick(). */
  batches: number;
  /** Clock time of the last non-empty batch. */
  lastBatchAt: number | null;
  lastError: string | null;
  byClass: Record<EventClass, number>;
  /** Lines per error kind id; all 33 ids, zero when not seen yet. */
  errorsByKind: Record<string, number>;
  knownErrors: number;
  unknownErrors: number;
}

export interface SimulatorStatus extends SimulatorConfig, RunCounters {
  /** idle (never started), running, completed (reached endsAt) or stopped (by stop()). */
  state: SimulatorState;
  running: boolean;
  /** The seed of the current or last run (null when idle): the same seed replays the run. */
  seed: number | null;
  /** Epoch ms, null when idle. */
  startedAt: number | null;
  endsAt: number | null;
  stoppedAt: number | null;
  elapsedMs: number;
  remainingMs: number;
}

export interface LogSimulatorDeps {
  clock: Clock;
  /** Seeds runs started without one (the server may pass a random source); default: the start time. */
  newSeed?: () => number;
  /** Default SIMULATOR_LIMITS.maxLinesPerTick. */
  maxLinesPerTick?: number;
}

interface Run extends RunCounters {
  config: SimulatorConfig;
  seed: number;
  state: 'running' | 'completed' | 'stopped';
  startedAt: number;
  endsAt: number;
  stoppedAt: number | null;
  stream: EventStream;
}

function checkRange(name: string, v: unknown, lo: number, hi: number, loInclusive = true): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (loInclusive ? v < lo : v <= lo) || v > hi) {
    throw new SimulatorError('VIGIL_SIMULATOR_OPTIONS', `${name} must be a number ${loInclusive ? '≥' : '>'} ${lo} and ≤ ${hi} (got ${String(v)})`);
  }
  return v;
}

/** Validates start options over the defaults; throws SimulatorError (VIGIL_SIMULATOR_OPTIONS). */
export function resolveSimulatorOptions(options: SimulatorStartOptions = {}): SimulatorConfig & { seed?: number } {
  const durationMs = checkRange('durationMs', options.durationMs ?? SIMULATOR_DEFAULTS.durationMs, 0, SIMULATOR_LIMITS.maxDurationMs, false);
  const batchIntervalMs = checkRange('batchIntervalMs', options.batchIntervalMs ?? SIMULATOR_DEFAULTS.batchIntervalMs, SIMULATOR_LIMITS.minBatchIntervalMs, SIMULATOR_LIMITS.maxBatchIntervalMs);
  const ratePerSecond = checkRange('ratePerSecond', options.ratePerSecond ?? SIMULATOR_DEFAULTS.ratePerSecond, 0, SIMULATOR_LIMITS.maxRatePerSecond, false);
  const format = options.format ?? SIMULATOR_DEFAULTS.format;
  if (format !== 'text' && format !== 'json') throw new SimulatorError('VIGIL_SIMULATOR_OPTIONS', `format must be "text" or "json" (got ${String(format)})`);
  const out: SimulatorConfig & { seed?: number } = { durationMs, batchIntervalMs, ratePerSecond, format };
  if (options.seed !== undefined) {
    if (!Number.isSafeInteger(options.seed)) throw new SimulatorError('VIGIL_SIMULATOR_OPTIONS', `seed must be a safe integer (got ${String(options.seed)})`);
    out.seed = options.seed;
  }
  return out;
}

const emptyByKind = (): Record<string, number> => Object.fromEntries(ERROR_KIND_IDS.map((id) => [id, 0]));

function countOf(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer (got ${n})`);
  return n;
}

export class LogSimulator {
  private readonly clock: Clock;
  private readonly newSeed: (() => number) | undefined;
  private readonly maxLinesPerTick: number;
  private run: Run | undefined;

  constructor(deps: LogSimulatorDeps) {
    this.clock = deps.clock;
    this.newSeed = deps.newSeed;
    this.maxLinesPerTick = Math.max(1, Math.floor(deps.maxLinesPerTick ?? SIMULATOR_LIMITS.maxLinesPerTick));
  }

  get running(): boolean {
    return this.run?.state === 'running';
  }

  /** Starts a run; throws SimulatorError VIGIL_SIMULATOR_RUNNING when one is running. */
  start(options: SimulatorStartOptions = {}): SimulatorStatus {
    if (this.running) throw new SimulatorError('VIGIL_SIMULATOR_RUNNING', 'the log simulator is already running');
    const { seed: given, ...config } = resolveSimulatorOptions(options);
    const startedAt = this.clock.now();
    const seed = given ?? Math.trunc(this.newSeed ? this.newSeed() : startedAt);
    this.run = {
      config,
      seed,
      state: 'running',
      startedAt,
      endsAt: startedAt + config.durationMs,
      stoppedAt: null,
      stream: new EventStream(seed, startedAt, config.ratePerSecond),
      logsGenerated: 0,
      logsShipped: 0,
      logsFailed: 0,
      batches: 0,
      lastBatchAt: null,
      lastError: null,
      byClass: { info: 0, error: 0, warn: 0 },
      errorsByKind: emptyByKind(),
      knownErrors: 0,
      unknownErrors: 0,
    };
    return this.status();
  }

  /** Stops the run now (lines not yet ticked are never generated); idempotent. Returns the final status. */
  stop(): SimulatorStatus {
    const run = this.run;
    if (run && run.state === 'running') {
      run.state = 'stopped';
      run.stoppedAt = Math.max(run.startedAt, Math.min(this.clock.now(), run.endsAt));
    }
    return this.status();
  }

  /** The lines due since the last tick, up to `nowMs` (default: the clock) and never past endsAt. */
  tick(nowMs?: number): string[] {
    const run = this.run;
    const events = this.tickEvents(nowMs);
    if (!run) return [];
    return events.map((e) => renderLine(e, run.config.format));
  }

  /** tick() before rendering: the events themselves. */
  tickEvents(nowMs: number = this.clock.now()): SimEvent[] {
    const run = this.run;
    if (!run || run.state !== 'running') return [];
    const limit = Math.min(nowMs, run.endsAt);
    const out: SimEvent[] = [];
    while (out.length < this.maxLinesPerTick && run.stream.peekTime() <= limit) {
      const ev = run.stream.next();
      out.push(ev);
      run.byClass[ev.cls]++;
      if (ev.cls === 'error') {
        run.errorsByKind[ev.kind] = (run.errorsByKind[ev.kind] ?? 0) + 1;
        if (ev.known) run.knownErrors++;
        else run.unknownErrors++;
      }
    }
    run.logsGenerated += out.length;
    if (out.length > 0) {
      run.batches++;
      run.lastBatchAt = nowMs;
    }
    if (nowMs >= run.endsAt && run.stream.peekTime() > run.endsAt) {
      run.state = 'completed';
      run.stoppedAt = run.endsAt;
    }
    return out;
  }

  /** The caller shipped `n` lines of a batch (counts also after the run ended). */
  markShipped(n: number): void {
    if (this.run) this.run.logsShipped += countOf('markShipped(n)', n);
  }

  /** The caller could not ship `n` lines; `error` is kept as lastError. */
  markFailed(n: number, error?: string): void {
    if (!this.run) return;
    this.run.logsFailed += countOf('markFailed(n)', n);
    if (error !== undefined) this.run.lastError = error.slice(0, 500);
  }

  status(): SimulatorStatus {
    const run = this.run;
    if (!run) {
      return {
        ...SIMULATOR_DEFAULTS, state: 'idle', running: false, seed: null, startedAt: null, endsAt: null, stoppedAt: null,
        elapsedMs: 0, remainingMs: 0, logsGenerated: 0, logsShipped: 0, logsFailed: 0, batches: 0, lastBatchAt: null, lastError: null,
        byClass: { info: 0, error: 0, warn: 0 }, errorsByKind: emptyByKind(), knownErrors: 0, unknownErrors: 0,
      };
    }
    const now = this.clock.now();
    const running = run.state === 'running';
    const until = running ? Math.min(now, run.endsAt) : (run.stoppedAt ?? run.endsAt);
    return {
      ...run.config,
      state: run.state,
      running,
      seed: run.seed,
      startedAt: run.startedAt,
      endsAt: run.endsAt,
      stoppedAt: run.stoppedAt,
      elapsedMs: Math.max(0, until - run.startedAt),
      remainingMs: running ? Math.max(0, run.endsAt - now) : 0,
      logsGenerated: run.logsGenerated,
      logsShipped: run.logsShipped,
      logsFailed: run.logsFailed,
      batches: run.batches,
      lastBatchAt: run.lastBatchAt,
      lastError: run.lastError,
      byClass: { ...run.byClass },
      errorsByKind: { ...run.errorsByKind },
      knownErrors: run.knownErrors,
      unknownErrors: run.unknownErrors,
    };
  }
}
