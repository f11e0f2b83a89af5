/**
 * The live feed of incident changes, per project: what the Server-Sent Events stream
 * (`GET /api/incidents/stream`) sends to dashboards.
 *
 * Publishers: the pipeline (through `PipelineFeedPublisher`: created, reanalyze, reopened,
 * recurred, and coalesced `updated` as occurrences are counted — each only once the flush that
 * stores it has committed, so a client that fetches the incident finds it) and the status routes
 * (`status`: close, ignore, reopen by people).
 *
 * Events have ids `<epoch>-<seq>`: `seq` counts the project's events (1, 2, 3, …) and `epoch`
 * names the counter (one per process for the in-process feed, one per Redis database for the
 * fleet's). A subscriber that reconnects with the last id it saw gets what it missed from a
 * bounded in-memory ring, or — when the ring no longer holds it, or the id is of another epoch —
 * a `reset`: refetch, then carry on from the position the reset names. A project's subscribers
 * only ever see that project's events.
 *
 * Two implementations: `MemoryIncidentFeed` here (`vigil serve`, one process) and
 * `RedisIncidentFeed` (redis-incident-feed.ts: workers publish, every `vigil serve` relays).
 */
import { randomBytes } from 'node:crypto';
import type { Severity } from '../core/detect/detector.js';
import type { Incident, IncidentEvent, IncidentEventKind, IncidentStatus } from '../core/incidents/incident.js';
import type { IncidentChange } from '../core/incidents/tracker.js';
import type { PipelineObserver } from '../worker/pipeline.js';

/** Pipeline events, `updated` (occurrences counted, coalesced) and `status` (a person's close/ignore/reopen). */
export type IncidentFeedKind = IncidentEventKind | 'updated' | 'status';

/** An incident as feed events carry it: the list fields, without samples and milestones (fetch the incident for those). */
export interface IncidentSummary {
  id: string;
  source: string;
  signature: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  occurrences: number;
  bursts: number;
  firstSeen: string;
  lastSeen: string;
  createdAt: string;
  updatedAt: string;
}

export interface IncidentFeedEvent {
  kind: IncidentFeedKind;
  /** When: the occurrence's event time for pipeline events, the wall clock for `updated` and `status`. */
  at: string;
  /** The occurrence count that reached a milestone (`created`: 1, `reanalyze`: 5, 10, 20, …). */
  milestone?: number;
  /** Who changed the status (`status` only): a web session or an API key. */
  by?: 'session' | 'api_key';
  /** The incident's state once this event's change was stored. */
  incident: IncidentSummary;
}

/**
 * What a subscriber receives, in order: on subscribing, either the events it missed followed by
 * `ready`, or one `reset`; then every event as it is published; `reset` again whenever events may
 * have been lost (the fleet's Redis connection dropped). `data` is the event's JSON.
 */
export type FeedSignal =
  | { type: 'event'; id: string; data: string }
  | { type: 'ready'; id: string; replayed: number }
  | { type: 'reset'; id: string; reason: string };

export type FeedListener = (signal: FeedSignal) => void;

export interface SubscribeOptions {
  /** The id of the last event the subscriber saw (SSE `Last-Event-ID`). */
  lastEventId?: string;
}

export interface IncidentFeed {
  /** Sends an event to the project's subscribers (on every server, for the fleet's feed). */
  publish(projectId: string, event: IncidentFeedEvent): Promise<void>;
  /** The project's events from now on (see FeedSignal); returns the function that unsubscribes. */
  subscribe(projectId: string, listener: FeedListener, opts?: SubscribeOptions): () => void;
  /** Subscribers now, for a project or in all. */
  subscribers(projectId?: string): number;
  close(): Promise<void>;
}

export interface FeedRingOptions {
  /** Events kept per project for subscribers that reconnect. */
  maxEventsPerProject: number;
  /** Projects whose events are kept (least recently active are dropped first; their subscribers get a reset on resume). */
  maxProjects: number;
}

export const DEFAULT_FEED_RING_OPTIONS: Readonly<FeedRingOptions> = Object.freeze({
  // 500 events: with updates coalesced to 4 a second per incident, minutes of a busy project —
  // longer than a browser's reconnect (seconds) or a laptop lid (then a refetch is right anyway)
  maxEventsPerProject: 500,
  // events are ~0.5 KB: at most ~250 MB if every project filled its ring, far less in practice
  maxProjects: 1_000,
});

