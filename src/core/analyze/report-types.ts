/**
 * What `vigil analyze` writes, as types: summary.json, anomalies.json (one object per anomalous
 * line), and the series the report's charts are drawn from. The same shapes feed report.html,
 * dashboard.png, alerts.txt and anomaly_report.csv.
 */
import type { Finding, Severity, WindowFinding } from '../detect/detector.js';
import type { AnomalyGroupsReport } from './anomaly-groups.js';

/** One anomalous line, as written to anomalies.json and anomaly_report.csv. */
export interface AnomalyRow {
  file: string;
  /** 1-based line number in `file` (of the record's first line). */
  line: number;
  /** ISO-8601, when the record had a timestamp. */
  timestamp: string | null;
  message: string;
  template: string;
  templateId: string;
  /** Combined score in [0, 1]. */
  score: number;
  /** Detector names that fired on this line. */
  detectors: string[];
  severity: Severity;
  /** One sentence: the strongest findings' reasons joined. */
  reason: string;
  tags: string[];
  component: string | null;
  level: string | null;
  /** Every finding behind the decision, with its evidence. */
  findings: Finding[];
}

export interface TemplateStat {
  templateId: string;
  template: string;
  count: number;
  /** Share of all records. */
  ratio: number;
}

export interface ComponentStat {
  name: string;
  records: number;
  errors: number;
  anomalies: number;
}

export interface SecurityFinding {
  file: string;
  line: number;
  kind: string;
  /** Always masked: never the secret itself. */
  masked: string;
}

export interface FailingRequest {
  requestId: string;
  services: string[];
  failedAt: string;
  firstError: string;
}

/** summary.json */
export interface AnalysisSummary {
  vigilVersion: string;
  generatedAt: string;
  files: string[];
  lines: {
    /** Physical lines read. */
    original: number;
    /** Records after joining continuation lines (multi-line records count once). */
    records: number;
    /** Lines that went through the pipeline (original minus skipped). */
    processed: number;
    /** Lines skipped by reason: binary, empty, … (never fatal). */
    skipped: Record<string, number>;
    /** Lines cut to the length limit (still processed). */
    truncated: number;
    /** Lines that fit no header format (kept, message = whole line). */
    unparsedHeader: number;
  };
  anomalies: {
    lines: number;
    ratio: number;
    byDetector: Record<string, number>;
    bySeverity: Record<Severity, number>;
    /** Findings about spans of time (drops, error-rate changes, odd windows). */
    windows: number;
  };
  volume: {
    bytes: number;
    recordsPerFile: Record<string, number>;
  };
  templates: {
    unique: number;
    /** Shannon entropy of the template distribution, in bits. */
    entropyBits: number;
    /** Share of records in the most frequent template. */
    topTemplateRatio: number;
    top: TemplateStat[];
  };
  time: {
    first: string | null;
    last: string | null;
    spanSeconds: number | null;
    /** Records per second of log time. */
    logsPerSecond: number | null;
    peakPerMinute: number;
    peakMinute: string | null;
    /** Share of records at level error/fatal. */
    errorRate: number;
  };
  processing: {
    seconds: number;
    linesPerSecond: number;
    peakRssMB: number;
  };
  components: ComponentStat[];
  severity: Record<Severity, number>;
  levels: Record<string, number>;
  tags: Record<string, number>;
  security: { findings: number; byKind: Record<string, number>; samples: SecurityFinding[] };
  failingRequests: { total: number; samples: FailingRequest[] };
  windowFindings: WindowFinding[];
  /** The rule that decided which lines are anomalies, as configured. */
  decision: { threshold: number; minDetectors: number; weights: Record<string, number> };
}

/** One minute of the run, for charts (downsampled to a bounded number of points). */
export interface MinutePoint {
  /** Minute start, epoch ms. */
  t: number;
  records: number;
  anomalies: number;
  errors: number;
  /** Distinct templates seen so far (cumulative), for the template-diversity chart. */
  templatesSoFar: number;
}

/** Everything the report renderers need. */
export interface AnalysisReport {
  summary: AnalysisSummary;
  minutes: MinutePoint[];
  /** The highest-scoring anomalies (bounded), for tables in the report. */
  topAnomalies: AnomalyRow[];
  /** Every anomalous line grouped by template, the groups that matter most first (bounded). */
  anomalyGroups: AnomalyGroupsReport;
}
