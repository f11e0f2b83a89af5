/**
 * The pipeline worker: batches from the queue → per project and source, parse → mine → the
 * streaming detectors → the decision → incidents, with everything it changes aggregated in memory
 * and stored in one transaction every `flushIntervalMs` (or sooner, once `flushMaxRecords` are
 * waiting).
 *
 * Order and consistency: work on records is synchronous and in memory; everything that touches the
 * database (loading a project's state, flushes, status changes made by people) runs on one serial
 * lane, so a flush always writes the newest state and a status change is never overwritten by an
 * older one.
 *
 * Checkpoints: every `snapshotIntervalMs` (and at stop), a flush also stores, for each project that
 * processed records since the last one, the state that produced its results — its detectors
 * (src/core/analyze/detector-state.ts), and each changed source's reader and miner — with the
 * stream position of the last entry that state includes. So a restart keeps the learned formats,
 * templates and detector baselines, and incidents come back from `incidents`.
 *
 * Acknowledgement (`ackOn`):
 * - `flush` (embedded, the in-process queue): a batch is acknowledged once the flush that stores
 *   its results has committed (the client's reply waits for that). A crash can lose up to one
 *   checkpoint interval of baseline learning, never a stored count.
 * - `checkpoint` (the fleet's stream): once a checkpoint that includes it has committed. A worker
 *   taking a project over loads the checkpoint and gets every entry not yet acknowledged again, in
 *   order: an entry whose batch is not in `processed_batches` is processed; one recorded under this
 *   very entry but after the checkpoint is replayed into the state only (its results are stored
 *   already); anything else (a second copy of a batch, an entry the checkpoint includes) is
 *   acknowledged as a duplicate. The result is exactly what one uninterrupted worker produces.
 *
 * Idempotency: a batch id already in `processed_batches` (or in flight) is never counted twice. A
 * flush that would (two workers both believing they own a project) is refused by the store as a
 * whole (FlushConflictError); the pipeline then drops everything it holds and fails the deliveries
 * it had not acknowledged, so they are read again on top of the stored state.
 *
 * Wall-clock time never changes results: it only stamps createdAt/updatedAt and paces flushes.
 */
import { resolveConfig, type AnalyzeConfig } from '../core/analyze/analyze-config.js';
import { decide } from '../core/analyze/decision.js';
import { restoreDetectors, snapshotDetectors } from '../core/analyze/detector-state.js';
import { createDetectors, DETECTOR_SPECS } from '../core/analyze/detectors.js';
import type { Detector, DetectInput, Finding } from '../core/detect/detector.js';
import { recordGroup } from '../core/detect/detector.js';
import { sessionKeyOf } from '../core/detect/session-key.js';
import type { Incident, IncidentEvent, IncidentStatus } from '../core/incidents/incident.js';
import { IncidentTracker, type IncidentChange } from '../core/incidents/tracker.js';
import { TemplateMiner, type MinerSnapshot } from '../core/mine/miner.js';
import { FlushConflictError, type CheckpointWrite, type FlushWrites, type MinerStateWrite, type TemplateDelta, type VigilStore, type VolumeDelta } from '../adapters/store/vigil-store.js';
import { comparePositions, type CommandDelivery, type Delivery, type IngestBatch, type IngestQueue, type StatusCommand } from './queue.js';
import { SourceReader, type ReaderState } from './source-reader.js';

export interface PipelineLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Hooks for metrics and later stages (triage, notifications, live updates). */
export interface PipelineObserver {
  processed?(records: number, anomalies: number): void;
  flushed?(seconds: number, batches: number): void;
  flushFailed?(err: unknown): void;
  duplicate?(batch: IngestBatch): void;
  incidentEvent?(e: IncidentEvent): void;
  /** Incidents a flush has just stored, as stored (the live feed publishes them). */
  incidentsStored?(changes: readonly IncidentChange[]): void;
  windowFindings?(n: number): void;
  /** A checkpoint was stored: how many projects, and the seconds it took to snapshot them. */
  checkpointed?(projects: number, snapshotSeconds: number): void;
  /** A batch stored after the last checkpoint came again (a takeover) and was replayed into the state only. */
  replayed?(batch: IngestBatch): void;
  /** A person's status change that came through the stream (fleet mode) is stored: the incident as stored. */
  statusApplied?(incident: Incident, command: StatusCommand): void;
}