const iso = (ms: number): string => new Date(ms).toISOString();

export function incidentSummary(i: Incident): IncidentSummary {
  return {
    id: i.id,
    source: i.source,
    signature: i.signature,
    title: i.title,
    severity: i.severity,
    status: i.status,
    occurrences: i.occurrences,
    bursts: i.bursts,
    firstSeen: iso(i.firstSeenMs),
    lastSeen: iso(i.lastSeenMs),
    createdAt: iso(i.createdAtMs),
    updatedAt: iso(i.updatedAtMs),
  };
}

/** A new epoch: lower-case letters and digits (so `<epoch>-<seq>` splits at its last dash). */
export function newEpoch(): string {
  return randomBytes(6).toString('hex');
}

const EVENT_ID = /^([a-z0-9]{1,64})-(\d{1,15})$/;

export function parseEventId(id: string | undefined): { epoch: string; seq: number } | undefined {
  const m = id === undefined ? null : EVENT_ID.exec(id.trim());
  return m ? { epoch: m[1]!, seq: Number(m[2]) } : undefined;
}

interface Held {
  seq: number;
  id: string;
  data: string;
}

interface ProjectLog {
  /** The newest seq published in this project (0: none). */
  lastSeq: number;
  /** Events held, oldest first; their seqs are consecutive and end at lastSeq (or the list is empty). */
  events: Held[];
  listeners: Set<FeedListener>;
}

/**
 * The part both feeds share: per project, the newest seq, a bounded ring of recent events and the
 * local subscribers. Not thread-safe and not async: everything here happens in one tick.
 */
export class FeedRings {
  private readonly logs = new Map<string, ProjectLog>();
  /** Projects whose ring holds events, least recently appended first. */
  private readonly active = new Set<string>();
  private listenerCount = 0;
  private readonly opts: FeedRingOptions;

  constructor(
    public epoch: string,
    opts: Partial<FeedRingOptions> = {},
  ) {
    this.opts = { ...DEFAULT_FEED_RING_OPTIONS, ...opts };
  }

  lastSeq(projectId: string): number {
    return this.logs.get(projectId)?.lastSeq ?? 0;
  }

  private log(projectId: string): ProjectLog {
    let log = this.logs.get(projectId);
    if (!log) {
      log = { lastSeq: 0, events: [], listeners: new Set() };
      this.logs.set(projectId, log);
    }
    return log;
  }

  private id(seq: number): string {
    return `${this.epoch}-${seq}`;
  }

  /**
   * Records the event `seq` of a project and hands it to its subscribers. An event at or before
   * the newest seen is ignored (already counted); one that skips seqs means events were lost on
   * the way: the ring restarts and the subscribers get a reset first.
   */
  append(projectId: string, seq: number, data: string): void {
    const log = this.log(projectId);
    if (seq <= log.lastSeq) return;
    // (lastSeq 0: the first event of this project seen here; the ring starts with it)
    if (seq !== log.lastSeq + 1 && log.lastSeq !== 0) this.gap(log, seq - 1, 'events were lost on the way to this server');
    const id = this.id(seq);
    log.lastSeq = seq;
    log.events.push({ seq, id, data });
    if (log.events.length > this.opts.maxEventsPerProject) log.events.shift();
    this.active.delete(projectId);
    this.active.add(projectId);
    if (this.active.size > this.opts.maxProjects) {
      const oldest = this.active.values().next().value!;
      this.active.delete(oldest);
      this.logs.get(oldest)!.events = [];
    }
    const signal: FeedSignal = { type: 'event', id, data };
    for (const l of log.listeners) l(signal);
  }

  /** Everything up to `seq` happened without passing here: the ring is emptied, subscribers reset. */
  private gap(log: ProjectLog, seq: number, reason: string): void {
    log.events = [];
    log.lastSeq = seq;
    const signal: FeedSignal = { type: 'reset', id: this.id(seq), reason };
    for (const l of log.listeners) l(signal);
  }

