/**
 * The incident rules, in memory and pure: the worker feeds anomalous records, the tracker groups
 * them into incidents and says what happened (created, milestone reached, reopened, recurred), and
 * hands the changed incidents to whoever persists them.
 *
 * Rules:
 * - One incident per (project, source, signature). An occurrence of a known signature counts on it
 *   whatever its status; a new signature opens a new incident (event `created`).
 * - The window (2 minutes by default) is the dedup window: occurrences of one signature that are
 *   less than a window apart are one burst. An occurrence after a longer quiet spell starts a new
 *   burst; on an open incident that is the event `recurred`.
 * - Milestones: at 1, 5, 10, 20, 40, … occurrences an open incident asks for re-analysis
 *   (`reanalyze`; the first is `created`), and the milestone is recorded.
 * - A closed incident that recurs is reopened (`reopened`). An ignored incident keeps counting
 *   (occurrences, last seen, samples) but emits no event and records no milestone.
 * - Samples: the newest `maxSamples` occurrences, with secrets masked and long messages cut.
 * - Severity only rises: the incident takes the worst severity any occurrence had.
 *
 * Memory: one entry per signature seen in the sources the caller loaded (signatures are template
 * ids, so this is bounded by the miner's template cap per source).
 */
import { SEVERITIES, type Severity } from '../detect/detector.js';
import { redactSensitive } from '../detect/sensitive.js';
import { isMilestone, type Incident, type IncidentEvent, type IncidentStatus } from './incident.js';

/** The time source for bookkeeping times (created, updated, status changes). */
export interface Clock {
  now(): number;
}

/** One anomalous record, as the tracker needs it. */
export interface AnomalyOccurrence {
  projectId: string;
  source: string;
  signature: string;
  /** The record's template; redacted by the tracker. */
  title: string;
  severity: Severity;
  /** Event time (the record's timestamp, or when it arrived). */
  timeMs: number;
  /** The record's message; redacted and cut by the tracker. */
  message: string;
  reason: string;
  score: number;
  detectors: readonly string[];
}

export interface IncidentOptions {
  /** Dedup window: occurrences closer than this are one burst. */
  windowMs: number;
  /** Samples kept per incident (the newest). */
  maxSamples: number;
  /** Characters kept of a sample's message and reason. */
  maxSampleChars: number;
  /** Characters kept of a title. */
  maxTitleChars: number;
}

export const DEFAULT_INCIDENT_OPTIONS: Readonly<IncidentOptions> = Object.freeze({
  // 2 minutes: long enough that one outage's retries and timeouts are one burst, short enough that
  // the same error an hour later reads as a recurrence (the first seed's clustering window)
  windowMs: 2 * 60_000,
  // 10 examples are enough to see what varies between occurrences; more is noise in a list
  maxSamples: 10,
  // a sample is for reading; a 1 MiB stack trace is not
  maxSampleChars: 2_000,
  maxTitleChars: 500,
});

/** A changed incident to persist: its current state and the occurrences added since the last take. */
export interface IncidentChange {
  incident: Incident;
  occurrencesDelta: number;
  /** Not persisted before. */
  isNew: boolean;
}

interface Entry {
  incident: Incident;
  delta: number;
  isNew: boolean;
  /** The title as last given, before redaction (most occurrences repeat it: no need to redact again). */
  rawTitle?: string;
}

const rank = (s: Severity): number => SEVERITIES.length - SEVERITIES.indexOf(s);
const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const keyOf = (projectId: string, source: string, signature: string): string => `${projectId}\u0000${source}\u0000${signature}`;

function copy(i: Incident): Incident {
  return { ...i, samples: i.samples.map((s) => ({ ...s, detectors: [...s.detectors] })), milestones: i.milestones.map((m) => ({ ...m })) };
}

