/**
 * Incidents: anomalous records grouped by their template signature, per project and source.
 *
 * An incident is plain data (so it can be stored, sent and restored as it is). Times are epoch
 * milliseconds: `firstSeenMs`/`lastSeenMs` and samples use the records' event time (a replayed log
 * behaves like the live stream it came from); `createdAtMs`/`updatedAtMs` come from the injected
 * clock.
 */
import type { Severity } from '../detect/detector.js';

export type IncidentStatus = 'open' | 'closed' | 'ignored';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'closed', 'ignored'];

/** One anomalous record kept as an example, redacted (secrets masked) and cut to a bounded size. */
export interface IncidentSample {
  timeMs: number;
  message: string;
  reason: string;
  score: number;
  detectors: string[];
}

/** An occurrence count at which the incident asked for (re-)analysis. */
export interface Milestone {
  occurrences: number;
  atMs: number;
}

export interface Incident {
  id: string;
  projectId: string;
  source: string;
  /** What groups records: the template id (or a fixed name such as `malformed:binary`). */
  signature: string;
  /** The template (redacted), for people. */
  title: string;
  /** The worst severity any occurrence had. */
  severity: Severity;
  status: IncidentStatus;
  occurrences: number;
  /** Bursts seen: occurrences more than the window apart start a new one. */
  bursts: number;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Newest first, at most `maxSamples`. */
  samples: IncidentSample[];
  milestones: Milestone[];
  createdAtMs: number;
  updatedAtMs: number;
}

/**
 * What happened to an incident that a later stage (triage, notify, live updates) may act on:
 * - `created`: the first occurrence (milestone 1);
 * - `reanalyze`: an occurrence milestone (5, 10, 20, 40, …) reached while open;
 * - `reopened`: a closed incident recurred;
 * - `recurred`: an open incident had a new burst after a quiet spell longer than the window.
 * Ignored incidents emit nothing.
 */
export type IncidentEventKind = 'created' | 'reanalyze' | 'reopened' | 'recurred';

export interface IncidentEvent {
  kind: IncidentEventKind;
  incidentId: string;
  projectId: string;
  source: string;
  signature: string;
  severity: Severity;
  occurrences: number;
  /** Event time of the occurrence that caused it. */
  atMs: number;
}

/** True for 1, 5, 10, 20, 40, 80, …: when an incident's count has grown enough to look again. */
export function isMilestone(occurrences: number): boolean {
  if (occurrences === 1) return true;
  if (occurrences < 5 || occurrences % 5 !== 0 || !Number.isSafeInteger(occurrences)) return false;
  let m = occurrences / 5;
  while (m % 2 === 0) m /= 2;
  return m === 1;
}

/** The first milestone above `occurrences`. */
export function nextMilestone(occurrences: number): number {
  if (occurrences < 1) return 1;
  if (occurrences < 5) return 5;
  let m = 5;
  while (m <= occurrences) m *= 2;
  return m;
}