/** What the pipeline asks of the store (the pipeline thread reaches the main thread's store for these). */
export type PipelineStore = Pick<VigilStore, 'flush' | 'getIncident' | 'incidentsOfSource' | 'processedBatch' | 'projectState' | 'setIncidentStatus'>;

export interface PipelineOptions {
  store: PipelineStore;
  /** Wall clock, epoch ms. */
  now: () => number;
  newId: () => string;
  /** Detector and decision settings (default: `vigil analyze`'s defaults). */
  analyzeConfig?: AnalyzeConfig;
  incidentWindowMs?: number;
  flushIntervalMs?: number;
  flushMaxRecords?: number;
  /** Time between checkpoints (detector and source state). */
  snapshotIntervalMs?: number;
  /** When deliveries are acknowledged (see the top of this file). Default `flush`. */
  ackOn?: 'flush' | 'checkpoint';
  observer?: PipelineObserver;
  log?: PipelineLog;
}

/** A source's saved state: the miner and what the reader learned. */
export interface SourceSnapshot {
  format: 'vigil.source';
  version: 1;
  records: number;
  reader: ReaderState;
  miner: MinerSnapshot;
}

interface SourceState {
  projectId: string;
  source: string;
  reader: SourceReader;
  miner: TemplateMiner;
  records: number;
  /** Batches processed, and how many of them the last stored snapshot includes. */
  changes: number;
  saved: number;
}

interface ProjectState {
  projectId: string;
  detectors: Detector[];
  sources: Map<string, SourceState>;
  /** Source snapshots of the checkpoint, for sources not used yet. */
  savedSources: Map<string, unknown>;
  changes: number;
  saved: number;
  /** Stream position of the last entry processed, and the one the stored checkpoint includes. */
  position: string | undefined;
  coveredThrough: string | undefined;
}

/** What acknowledges one processed batch (and any copies of it that arrived meanwhile). */
interface Settle {
  ack(): void;
  fail(err: Error): void;
}

interface Processed {
  key: string;
  projectId: string;
  settles: Settle[];
}

class Pending {
  /** What the flush records as processed; `command`: a status change it stores (announced once stored). */
  batches: { projectId: string; batchId: string; records: number; entryId: string | undefined; command?: StatusCommand }[] = [];
  templates = new Map<string, TemplateDelta>();
  volume = new Map<string, VolumeDelta>();
  records = 0;

  get empty(): boolean {
    return this.batches.length === 0 && this.templates.size === 0 && this.volume.size === 0;
  }

  /** Adds what a failed flush held back into this one. */
  absorb(o: Pending): void {
    this.batches.unshift(...o.batches);
    for (const [k, t] of o.templates) {
      const mine = this.templates.get(k);
      if (!mine) this.templates.set(k, t);
      else {
        mine.countDelta += t.countDelta;
        mine.firstSeenMs = Math.min(mine.firstSeenMs, t.firstSeenMs);
        mine.lastSeenMs = Math.max(mine.lastSeenMs, t.lastSeenMs);
      }
    }
    for (const [k, v] of o.volume) {
      const mine = this.volume.get(k);
      if (!mine) this.volume.set(k, v);
      else {
        mine.records += v.records;
        mine.anomalies += v.anomalies;
        mine.errors += v.errors;
      }
    }
    this.records += o.records;
  }

  /** Forgets what belongs to the projects `which` selects. */
  drop(which: (projectId: string) => boolean): void {
    this.batches = this.batches.filter((b) => !which(b.projectId));
    for (const [k, t] of this.templates) if (which(t.projectId)) this.templates.delete(k);
    for (const [k, v] of this.volume) if (which(v.projectId)) this.volume.delete(k);
  }
}

/** One promise chain: what is put on it runs one at a time, in order. */
class Lane {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => {});
    return p;
  }
}

