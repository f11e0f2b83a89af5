/**
 * The batch analysis pipeline behind `vigil analyze`: lines → records → templates → detectors →
 * the combined decision, with the statistics the reports are made of. Pure and incremental: the
 * caller feeds lines (from files, folders, .gz, stdin) and receives anomalous lines as they are
 * decided; memory is bounded by the limits, not by the input's size.
 */
import type { Detector, DetectInput, Finding, Severity, WindowFinding } from '../detect/detector.js';
import { SEVERITIES } from '../detect/detector.js';
import { CorrelationDetector } from '../detect/correlation.js';
import { redactSensitive } from '../detect/sensitive.js';
import { TemplateMiner } from '../mine/miner.js';
import type { AssembledRecord } from '../parse/multiline.js';
import type { AnalyzeConfig } from './analyze-config.js';
import { decide } from './decision.js';
import { binaryPreview, FileRecords } from './file-records.js';
import type { VigilModel } from './model.js';
import type { AnalysisReport, AnalysisSummary, AnomalyRow, ComponentStat, FailingRequest, MinutePoint, SecurityFinding, TemplateStat } from './report-types.js';

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
}

function emptySeverities(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
}

/** A finding as reports show it: its reason and the text values of its evidence redacted. */
function redactFinding(f: Finding): Finding {
  const out: Finding = { ...f, reason: redactSensitive(f.reason) };
  if (f.evidence) {
    const evidence: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(f.evidence)) evidence[k] = typeof v === 'string' ? redactSensitive(v) : v;
    out.evidence = evidence;
  }
  return out;
}

export class Analyzer {
  private readonly sources = new Map<string, Source>();
  private readonly components = new Map<string, ComponentStat>();
  private readonly levels: Record<string, number> = {};
  private readonly tags: Record<string, number> = {};
  private readonly byDetector: Record<string, number> = {};
  private readonly anomalySeverity = emptySeverities();
  private readonly security: { findings: number; byKind: Record<string, number>; samples: SecurityFinding[] } = { findings: 0, byKind: {}, samples: [] };
  private readonly windowFindings: WindowFinding[] = [];
  private windowFindingCount = 0;
  private top: AnomalyRow[] = [];
  private minutes = new Map<number, Bucket>();
  private bucketMs = 60_000;
  private templatesSeen = 0;
  private lines = 0;
  private truncated = 0;
  private recordsTotal = 0;
  private unparsed = 0;
  private errors = 0;
  private anomalies = 0;
  private bytes = 0;
  private firstMs: number | undefined;
  private lastMs: number | undefined;

  constructor(
    private readonly opts: AnalyzerOptions,
    private readonly onAnomaly: (row: AnomalyRow) => void,
  ) {}

  /** Feeds one physical line of `file` (1-based `lineNo`). */
  pushLine(file: string, text: string, lineNo: number, truncated = false): void {
    this.lines++;
    if (truncated) this.truncated++;
    this.source(file).records.push(text, lineNo, (r) => this.onRecord(file, r), (t, n) => this.onBinary(file, t, n));
  }

  /** Counts bytes read (decompressed), for the summary's volume. */
  addBytes(n: number): void {
    this.bytes += n;
  }

  /** Ends a file: its last record is emitted. */
  endFile(file: string): void {
    const s = this.sources.get(file);
    s?.records.end((r) => this.onRecord(file, r));
  }

  /** Ends the run and returns the report (call after the last endFile). */
  finish(processingSeconds: number, peakRssMB: number): AnalysisReport {
    for (const d of this.opts.detectors) {
      d.finish?.();
      this.collectWindows(d);
    }
    return { summary: this.summary(processingSeconds, peakRssMB), minutes: this.chartPoints(), topAnomalies: [...this.top].sort((a, b) => b.score - a.score) };
  }

