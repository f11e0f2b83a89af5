/**
 * A realistic AnalysisReport for the report renderers' tests and for looking at the output:
 * six hours of a small web platform (several services, a deploy that goes wrong, a database
 * outage, a credential leak, a flood), built deterministically (seeded, no clock).
 */
import type { Finding, Severity, WindowFinding } from '../../core/detect/detector.js';
import { groupAnomalies } from '../../core/analyze/anomaly-groups.js';
import type {
  AnalysisReport,
  AnalysisSummary,
  AnomalyRow,
  ComponentStat,
  MinutePoint,
  TemplateStat,
} from '../../core/analyze/report-types.js';

/** Small deterministic PRNG (mulberry32), so the fixture is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const START_MS = Date.UTC(2026, 10, 21, 6, 0, 0);
const MINUTES = 360;

const COMPONENTS: Array<{ name: string; weight: number; errorRate: number }> = [
  { name: 'api-gateway', weight: 30, errorRate: 0.01 },
  { name: 'auth-service', weight: 14, errorRate: 0.02 },
  { name: 'payment-service', weight: 9, errorRate: 0.03 },
  { name: 'order-service', weight: 11, errorRate: 0.015 },
  { name: 'inventory', weight: 6, errorRate: 0.01 },
  { name: 'db-pool', weight: 8, errorRate: 0.02 },
  { name: 'cache', weight: 7, errorRate: 0.005 },
  { name: 'scheduler', weight: 3, errorRate: 0.01 },
  { name: 'search-indexer', weight: 4, errorRate: 0.02 },
  { name: 'notification-worker', weight: 3, errorRate: 0.02 },
  { name: 'kube-scheduler', weight: 2, errorRate: 0.01 },
  { name: 'ingress-nginx', weight: 5, errorRate: 0.01 },
  { name: 'feature-flags', weight: 1, errorRate: 0.03 },
  { name: 'cdn-edge', weight: 2, errorRate: 0.01 },
  { name: 'session-store', weight: 2, errorRate: 0.01 },
  { name: 'report-builder', weight: 1, errorRate: 0.02 },
  { name: 'mailer', weight: 1, errorRate: 0.04 },
  { name: 'audit-log', weight: 1, errorRate: 0.0 },
];

const TEMPLATES: string[] = [
  'GET <*> HTTP/1.1 <*> <*> ms',
  'POST <*> HTTP/1.1 <*> <*> ms',
  'user <*> authenticated via <*> from <*>',
  'cache hit ratio <*> for region <*>',
  'order <*> created for customer <*> total=<*> currency=<*>',
  'payment <*> authorised by provider <*> in <*> ms',
  'connection pool stats: active=<*> idle=<*> waiting=<*>',
  'scheduled job <*> finished in <*> ms',
  'inventory reservation <*> for sku <*> quantity=<*>',
  'indexed <*> documents into shard <*> in <*> ms',
  'slow request: <*> <*> took <*> ms (threshold <*> ms) upstream=<*> retries=<*> client=<*> route=<*> pod=<*>',
  'session <*> refreshed, expires at <*>',
  'feature flag <*> evaluated to <*> for tenant <*>',
  'notification <*> queued for channel <*> with priority <*>',
  'ERROR connection refused to <*>: dial tcp <*>: connect: connection refused (attempt <*> of <*>)',
  'WARN retrying request <*> after <*> ms backoff',
  'ERROR payment provider <*> returned <*>: "card_declined", reason="insufficient funds, retry later"',
  'ERROR java.lang.OutOfMemoryError: Java heap space at com.example.orders.OrderAssembler.build(OrderAssembler.java:<*>)',
  'Killed process <*> (<*>) total-vm:<*>kB, anon-rss:<*>kB, file-rss:<*>kB, shmem-rss:<*>kB, UID:<*> pgtables:<*>kB oom_score_adj:<*>',
  'health check ok for <*>',
];

const SEVERITIES_BY_KIND: Record<string, Severity> = {
  new_template: 'medium',
  rare_template: 'low',
  frequency_spike: 'high',
  error_rate: 'high',
  flood: 'medium',
  sequence: 'medium',
  outlier_iforest: 'low',
  semantic_severity: 'critical',
  secrets: 'high',
  cross_service: 'high',
  level_error: 'info',
};

const REASONS: Record<string, string> = {
  new_template: 'template seen for the first time after 41,230 lines',
  rare_template: 'template seen 2 times in 180,000 lines',
  frequency_spike: 'template rate 14.2x its baseline of 3.1/min',
  error_rate: 'error rate of payment-service rose from 0.8% to 27% in 5 minutes',
  flood: 'one message is 71% of the last 2,000 lines',
  sequence: 'transition "order created" → "payment refunded" never seen in 12,400 sessions',
  outlier_iforest: 'isolation score 0.81 (top 0.1% of messages)',
  semantic_severity: 'message means out of memory although its level is INFO',
  secrets: 'line contains a password and a bearer token',
  cross_service: 'request failed in 3 services',
  level_error: 'level ERROR',
};

interface AnomalySeed {
  minute: number;
  component: string;
  message: string;
  template: string;
  detectors: string[];
  tags: string[];
  severity?: Severity;
  level?: string;
}

function pick<T>(r: () => number, items: readonly T[]): T {
  const item = items[Math.floor(r() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function templateId(template: string): string {
  let h = 2166136261;
  for (let i = 0; i < template.length; i++) {
    h ^= template.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

function makeRow(seed: AnomalySeed, line: number, r: () => number, file: string): AnomalyRow {
  const findings: Finding[] = seed.detectors.map((d) => {
    const sev = SEVERITIES_BY_KIND[d] ?? 'low';
    return {
      detector: d,
      score: Math.round((0.5 + r() * 0.5) * 1000) / 1000,
      reason: REASONS[d] ?? d,
      severity: sev,
      tags: seed.tags,
      evidence: { baseline: Math.round(r() * 100) },
    };
  });
  const severity: Severity =
    seed.severity ??
    findings.reduce<Severity>(
      (best, f) => (f.severity !== undefined && SEVERITY_RANK[f.severity] > SEVERITY_RANK[best] ? f.severity : best),
      'info',
    );
  const score = Math.min(1, Math.max(...findings.map((f) => f.score)) * (0.9 + 0.05 * findings.length));
  return {
    file,
    line,
    timestamp: new Date(START_MS + seed.minute * 60_000 + Math.floor(r() * 60_000)).toISOString(),
    message: seed.message,
    template: seed.template,
    templateId: templateId(seed.template),
    score: Math.round(score * 1000) / 1000,
    detectors: seed.detectors,
    severity,
    reason: findings
      .slice(0, 2)
      .map((f) => f.reason)
      .join('; '),
    tags: seed.tags,
    component: seed.component,
    level: seed.level ?? 'ERROR',
    findings,
  };
}

function anomalySeeds(r: () => number): AnomalySeed[] {
  const seeds: AnomalySeed[] = [];
  // The XSS probe: a log line that tries to run script in the report, with quotes and commas.
  seeds.push({
    minute: 37,
    component: 'api-gateway',
    message:
      'GET /search?q=<script>alert(1)</script>&sort="price, desc" HTTP/1.1 400 12 ms ua="Mozilla/5.0 (X11; Linux), \'evil\'"',
    template: 'GET <*> HTTP/1.1 <*> <*> ms ua=<*>',
    detectors: ['new_template', 'outlier_iforest'],
    tags: ['security', 'outlier'],
    severity: 'high',
    level: 'WARN',
  });
  // A multi-line record (stack trace) whose message has newlines.
  seeds.push({
    minute: 122,
    component: 'order-service',
    message:
      'ERROR java.lang.OutOfMemoryError: Java heap space at com.example.orders.OrderAssembler.build(OrderAssembler.java:212)\n' +
      '\tat com.example.orders.OrderService.create(OrderService.java:88)\n' +
      '\tat com.example.http.Router.dispatch(Router.java:41)',
    template: TEMPLATES[17] ?? '',
    detectors: ['semantic_severity', 'new_template'],
    tags: ['error', 'memory'],
  });
  // Credential leak (the report must show the message as the pipeline gave it; findings masked).
  seeds.push({
    minute: 201,
    component: 'auth-service',
    message: 'login attempt for user=admin password=******** token=Bearer ****…**** from 203.0.113.7',
    template: 'login attempt for user=<*> password=<*> token=<*> from <*>',
    detectors: ['secrets', 'new_template'],
    tags: ['security', 'secret'],
  });
  // The database outage: connection refused burst in minutes 140-152.
  for (let i = 0; i < 40; i++) {
    const m = 140 + Math.floor(r() * 12);
    seeds.push({
      minute: m,
      component: pick(r, ['db-pool', 'order-service', 'payment-service']),
      message: `ERROR connection refused to db-primary:5432: dial tcp 10.0.3.${10 + (i % 5)}:5432: connect: connection refused (attempt ${1 + (i % 3)} of 3)`,
      template: TEMPLATES[14] ?? '',
      detectors: i % 4 === 0 ? ['frequency_spike', 'error_rate', 'cross_service'] : ['frequency_spike', 'error_rate'],
      tags: ['error', 'spike', 'database'],
    });
  }
  // Payment declines with quotes and commas in the message.
  for (let i = 0; i < 14; i++) {
    seeds.push({
      minute: 230 + Math.floor(r() * 40),
      component: 'payment-service',
      message: `ERROR payment provider stripe-eu returned 402: "card_declined", reason="insufficient funds, retry later" order=ord-${7000 + i}`,
      template: TEMPLATES[16] ?? '',
      detectors: ['error_rate'],
      tags: ['error', 'payment'],
    });
  }
  // Flood of retries after the deploy at minute 300.
  for (let i = 0; i < 30; i++) {
    seeds.push({
      minute: 300 + Math.floor(r() * 10),
      component: 'api-gateway',
      message: `WARN retrying request req-${(90000 + i).toString(16)} after ${100 * (1 + (i % 4))} ms backoff`,
      template: TEMPLATES[15] ?? '',
      detectors: ['flood'],
      tags: ['flood'],
      level: 'WARN',
      severity: 'medium',
    });
  }
  // OOM kills in kube.
  for (let i = 0; i < 5; i++) {
    seeds.push({
      minute: 310 + i * 3,
      component: 'kube-scheduler',
      message: `Killed process ${31000 + i} (java) total-vm:8388608kB, anon-rss:4194304kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:8192kB oom_score_adj:${900 + i}`,
      template: TEMPLATES[18] ?? '',
      detectors: ['semantic_severity', 'rare_template'],
      tags: ['error', 'memory', 'oom'],
      level: 'INFO',
    });
  }
  // Sequence anomalies and scattered outliers over the whole run.
  for (let i = 0; i < 25; i++) {
    seeds.push({
      minute: Math.floor(r() * MINUTES),
      component: pick(r, ['order-service', 'inventory', 'search-indexer', 'notification-worker', 'feature-flags']),
      message:
        i % 2 === 0
          ? `order ord-${8000 + i} refunded before payment was captured (session s-${1000 + i})`
          : `feature flag checkout-v2 evaluation timed out after 5000 ms for tenant t-${i}`,
      template:
        i % 2 === 0
          ? 'order <*> refunded before payment was captured (session <*>)'
          : 'feature flag <*> evaluation timed out after <*> ms for tenant <*>',
      detectors: i % 2 === 0 ? ['sequence'] : ['outlier_iforest', 'new_template'],
      tags: i % 2 === 0 ? ['sequence'] : ['outlier', 'timeout'],
      severity: i % 5 === 0 ? 'info' : i % 2 === 0 ? 'medium' : 'low',
      level: i % 2 === 0 ? 'INFO' : 'WARN',
    });
  }
  // A very long message (to check truncation in tables).
  seeds.push({
    minute: 333,
    component: 'report-builder',
    message: `ERROR failed to render report r-42: ${'template variable missing; '.repeat(30)}end`,
    template: 'ERROR failed to render report <*>: <*>',
    detectors: ['new_template'],
    tags: ['error'],
  });
  return seeds;
}

/** Builds the anomaly rows of the sample, sorted by score (highest first). */
function sampleAnomalies(r: () => number, file: string): AnomalyRow[] {
  const seeds = anomalySeeds(r).sort((a, b) => a.minute - b.minute);
  const rows = seeds.map((s) => makeRow(s, s.minute * 520 + 1 + Math.floor(r() * 500), r, file));
  return rows.sort((a, b) => b.score - a.score || a.line - b.line);
}