  /**
   * The newest seq of every project as the source of truth counts them (the fleet's Redis, read
   * after a (re)connection): projects that moved on while this server was not listening lose
   * their ring and their subscribers get a reset. A new epoch resets everything.
   */
  resync(epoch: string, seqs: ReadonlyMap<string, number>): void {
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.active.clear();
      for (const [projectId, log] of this.logs) {
        log.events = [];
        log.lastSeq = 0;
        this.gap(log, seqs.get(projectId) ?? 0, 'the event counter was reset');
      }
    }
    for (const [projectId, seq] of seqs) {
      const log = this.log(projectId);
      if (seq > log.lastSeq) {
        if (log.listeners.size > 0 || log.events.length > 0) this.gap(log, seq, 'this server missed events while disconnected');
        else log.lastSeq = seq;
        this.active.delete(projectId);
      }
    }
  }

  /** See IncidentFeed.subscribe: replays from the ring (or resets), then listens. */
  subscribe(projectId: string, listener: FeedListener, opts: SubscribeOptions = {}): () => void {
    const log = this.log(projectId);
    const position = this.id(log.lastSeq);
    if (opts.lastEventId !== undefined && opts.lastEventId !== '') {
      const last = parseEventId(opts.lastEventId);
      const first = log.events[0]?.seq ?? log.lastSeq + 1;
      if (!last || last.epoch !== this.epoch || last.seq > log.lastSeq || last.seq < first - 1) {
        const reason = !last ? 'the last event id is not one this feed gave out'
          : last.epoch !== this.epoch ? 'the event counter was reset since (server restart)'
          : last.seq > log.lastSeq ? 'the last event id is ahead of this feed'
          : 'the events since are no longer held';
        listener({ type: 'reset', id: position, reason });
      } else {
        let replayed = 0;
        for (const e of log.events) {
          if (e.seq <= last.seq) continue;
          listener({ type: 'event', id: e.id, data: e.data });
          replayed++;
        }
        listener({ type: 'ready', id: position, replayed });
      }
    } else {
      listener({ type: 'ready', id: position, replayed: 0 });
    }
    log.listeners.add(listener);
    this.listenerCount++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      log.listeners.delete(listener);
      this.listenerCount--;
    };
  }

  subscribers(projectId?: string): number {
    return projectId === undefined ? this.listenerCount : (this.logs.get(projectId)?.listeners.size ?? 0);
  }

  /** Tells every subscriber the stream ends (they unsubscribe themselves). */
  clearListeners(): void {
    for (const log of this.logs.values()) {
      this.listenerCount -= log.listeners.size;
      log.listeners.clear();
    }
  }
}

/** The in-process feed (`vigil serve`): publishing delivers at once, in this process. */
export class MemoryIncidentFeed implements IncidentFeed {
  private readonly rings: FeedRings;

  constructor(opts: Partial<FeedRingOptions> & { epoch?: string } = {}) {
    this.rings = new FeedRings(opts.epoch ?? newEpoch(), opts);
  }

  publish(projectId: string, event: IncidentFeedEvent): Promise<void> {
    this.rings.append(projectId, this.rings.lastSeq(projectId) + 1, JSON.stringify(event));
    return Promise.resolve();
  }

  subscribe(projectId: string, listener: FeedListener, opts?: SubscribeOptions): () => void {
    return this.rings.subscribe(projectId, listener, opts);
  }

  subscribers(projectId?: string): number {
    return this.rings.subscribers(projectId);
  }

  close(): Promise<void> {
    this.rings.clearListeners();
    return Promise.resolve();
  }
}

export interface PipelineFeedOptions {
  /** At most one `updated` per incident per this many ms (the latest state wins). */
  coalesceMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

/** Incidents whose events may wait for their flush at once; beyond it the oldest are published unconfirmed. */
const MAX_HELD_INCIDENTS = 10_000;

interface PendingUpdate {
  projectId: string;
  incident: Incident;
  dueMs: number;
}

/**
 * The pipeline's side of the feed: an observer (merge it with the metrics' one) that publishes
 * the pipeline's incident events once the flush storing them has committed, and an `updated`
 * event for incidents whose count grew, at most one per incident per `coalesceMs` — a flood of
 * one error becomes four events a second, not thousands.
 */
export class PipelineFeedPublisher {
  /** Events of each incident waiting for the flush that stores them. */
  private readonly held = new Map<string, IncidentEvent[]>();
  /** When each incident's last event went out (insertion order = time order). */
  private readonly lastSent = new Map<string, number>();
  private readonly pending = new Map<string, PendingUpdate>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly coalesceMs: number;
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly feed: IncidentFeed,
    private readonly opts: PipelineFeedOptions = {},
  ) {
    this.coalesceMs = opts.coalesceMs ?? 250;
    this.now = opts.now ?? Date.now;
  }

