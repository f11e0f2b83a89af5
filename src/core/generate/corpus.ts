/**
 * The labelled synthetic corpus behind `vigil generate`: a shop of services writing realistic logs
 * in time order, with anomalies of six kinds injected at a chosen rate after a clean warm-up.
 *
 * It is a discrete-event simulation. Request arrivals (a Poisson process whose rate follows a daily
 * curve times slow noise), per-service ambient events, health checks, metrics and background jobs
 * put timed events on one queue; a request schedules all of its steps across services under one
 * request id, so concurrent requests interleave as they do in production. Anomaly episodes start
 * when the line count reaches their planned position and add their own events. Lines are produced
 * one at a time, so memory stays flat for any number of lines, and everything is drawn from seeded
 * streams: the same options give the same lines.
 */
import { makeOutlier, breakFlow, pickNewError, FLOOD_FAMILIES, SECRET_KINDS, ANOMALY_KINDS, type AnomalyKind } from './anomalies.js';
import { EventQueue } from './event-queue.js';
import { isoTime, messageText, renderLine, type Level, type Message, type Writer } from './format.js';
import { EpisodePlan, type Episode } from './plan.js';
import { Rng } from './prng.js';
import {
  activeWorkflows, newFlowCtx, normalTransitions, withSlowWarning, jobFinished, jobStarted, healthMessage, metricsMessage,
  AMBIENT, HEALTH_EVERY_MS, JOBS, METRICS_EVERY_MS, SLOW_SHARE, STEPS, WORKFLOWS, type ActiveWorkflow, type AmbientDef,
} from './scenarios.js';
import { Pools, ServiceSet, ms, DEFAULT_SERVICES, MAX_SERVICES, MIN_SERVICES } from './services.js';

export { ANOMALY_KINDS, type AnomalyKind } from './anomalies.js';

export interface CorpusOptions {
  /** Lines to write (≥ 100). */
  lines: number;
  /** Share of lines that are anomalous, in [0, 0.5]. */
  anomalyRate: number;
  /** Any safe integer. */
  seed: number;
  /** Time of the first event, epoch ms. */
  startMs: number;
  /** How many services of the catalogue run (3 … 12). */
  services: number;
}

export const DEFAULT_START = '2026-11-20T08:00:00.000Z';
export const CORPUS_DEFAULTS = { lines: 100_000, anomalyRate: 0.05, seed: 1, startMs: Date.parse(DEFAULT_START), services: DEFAULT_SERVICES } as const;
export const CORPUS_LIMITS = { minLines: 100, maxLines: 1_000_000_000, maxAnomalyRate: 0.5, minServices: MIN_SERVICES, maxServices: MAX_SERVICES } as const;
/** The first 10% of lines carry no anomaly, so detectors can learn what normal looks like. */
export const WARMUP_FRACTION = 0.1;
/** Requests per second at traffic factor 1 (about 25 lines per second with everything else). */
export const BASE_REQUESTS_PER_S = 4;

export interface AnomalyLabel {
  kind: AnomalyKind;
  /** What was injected, for people reading labels.jsonl. */
  detail: string;
  /** Lines of one injected event (one burst, spike, flood …) share an episode number. */
  episode: number;
}

export interface CorpusLine {
  /** The log line, without a line break. */
  line: string;
  timeMs: number;
  service: string;
  /** The level the service wrote (absent for raw lines such as a torn write). */
  level?: Level;
  label?: AnomalyLabel;
  /** Request id (or job run id) tying the line to a session. */
  session?: string;
  /** What produced the line: a workflow step id (`orders.create`), ambient event id, `health`, … */
  step?: string;
}