  /** What this run learned, for `vigil score` (see model.ts). */
  model(): VigilModel {
    return {
      format: 'vigil.model',
      version: 1,
      decision: this.opts.config.decision,
      sources: [...this.sources.values()].map((s) => ({ name: s.file, records: s.count, format: s.records.parser?.format ?? { kind: 'bare' }, miner: s.miner.snapshot() })),
    };
  }

  private source(file: string): Source {
    let s = this.sources.get(file);
    if (!s) {
      const l = this.opts.config.limits;
      s = {
        file,
        records: new FileRecords(this.opts.defaultYear, { maxLinesPerRecord: l.maxLinesPerRecord, maxRecordChars: l.maxRecordChars }),
        miner: new TemplateMiner({ maxTemplates: l.maxTemplates }),
        lastTimeMs: 0,
        count: 0,
      };
      this.sources.set(file, s);
    }
    return s;
  }

  private onRecord(file: string, a: AssembledRecord): void {
    const s = this.sources.get(file)!;
    const rec = a.record;
    s.count++;
    this.recordsTotal++;
    const mined = s.miner.add(rec.message);
    if (mined.created) this.templatesSeen++;
    if (rec.timestamp !== undefined && Number.isFinite(rec.timestamp)) {
      s.lastTimeMs = rec.timestamp;
      if (this.firstMs === undefined || rec.timestamp < this.firstMs) this.firstMs = rec.timestamp;
      if (this.lastMs === undefined || rec.timestamp > this.lastMs) this.lastMs = rec.timestamp;
    }
    if (rec.timestamp === undefined && rec.level === undefined && rec.component === undefined) this.unparsed++;
    const input: DetectInput = {
      seq: a.firstLine,
      source: file,
      record: rec,
      templateId: mined.templateId,
      template: mined.template,
      params: mined.params,
      createdTemplate: mined.created,
      timeMs: s.lastTimeMs,
    };
    const key = this.opts.sessionKeyOf?.(rec, mined.params);
    if (key !== undefined) input.sessionKey = key;
    let findings: Finding[] | undefined;
    for (const d of this.opts.detectors) {
      const f = d.observe(input);
      if (f.length > 0) (findings ??= []).push(...f);
    }
    if ((this.recordsTotal & 1023) === 0) for (const d of this.opts.detectors) this.collectWindows(d);

    const level = rec.level ?? 'none';
    this.levels[level] = (this.levels[level] ?? 0) + 1;
    const isError = rec.level === 'error' || rec.level === 'fatal';
    if (isError) this.errors++;
    // `[api-gateway]` is read as a thread/context group: the best grouping a line without a
    // component has; the file only when the line has neither
    const comp = this.component(rec.component ?? rec.attributes?.thread ?? file);
    comp.records++;
    if (isError) comp.errors++;
    const bucket = this.bucket(s.lastTimeMs);
    bucket.records++;
    if (isError) bucket.errors++;
    bucket.templatesSoFar = this.templatesSeen;

    if (!findings) return;
    for (const f of findings) if (f.tags?.includes('security')) this.noteSecurity(file, a.firstLine, f);
    const d = decide(findings, rec.level, this.opts.config.decision);
    if (!d.anomaly) return;
    this.anomalies++;
    comp.anomalies++;
    bucket.anomalies++;
    this.anomalySeverity[d.severity]++;
    for (const name of d.detectors) this.byDetector[name] = (this.byDetector[name] ?? 0) + 1;
    for (const t of d.tags) this.tags[t] = (this.tags[t] ?? 0) + 1;
    const row: AnomalyRow = {
      file,
      line: a.firstLine,
      timestamp: rec.timestamp !== undefined ? new Date(rec.timestamp).toISOString() : null,
      // reports never show a secret: the line, its template and the reasons are redacted
      message: redactSensitive(rec.message),
      template: redactSensitive(mined.template),
      templateId: mined.templateId,
      score: d.score,
      detectors: d.detectors,
      severity: d.severity,
      reason: redactSensitive(d.reason),
      tags: d.tags,
      component: rec.component ?? null,
      level: rec.level ?? null,
      findings: findings.map(redactFinding),
    };
    this.onAnomaly(row);
    this.keepTop(row);
  }

