/**
 * The pipeline worker: batches from the queue → per project and source, parse → mine → the
 * streaming detectors → the decision → incidents, with everything it changes aggregated in memory
 * and stored in one transaction every `flushIntervalMs` (or sooner, once `flushMaxRecords` are
 * waiting). A batch is acknowledged only after the flush that covers it has committed.
 *
 * Order and consistency: work on records is synchronous and in memory; everything that touches the
 * database (loading a source's state, flushes, status changes made by people) runs on one serial
 * lane, so a flush always writes the newest state and a status change is never overwritten by an
 * older one.
 *
 * Restarts: a source's miner (and its learned format) is restored from `miner_state`, its incidents
 * from `incidents`; snapshots are written every `snapshotIntervalMs` and at stop. Detector state is
 * not persisted yet: after a restart the detectors warm up again.
 *
 * Idempotency: a batch id already in `processed_batches` (or in flight) is acknowledged without
 * being processed again, so a batch delivered twice never counts twice.
 */
import { resolveConfig, type AnalyzeConfig } from '../core/analyze/analyze-config.js';
import { decide } from '../core/analyze/decision.js';
import { createDetectors, DETECTOR_SPECS } from '../core/analyze/detectors.js';
import type { Detector, DetectInput, Finding } from '../core/detect/detector.js';
import { sessionKeyOf } from '../core/detect/session-key.js';
import type { Incident, IncidentEvent, IncidentStatus } from '../core/incidents/incident.js';
import { IncidentTracker, type IncidentChange } from '../core/incidents/tracker.js';
import { TemplateMiner, type MinerSnapshot } from '../core/mine/miner.js';
import type { FlushWrites, MinerStateWrite, TemplateDelta, VigilStore, VolumeDelta } from '../adapters/store/vigil-store.js';
import type { Delivery, IngestBatch, IngestQueue } from './queue.js';
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
  windowFindings?(n: number): void;
}

export interface PipelineOptions {
  store: VigilStore;
  /** Wall clock, epoch ms. */
  now: () => number;
  newId: () => string;
  /** Detector and decision settings (default: `vigil analyze`'s defaults). */
  analyzeConfig?: AnalyzeConfig;
  incidentWindowMs?: number;
  flushIntervalMs?: number;
  flushMaxRecords?: number;
  snapshotIntervalMs?: number;
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
  dirty: boolean;
  lastSnapshotMs: number;
}

interface ProjectState {
  detectors: Detector[];
  sources: Map<string, SourceState>;
}

class Pending {
  batches: { projectId: string; batchId: string; records: number; key: string }[] = [];
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

const MINUTE = 60_000;
/** An event time this far past arrival is a wrong clock, not the future. */
const MAX_FUTURE_MS = 24 * 3_600_000;
/** Batch ids remembered after their flush (the database remembers them all; this saves a query). */
const RECENT_BATCHES = 10_000;
const MALFORMED_SIGNATURE = 'malformed:binary';

export class Pipeline {
  readonly tracker: IncidentTracker;
  private readonly config: AnalyzeConfig;
  private readonly projects = new Map<string, ProjectState>();
  private readonly lane = new Lane();
  private readonly loading = new Map<string, Promise<SourceState>>();
  /** Batches processed and not yet stored: their deliveries, acknowledged by the flush that stores them. */
  private readonly inflight = new Map<string, Delivery[]>();
  private readonly recent = new Set<string>();
  private pending = new Pending();
  private timer: ReturnType<typeof setInterval> | undefined;
  private flushQueued = false;
  private readonly defaultYear: number;
  private readonly flushIntervalMs: number;
  private readonly flushMaxRecords: number;
  private readonly snapshotIntervalMs: number;
  private lastFlushOkMs = 0;
  private lastFlushError: { atMs: number; message: string } | undefined;

  constructor(private readonly opts: PipelineOptions) {
    this.config = opts.analyzeConfig ?? resolveConfig(undefined, DETECTOR_SPECS);
    this.tracker = new IncidentTracker({ now: opts.now }, opts.newId, opts.incidentWindowMs !== undefined ? { windowMs: opts.incidentWindowMs } : {});
    this.defaultYear = new Date(opts.now()).getUTCFullYear();
    this.flushIntervalMs = opts.flushIntervalMs ?? 250;
    this.flushMaxRecords = opts.flushMaxRecords ?? 20_000;
    this.snapshotIntervalMs = opts.snapshotIntervalMs ?? 30_000;
  }