/** Processing thrown away (a conflict, or the project was handed to another worker meanwhile). */
export class PipelineResetError extends Error {
  readonly code = 'VIGIL_PIPELINE_RESET';
}

const MINUTE = 60_000;

function countTemplate(t: TemplateDelta, template: string, timeMs: number): void {
  t.countDelta++;
  t.template = template;
  if (timeMs < t.firstSeenMs) t.firstSeenMs = timeMs;
  if (timeMs > t.lastSeenMs) t.lastSeenMs = timeMs;
}
/** An event time this far past arrival is a wrong clock, not the future. */
const MAX_FUTURE_MS = 24 * 3_600_000;
/** Batch ids remembered after their flush (the database remembers them all; this saves a query). */
const RECENT_BATCHES = 10_000;
/** Deliveries waiting for a checkpoint before one is taken early (bounds what a takeover replays). */
const MAX_AWAITING_CHECKPOINT = 20_000;
const MALFORMED_SIGNATURE = 'malformed:binary';

const settleOf = (d: { ack(): void; fail(err: Error): void }): Settle => ({ ack: () => d.ack(), fail: (err) => d.fail(err) });

export class Pipeline {
  readonly tracker: IncidentTracker;
  private readonly config: AnalyzeConfig;
  private readonly projects = new Map<string, ProjectState>();
  private readonly lane = new Lane();
  private readonly loading = new Map<string, Promise<SourceState>>();
  /** Batches processed and not yet acknowledged, by key: a copy arriving meanwhile joins them. */
  private readonly inflight = new Map<string, Processed>();
  /** Processed since the last flush began, in order. */
  private processed: Processed[] = [];
  /** Stored, waiting for a checkpoint to be acknowledged (`ackOn: checkpoint`). */
  private awaiting: Processed[] = [];
  /** Keys of batches stored by this pipeline, with the stream position that carried them. */
  private readonly recent = new Map<string, string | undefined>();
  private pending = new Pending();
  private timer: ReturnType<typeof setInterval> | undefined;
  private flushQueued = false;
  /** Bumped whenever held state is dropped: work begun before must not land in what replaced it. */
  private epoch = 0;
  private readonly defaultYear: number;
  private readonly flushIntervalMs: number;
  private readonly flushMaxRecords: number;
  private readonly snapshotIntervalMs: number;
  private readonly ackOn: 'flush' | 'checkpoint';
  private lastCheckpointMs: number;
  private lastFlushOkMs = 0;
  private lastFlushError: { atMs: number; message: string } | undefined;

  constructor(private readonly opts: PipelineOptions) {
    this.config = opts.analyzeConfig ?? resolveConfig(undefined, DETECTOR_SPECS);
    this.tracker = new IncidentTracker({ now: opts.now }, opts.newId, opts.incidentWindowMs !== undefined ? { windowMs: opts.incidentWindowMs } : {});
    this.defaultYear = new Date(opts.now()).getUTCFullYear();
    this.flushIntervalMs = opts.flushIntervalMs ?? 250;
    this.flushMaxRecords = opts.flushMaxRecords ?? 20_000;
    this.snapshotIntervalMs = opts.snapshotIntervalMs ?? 30_000;
    this.ackOn = opts.ackOn ?? 'flush';
    this.lastCheckpointMs = opts.now();
  }

  /** Starts consuming the queue and the flush timer. */
  start(queue: IngestQueue): void {
    queue.consume((d) => this.handle(d));
    this.run();
  }

  /** Starts the flush timer (a transport that calls `handle` itself). */
  run(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.scheduleFlush(), this.flushIntervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer and stores everything still in memory (a checkpoint included). Call after the queue drained. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.lane.run(() => this.flushNow(true, true));
  }

  stats(): { projects: number; sources: number; incidentsHeld: number; pendingRecords: number; awaitingCheckpoint: number; lastFlushOkMs: number; lastFlushError: { atMs: number; message: string } | undefined } {
    let sources = 0;
    for (const p of this.projects.values()) sources += p.sources.size;
    return { projects: this.projects.size, sources, incidentsHeld: this.tracker.size, pendingRecords: this.pending.records, awaitingCheckpoint: this.awaiting.length, lastFlushOkMs: this.lastFlushOkMs, lastFlushError: this.lastFlushError };
  }