  /** A binary line in a text log is reported (it is never mined): a malformed-line anomaly. */
  private onBinary(file: string, text: string, line: number): void {
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
    this.onAnomaly(row);
    this.keepTop(row);
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

  private keepTop(row: AnomalyRow): void {
    this.top.push(row);
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
        return this.bucket(timeMs);
      }
      b = { records: 0, anomalies: 0, errors: 0, templatesSoFar: 0 };
      this.minutes.set(key, b);
    }
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

  private summary(seconds: number, peakRssMB: number): AnalysisSummary {
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
    let peak = 0;
    let peakAt: number | undefined;
    for (const [t, b] of this.minutes) {
      if (t > 0 && b.records > peak) {
        peak = b.records;
        peakAt = t;
      }
    }
    const perMinuteScale = 60_000 / this.bucketMs;
    const span = this.firstMs !== undefined && this.lastMs !== undefined ? (this.lastMs - this.firstMs) / 1000 : null;
    const skipped: Record<string, number> = { binary: 0, blank: 0, droppedContinuation: 0 };
    const recordsPerFile: Record<string, number> = {};
    for (const s of this.sources.values()) {
      skipped.binary! += s.records.skipped.binary ?? 0;
      skipped.blank! += s.records.blankLines;
      skipped.droppedContinuation! += s.records.droppedContinuationLines;
      recordsPerFile[s.file] = s.count;
    }
    const skippedTotal = Object.values(skipped).reduce((a, b) => a + b, 0);
    const failing = this.failingRequests();
    return {
      vigilVersion: this.opts.vigilVersion,
      generatedAt: new Date(0).toISOString(), // set by the caller, who has a clock
      files: [...this.sources.keys()],
      lines: { original: this.lines, records: this.recordsTotal, processed: this.lines - skippedTotal, skipped, truncated: this.truncated, unparsedHeader: this.unparsed },
      anomalies: { lines: this.anomalies, ratio: this.anomalies / total, byDetector: { ...this.byDetector }, bySeverity: { ...this.anomalySeverity }, windows: this.windowFindingCount },
      volume: { bytes: this.bytes, recordsPerFile },
      templates: { unique: templates.length, entropyBits: Math.round(entropy * 1000) / 1000, topTemplateRatio: templates[0]?.ratio ?? 0, top: templates.slice(0, TOP_TEMPLATES) },
      time: {
        first: this.firstMs !== undefined ? new Date(this.firstMs).toISOString() : null,
        last: this.lastMs !== undefined ? new Date(this.lastMs).toISOString() : null,
        spanSeconds: span,
        logsPerSecond: span && span > 0 ? Math.round((this.recordsTotal / span) * 100) / 100 : null,
        peakPerMinute: Math.round(peak * perMinuteScale),
        peakMinute: peakAt !== undefined ? new Date(peakAt).toISOString() : null,
        errorRate: this.errors / total,
      },
      processing: { seconds, linesPerSecond: seconds > 0 ? Math.round(this.lines / seconds) : 0, peakRssMB },
      components: [...this.components.values()].sort((a, b) => b.records - a.records),
      severity: { ...this.anomalySeverity },
      levels: { ...this.levels },
      tags: { ...this.tags },
      security: { findings: this.security.findings, byKind: { ...this.security.byKind }, samples: [...this.security.samples] },
      failingRequests: failing,
      windowFindings: [...this.windowFindings],
      decision: { threshold: this.opts.config.decision.threshold, minDetectors: this.opts.config.decision.minDetectors, weights: { ...this.opts.config.decision.weights } },
    };
  }

  private failingRequests(): { total: number; samples: FailingRequest[] } {
    const tracker = this.opts.detectors.find((d): d is CorrelationDetector => d instanceof CorrelationDetector);
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