  /** Starts consuming the queue and the flush timer. */
  start(queue: IngestQueue): void {
    queue.consume((d) => this.handle(d));
    this.timer = setInterval(() => this.scheduleFlush(), this.flushIntervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer and stores everything still in memory (miner snapshots included). Call after the queue drained. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.lane.run(() => this.flushNow(true));
  }

  stats(): { projects: number; sources: number; incidentsHeld: number; pendingRecords: number; lastFlushOkMs: number; lastFlushError: { atMs: number; message: string } | undefined } {
    let sources = 0;
    for (const p of this.projects.values()) sources += p.sources.size;
    return { projects: this.projects.size, sources, incidentsHeld: this.tracker.size, pendingRecords: this.pending.records, lastFlushOkMs: this.lastFlushOkMs, lastFlushError: this.lastFlushError };
  }

  /** True when the last flush attempt succeeded (or none failed yet). */
  get healthy(): boolean {
    return !this.lastFlushError || this.lastFlushError.atMs < this.lastFlushOkMs;
  }

  /**
   * A person's status change. Applied to the incident held in memory (and stored at once) or, when
   * its source is not loaded, in the database. Undefined when the project has no such incident.
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

  // ── consuming ────────────────────────────────────────────────────────────────────────────────

  private async handle(d: Delivery): Promise<void> {
    const b = d.batch;
    const key = `${b.projectId}\u0000${b.id}`;
    const waiting = this.inflight.get(key);
    if (waiting) {
      // the same batch again while its first copy waits for its flush: acknowledged with it
      waiting.push(d);
      this.opts.observer?.duplicate?.(b);
      return;
    }
    if (this.recent.has(key) || (await this.opts.store.isBatchProcessed(b.projectId, b.id))) {
      this.opts.observer?.duplicate?.(b);
      d.ack();
      return;
    }
    const src = await this.source(b.projectId, b.source);
    this.process(b, src);
    this.inflight.set(key, [d]);
    this.pending.batches.push({ projectId: b.projectId, batchId: b.id, records: b.records.length, key });
    this.pending.records += b.records.length;
    if (this.pending.records >= this.flushMaxRecords) this.scheduleFlush();
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

  private async load(projectId: string, source: string): Promise<SourceState> {
    const [saved, incidents] = await Promise.all([this.opts.store.minerState(projectId, source), this.opts.store.incidentsOfSource(projectId, source)]);
    const l = this.config.limits;
    const limits = { maxLinesPerRecord: l.maxLinesPerRecord, maxRecordChars: l.maxRecordChars };
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
          dirty: false,
          lastSnapshotMs: this.opts.now(),
        };
      } catch (err) {
        this.opts.log?.warn({ projectId, source, err: (err as Error).message }, 'source snapshot unreadable; starting this source afresh');
      }
    }
    state ??= { projectId, source, reader: new SourceReader(this.defaultYear, limits), miner: new TemplateMiner({ maxTemplates: l.maxTemplates }), records: 0, dirty: true, lastSnapshotMs: 0 };
    this.tracker.restore(incidents);
    let project = this.projects.get(projectId);
    if (!project) {
      project = { detectors: createDetectors(this.config), sources: new Map() };
      this.projects.set(projectId, project);
    }
    project.sources.set(source, state);
    return state;
  }

  // ── the hot path: synchronous, in memory ─────────────────────────────────────────────────────

  private process(b: IngestBatch, src: SourceState): void {
    const project = this.projects.get(b.projectId)!;
    const detectors = project.detectors;
    const decision = this.config.decision;
    const observer = this.opts.observer;
    let lastTime: number | undefined;
    let records = 0;
    let anomalies = 0;
    src.reader.read(b.records, ({ record: rec, binary, chars }) => {
      records++;
      src.records++;
      const t = rec.timestamp;
      const timeMs = t !== undefined && Number.isFinite(t) && t >= 0 && t <= b.receivedAtMs + MAX_FUTURE_MS ? t : (lastTime ?? b.receivedAtMs);
      lastTime = timeMs;
      const isError = rec.level === 'error' || rec.level === 'fatal';
      const vol = this.volume(b.projectId, timeMs);
      vol.records++;
      if (isError) vol.errors++;

      if (binary) {
        anomalies++;
        vol.anomalies++;
        this.emit(this.tracker.observe({
          projectId: b.projectId, source: b.source, signature: MALFORMED_SIGNATURE, title: 'binary or undecodable line', severity: 'medium', timeMs,
          message: rec.message, reason: `binary or undecodable line (${chars ?? 0} characters) in a text log; not mined`, score: 1, detectors: ['malformed'],
        }));
        return;
      }

      const mined = src.miner.add(rec.message);
      this.template(b.projectId, b.source, mined.templateId, mined.template, timeMs);
      const input: DetectInput = { seq: src.records, source: b.source, record: rec, templateId: mined.templateId, template: mined.template, params: mined.params, createdTemplate: mined.created, timeMs };
      const key = sessionKeyOf(rec, mined.params);
      if (key !== undefined) input.sessionKey = key;
      let findings: Finding[] | undefined;
      for (const d of detectors) {
        const f = d.observe(input);
        if (f.length > 0) (findings ??= []).push(...f);
      }
      if (!findings) return;
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
    if (windows > 0) observer?.windowFindings?.(windows);
    src.dirty = true;
    observer?.processed?.(records, anomalies);
  }

  private emit(events: IncidentEvent[]): void {
    const hook = this.opts.observer?.incidentEvent;
    if (hook) for (const e of events) hook(e);
  }

  private volume(projectId: string, timeMs: number): VolumeDelta {
    const minuteMs = Math.floor(timeMs / MINUTE) * MINUTE;
    const key = `${projectId}\u0000${minuteMs}`;
    let v = this.pending.volume.get(key);
    if (!v) {
      v = { projectId, minuteMs, records: 0, anomalies: 0, errors: 0 };
      this.pending.volume.set(key, v);
    }
    return v;
  }

  private template(projectId: string, source: string, templateId: string, template: string, timeMs: number): void {
    const key = `${projectId}\u0000${source}\u0000${templateId}`;
    const t = this.pending.templates.get(key);
    if (!t) {
      this.pending.templates.set(key, { projectId, source, templateId, template, countDelta: 1, firstSeenMs: timeMs, lastSeenMs: timeMs });
      return;
    }
    t.countDelta++;
    t.template = template;
    if (timeMs < t.firstSeenMs) t.firstSeenMs = timeMs;
    if (timeMs > t.lastSeenMs) t.lastSeenMs = timeMs;
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

  /**
   * Stores what is pending in one transaction, then acknowledges the batches it covered. On
   * failure everything is kept for the next attempt (nothing is acknowledged); `mustSucceed`
   * rethrows. Runs on the lane only.
   */
  private async flushNow(final: boolean, mustSucceed = false): Promise<void> {
    const now = this.opts.now();
    const minerStates: MinerStateWrite[] = [];
    const snapshotted: SourceState[] = [];
    for (const p of this.projects.values()) {
      for (const s of p.sources.values()) {
        if (!s.dirty || (!final && now - s.lastSnapshotMs < this.snapshotIntervalMs)) continue;
        const snapshot: SourceSnapshot = { format: 'vigil.source', version: 1, records: s.records, reader: s.reader.state(), miner: s.miner.snapshot() };
        minerStates.push({ projectId: s.projectId, source: s.source, snapshot, atMs: now });
        snapshotted.push(s);
      }
    }
    if (this.pending.empty && !this.tracker.hasChanges && minerStates.length === 0) return;
    const pending = this.pending;
    this.pending = new Pending();
    const incidents: IncidentChange[] = this.tracker.takeChanges();
    const writes: FlushWrites = {
      batches: pending.batches.map(({ projectId, batchId, records }) => ({ projectId, batchId, records })),
      templates: [...pending.templates.values()],
      volume: [...pending.volume.values()],
      incidents,
      minerStates,
    };
    const started = performance.now();
    try {
      await this.opts.store.flush(writes);
    } catch (err) {
      pending.absorb(this.pending);
      this.pending = pending;
      this.tracker.returnChanges(incidents);
      this.lastFlushError = { atMs: this.opts.now(), message: (err as Error).message };
      this.opts.observer?.flushFailed?.(err);
      this.opts.log?.error({ err: (err as Error).message, batches: writes.batches.length }, 'flush failed; will retry');
      if (mustSucceed) throw err;
      return;
    }
    for (const s of snapshotted) {
      s.dirty = false;
      s.lastSnapshotMs = now;
    }
    this.lastFlushOkMs = this.opts.now();
    this.opts.observer?.flushed?.((performance.now() - started) / 1000, writes.batches.length);
    for (const b of pending.batches) {
      for (const d of this.inflight.get(b.key) ?? []) d.ack();
      this.inflight.delete(b.key);
      this.remember(b.key);
    }
  }

  private remember(key: string): void {
    this.recent.add(key);
    if (this.recent.size > RECENT_BATCHES) this.recent.delete(this.recent.values().next().value!);
  }
}
