/**
 * The detector interface. A detector sees mined records one by one, in stream order, keeps bounded
 * state, and says why it fired: a score in [0, 1], a reason a person can read, and evidence.
 * Detectors are pure (no clock, no I/O): time comes from the records themselves.
 */
import type { LogRecord } from '../parse/record.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** 0 for critical … 4 for info (5 for anything else): sorts the most severe first. */
export function severityRank(s: Severity): number {
  const i = SEVERITIES.indexOf(s);
  return i < 0 ? SEVERITIES.length : i;
}

/**
 * One mined record, as every detector sees it. A caller may reuse one input and record object for
 * every record (the analyze judge's BatchReader does): a detector keeps the strings and numbers it
 * needs, never the input, its record or the record's attributes object.
 */
export interface DetectInput {
  /** Position of the record in its stream (1-based line number of its first line). */
  seq: number;
  /** Stream or file the record came from (a source gets its own miner and baselines). */
  source: string;
  record: LogRecord;
  templateId: string;
  template: string;
  params: readonly string[];
  /** True when this record created its template. */
  createdTemplate: boolean;
  /**
   * Event time in epoch ms: the record's timestamp, or, when it has none, the previous record's
   * (so a stream without timestamps still has a usable, monotone clock).
   */
  timeMs: number;
  /** Session key tying records together (request id, trace id, block id …), when one is found. */
  sessionKey?: string;
  /**
   * How the reports group the record (recordGroup): its component, else its bracket group
   * (`[api-gateway]`, often a thread), else its source. The analyze judge's thread gets it though
   * the record's attributes, which hold the bracket group, do not come along; a detector given an
   * input without it reads the attributes.
   */
  group?: string;
}

/** How the reports group a record: its component, else its bracket group (`[api-gateway]`, `[main]`), else its source. */
export function recordGroup(record: LogRecord, source: string): string {
  return record.component ?? record.attributes?.thread ?? source;
}

/**
 * The "nothing found" answer of observe(), shared: most lines get it from every detector, and a new
 * empty array per detector per line is garbage to collect. Callers copy findings, never add to it.
 */
export const NO_FINDINGS: Finding[] = Object.freeze([]) as unknown as Finding[];

/** What a detector found about one record. */
export interface Finding {
  /** Detector name, e.g. `new_template`. */
  detector: string;
  /** Strength in [0, 1]. */
  score: number;
  /** One sentence a person can act on, e.g. "template seen 1 time in 50,000 lines". */
  reason: string;
  /** Numbers behind the reason (counts, baselines, thresholds). */
  evidence?: Record<string, unknown>;
  /** Labels for reports: `error`, `security`, `spike`, `flood`, `sequence`, `outlier` … */
  tags?: string[];
  /** The severity this finding implies, when the detector knows one. */
  severity?: Severity;
}

/**
 * Something a detector found about a span of time rather than a line (a template that went
 * quiet, an error rate that changed in a window).
 */
export interface WindowFinding extends Finding {
  source: string;
  startMs: number;
  endMs: number;
  templateId?: string;
  service?: string;
}

export interface Detector {
  readonly name: string;
  /** Looks at one record; returns what it found about it (usually nothing). */
  observe(input: DetectInput): Finding[];
  /** Findings about spans of time that closed since the last call (optional). */
  drainWindowFindings?(): WindowFinding[];
  /** Called at the end of a batch run: closes open windows. */
  finish?(): void;
}