function countBy<T>(items: readonly T[], key: (t: T) => string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) for (const k of key(it)) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/** An empty-ish summary: every count zero, no timestamps. Tests and `sampleReport` build on it. */
export function emptySummary(files: string[] = ['empty.log']): AnalysisSummary {
  const zeroSev: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  return {
    vigilVersion: '0.1.0',
    generatedAt: '2026-11-21T12:00:00.000Z',
    files,
    lines: { original: 0, records: 0, processed: 0, skipped: {}, truncated: 0, unparsedHeader: 0 },
    anomalies: { lines: 0, ratio: 0, byDetector: {}, bySeverity: { ...zeroSev }, windows: 0 },
    volume: { bytes: 0, recordsPerFile: {} },
    templates: { unique: 0, entropyBits: 0, topTemplateRatio: 0, top: [] },
    time: {
      first: null,
      last: null,
      spanSeconds: null,
      logsPerSecond: null,
      peakPerMinute: 0,
      peakMinute: null,
      errorRate: 0,
    },
    processing: { seconds: 0, linesPerSecond: 0, peakRssMB: 0 },
    components: [],
    severity: { ...zeroSev },
    levels: {},
    tags: {},
    security: { findings: 0, byKind: {}, samples: [] },
    failingRequests: { total: 0, samples: [] },
    windowFindings: [],
    decision: { threshold: 0.6, minDetectors: 1, weights: {} },
  };
}