  /** True when the last flush attempt succeeded (or none failed yet). */
  get healthy(): boolean {
    return !this.lastFlushError || this.lastFlushError.atMs < this.lastFlushOkMs;
  }

  /**
   * A person's status change (embedded mode). Applied to the incident held in memory (and stored at
   * once) or, when its source is not loaded, in the database. Undefined when the project has no
   * such incident. (In fleet mode the change travels through the stream: `handleCommand`.)
   */
  setIncidentStatus(projectId: string, id: string, status: IncidentStatus): Promise<Incident | undefined> {
    return this.lane.run(async () => {
      if (this.tracker.setStatus(projectId, id, status)) {
        await this.flushNow(false, true);
        return this.opts.store.getIncident(projectId, id);
      }
      return this.opts.store.setIncidentStatus(projectId, id, status, this.opts.now());
    });
  }

  /** Stores whatever is pending now (tests, shutdown). */
  flush(): Promise<void> {
    return this.lane.run(() => this.flushNow(false, true));
  }

  /** Stores what is pending with a checkpoint of every changed project, and acknowledges everything processed. */
  checkpoint(): Promise<void> {
    return this.lane.run(() => this.flushNow(false, true, true));
  }

  /**
   * Drops the projects `which` selects — their state, results not yet stored, and deliveries not
   * yet acknowledged (which are neither acknowledged nor failed: their entries stay in the stream
   * for whoever owns the projects now). Call between deliveries, not while `handle` runs.
   */
  forget(which: (projectId: string) => boolean): Promise<void> {
    return this.lane.run(async () => {
      this.epoch++;
      const keep = (p: Processed): boolean => !which(p.projectId);
      this.processed = this.processed.filter(keep);
      this.awaiting = this.awaiting.filter(keep);
      for (const [k, p] of this.inflight) if (!keep(p)) this.inflight.delete(k);
      this.pending.drop(which);
      this.pending.records = this.pending.batches.reduce((n, b) => n + b.records, 0);
      this.tracker.forget(which);
      for (const id of [...this.projects.keys()]) if (which(id)) this.projects.delete(id);
      this.recent.clear();
    });
  }

  // ── consuming ────────────────────────────────────────────────────────────────────────────────

  /** Processes one delivered batch (the queue calls this one at a time, in stream order). */
  async handle(d: Delivery): Promise<void> {
    const b = d.batch;
    const key = `${b.projectId}\u0000${b.id}`;
    if (this.duplicate(key, d)) {
      this.opts.observer?.duplicate?.(b);
      return;
    }
    const epoch = this.epoch;
    const src = await this.source(b.projectId, b.source);
    // a batch handed over in process under an id this server generated for it cannot have been
    // stored before (a retry gets a new id): only stream deliveries and client keys need the
    // lookup, a query per batch
    const mayBeStored = d.position !== undefined || b.fresh !== true;
    const done = this.recent.has(key) ? { entryId: this.recent.get(key) } : mayBeStored ? await this.opts.store.processedBatch(b.projectId, b.id) : undefined;
    if (epoch !== this.epoch) {
      d.fail(new PipelineResetError('the pipeline dropped its state while this batch waited; deliver it again'));
      return;
    }
    const project = this.projects.get(b.projectId)!;
    let shadow = false;
    if (done) {
      // the same entry again, stored after the checkpoint: its effect on the state is replayed
      shadow = d.position !== undefined && done.entryId === d.position && (project.coveredThrough === undefined || comparePositions(d.position, project.coveredThrough) > 0);
      if (!shadow) {
        this.opts.observer?.duplicate?.(b);
        d.ack();
        return;
      }
    }
    this.process(b, src, project, shadow);
    if (shadow) this.opts.observer?.replayed?.(b);
    if (d.position !== undefined) project.position = d.position;
    if (!shadow) {
      this.pending.batches.push({ projectId: b.projectId, batchId: b.id, records: b.records.length, entryId: d.position });
      this.pending.records += b.records.length;
    }
    const item: Processed = { key, projectId: b.projectId, settles: [settleOf(d)] };
    this.inflight.set(key, item);
    this.processed.push(item);
    if (this.pending.records >= this.flushMaxRecords || this.awaiting.length >= MAX_AWAITING_CHECKPOINT) this.scheduleFlush();
  }