  observer(): PipelineObserver {
    return {
      incidentEvent: (e) => this.hold(e),
      incidentsStored: (changes) => this.stored(changes),
      // fleet mode: a person's change, applied by the worker (the server may have stopped waiting)
      statusApplied: (incident, c) => this.publish(incident.projectId, { kind: 'status', at: iso(c.atMs ?? this.now()), ...(c.by ? { by: c.by } : {}), incident: incidentSummary(incident) }),
    };
  }

  /** Stops the timer; coalesced updates not yet sent are dropped (their state is stored: a refetch has it). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.held.clear();
  }

  private hold(e: IncidentEvent): void {
    if (this.closed) return;
    let list = this.held.get(e.incidentId);
    if (!list) {
      if (this.held.size >= MAX_HELD_INCIDENTS) {
        // flushes have been failing for long: memory stays bounded; the oldest events are dropped
        // (their incidents still get an `updated` once stored)
        const oldest = this.held.keys().next().value!;
        this.held.delete(oldest);
        this.opts.onError?.(new Error(`incident ${oldest}: events dropped from the live feed (no flush stored them)`));
      }
      this.held.set(e.incidentId, (list = []));
    }
    list.push(e);
  }

  private stored(changes: readonly IncidentChange[]): void {
    if (this.closed) return;
    const now = this.now();
    for (const c of changes) {
      const i = c.incident;
      const list = this.held.get(i.id);
      let sent = false;
      if (list) {
        let k = 0;
        while (k < list.length && list[k]!.occurrences <= i.occurrences) k++;
        for (const e of list.slice(0, k)) {
          const milestone = e.kind === 'created' || e.kind === 'reanalyze' ? e.occurrences : undefined;
          this.publish(i.projectId, { kind: e.kind, at: iso(e.atMs), ...(milestone !== undefined ? { milestone } : {}), incident: incidentSummary(i) });
          sent = true;
        }
        if (k === list.length) this.held.delete(i.id);
        else list.splice(0, k);
      }
      if (sent) {
        this.pending.delete(i.id);
        this.markSent(i.id, now);
        continue;
      }
      const waiting = this.pending.get(i.id);
      if (waiting) {
        // a newer stored state (more occurrences, or a person's status change) replaces the waiting one
        waiting.incident = i;
        continue;
      }
      if (c.occurrencesDelta <= 0) continue;
      const last = this.lastSent.get(i.id);
      if (last === undefined || now - last >= this.coalesceMs) {
        this.publish(i.projectId, { kind: 'updated', at: iso(now), incident: incidentSummary(i) });
        this.markSent(i.id, now);
      } else {
        this.pending.set(i.id, { projectId: i.projectId, incident: i, dueMs: last + this.coalesceMs });
        this.schedule();
      }
    }
    this.prune(now);
  }

  private markSent(id: string, now: number): void {
    this.lastSent.delete(id);
    this.lastSent.set(id, now);
  }

  /** Forgets send times older than the coalescing window (they no longer delay anything). */
  private prune(now: number): void {
    for (const [id, at] of this.lastSent) {
      if (now - at < this.coalesceMs) break;
      if (!this.pending.has(id)) this.lastSent.delete(id);
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    let due = Infinity;
    for (const p of this.pending.values()) if (p.dueMs < due) due = p.dueMs;
    if (due === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = this.now();
      for (const [id, p] of this.pending) {
        if (p.dueMs > now) continue;
        this.pending.delete(id);
        this.publish(p.projectId, { kind: 'updated', at: iso(now), incident: incidentSummary(p.incident) });
        this.markSent(id, now);
      }
      this.schedule();
    }, Math.max(0, due - this.now()));
    this.timer.unref?.();
  }

  private publish(projectId: string, event: IncidentFeedEvent): void {
    this.feed.publish(projectId, event).catch((err: unknown) => this.opts.onError?.(err));
  }
}

/** One observer calling each of `observers` in turn (metrics, the feed, …). */
export function mergeObservers(...observers: PipelineObserver[]): PipelineObserver {
  const out: PipelineObserver = {};
  const keys = new Set(observers.flatMap((o) => Object.keys(o))) as Set<keyof PipelineObserver>;
  for (const key of keys) {
    const fns = observers.map((o) => o[key]).filter((f): f is NonNullable<typeof f> => typeof f === 'function') as ((...args: unknown[]) => void)[];
    (out as Record<string, (...args: unknown[]) => void>)[key] = fns.length === 1 ? fns[0]! : (...args: unknown[]) => { for (const f of fns) f(...args); };
  }
  return out;
}
