/**
 * The anomalous lines of a run grouped by template, counted over every row (not only the
 * highest-scoring ones a report keeps): what alerts.txt lists first. A group is a template (its id,
 * else its text: binary lines have neither, and form one group), with its true count, its worst
 * severity, its highest score and the line that scored it (whose reason and message stand for the
 * group), its first and last lines, its files and its detectors.
 *
 * Bounded: past `maxGroups` templates (4,000), the half that matter least (least severe, then lowest
 * scoring, then rarest) are dropped and counted in `dropped` (groups and lines), so a run of
 * millions of one-off lines keeps a few thousand groups.
 */
import { ownedString } from '../mine/owned-string.js';
import { severityRank, type Severity } from '../detect/detector.js';
import type { AnomalyRow } from './report-types.js';

export interface AnomalyGroupLine {
  file: string;
  line: number;
  timestamp: string | null;
}

export interface AnomalyGroup {
  templateId: string;
  template: string;
  /** Anomalous lines of this template in the run. */
  count: number;
  /** The worst severity among them. */
  severity: Severity;
  maxScore: number;
  /** The highest-scoring line (the first of equals): its reason and message stand for the group. */
  best: AnomalyGroupLine & { message: string; reason: string };
  /** Earliest and latest lines, by file name then line number. */
  first: AnomalyGroupLine;
  last: AnomalyGroupLine;
  /** Files the lines are in (counted up to 50). */
  files: number;
  /** Lines per detector that fired on them, most first. */
  detectors: [string, number][];
}

export interface AnomalyGroupsReport {
  /** The groups that matter most, in order (see compareGroups), at most `limit` of them. */
  groups: AnomalyGroup[];
  /** Templates with anomalous lines in all (dropped ones included; one dropped and seen again counts twice). */
  templates: number;
  /** Groups dropped to stay bounded, and their lines. */
  dropped: { groups: number; lines: number };
}


/** Kept of each group's message and reason: alerts.txt shows at most a line's width (160) of them. */
const MAX_TEXT = 200;
const MAX_FILES = 50;
/** Groups a report carries (alerts.txt lists 25). */
export const ANOMALY_GROUPS_REPORTED = 50;

/** A group as it is counted: its key (template id, else text), and its files and detectors as sets. */
interface Group extends Omit<AnomalyGroup, 'files' | 'detectors'> {
  key: string;
  files: Set<string>;
  detectors: Map<string, number>;
}

/** Most severe first, then highest scoring, then most lines, then by key (a total order). */
function compareGroups(a: Group, b: Group): number {
  return severityRank(a.severity) - severityRank(b.severity) || b.maxScore - a.maxScore || b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * What a group keeps of a text: a short one as it is (the best line of a flood changes on most of
 * its rows: no copy each time), the head of a long one as a flat copy (a slice would keep the
 * whole text alive).
 */
const kept = (s: string): string => (s.length > MAX_TEXT ? ownedString(s.slice(0, MAX_TEXT)) : s);

const at = (r: AnomalyRow): AnomalyGroupLine => ({ file: r.file, line: r.line, timestamp: r.timestamp });

const before = (a: AnomalyGroupLine, b: AnomalyGroupLine): boolean => a.file < b.file || (a.file === b.file && a.line < b.line);

export class AnomalyGroups {
  private readonly groups = new Map<string, Group>();
  private droppedGroups = 0;
  private droppedLines = 0;
  private templatesTotal = 0;

  constructor(private readonly maxGroups = 4_000) {}

  add(r: AnomalyRow): void {
    const key = r.templateId || r.template;
    let g = this.groups.get(key);
    if (g === undefined) {
      if (this.groups.size >= this.maxGroups) this.prune();
      this.templatesTotal++;
      g = {
        key: ownedString(key),
        templateId: ownedString(r.templateId),
        template: kept(r.template),
        count: 0,
        severity: r.severity,
        maxScore: r.score,
        best: { ...at(r), message: kept(r.message), reason: kept(r.reason) },
        first: at(r),
        last: at(r),
        files: new Set(),
        detectors: new Map(),
      };
      this.groups.set(g.key, g);
    } else {
      if (r.score > g.maxScore) {
        g.maxScore = r.score;
        g.best = { ...at(r), message: kept(r.message), reason: kept(r.reason) };
      }
      if (severityRank(r.severity) < severityRank(g.severity)) g.severity = r.severity;
      if (before(r, g.first)) g.first = at(r);
      else if (before(g.last, r)) {
        // rows come mostly in order: the last line moves on almost every row (in place, no new object)
        const last = g.last;
        last.file = r.file;
        last.line = r.line;
        last.timestamp = r.timestamp;
      }
    }
    g.count++;
    if (g.files.size < MAX_FILES) g.files.add(r.file);
    for (const d of r.detectors) g.detectors.set(d, (g.detectors.get(d) ?? 0) + 1);
  }

  /** Drops the half of the groups that matter least. */
  private prune(): void {
    const sorted = [...this.groups.values()].sort(compareGroups);
    for (const g of sorted.slice(Math.ceil(sorted.length / 2))) {
      this.groups.delete(g.key);
      this.droppedGroups++;
      this.droppedLines += g.count;
    }
  }

  report(limit: number): AnomalyGroupsReport {
    const groups = [...this.groups.values()].sort(compareGroups).slice(0, limit).map((g): AnomalyGroup => ({
      templateId: g.templateId,
      template: g.template,
      count: g.count,
      severity: g.severity,
      maxScore: g.maxScore,
      best: g.best,
      first: g.first,
      last: g.last,
      files: g.files.size,
      detectors: [...g.detectors].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    }));
    return { groups, templates: this.templatesTotal, dropped: { groups: this.droppedGroups, lines: this.droppedLines } };
  }
}

/** The groups of a list of rows (reports built from rows: test fixtures, tools). */
export function groupAnomalies(rows: readonly AnomalyRow[], limit = ANOMALY_GROUPS_REPORTED): AnomalyGroupsReport {
  const groups = new AnomalyGroups();
  for (const r of rows) groups.add(r);
  return groups.report(limit);
}