/** A report with nothing in it: no lines, no timestamps, no anomalies. */
export function emptyReport(files: string[] = ['empty.log']): AnalysisReport {
  return { summary: emptySummary(files), minutes: [], topAnomalies: [], anomalyGroups: groupAnomalies([]) };
}

/** The sample report: ~187,000 records over six hours from 18 components, 117 anomalies. */
export function sampleReport(): AnalysisReport {
  const r = rng(20261121);
  const file = 'logs/platform-2026-11-21.log';

  // Minutes: a diurnal-ish base, a dip during the database outage, a spike at the deploy.
  const minutes: MinutePoint[] = [];
  const componentRecords = new Map<string, { records: number; errors: number }>();
  let templatesSoFar = 0;
  let records = 0;
  let errors = 0;
  for (let m = 0; m < MINUTES; m++) {
    let base = 420 + 160 * Math.sin((m / MINUTES) * Math.PI) + r() * 60;
    if (m >= 140 && m < 152) base *= 0.35;
    if (m >= 300 && m < 310) base *= 2.4;
    const rec = Math.round(base);
    let err = Math.round(rec * (0.01 + r() * 0.01));
    if (m >= 140 && m < 152) err += 40 + Math.round(r() * 30);
    if (m >= 230 && m < 270) err += Math.round(r() * 6);
    if (m < 5) templatesSoFar += 3;
    else if (r() < 0.05 || m === 37 || m === 122 || m === 201 || m === 310) templatesSoFar += 1;
    minutes.push({ t: START_MS + m * 60_000, records: rec, anomalies: 0, errors: err, templatesSoFar });
    records += rec;
    errors += err;
  }
  const totalWeight = COMPONENTS.reduce((s, c) => s + c.weight, 0);
  let assigned = 0;
  COMPONENTS.forEach((c, i) => {
    const n = i === COMPONENTS.length - 1 ? records - assigned : Math.round((records * c.weight) / totalWeight);
    assigned += n;
    componentRecords.set(c.name, { records: n, errors: Math.round(n * c.errorRate) });
  });

  const anomalies = sampleAnomalies(r, file);
  for (const a of anomalies) {
    const m = Math.floor((Date.parse(a.timestamp ?? '') - START_MS) / 60_000);
    const point = minutes[m];
    if (point) point.anomalies += 1;
  }

  const templateCounts = TEMPLATES.map((t, i) => ({ t, w: 1 / Math.pow(i + 1, 1.15) }));
  const wsum = templateCounts.reduce((s, x) => s + x.w, 0);
  const top: TemplateStat[] = templateCounts
    .map(({ t, w }) => {
      const count = Math.max(1, Math.round((records * 0.96 * w) / wsum));
      return { templateId: templateId(t), template: t, count, ratio: count / records };
    })
    .sort((a, b) => b.count - a.count);
  // One odd template name with markup, so escaping in the template table is exercised too.
  top.push({
    templateId: templateId('<img src=x onerror=alert(2)> <*>'),
    template: '<img src=x onerror=alert(2)> <*>',
    count: 3,
    ratio: 3 / records,
  });

  const components: ComponentStat[] = COMPONENTS.map((c) => {
    const cr = componentRecords.get(c.name) ?? { records: 0, errors: 0 };
    return { name: c.name, records: cr.records, errors: cr.errors, anomalies: anomalies.filter((a) => a.component === c.name).length };
  }).sort((a, b) => b.records - a.records);

  const bySeverity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const a of anomalies) bySeverity[a.severity] += 1;

  const windowFindings: WindowFinding[] = [
    {
      detector: 'frequency_drop',
      score: 0.92,
      reason: 'template "connection pool stats: active=<*> idle=<*> waiting=<*>" went quiet for 12 minutes (baseline 8.2/min)',
      source: file,
      startMs: START_MS + 140 * 60_000,
      endMs: START_MS + 152 * 60_000,
      templateId: templateId(TEMPLATES[6] ?? ''),
      severity: 'high',
      tags: ['drop'],
    },
    {
      detector: 'error_rate',
      score: 0.88,
      reason: 'error rate of payment-service rose from 0.8% to 27% (baseline over 60 minutes)',
      source: file,
      startMs: START_MS + 230 * 60_000,
      endMs: START_MS + 270 * 60_000,
      service: 'payment-service',
      severity: 'high',
      tags: ['error-rate'],
    },
    {
      detector: 'flood',
      score: 0.7,
      reason: 'one message ("WARN retrying request <*> after <*> ms backoff") was 71% of 10 minutes',
      source: file,
      startMs: START_MS + 300 * 60_000,
      endMs: START_MS + 310 * 60_000,
      severity: 'medium',
      tags: ['flood'],
    },
    {
      detector: 'window_outlier',
      score: 0.64,
      reason: 'template mix of this 5-minute window is unlike any other (LOF 3.4)',
      source: file,
      startMs: START_MS + 120 * 60_000,
      endMs: START_MS + 125 * 60_000,
      severity: 'low',
    },
  ];

  const spanSeconds = (MINUTES * 60_000 - 1000) / 1000;
  const peak = minutes.reduce((best, p) => (p.records > best.records ? p : best), minutes[0] ?? { t: 0, records: 0, anomalies: 0, errors: 0, templatesSoFar: 0 });
  const original = records + 2_431;
  const probs = top.map((t) => t.ratio);
  const entropy = -probs.reduce((s, p) => s + (p > 0 ? p * Math.log2(p) : 0), 0);

  const summary: AnalysisSummary = {
    ...emptySummary([file, 'logs/payment-service.log']),
    lines: {
      original,
      records,
      processed: original - 57,
      skipped: { empty: 41, binary: 16 },
      truncated: 3,
      unparsedHeader: 212,
    },
    anomalies: {
      lines: anomalies.length,
      ratio: anomalies.length / records,
      byDetector: countBy(anomalies, (a) => a.detectors),
      bySeverity,
      windows: windowFindings.length,
    },
    volume: { bytes: 41_873_920, recordsPerFile: { [file]: records - 9_000, 'logs/payment-service.log': 9_000 } },
    templates: {
      unique: templatesSoFar,
      entropyBits: Math.round(entropy * 1000) / 1000,
      topTemplateRatio: top[0]?.ratio ?? 0,
      top,
    },
    time: {
      first: new Date(START_MS).toISOString(),
      last: new Date(START_MS + spanSeconds * 1000).toISOString(),
      spanSeconds,
      logsPerSecond: records / spanSeconds,
      peakPerMinute: peak.records,
      peakMinute: new Date(peak.t).toISOString(),
      errorRate: errors / records,
    },
    processing: { seconds: 1.84, linesPerSecond: Math.round(original / 1.84), peakRssMB: 143.2 },
    components,
    severity: { ...bySeverity },
    levels: { INFO: records - errors - 9_800, WARN: 9_800, ERROR: errors - 12, FATAL: 12 },
    tags: countBy(anomalies, (a) => a.tags),
    security: {
      findings: 4,
      byKind: { password: 2, bearer_token: 1, email: 1 },
      samples: [
        { file, line: 104_521, kind: 'password', masked: 'password=********' },
        { file, line: 104_521, kind: 'bearer_token', masked: 'Authorization: Bearer eyJh…****' },
        { file, line: 130_002, kind: 'password', masked: 'db_password="********"' },
        { file: 'logs/payment-service.log', line: 88, kind: 'email', masked: 'j***@ex****.com <script>' },
      ],
    },
    failingRequests: {
      total: 9,
      samples: [
        {
          requestId: 'req-7f3a91',
          services: ['api-gateway', 'order-service', 'payment-service'],
          failedAt: 'payment-service',
          firstError: 'ERROR payment provider stripe-eu returned 402: "card_declined", reason="insufficient funds, retry later"',
        },
        {
          requestId: 'req-7f3b02',
          services: ['api-gateway', 'order-service', 'db-pool'],
          failedAt: 'db-pool',
          firstError: 'ERROR connection refused to db-primary:5432: dial tcp 10.0.3.11:5432: connect: connection refused',
        },
        {
          requestId: 'req-<b>bold</b>',
          services: ['api-gateway'],
          failedAt: 'api-gateway',
          firstError: 'upstream timed out (110: Connection timed out) while reading response header',
        },
      ],
    },
    windowFindings,
    decision: {
      threshold: 0.6,
      minDetectors: 1,
      weights: {
        new_template: 0.6,
        rare_template: 0.4,
        frequency_spike: 0.8,
        error_rate: 0.8,
        flood: 0.7,
        sequence: 0.7,
        outlier_iforest: 0.5,
        semantic_severity: 0.9,
        secrets: 1,
        cross_service: 0.8,
      },
    },
  };
  return { summary, minutes, topAnomalies: anomalies, anomalyGroups: groupAnomalies(anomalies) };
}