/** Why options are not usable; empty when they are. */
export function corpusOptionProblems(o: CorpusOptions): string[] {
  const p: string[] = [];
  if (!Number.isInteger(o.lines) || o.lines < CORPUS_LIMITS.minLines || o.lines > CORPUS_LIMITS.maxLines) p.push(`lines must be an integer from ${CORPUS_LIMITS.minLines} to ${CORPUS_LIMITS.maxLines}`);
  if (!(o.anomalyRate >= 0 && o.anomalyRate <= CORPUS_LIMITS.maxAnomalyRate)) p.push(`anomaly rate must be in [0, ${CORPUS_LIMITS.maxAnomalyRate}]`);
  if (!Number.isSafeInteger(o.seed)) p.push('seed must be an integer');
  if (!Number.isFinite(o.startMs)) p.push('start must be a valid time');
  if (!Number.isInteger(o.services) || o.services < MIN_SERVICES || o.services > MAX_SERVICES) p.push(`services must be an integer from ${MIN_SERVICES} to ${MAX_SERVICES}`);
  return p;
}

interface Emission {
  service: string;
  text: string;
  level?: Level;
  label?: AnomalyLabel;
  session?: string;
  step?: string;
}

type Fire = () => Emission | undefined;

const HOUR_MS = 3_600_000;
const NOISE_BUCKET_MS = 30_000;

class Simulation {
  private readonly queue = new EventQueue<Fire>();
  private now: number;
  private emitted = 0;
  private readonly traffic: Rng;
  private readonly anomaly: Rng;
  private readonly noise: Rng;
  private readonly pools: Pools;
  private readonly services: ServiceSet;
  private readonly names: string[];
  private readonly workflows: ActiveWorkflow[];
  private readonly workflowWeights: number[];
  private readonly normal: Set<string>;
  private readonly spikeable: AmbientDef[];
  private readonly usedNewErrors = new Set<string>();
  private readonly plan: EpisodePlan;
  private noiseBucket = 0;
  private noiseX = 0;

  constructor(private readonly o: CorpusOptions) {
    const problems = corpusOptionProblems(o);
    if (problems.length > 0) throw new RangeError(`invalid corpus options: ${problems.join('; ')}`);
    this.now = Math.floor(o.startMs);
    this.traffic = Rng.stream(o.seed, 'traffic');
    this.anomaly = Rng.stream(o.seed, 'anomaly');
    this.noise = Rng.stream(o.seed, 'noise');
    this.pools = new Pools(Rng.stream(o.seed, 'pools'));
    this.services = new ServiceSet(o.services, Rng.stream(o.seed, 'services'));
    this.names = this.services.names();
    const has = (s: string): boolean => this.services.has(s);
    this.workflows = activeWorkflows(has);
    this.workflowWeights = this.workflows.map((w) => w.def.weight);
    this.normal = normalTransitions(this.workflows);
    this.spikeable = AMBIENT.filter((a) => a.spikeable && has(a.service));
    this.plan = new EpisodePlan(Rng.stream(o.seed, 'plan'), o.lines, o.anomalyRate, WARMUP_FRACTION);
    this.startSources();
  }

  /** Schedules an event (times are whole milliseconds, never before now). */
  private at(t: number, fire: Fire): void {
    this.queue.push(Math.max(this.now, Math.floor(t)), fire);
  }

  /** Traffic factor: a daily curve (low at 03:00 UTC, high at 15:00) times slow log-normal noise. */
  private load(t: number): number {
    const bucket = Math.floor((t - this.o.startMs) / NOISE_BUCKET_MS);
    while (this.noiseBucket < bucket) {
      this.noiseX = 0.85 * this.noiseX + 0.08 * this.noise.normal();
      this.noiseBucket++;
    }
    const hour = (((t / HOUR_MS) % 24) + 24) % 24;
    return (1 + 0.55 * Math.sin((2 * Math.PI * (hour - 9)) / 24)) * Math.exp(this.noiseX);
  }

  private emit(w: Writer, m: Message, extra: Omit<Emission, 'service' | 'text' | 'level'> = {}): Emission {
    return { service: w.service, text: renderLine(w, this.now, m, extra.session), level: m.level, ...extra };
  }

  // ------------------------------------------------------------------ normal traffic