  /** Applies a person's status change that came through the stream (fleet mode), in order with the logs. */
  async handleCommand(d: CommandDelivery): Promise<void> {
    const c = d.command;
    const key = `${c.projectId}\u0000${c.id}`;
    if (this.duplicate(key, d)) return;
    const epoch = this.epoch;
    await this.source(c.projectId, c.source);
    const done = this.recent.has(key) || (await this.opts.store.processedBatch(c.projectId, c.id)) !== undefined;
    if (epoch !== this.epoch) {
      d.fail(new PipelineResetError('the pipeline dropped its state while this command waited; deliver it again'));
      return;
    }
    // applied already: its effect is in the stored incident (nothing of it lives in a checkpoint)
    if (done) {
      d.ack();
      return;
    }
    const applied = this.tracker.setStatus(c.projectId, c.incidentId, c.status);
    this.pending.batches.push({ projectId: c.projectId, batchId: c.id, records: 0, entryId: d.position, ...(applied ? { command: c } : {}) });
    const item: Processed = { key, projectId: c.projectId, settles: [settleOf(d)] };
    this.inflight.set(key, item);
    this.processed.push(item);
    // the person is waiting for it
    this.scheduleFlush();
  }

  /** A copy of a batch still waiting for its acknowledgement joins it; one stored by this pipeline is acknowledged. */
  private duplicate(key: string, d: { position?: string | undefined; ack(): void; fail(err: Error): void }): boolean {
    const waiting = this.inflight.get(key);
    if (waiting) {
      waiting.settles.push(settleOf(d));
      return true;
    }
    // stored by this pipeline under another entry (or in embedded mode, where there are no positions)
    if (this.recent.has(key) && (d.position === undefined || this.recent.get(key) !== d.position)) {
      d.ack();
      return true;
    }
    return false;
  }

