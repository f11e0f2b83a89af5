/**
 * The batch analysis pipeline behind `vigil analyze`: lines → records → templates → detectors →
 * the combined decision, with the statistics the reports are made of. Pure and incremental: the
 * caller feeds lines (from files, folders, .gz, stdin) and receives anomalous lines as they are
 * decided; memory is bounded by the limits, not by the input's size.
 *
 * Two halves, so the CLI can run them on two threads: `AnalyzerFront` reads lines into records and
 * mines their templates (and may run detectors that need a record's parameters or fields); `Judge`
 * runs the other detectors, decides, and keeps the statistics. They meet at `RecordSink`: a
 * DetectInput, the record's component for statistics, and the findings of the front's detectors.
 * `Analyzer` joins the two on one thread; record-batch.ts carries records between threads.
 */
import type { Detector, DetectInput, Finding, Severity, WindowFinding } from '../detect/detector.js';
import { recordGroup, SEVERITIES } from '../detect/detector.js';
import { CorrelationDetector } from '../detect/correlation.js';
import { redactSensitive } from '../detect/sensitive.js';
import { TemplateMiner } from '../mine/miner.js';
import { ANOMALY_GROUPS_REPORTED, AnomalyGroups } from './anomaly-groups.js';
import type { AssembledRecord } from '../parse/multiline.js';
import type { AnalyzeConfig } from './analyze-config.js';
import { decide } from './decision.js';
import { binaryPreview, FileRecords } from './file-records.js';
import type { VigilModel } from './model.js';
import type { AnalysisReport, AnalysisSummary, AnomalyRow, ComponentStat, FailingRequest, MinutePoint, SecurityFinding, TemplateStat } from './report-types.js';
import type { DecisionConfig } from './decision.js';

export interface AnalyzerOptions {
  config: AnalyzeConfig;
  /** Builds the enabled detectors (one set per run; they keep per-source state inside). */
  detectors: Detector[];
  /** Finds a record's session key (request id, block id, …). */
  sessionKeyOf?: (record: AssembledRecord['record'], params: readonly string[]) => string | undefined;
  /** Year for timestamps without one. */
  defaultYear: number;
  vigilVersion: string;
}

const MAX_COMPONENTS = 1_000;
const MAX_MINUTE_BUCKETS = 50_000;
const MAX_CHART_POINTS = 1_500;
const TOP_ANOMALIES = 200;
const MAX_WINDOW_FINDINGS = 1_000;
const MAX_SECURITY_SAMPLES = 200;
const TOP_TEMPLATES = 20;
const OTHER = '(other)';

interface Bucket {
  records: number;
  anomalies: number;
  errors: number;
  templatesSoFar: number;
}

interface Source {
  file: string;
  records: FileRecords;
  miner: TemplateMiner;
  lastTimeMs: number;
  count: number;
  emit: (r: AssembledRecord) => void;
  binary: (text: string, lineNo: number) => void;
}

function emptySeverities(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
}

/** A finding as reports show it: its reason and the text values of its evidence redacted. */
function redactFinding(f: Finding, redact: (text: string) => string = redactSensitive, redactReason: (text: string) => string = redactSensitive): Finding {
  const out: Finding = { ...f, reason: redactReason(f.reason) };
  if (f.evidence) {
    const evidence: Record<string, unknown> = {};
    const from = f.evidence;
    // (Object.keys, not Object.entries: no [key, value] pair per field)
    for (const k of Object.keys(from)) {
      const v = from[k];
      evidence[k] = typeof v === 'string' ? redact(v) : v;
    }
    out.evidence = evidence;
  }
  return out;
}

const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00.000Z: from here on toISOString writes a six-digit year. */
const ISO_FOUR_DIGIT_YEARS_END = 253_402_300_800_000;
let isoDay = NaN;
let isoDayPrefix = '';
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * `new Date(ms).toISOString()`, the date part computed once per day: anomalous rows come in time
 * order, and toISOString cost ~1.4 µs a row. Other values (fractions, before 1970, after 9999) go to
 * toISOString itself.
 */