export class IncidentTracker {
  readonly options: IncidentOptions;
  private readonly bySignature = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();
  private readonly dirty = new Set<Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly newId: () => string,
    options: Partial<IncidentOptions> = {},
  ) {
    this.options = { ...DEFAULT_INCIDENT_OPTIONS, ...options };
    if (!(this.options.windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${this.options.windowMs}`);
    if (!(this.options.maxSamples >= 1)) throw new RangeError(`maxSamples must be at least 1, got ${this.options.maxSamples}`);
  }

  /** Incidents held in memory. */
  get size(): number {
    return this.byId.size;
  }

  /** Restores persisted incidents (a source's, when it is first used after a start). */
  restore(incidents: readonly Incident[]): void {
    for (const i of incidents) {
      const key = keyOf(i.projectId, i.source, i.signature);
      const held = this.bySignature.get(key);
      // what is held may have changes not yet persisted: it is newer than what was read
      if (held) continue;
      const entry: Entry = { incident: copy(i), delta: 0, isNew: false };
      this.bySignature.set(key, entry);
      this.byId.set(i.id, entry);
    }
  }

  /** Counts one anomalous record; returns the events it caused (usually none). */
  observe(o: AnomalyOccurrence): IncidentEvent[] {
    const key = keyOf(o.projectId, o.source, o.signature);
    let entry = this.bySignature.get(key);
    const events: IncidentEvent[] = [];
    const sample = {
      timeMs: o.timeMs,
      message: cut(redactSensitive(o.message), this.options.maxSampleChars),
      reason: cut(redactSensitive(o.reason), this.options.maxSampleChars),
      score: o.score,
      detectors: [...o.detectors],
    };
    const now = this.clock.now();
    if (!entry) {
      const incident: Incident = {
        id: this.newId(),
        projectId: o.projectId,
        source: o.source,
        signature: o.signature,
        title: cut(redactSensitive(o.title), this.options.maxTitleChars),
        severity: o.severity,
        status: 'open',
        occurrences: 1,
        bursts: 1,
        firstSeenMs: o.timeMs,
        lastSeenMs: o.timeMs,
        samples: [sample],
        milestones: [{ occurrences: 1, atMs: o.timeMs }],
        createdAtMs: now,
        updatedAtMs: now,
      };
      entry = { incident, delta: 1, isNew: true, rawTitle: o.title };
      this.bySignature.set(key, entry);
      this.byId.set(incident.id, entry);
      this.dirty.add(entry);
      events.push(this.event('created', incident, o.timeMs));
      return events;
    }

    const i = entry.incident;
    const newBurst = o.timeMs - i.lastSeenMs > this.options.windowMs;
    i.occurrences++;
    entry.delta++;
    if (newBurst) i.bursts++;
    if (o.timeMs > i.lastSeenMs) i.lastSeenMs = o.timeMs;
    if (o.timeMs < i.firstSeenMs) i.firstSeenMs = o.timeMs;
    if (rank(o.severity) > rank(i.severity)) i.severity = o.severity;
    if (o.title !== entry.rawTitle) {
      i.title = cut(redactSensitive(o.title), this.options.maxTitleChars);
      entry.rawTitle = o.title;
    }
    i.samples.unshift(sample);
    if (i.samples.length > this.options.maxSamples) i.samples.length = this.options.maxSamples;
    i.updatedAtMs = now;
    this.dirty.add(entry);

    if (i.status === 'ignored') return events;
    if (i.status === 'closed') {
      i.status = 'open';
      events.push(this.event('reopened', i, o.timeMs));
    } else if (newBurst) {
      events.push(this.event('recurred', i, o.timeMs));
    }
    if (isMilestone(i.occurrences)) {
      i.milestones.push({ occurrences: i.occurrences, atMs: o.timeMs });
      events.push(this.event('reanalyze', i, o.timeMs));
    }
    return events;
  }

  /** A person's decision (close, ignore, reopen). Undefined when the project has no such incident here. */
  setStatus(projectId: string, id: string, status: IncidentStatus): Incident | undefined {
    const entry = this.byId.get(id);
    if (!entry || entry.incident.projectId !== projectId) return undefined;
    if (entry.incident.status !== status) {
      entry.incident.status = status;
      entry.incident.updatedAtMs = this.clock.now();
      this.dirty.add(entry);
    }
    return copy(entry.incident);
  }

  /** The incident with this id, when it belongs to the project and is held here. */
  get(projectId: string, id: string): Incident | undefined {
    const entry = this.byId.get(id);
    return entry && entry.incident.projectId === projectId ? copy(entry.incident) : undefined;
  }

  /** The incident of a signature, when held here. */
  find(projectId: string, source: string, signature: string): Incident | undefined {
    const entry = this.bySignature.get(keyOf(projectId, source, signature));
    return entry ? copy(entry.incident) : undefined;
  }

  /** Whether some change is waiting to be persisted. */
  get hasChanges(): boolean {
    return this.dirty.size > 0;
  }

  /** The incidents changed since the last take, with their added occurrences; resets the deltas. */
  takeChanges(): IncidentChange[] {
    const out: IncidentChange[] = [];
    for (const e of this.dirty) {
      out.push({ incident: copy(e.incident), occurrencesDelta: e.delta, isNew: e.isNew });
      e.delta = 0;
      e.isNew = false;
    }
    this.dirty.clear();
    return out;
  }

  /**
   * Drops the incidents of the projects `which` selects, changes not yet taken included (another
   * worker owns those projects now, or what is held here is no longer trusted); a later `restore`
   * reads them afresh. Returns how many incidents were dropped.
   */
  forget(which: (projectId: string) => boolean): number {
    let dropped = 0;
    for (const [key, e] of this.bySignature) {
      if (!which(e.incident.projectId)) continue;
      this.bySignature.delete(key);
      this.byId.delete(e.incident.id);
      this.dirty.delete(e);
      dropped++;
    }
    return dropped;
  }

  /** Gives back changes that could not be persisted, so the next take includes them again. */
  returnChanges(changes: readonly IncidentChange[]): void {
    for (const c of changes) {
      const e = this.byId.get(c.incident.id);
      if (!e) continue;
      e.delta += c.occurrencesDelta;
      e.isNew ||= c.isNew;
      this.dirty.add(e);
    }
  }

  private event(kind: IncidentEvent['kind'], i: Incident, atMs: number): IncidentEvent {
    return { kind, incidentId: i.id, projectId: i.projectId, source: i.source, signature: i.signature, severity: i.severity, occurrences: i.occurrences, atMs };
  }
}