  private startSources(): void {
    const r = this.traffic;
    const start = this.o.startMs;
    const arrival: Fire = () => {
      const w = this.workflows[r.weightedIndex(this.workflowWeights)]!;
      const v = w.variants[r.weightedIndex(w.weights)]!;
      const steps = v.status < 400 && r.chance(SLOW_SHARE) ? withSlowWarning(v.steps) : v.steps;
      this.startFlow(r, w, v.status, steps);
      this.at(this.now + r.exp(BASE_REQUESTS_PER_S * this.load(this.now)) * 1000, arrival);
      return undefined;
    };
    this.at(start, arrival);

    for (const a of AMBIENT) {
      if (!this.services.has(a.service)) continue;
      const tick: Fire = () => {
        this.at(this.now + r.exp(a.rate * (a.diurnal ? this.load(this.now) : 1)) * 1000, tick);
        return this.emit(this.services.writer(a.service, r), a.render(r, this.pools), { step: a.id });
      };
      this.at(start + r.exp(a.rate) * 1000, tick);
    }

    for (const d of this.services.defs) {
      if (d.format !== 'syslog') {
        for (let i = 0; i < d.replicas; i++) {
          const w = this.services.writer(d.name, r);
          const health: Fire = () => {
            this.at(this.now + HEALTH_EVERY_MS + r.int(-400, 400), health);
            return this.emit(w, healthMessage(d.name, r), { step: 'health' });
          };
          this.at(start + r.int(0, HEALTH_EVERY_MS - 1), health);
        }
      }
      const metrics: Fire = () => {
        this.at(this.now + METRICS_EVERY_MS + r.int(-50, 50), metrics);
        return this.emit(this.services.writer(d.name, r), metricsMessage(d.name, d.format === 'syslog', this.load(this.now), r), { step: 'metrics' });
      };
      this.at(start + r.int(0, METRICS_EVERY_MS - 1), metrics);
    }

    for (const job of JOBS) {
      if (!job.requires.every((s) => this.services.has(s))) continue;
      const run: Fire = () => {
        this.at(this.now + job.everyMs + r.int(0, 2000), run);
        this.startJob(job, r);
        return undefined;
      };
      this.at(start + r.int(0, job.everyMs - 1), run);
    }
  }

  /** Schedules every step of a request; `labelAt` marks the step where a broken flow breaks. */
  private startFlow(r: Rng, w: ActiveWorkflow, status: number, steps: readonly string[], labelAt = -1, label?: AnomalyLabel): void {
    const ctx = newFlowCtx(w.def, status, this.pools, r);
    const t0 = this.now;
    let t = t0;
    for (let i = 0; i < steps.length; i++) {
      const step = STEPS[steps[i]!]!;
      t += step.delay(r);
      const at = t;
      const stepLabel = i === labelAt ? label : undefined;
      this.at(at, () => this.emit(this.services.writer(step.service, r), step.render(ctx, r, at - t0), { session: ctx.reqId, step: step.id, label: stepLabel }));
    }
  }

  private startJob(job: (typeof JOBS)[number], r: Rng): void {
    const runId = `job-${r.hex(10)}`;
    const t0 = this.now;
    const stamp = isoTime(t0).slice(0, 16).replace(/[-:]/g, '');
    const scheduler = this.services.writer('scheduler', r);
    this.at(t0, () => this.emit(scheduler, jobStarted(job.name, runId), { step: 'job.start' }));
    let t = t0;
    for (const s of job.steps(r)) {
      t += s.delay(r);
      this.at(t, () => {
        const m = s.render(r, stamp);
        return this.emit(this.services.writer(s.service, r), { ...m, kv: [...(m.kv ?? []), ['run_id', runId]] }, { step: `job.${job.name}` });
      });
    }
    t += ms(r, 40);
    const end = t;
    this.at(end, () => this.emit(scheduler, jobFinished(job.name, runId, end - t0, job.expectedMs), { step: 'job.finish' }));
  }