/** A report with `n` anomalies (for bounds tests): the sample's rows repeated with new lines. */
export function hugeReport(n: number): AnalysisReport {
  const base = sampleReport();
  const rows: AnomalyRow[] = [];
  const src = base.topAnomalies;
  for (let i = 0; i < n; i++) {
    const row = src[i % src.length];
    if (!row) break;
    rows.push({ ...row, line: row.line + i * 7 });
  }
  return {
    ...base,
    summary: {
      ...base.summary,
      anomalies: { ...base.summary.anomalies, lines: n, ratio: n / Math.max(1, base.summary.lines.records) },
      security: {
        ...base.summary.security,
        findings: n,
        samples: Array.from({ length: 5000 }, (_, i) => ({ file: 'x.log', line: i + 1, kind: 'password', masked: 'password=****' })),
      },
      failingRequests: {
        total: n,
        samples: Array.from({ length: 5000 }, (_, i) => ({
          requestId: `req-${i}`,
          services: ['a', 'b'],
          failedAt: 'b',
          firstError: 'boom',
        })),
      },
      windowFindings: Array.from({ length: 5000 }, (_, i) => ({
        detector: 'flood',
        score: 0.5,
        reason: `window ${i}`,
        source: 'x.log',
        startMs: START_MS + i * 60_000,
        endMs: START_MS + (i + 1) * 60_000,
      })),
    },
    topAnomalies: rows,
    anomalyGroups: groupAnomalies(rows),
  };
}