  private source(projectId: string, source: string): Promise<SourceState> | SourceState {
    const held = this.projects.get(projectId)?.sources.get(source);
    if (held) return held;
    const key = `${projectId}\u0000${source}`;
    let p = this.loading.get(key);
    if (!p) {
      p = this.lane.run(() => this.load(projectId, source)).finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  /** The project's checkpoint (detectors, source snapshots, position); afresh when it has none or it is unusable. */
  private async loadProject(projectId: string): Promise<ProjectState> {
    const saved = await this.opts.store.projectState(projectId);
    let detectors: Detector[] | undefined;
    if (saved.detectors !== undefined) {
      try {
        detectors = restoreDetectors(this.config, saved.detectors);
      } catch (err) {
        this.opts.log?.warn({ projectId, err: (err as Error).message }, 'detector state unusable; this project\'s detectors start afresh');
      }
    }
    return {
      projectId,
      detectors: detectors ?? createDetectors(this.config),
      sources: new Map(),
      savedSources: saved.sources,
      changes: 0,
      saved: 0,
      position: saved.coveredThrough,
      coveredThrough: saved.coveredThrough,
    };
  }

  private async load(projectId: string, source: string): Promise<SourceState> {
    let project = this.projects.get(projectId);
    if (!project) {
      project = await this.loadProject(projectId);
      this.projects.set(projectId, project);
    }
    const held = project.sources.get(source);
    if (held) return held;
    const incidents = await this.opts.store.incidentsOfSource(projectId, source);
    const l = this.config.limits;
    const limits = { maxLinesPerRecord: l.maxLinesPerRecord, maxRecordChars: l.maxRecordChars };
    const saved = project.savedSources.get(source);
    project.savedSources.delete(source);
    let state: SourceState | undefined;
    if (saved !== undefined) {
      try {
        const s = saved as Partial<SourceSnapshot>;
        if (s.format !== 'vigil.source' || s.version !== 1) throw new Error(`unknown source snapshot ${String(s.format)} v${String(s.version)}`);
        state = {
          projectId, source,
          reader: new SourceReader(this.defaultYear, limits, s.reader),
          miner: TemplateMiner.restore(s.miner),
          records: Number(s.records) || 0,
          changes: 0,
          saved: 0,
        };
      } catch (err) {
        this.opts.log?.warn({ projectId, source, err: (err as Error).message }, 'source snapshot unreadable; starting this source afresh');
      }
    }
    state ??= { projectId, source, reader: new SourceReader(this.defaultYear, limits), miner: new TemplateMiner({ maxTemplates: l.maxTemplates }), records: 0, changes: 1, saved: 0 };
    this.tracker.restore(incidents);
    project.sources.set(source, state);
    return state;
  }

  // ── the hot path: synchronous, in memory ─────────────────────────────────────────────────────

  /**
   * Runs a batch through the source's reader and miner and the project's detectors. `shadow`:
   * only the state moves (a replay of a batch whose results are stored already): nothing is
   * counted, no incident is touched, no event is emitted.
   */
  private process(b: IngestBatch, src: SourceState, project: ProjectState, shadow: boolean): void {
    const detectors = project.detectors;
    const decision = this.config.decision;
    const observer = this.opts.observer;
    let lastTime: number | undefined;
    let records = 0;
    let anomalies = 0;
    // per-batch shortcuts to the pending deltas: consecutive records share a minute, and a batch's
    // records a handful of templates, so the composite keys are built once per batch, not per line
    let volMinute = NaN;
    let batchVol: VolumeDelta | undefined;
    const batchTemplates = new Map<string, TemplateDelta>();
    src.reader.read(b.records, ({ record: rec, binary, chars }) => {
      records++;
      src.records++;
      const t = rec.timestamp;
      const timeMs = t !== undefined && Number.isFinite(t) && t >= 0 && t <= b.receivedAtMs + MAX_FUTURE_MS ? t : (lastTime ?? b.receivedAtMs);
      lastTime = timeMs;
      let vol: VolumeDelta | undefined;
      if (!shadow) {
        const minuteMs = Math.floor(timeMs / MINUTE) * MINUTE;
        if (minuteMs !== volMinute) {
          batchVol = this.volume(b.projectId, minuteMs);
          volMinute = minuteMs;
        }
        vol = batchVol;
      }
      if (vol) {
        vol.records++;
        if (rec.level === 'error' || rec.level === 'fatal') vol.errors++;
      }

      if (binary) {
        if (!vol) return;
        anomalies++;
        vol.anomalies++;
        this.emit(this.tracker.observe({
          projectId: b.projectId, source: b.source, signature: MALFORMED_SIGNATURE, title: 'binary or undecodable line', severity: 'medium', timeMs,
          message: rec.message, reason: `binary or undecodable line (${chars ?? 0} characters) in a text log; not mined`, score: 1, detectors: ['malformed'],
        }));
        return;
      }

      const mined = src.miner.add(rec.message);
      if (vol) {
        const t = batchTemplates.get(mined.templateId);
        if (t === undefined) batchTemplates.set(mined.templateId, this.template(b.projectId, b.source, mined.templateId, mined.template, timeMs));
        else countTemplate(t, mined.template, timeMs);
      }
      // one shape for every record (sessionKey present, maybe undefined): the detectors' property
      // reads stay monomorphic instead of seeing inputs with and without it
      const input: DetectInput = { seq: src.records, source: b.source, record: rec, templateId: mined.templateId, template: mined.template, params: mined.params, createdTemplate: mined.created, timeMs, sessionKey: sessionKeyOf(rec, mined.params), group: recordGroup(rec, b.source) };
      let findings: Finding[] | undefined;
      for (const d of detectors) {
        const f = d.observe(input);
        if (f.length > 0) (findings ??= []).push(...f);
      }
      if (!findings || !vol) return;
      const d = decide(findings, rec.level, decision);
      if (!d.anomaly) return;
      anomalies++;
      vol.anomalies++;
      this.emit(this.tracker.observe({
        projectId: b.projectId, source: b.source, signature: mined.templateId, title: mined.template, severity: d.severity, timeMs,
        message: rec.message, reason: d.reason, score: d.score, detectors: d.detectors,
      }));
    });
    // findings about spans of time are not incidents yet; drained so they never pile up
    let windows = 0;
    for (const d of detectors) windows += d.drainWindowFindings?.().length ?? 0;
    if (windows > 0 && !shadow) observer?.windowFindings?.(windows);
    src.changes++;
    project.changes++;
    if (!shadow) observer?.processed?.(records, anomalies);
  }

  private emit(events: IncidentEvent[]): void {
    const hook = this.opts.observer?.incidentEvent;
    if (hook) for (const e of events) hook(e);
  }

  private volume(projectId: string, minuteMs: number): VolumeDelta {
    const key = `${projectId}\u0000${minuteMs}`;
    let v = this.pending.volume.get(key);
    if (!v) {
      v = { projectId, minuteMs, records: 0, anomalies: 0, errors: 0 };
      this.pending.volume.set(key, v);
    }
    return v;
  }

  /** Counts one line of a template in the pending deltas; returns its delta. */
  private template(projectId: string, source: string, templateId: string, template: string, timeMs: number): TemplateDelta {
    const key = `${projectId}\u0000${source}\u0000${templateId}`;
    let t = this.pending.templates.get(key);
    if (!t) {
      t = { projectId, source, templateId, template, countDelta: 1, firstSeenMs: timeMs, lastSeenMs: timeMs };
      this.pending.templates.set(key, t);
      return t;
    }
    countTemplate(t, template, timeMs);
    return t;
  }

  // ── flushing ─────────────────────────────────────────────────────────────────────────────────

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    void this.lane.run(async () => {
      this.flushQueued = false;
      await this.flushNow(false, false).catch(() => {});
    });
  }

  /** The checkpoint of every project changed since its last one (what it stores, and what to mark saved once stored). */
  private takeCheckpoint(now: number): { minerStates: MinerStateWrite[]; checkpoints: CheckpointWrite[]; marks: (() => void)[]; seconds: number } {
    const started = performance.now();
    const minerStates: MinerStateWrite[] = [];
    const checkpoints: CheckpointWrite[] = [];
    const marks: (() => void)[] = [];
    for (const p of this.projects.values()) {
      if (p.changes === p.saved) continue;
      for (const s of p.sources.values()) {
        if (s.changes === s.saved) continue;
        const snapshot: SourceSnapshot = { format: 'vigil.source', version: 1, records: s.records, reader: s.reader.state(), miner: s.miner.snapshot() };
        minerStates.push({ projectId: s.projectId, source: s.source, snapshot, atMs: now });
        const at = s.changes;
        marks.push(() => { s.saved = at; });
      }
      let detectors: unknown;
      try {
        detectors = snapshotDetectors(p.detectors, this.config);
      } catch (err) {
        // a detector holding state the codec does not know: store a marker, so a restore starts
        // those detectors afresh rather than the stream stalling behind a checkpoint never taken
        this.opts.log?.error({ projectId: p.projectId, err: (err as Error).message }, 'cannot snapshot the detectors; a restart will start them afresh');
        detectors = { format: 'vigil.detectors.unavailable', reason: (err as Error).message };
      }
      checkpoints.push({ projectId: p.projectId, detectors, coveredThrough: p.position, atMs: now });
      const at = p.changes;
      const position = p.position;
      marks.push(() => {
        p.saved = at;
        p.coveredThrough = position;
      });
    }
    return { minerStates, checkpoints, marks, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * Stores what is pending in one transaction (with a checkpoint when one is due), then
   * acknowledges what that covers. On failure everything is kept for the next attempt (nothing is
   * acknowledged); `mustSucceed` rethrows. On a conflict everything held is dropped and the
   * unacknowledged deliveries fail. Runs on the lane only.
   */
  private async flushNow(final: boolean, mustSucceed = false, forceCheckpoint = false): Promise<void> {
    const now = this.opts.now();
    const checkpointDue = final || forceCheckpoint || now - this.lastCheckpointMs >= this.snapshotIntervalMs || this.awaiting.length >= MAX_AWAITING_CHECKPOINT;
    const cp = checkpointDue ? this.takeCheckpoint(now) : undefined;
    const items = this.processed;
    if (this.pending.empty && !this.tracker.hasChanges && !cp?.checkpoints.length && !cp?.minerStates.length && items.length === 0 && !(cp && this.awaiting.length > 0)) {
      if (cp) this.lastCheckpointMs = now;
      return;
    }
    this.processed = [];
    const pending = this.pending;
    this.pending = new Pending();
    const incidents: IncidentChange[] = this.tracker.takeChanges();
    const writes: FlushWrites = {
      batches: pending.batches.map(({ projectId, batchId, records, entryId }) => ({ projectId, batchId, records, entryId })),
      templates: [...pending.templates.values()],
      volume: [...pending.volume.values()],
      incidents,
      minerStates: cp?.minerStates ?? [],
      checkpoints: cp?.checkpoints ?? [],
    };
    const started = performance.now();
    try {
      await this.opts.store.flush(writes);
    } catch (err) {
      if (err instanceof FlushConflictError) {
        this.dropEverything(err, [...this.awaiting, ...items, ...this.processed]);
        if (mustSucceed) throw err;
        return;
      }
      pending.absorb(this.pending);
      this.pending = pending;
      this.processed = [...items, ...this.processed];
      this.tracker.returnChanges(incidents);
      this.lastFlushError = { atMs: this.opts.now(), message: (err as Error).message };
      this.opts.observer?.flushFailed?.(err);
      this.opts.log?.error({ err: (err as Error).message, batches: writes.batches.length }, 'flush failed; will retry');
      if (mustSucceed) throw err;
      return;
    }
    if (cp) {
      for (const mark of cp.marks) mark();
      this.lastCheckpointMs = now;
      if (cp.checkpoints.length > 0) this.opts.observer?.checkpointed?.(cp.checkpoints.length, cp.seconds);
    }
    this.lastFlushOkMs = this.opts.now();
    this.opts.observer?.flushed?.((performance.now() - started) / 1000, writes.batches.length);
    if (incidents.length > 0) this.opts.observer?.incidentsStored?.(incidents);
    const applied = this.opts.observer?.statusApplied;
    if (applied) {
      for (const { projectId, command } of pending.batches) {
        const incident = command && this.tracker.get(projectId, command.incidentId);
        if (incident) applied(incident, command);
      }
    }
    for (const b of pending.batches) this.remember(`${b.projectId}\u0000${b.batchId}`, b.entryId);
    let ack: Processed[];
    if (this.ackOn === 'flush' || cp) {
      ack = this.awaiting.length > 0 ? [...this.awaiting, ...items] : items;
      this.awaiting = [];
    } else {
      this.awaiting.push(...items);
      ack = [];
    }
    for (const p of ack) {
      if (this.inflight.get(p.key) === p) this.inflight.delete(p.key);
      for (const s of p.settles) s.ack();
    }
  }

  /** After a conflict: nothing held can be trusted; what was not acknowledged will be delivered again. */
  private dropEverything(err: Error, unacked: Processed[]): void {
    this.epoch++;
    this.opts.log?.warn({ err: err.message, deliveries: unacked.length }, 'flush refused (another worker stored some of this work); dropping the state held here and reading it again');
    this.processed = [];
    this.awaiting = [];
    this.inflight.clear();
    this.pending = new Pending();
    this.tracker.forget(() => true);
    this.projects.clear();
    this.recent.clear();
    this.lastFlushError = { atMs: this.opts.now(), message: err.message };
    this.opts.observer?.flushFailed?.(err);
    const reset = new PipelineResetError(`processing thrown away: ${err.message}`);
    for (const p of unacked) for (const s of p.settles) s.fail(reset);
  }

  private remember(key: string, position: string | undefined): void {
    this.recent.set(key, position);
    if (this.recent.size > RECENT_BATCHES) this.recent.delete(this.recent.keys().next().value!);
  }
}