  // ------------------------------------------------------------------ anomalies

  /** Longest an episode may last (s) so that it most likely ends before the last line. */
  private maxEpisodeSeconds(): number {
    const elapsedS = Math.max(1, (this.now - this.o.startMs) / 1000);
    const linesPerS = Math.max(1, this.emitted / elapsedS);
    return Math.max(1, (0.5 * (this.o.lines - this.emitted)) / linesPerS);
  }

  /** Emits `count` lines, the first at `first`, then after gaps drawn by `gapMs`. */
  private repeat(count: number, first: number, gapMs: () => number, make: () => Emission): void {
    let left = count;
    const fire: Fire = () => {
      left--;
      if (left > 0) this.at(this.now + gapMs(), fire);
      return make();
    };
    if (count > 0) this.at(first, fire);
  }

  private trigger(ep: Episode): void {
    const r = this.anomaly;
    const label = (detail: string): AnomalyLabel => ({ kind: ep.kind, detail, episode: ep.id });
    switch (ep.kind) {
      case 'new_error': {
        const pick = pickNewError(r, this.usedNewErrors, this.names);
        const w = this.services.writer(pick.service, r);
        const seconds = Math.min(r.float(5, 60), this.maxEpisodeSeconds());
        const l = label(`never-seen error in ${pick.service}: ${pick.title} (burst of ${ep.size} lines)`);
        this.repeat(ep.size, this.now + r.int(0, 500), () => r.exp(ep.size / seconds) * 1000, () => this.emit(w, pick.render(r), { label: l, step: `new_error:${pick.key}` }));
        break;
      }
      case 'spike': {
        const multiplier = r.float(10, 20);
        const target = r.float(20, 90);
        let best: { a: AmbientDef; seconds: number; rate: number } | undefined;
        for (const a of this.spikeable) {
          const rate = a.rate * (a.diurnal ? this.load(this.now) : 1);
          const seconds = ep.size / ((multiplier - 1) * rate);
          if (!best || Math.abs(Math.log(seconds / target)) < Math.abs(Math.log(best.seconds / target))) best = { a, seconds, rate };
        }
        const { a, rate } = best!;
        const seconds = Math.min(best!.seconds, this.maxEpisodeSeconds());
        const effective = 1 + ep.size / (seconds * rate);
        const l = label(`spike of ${a.id} (${a.service}) at ${effective.toFixed(1)}x its usual rate for ${Math.round(seconds)} s: ${ep.size} extra lines`);
        this.repeat(ep.size, this.now + r.int(0, 500), () => r.exp(ep.size / seconds) * 1000, () => this.emit(this.services.writer(a.service, r), a.render(r, this.pools), { label: l, step: a.id }));
        break;
      }
      case 'flood': {
        const families = FLOOD_FAMILIES.filter((f) => this.services.has(f.service));
        const f = r.pick(families);
        const m = f.make(r, this.pools);
        const w = this.services.writer(f.service, r);
        const perSecond = r.float(60, 160);
        const l = label(`flood from ${f.service}: "${messageText(m)}" repeated ${ep.size} times in ${(ep.size / perSecond).toFixed(1)} s`);
        this.repeat(ep.size, this.now + r.int(0, 500), () => r.exp(perSecond) * 1000, () => this.emit(w, m, { label: l, step: `flood:${f.id}` }));
        break;
      }
      case 'broken_sequence': {
        const b = breakFlow(r, this.workflows, this.normal);
        const status = b.workflow.variants[b.variantIndex]!.status;
        this.startFlow(r, b.workflow, status, b.steps, b.breakAt, label(b.description));
        break;
      }
      case 'leaked_secret': {
        const k = r.pick(SECRET_KINDS);
        const service = this.services.has(k.service) ? k.service : k.fallback;
        const m = k.make(r, this.pools);
        const w = this.services.writer(service, r);
        const l = label(`${k.what} logged by ${service}`);
        this.at(this.now + r.int(0, 400), () => this.emit(w, m, { label: l, step: `leaked_secret:${k.id}` }));
        break;
      }
      case 'rare_outlier': {
        this.at(this.now + r.int(0, 400), () => {
          const o = makeOutlier(r, this.pools, this.names, (service) => this.sampleLine(service, r));
          const l = label(`rare ${o.variant} line`);
          if (o.raw !== undefined) return { service: o.service, text: o.raw, label: l, step: `rare_outlier:${o.variant}` };
          return this.emit(this.services.writer(o.service, r), o.message!, { label: l, step: `rare_outlier:${o.variant}` });
        });
        break;
      }
    }
  }