export function isoTime(ms: number): string {
  if (!(Number.isInteger(ms) && ms >= 0 && ms < ISO_FOUR_DIGIT_YEARS_END)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    isoDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    isoDay = day;
  }
  let r = ms - day * DAY_MS;
  const milli = r % 1000;
  r = (r - milli) / 1000;
  const sec = r % 60;
  r = (r - sec) / 60;
  const min = r % 60;
  const hour = (r - min) / 60;
  return `${isoDayPrefix}${pad2(hour)}:${pad2(min)}:${pad2(sec)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** Where a quoted value may start: `key="…`, `key: '…`. */
const QUOTED_VALUE_START = /[=:]\s*["']/;

/**
 * The redaction of `reasons.join('; ')`, given each reason's own redaction (`redacted[i]` is
 * `redactSensitive(reasons[i])`), without reading the joined text again when that gives the same
 * text: no rule of findSensitive can match across "; " (none matches a ";" followed by a space),
 * except a quoted value (`password="…"`), whose quotes may hold anything; so when no reason but
 * the last has a place where a quoted value could start, every match lies within one reason and
 * the redactions join. Lookarounds at the edges see ";" or " " instead of the start or end of the
 * text: neither is a word character, a digit or one of `.+-%_@`, so they decide alike.
 */
export function redactJoined(reasons: readonly string[], redacted: readonly string[], separator = '; '): string {
  if (reasons.length === 1) return redacted[0]!;
  for (let i = 0; i < reasons.length - 1; i++) if (QUOTED_VALUE_START.test(reasons[i]!)) return redactSensitive(reasons.join(separator));
  return redacted.join(separator);
}

/** Strings redacted once and remembered: templates, ids and kinds recur on many anomalous lines. */
const MAX_REDACTED = 20_000;
const MAX_REDACTED_CHARS = 512;

/** redactSensitive(text), remembered in `cache` (short texts; the cache starts over when full). */
function remembered(cache: Map<string, string>, text: string): string {
  if (text.length > MAX_REDACTED_CHARS) return redactSensitive(text);
  let r = cache.get(text);
  if (r === undefined) {
    r = redactSensitive(text);
    if (cache.size >= MAX_REDACTED) cache.clear();
    cache.set(text, r);
  }
  return r;
}

/** Statistics only the front knows (reading, records, templates): plain data, for the summary. */
export interface FrontStats {
  files: string[];
  lines: number;
  truncated: number;
  records: number;
  bytes: number;
  recordsPerFile: Record<string, number>;
  skipped: { binary: number; blank: number; droppedContinuation: number };
  templates: AnalysisSummary['templates'];
}

/** Where the front hands each record (and each binary line) on. */
export interface RecordSink {
  /**
   * One mined record. `component` is what statistics group it by; `front` holds the findings of
   * detectors the front ran, by the detector's position in the run's list (undefined: none).
   * The input and its record may be rewritten for the next record once this returns (BatchReader
   * reuses one of each): a sink copies what it keeps.
   */
  record(input: DetectInput, component: string, front: (Finding[] | undefined)[] | undefined): void;
  binary(file: string, text: string, lineNo: number): void;
}

export interface FrontOptions {
  limits: AnalyzeConfig['limits'];
  defaultYear: number;
  sessionKeyOf?: AnalyzerOptions['sessionKeyOf'];
  /**
   * Detectors the front runs, at their position in the run's list (the rest undefined). Only
   * detectors that look at one line at a time may run here: no window findings, no finish().
   */
  detectors?: (Detector | undefined)[];
}

/** Lines → records → templates (one miner per file), handed to a RecordSink in order. */
export class AnalyzerFront {
  private readonly sources = new Map<string, Source>();
  private readonly detectors: { index: number; detector: Detector }[] = [];
  private readonly width: number;
  private lines = 0;
  private truncated = 0;
  private recordsTotal = 0;
  private bytes = 0;

  constructor(
    private readonly opts: FrontOptions,
    private readonly sink: RecordSink,
  ) {
    const list = opts.detectors ?? [];
    this.width = list.length;
    list.forEach((detector, index) => {
      if (detector === undefined) return;
      if (detector.drainWindowFindings || detector.finish) throw new Error(`detector ${detector.name} keeps windows: it must run in the judge`);
      this.detectors.push({ index, detector });
    });
  }

  /** Feeds one physical line of `file` (1-based `lineNo`). */
  pushLine(file: string, text: string, lineNo: number, truncated = false): void {
    this.lines++;
    if (truncated) this.truncated++;
    const s = this.source(file);
    s.records.push(text, lineNo, s.emit, s.binary);
  }

  /** Counts bytes read (decompressed), for the summary's volume. */
  addBytes(n: number): void {
    this.bytes += n;
  }

  /** Ends a file: its last record is emitted. */
  endFile(file: string): void {
    const s = this.sources.get(file);
    s?.records.end(s.emit);
  }

  stats(): FrontStats {
    const skipped = { binary: 0, blank: 0, droppedContinuation: 0 };
    const recordsPerFile: Record<string, number> = {};
    for (const s of this.sources.values()) {
      skipped.binary += s.records.skipped.binary ?? 0;
      skipped.blank += s.records.blankLines;
      skipped.droppedContinuation += s.records.droppedContinuationLines;
      recordsPerFile[s.file] = s.count;
    }
    const templates: TemplateStat[] = [];
    let entropy = 0;
    const total = this.recordsTotal || 1;
    for (const s of this.sources.values()) {
      for (const t of s.miner.templates()) {
        const p = t.count / total;
        if (p > 0) entropy -= p * Math.log2(p);
        templates.push({ templateId: t.templateId, template: t.template, count: t.count, ratio: p });
      }
    }
    templates.sort((a, b) => b.count - a.count);
    for (const t of templates.slice(0, TOP_TEMPLATES)) t.template = redactSensitive(t.template);
    return {
      files: [...this.sources.keys()],
      lines: this.lines,
      truncated: this.truncated,
      records: this.recordsTotal,
      bytes: this.bytes,
      recordsPerFile,
      skipped,
      templates: { unique: templates.length, entropyBits: Math.round(entropy * 1000) / 1000, topTemplateRatio: templates[0]?.ratio ?? 0, top: templates.slice(0, TOP_TEMPLATES) },
    };
  }

  /** What this run learned, for `vigil score` (see model.ts). */
  model(decision: DecisionConfig): VigilModel {
    return {
      format: 'vigil.model',
      version: 1,
      decision,
      sources: [...this.sources.values()].map((s) => ({ name: s.file, records: s.count, format: s.records.parser?.format ?? { kind: 'bare' }, miner: s.miner.snapshot() })),
    };
  }

  private source(file: string): Source {
    let s = this.sources.get(file);
    if (!s) {
      const l = this.opts.limits;
      const created: Source = {
        file,
        records: new FileRecords(this.opts.defaultYear, { maxLinesPerRecord: l.maxLinesPerRecord, maxRecordChars: l.maxRecordChars }),
        miner: new TemplateMiner({ maxTemplates: l.maxTemplates }),
        lastTimeMs: 0,
        count: 0,
        emit: (r) => this.onRecord(created, r),
        binary: (t, n) => this.sink.binary(file, t, n),
      };
      s = created;
      this.sources.set(file, s);
    }
    return s;
  }

  private onRecord(s: Source, a: AssembledRecord): void {
    const rec = a.record;
    s.count++;
    this.recordsTotal++;
    // a message that is a piece of its line is mined in place (see TemplateMiner.addRange)
    const mined = a.line === undefined || a.messageStart === undefined ? s.miner.add(rec.message) : s.miner.addRange(a.line, a.messageStart, a.messageEnd!);
    if (rec.timestamp !== undefined && Number.isFinite(rec.timestamp)) s.lastTimeMs = rec.timestamp;
    const input: DetectInput = {
      seq: a.firstLine,
      source: s.file,
      record: rec,
      templateId: mined.templateId,
      template: mined.template,
      params: mined.params,
      createdTemplate: mined.created,
      timeMs: s.lastTimeMs,
      // `[api-gateway]` is read as a thread/context group: the best grouping a line without a
      // component has; the file only when the line has neither
      group: recordGroup(rec, s.file),
    };
    const key = this.opts.sessionKeyOf?.(rec, mined.params);
    if (key !== undefined) input.sessionKey = key;
    let front: (Finding[] | undefined)[] | undefined;
    for (const { index, detector } of this.detectors) {
      const f = detector.observe(input);
      if (f.length > 0) (front ??= new Array<Finding[] | undefined>(this.width))[index] = f;
    }
    this.sink.record(input, input.group!, front);
  }
}

export interface JudgeOptions {
  config: AnalyzeConfig;
  /** The run's detectors in order; undefined where a detector runs in the front instead. */
  detectors: (Detector | undefined)[];
  vigilVersion: string;
}

/** Detectors → decision → statistics and anomalous rows, one record at a time. */
export class Judge implements RecordSink {
  private readonly detectors: (Detector | undefined)[];
  /**
   * Each detector's observe, bound: one call site calling ten detector classes through
   * `d.observe(input)` is a megamorphic property load on every record (measured ~0.3 s per 1M records).
   */
  private readonly observers: (((input: DetectInput) => Finding[]) | undefined)[];
  private readonly components = new Map<string, ComponentStat>();
  /** Records per level word, in order of first appearance (a Map: no keyed store on an object per record). */
  private readonly levels = new Map<string, number>();
  private readonly tags: Record<string, number> = {};
  private readonly byDetector: Record<string, number> = {};
  private readonly anomalySeverity = emptySeverities();
  private readonly security: { findings: number; byKind: Record<string, number>; samples: SecurityFinding[] } = { findings: 0, byKind: {}, samples: [] };
  private readonly windowFindings: WindowFinding[] = [];
  private windowFindingCount = 0;
  /**
   * The highest-scoring rows so far, as their JSON text (parsed back at the end). Not the rows
   * themselves: all of a run's first rows are kept here for a while, so V8 saw the objects made
   * where rows, findings and evidence are built outlive young collections and, from then on,
   * allocated every later one in the old generation ("pretenuring", never undone), where each
   * waited for a full collection: on the generated 1M corpus, ~70 MB of the judge's promotions.
   */
  private top: { score: number; json: string }[] = [];
  /** Every anomalous line, grouped by template (alerts.txt's first section). */
  private readonly groups = new AnomalyGroups();
  private minutes = new Map<number, Bucket>();
  private bucketMs = 60_000;
  private lastBucketKey = NaN;
  private lastBucket: Bucket | undefined;
  private templatesSeen = 0;
  private recordsTotal = 0;
  private unparsed = 0;
  private errors = 0;
  private anomalies = 0;
  /**
   * Earliest and latest timestamps (±Infinity until one is seen). Numbers from the start, so V8
   * keeps them as doubles written in place rather than boxing a new number per record.
   */
  private firstMs = Infinity;
  private lastMs = -Infinity;
  private readonly redacted = new Map<string, string>();
  /** Scratch: the findings a decision's reason is made of. */
  private readonly strongest: Finding[] = [];
  private readonly redactRecurring = (text: string): string => remembered(this.redacted, text);
  /** Finding reasons apart (many recur: a severity or spike reason per template; others never do). */
  private readonly redactedReasons = new Map<string, string>();
  private readonly redactReason = (text: string): string => remembered(this.redactedReasons, text);

  constructor(
    private readonly opts: JudgeOptions,
    /** Receives each anomalous row; may return the row's JSON text (JSON.stringify(row)), which is then not made again. */
    private readonly onAnomaly: (row: AnomalyRow) => unknown,
  ) {
    this.detectors = opts.detectors;
    this.observers = opts.detectors.map((d) => (d === undefined ? undefined : d.observe.bind(d)));
  }

  record(input: DetectInput, component: string, front: (Finding[] | undefined)[] | undefined): void {
    const rec = input.record;
    this.recordsTotal++;
    if (input.createdTemplate) this.templatesSeen++;
    if (rec.timestamp !== undefined && Number.isFinite(rec.timestamp)) {
      if (rec.timestamp < this.firstMs) this.firstMs = rec.timestamp;
      if (rec.timestamp > this.lastMs) this.lastMs = rec.timestamp;
    }
    if (rec.timestamp === undefined && rec.level === undefined && rec.component === undefined) this.unparsed++;
    let findings: Finding[] | undefined;
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) {
      const observe = observers[i];
      const f = observe !== undefined ? observe(input) : front?.[i];
      if (f !== undefined && f.length > 0) {
        if (findings === undefined) findings = f.length === 1 ? [f[0]!] : f.slice();
        else for (let k = 0; k < f.length; k++) findings.push(f[k]!);
      }
    }
    if ((this.recordsTotal & 1023) === 0) for (const d of this.detectors) if (d !== undefined) this.collectWindows(d);

    const level = rec.level ?? 'none';
    this.levels.set(level, (this.levels.get(level) ?? 0) + 1);
    const isError = rec.level === 'error' || rec.level === 'fatal';
    if (isError) this.errors++;
    const comp = this.component(component);
    comp.records++;
    if (isError) comp.errors++;
    // consecutive records mostly fall in the same minute (the check inline: no boxed time per call)
    const timeMs = input.timeMs;
    const bucket = Math.floor(timeMs / this.bucketMs) * this.bucketMs === this.lastBucketKey && this.lastBucket !== undefined ? this.lastBucket : this.bucket(timeMs);
    bucket.records++;
    if (isError) bucket.errors++;
    bucket.templatesSoFar = this.templatesSeen;

    if (findings !== undefined) this.judgeFindings(input, findings, comp, bucket);
  }

  /**
   * The decision on a record with findings and, when it is an anomaly, its row. Apart from
   * record(), which runs for every record: record() is optimised early, when no line has had a
   * finding yet, and its optimised code was thrown away and compiled again each time this part met
   * something new (--trace-opt, 1M corpus: record's compiles 8× 287 ms → 6× 68 ms, and this one's
   * 3× 154 ms).
   */
  private judgeFindings(input: DetectInput, findings: Finding[], comp: ComponentStat, bucket: Bucket): void {
    const rec = input.record;
    const file = input.source;
    for (const f of findings) if (f.tags?.includes('security')) this.noteSecurity(file, input.seq, f);
    const strongest = this.strongest;
    strongest.length = 0;
    const d = decide(findings, rec.level, this.opts.config.decision, strongest);
    if (!d.anomaly) return;
    this.anomalies++;
    comp.anomalies++;
    bucket.anomalies++;
    this.anomalySeverity[d.severity]++;
    for (const name of d.detectors) this.byDetector[name] = (this.byDetector[name] ?? 0) + 1;
    for (const t of d.tags) this.tags[t] = (this.tags[t] ?? 0) + 1;
    const redactedFindings = findings.map((f) => redactFinding(f, this.redactRecurring, this.redactReason));
    // the reason is the strongest findings' reasons joined: redacted from theirs (see redactJoined)
    const reasons: string[] = [];
    const redactedReasons: string[] = [];
    for (const f of strongest) {
      reasons.push(f.reason);
      redactedReasons.push(redactedFindings[findings.indexOf(f)]!.reason);
    }
    const row: AnomalyRow = {
      file,
      line: input.seq,
      timestamp: rec.timestamp !== undefined ? isoTime(rec.timestamp) : null,
      // reports never show a secret: the line, its template and the reasons are redacted
      message: redactSensitive(rec.message),
      template: this.redactRecurring(input.template),
      templateId: input.templateId,
      score: d.score,
      detectors: d.detectors,
      severity: d.severity,
      reason: redactJoined(reasons, redactedReasons),
      tags: d.tags,
      component: rec.component ?? null,
      level: rec.level ?? null,
      findings: redactedFindings,
    };
    this.keepRow(row, this.onAnomaly(row));
  }

  /** A binary line in a text log is reported (it is never mined): a malformed-line anomaly. */
  binary(file: string, text: string, line: number): void {
    const preview = binaryPreview(text);
    const row: AnomalyRow = {
      file,
      line,
      timestamp: null,
      message: preview,
      template: '',
      templateId: '',
      score: 1,
      detectors: ['malformed'],
      severity: 'medium',
      reason: `binary or undecodable line (${text.length} characters) in a text log; not mined`,
      tags: ['malformed'],
      component: null,
      level: null,
      findings: [{ detector: 'malformed', score: 1, reason: 'binary or undecodable line in a text log', tags: ['malformed'], severity: 'medium' }],
    };
    this.anomalies++;
    this.anomalySeverity.medium++;
    this.byDetector.malformed = (this.byDetector.malformed ?? 0) + 1;
    this.tags.malformed = (this.tags.malformed ?? 0) + 1;
    this.keepRow(row, this.onAnomaly(row));
  }

  /** Ends the run (after the front's last record) and returns the report. */
  finish(front: FrontStats, processingSeconds: number, peakRssMB: number): AnalysisReport {
    for (const d of this.detectors) {
      if (d === undefined) continue;
      d.finish?.();
      this.collectWindows(d);
    }
    return {
      summary: this.summary(front, processingSeconds, peakRssMB),
      minutes: this.chartPoints(),
      topAnomalies: [...this.top].sort((a, b) => b.score - a.score).map((k) => JSON.parse(k.json) as AnomalyRow),
      anomalyGroups: this.groups.report(ANOMALY_GROUPS_REPORTED),
    };
  }

  private noteSecurity(file: string, line: number, f: Finding): void {
    const matches = Array.isArray(f.evidence?.matches) ? (f.evidence.matches as { kind?: unknown; masked?: unknown }[]) : [{ kind: f.detector, masked: f.reason }];
    for (const m of matches) {
      const kind = typeof m.kind === 'string' ? m.kind : f.detector;
      this.security.findings++;
      this.security.byKind[kind] = (this.security.byKind[kind] ?? 0) + 1;
      if (this.security.samples.length < MAX_SECURITY_SAMPLES) this.security.samples.push({ file, line, kind, masked: typeof m.masked === 'string' ? m.masked : '(masked)' });
    }
  }

  /** Counts a row in its template's group, and keeps its JSON text if it is among the highest-scoring. */
  private keepRow(row: AnomalyRow, json: unknown): void {
    this.groups.add(row);
    this.top.push({ score: row.score, json: typeof json === 'string' ? json : JSON.stringify(row) });
    if (this.top.length >= TOP_ANOMALIES * 2) this.top = this.top.sort((a, b) => b.score - a.score).slice(0, TOP_ANOMALIES);
  }

  private collectWindows(d: Detector): void {
    const found = d.drainWindowFindings?.();
    if (!found) return;
    for (const w of found) {
      this.windowFindingCount++;
      if (this.windowFindings.length < MAX_WINDOW_FINDINGS) this.windowFindings.push(w);
    }
  }

  private component(name: string): ComponentStat {
    let c = this.components.get(name);
    if (!c) {
      if (this.components.size >= MAX_COMPONENTS) return this.component(OTHER);
      c = { name, records: 0, errors: 0, anomalies: 0 };
      this.components.set(name, c);
    }
    return c;
  }

  /** The chart bucket for a time; buckets coarsen (and merge) when a run spans too many. */
  private bucket(timeMs: number): Bucket {
    const key = Math.floor(timeMs / this.bucketMs) * this.bucketMs;
    // consecutive records mostly fall in the same minute
    if (key === this.lastBucketKey && this.lastBucket !== undefined) return this.lastBucket;
    let b = this.minutes.get(key);
    if (!b) {
      if (this.minutes.size >= MAX_MINUTE_BUCKETS) {
        this.bucketMs *= 2;
        const merged = new Map<number, Bucket>();
        for (const [t, v] of this.minutes) {
          const k = Math.floor(t / this.bucketMs) * this.bucketMs;
          const m = merged.get(k);
          if (m) {
            m.records += v.records;
            m.anomalies += v.anomalies;
            m.errors += v.errors;
            m.templatesSoFar = Math.max(m.templatesSoFar, v.templatesSoFar);
          } else merged.set(k, { ...v });
        }
        this.minutes = merged;
        this.lastBucket = undefined;
        return this.bucket(timeMs);
      }
      b = { records: 0, anomalies: 0, errors: 0, templatesSoFar: 0 };
      this.minutes.set(key, b);
    }
    this.lastBucketKey = key;
    this.lastBucket = b;
    return b;
  }

  private chartPoints(): MinutePoint[] {
    const points = [...this.minutes].filter(([t]) => t > 0).sort((a, b) => a[0] - b[0]).map(([t, b]) => ({ t, ...b }));
    if (points.length <= MAX_CHART_POINTS) return points;
    const step = Math.ceil(points.length / MAX_CHART_POINTS);
    const out: MinutePoint[] = [];
    for (let i = 0; i < points.length; i += step) {
      const group = points.slice(i, i + step);
      out.push({
        t: group[0]!.t,
        records: group.reduce((n, p) => n + p.records, 0),
        anomalies: group.reduce((n, p) => n + p.anomalies, 0),
        errors: group.reduce((n, p) => n + p.errors, 0),
        templatesSoFar: group[group.length - 1]!.templatesSoFar,
      });
    }
    return out;
  }

  private summary(front: FrontStats, seconds: number, peakRssMB: number): AnalysisSummary {
    const total = this.recordsTotal || 1;
    let peak = 0;
    let peakAt: number | undefined;
    for (const [t, b] of this.minutes) {
      if (t > 0 && b.records > peak) {
        peak = b.records;
        peakAt = t;
      }
    }
    const perMinuteScale = 60_000 / this.bucketMs;
    const timed = this.firstMs !== Infinity;
    const span = timed ? (this.lastMs - this.firstMs) / 1000 : null;
    const skipped: Record<string, number> = { ...front.skipped };
    const skippedTotal = Object.values(skipped).reduce((a, b) => a + b, 0);
    const failing = this.failingRequests();
    return {
      vigilVersion: this.opts.vigilVersion,
      generatedAt: new Date(0).toISOString(), // set by the caller, who has a clock
      files: [...front.files],
      lines: { original: front.lines, records: this.recordsTotal, processed: front.lines - skippedTotal, skipped, truncated: front.truncated, unparsedHeader: this.unparsed },
      anomalies: { lines: this.anomalies, ratio: this.anomalies / total, byDetector: { ...this.byDetector }, bySeverity: { ...this.anomalySeverity }, windows: this.windowFindingCount },
      volume: { bytes: front.bytes, recordsPerFile: { ...front.recordsPerFile } },
      templates: front.templates,
      time: {
        first: timed ? new Date(this.firstMs).toISOString() : null,
        last: timed ? new Date(this.lastMs).toISOString() : null,
        spanSeconds: span,
        logsPerSecond: span && span > 0 ? Math.round((this.recordsTotal / span) * 100) / 100 : null,
        peakPerMinute: Math.round(peak * perMinuteScale),
        peakMinute: peakAt !== undefined ? new Date(peakAt).toISOString() : null,
        errorRate: this.errors / total,
      },
      processing: { seconds, linesPerSecond: seconds > 0 ? Math.round(front.lines / seconds) : 0, peakRssMB },
      components: [...this.components.values()].sort((a, b) => b.records - a.records),
      severity: { ...this.anomalySeverity },
      levels: Object.fromEntries(this.levels),
      tags: { ...this.tags },
      security: { findings: this.security.findings, byKind: { ...this.security.byKind }, samples: [...this.security.samples] },
      failingRequests: failing,
      windowFindings: [...this.windowFindings],
      decision: { threshold: this.opts.config.decision.threshold, minDetectors: this.opts.config.decision.minDetectors, weights: { ...this.opts.config.decision.weights } },
    };
  }

  private failingRequests(): { total: number; samples: FailingRequest[] } {
    const tracker = this.detectors.find((d): d is CorrelationDetector => d instanceof CorrelationDetector);
    if (!tracker) return { total: 0, samples: [] };
    const samples = tracker.failingRequests().slice(-100).map((r) => ({
      requestId: r.requestId,
      services: r.services,
      failedAt: r.failedAt,
      firstError: redactSensitive(`${r.firstError.source}:${r.firstError.seq} ${r.firstError.template}`),
    }));
    return { total: tracker.summary().failingRequests, samples };
  }
}

/** Both halves on one thread: lines in, anomalous rows out, the report at the end. */
export class Analyzer {
  private readonly judge: Judge;
  private readonly front: AnalyzerFront;

  constructor(
    private readonly opts: AnalyzerOptions,
    onAnomaly: (row: AnomalyRow) => void,
  ) {
    this.judge = new Judge({ config: opts.config, detectors: opts.detectors, vigilVersion: opts.vigilVersion }, onAnomaly);
    const front: FrontOptions = { limits: opts.config.limits, defaultYear: opts.defaultYear };
    if (opts.sessionKeyOf) front.sessionKeyOf = opts.sessionKeyOf;
    this.front = new AnalyzerFront(front, this.judge);
  }

  /** Feeds one physical line of `file` (1-based `lineNo`). */
  pushLine(file: string, text: string, lineNo: number, truncated = false): void {
    this.front.pushLine(file, text, lineNo, truncated);
  }

  /** Counts bytes read (decompressed), for the summary's volume. */
  addBytes(n: number): void {
    this.front.addBytes(n);
  }

  /** Ends a file: its last record is emitted. */
  endFile(file: string): void {
    this.front.endFile(file);
  }

  /** Ends the run and returns the report (call after the last endFile). */
  finish(processingSeconds: number, peakRssMB: number): AnalysisReport {
    return this.judge.finish(this.front.stats(), processingSeconds, peakRssMB);
  }

  /** What this run learned, for `vigil score` (see model.ts). */
  model(): VigilModel {
    return this.front.model(this.opts.config.decision);
  }
}