  /** An ordinary-looking line of the gateway, auth or orders at the current time (for torn writes). */
  private sampleLine(service: string, r: Rng): string {
    const checkout = WORKFLOWS[0]!;
    const ctx = newFlowCtx(checkout, 201, this.pools, r);
    const step = STEPS[service === 'auth' ? 'auth.validate' : service === 'orders' ? 'orders.create' : 'gw.done']!;
    return renderLine(this.services.writer(step.service, r), this.now, step.render(ctx, r, ms(r, 300)), ctx.reqId);
  }

  // ------------------------------------------------------------------ the run

  *run(): Generator<CorpusLine> {
    let ep = this.plan.next();
    while (this.emitted < this.o.lines) {
      while (ep && ep.startLine <= this.emitted) {
        this.trigger(ep);
        ep = this.plan.next();
      }
      const ev = this.queue.pop()!;
      this.now = ev.t;
      const e = ev.value();
      if (!e) continue;
      this.emitted++;
      const out: CorpusLine = { line: e.text, timeMs: this.now, service: e.service };
      if (e.level) out.level = e.level;
      if (e.label) out.label = e.label;
      if (e.session) out.session = e.session;
      if (e.step) out.step = e.step;
      yield out;
    }
  }
}

/** The corpus, line by line, in time order. */
export function* generateCorpus(options: CorpusOptions): Generator<CorpusLine> {
  yield* new Simulation(options).run();
}

/** Lines of the warm-up (no anomaly there) for a corpus of `lines` lines. */
export function warmupLines(lines: number): number {
  return Math.ceil(WARMUP_FRACTION * lines);
}

/** Counts over a corpus as it streams by, for the manifest. */
export class CorpusTally {
  lines = 0;
  anomalous = 0;
  firstMs: number | undefined;
  lastMs: number | undefined;
  readonly counts = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, 0])) as Record<AnomalyKind, number>;
  readonly perService = new Map<string, number>();
  readonly levels: Record<'normal' | 'anomalous', Record<string, number>> = { normal: {}, anomalous: {} };
  private readonly episodeIds = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, new Set<number>()])) as Record<AnomalyKind, Set<number>>;
  private readonly singleEpisodes = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, 0])) as Record<AnomalyKind, number>;

  add(l: CorpusLine): void {
    this.lines++;
    this.firstMs ??= l.timeMs;
    this.lastMs = l.timeMs;
    this.perService.set(l.service, (this.perService.get(l.service) ?? 0) + 1);
    const levels = l.label ? this.levels.anomalous : this.levels.normal;
    const level = l.level ?? 'none';
    levels[level] = (levels[level] ?? 0) + 1;
    if (!l.label) return;
    this.anomalous++;
    this.counts[l.label.kind]++;
    // single-line kinds have one episode per line: count them without remembering ids
    if (l.label.kind === 'new_error' || l.label.kind === 'spike' || l.label.kind === 'flood') this.episodeIds[l.label.kind].add(l.label.episode);
    else this.singleEpisodes[l.label.kind]++;
  }

  episodes(): Record<AnomalyKind, number> {
    return Object.fromEntries(ANOMALY_KINDS.map((k) => [k, this.episodeIds[k].size + this.singleEpisodes[k]])) as Record<AnomalyKind, number>;
  }
}
