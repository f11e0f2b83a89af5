/**
 * alerts.txt: what a person on call reads first. Plain text, bounded (about 200 lines at most,
 * however many anomalies the run found): the headline, the anomalies grouped by template (most
 * severe first, with their counts over the whole run: anomaly-groups.ts), security findings
 * (masked), failing requests and window findings.
 *
 * Log text is flattened to one line, stripped of control characters (no terminal escapes) and cut.
 */
import { SEVERITIES, severityRank } from '../../core/detect/detector.js';
import type { AnomalyGroupLine } from '../../core/analyze/anomaly-groups.js';
import type { AnalysisReport } from '../../core/analyze/report-types.js';
import { truncate } from './charts.js';
import { fmtDuration, fmtInt, fmtMs, fmtPct, fmtScore, fmtTime, headlineFacts } from './html.js';

export interface AlertsLimits {
  /** Template groups listed (default 25, 4 lines each). */
  groups: number;
  securitySamples: number;
  failingRequests: number;
  windowFindings: number;
  /** Longest line written (default 160 characters). */
  width: number;
}

export const DEFAULT_ALERTS_LIMITS: AlertsLimits = { groups: 25, securitySamples: 10, failingRequests: 10, windowFindings: 15, width: 160 };

/** Log text made safe for a text file read in a terminal: one line, no control characters. */
function clean(s: string, max: number): string {
  return truncate(s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, ' '), max);
}


function where(r: AnomalyGroupLine, multiFile: boolean): string {
  return multiFile ? `${clean(r.file, 60)}:${fmtInt(r.line)}` : `line ${fmtInt(r.line)}`;
}

function timeOf(r: AnomalyGroupLine): string {
  return r.timestamp === null ? '' : fmtTime(r.timestamp);
}

/** The alerts.txt text (ends with a newline). */
export function renderAlertsText(report: AnalysisReport, limits: Partial<AlertsLimits> = {}): string {
  const L: AlertsLimits = { ...DEFAULT_ALERTS_LIMITS, ...limits };
  const W = L.width;
  const s = report.summary;
  const out: string[] = [];
  const line = (text = ''): void => {
    out.push(text.length > W ? `${text.slice(0, W - 1)}…` : text);
  };
  const heading = (text: string): void => {
    line();
    line(text);
    line('-'.repeat(Math.min(W, text.length)));
  };

  // Headline.
  const files = s.files;
  const fileList = files.slice(0, 3).map((f) => clean(f, 60)).join(', ') + (files.length > 3 ? `, and ${fmtInt(files.length - 3)} more` : '');
  line(`VIGIL ALERTS: ${fmtInt(s.anomalies.lines)} anomalous line${s.anomalies.lines === 1 ? '' : 's'} in ${files.length === 1 ? '1 file' : `${fmtInt(files.length)} files`}${files.length ? ` (${fileList})` : ''}`);
  line(`generated ${fmtTime(s.generatedAt)} UTC by vigil ${clean(s.vigilVersion, 20)}`);
  line();
  for (const f of headlineFacts(report)) line(`  ${`${f.label}:`.padEnd(18)}${f.value}${f.unit ? ` ${f.unit}` : ''} (${f.detail})`);
  const bySev = SEVERITIES.map((k) => `${k} ${fmtInt(s.anomalies.bySeverity[k] ?? 0)}`).join(' · ');
  line(`  ${'Severity:'.padEnd(18)}${bySev}`);
  const d = s.decision;
  line(`  ${'Decision rule:'.padEnd(18)}combined score >= ${d.threshold} and at least ${fmtInt(d.minDetectors)} detector${d.minDetectors === 1 ? '' : 's'}`);

  // Anomalies grouped by template, counted over every anomalous line of the run.
  const { groups, templates, dropped } = report.anomalyGroups;
  const multiFile = files.length > 1;
  if (groups.length === 0) {
    heading('ANOMALIES');
    line('  none found');
  } else {
    const shown = groups.slice(0, L.groups);
    heading(`ANOMALIES BY TEMPLATE (${fmtInt(templates)} template${templates === 1 ? '' : 's'}${shown.length < templates ? `, top ${shown.length} shown` : ''})`);
    shown.forEach((g, i) => {
      const one = g.first.file === g.last.file && g.first.line === g.last.line;
      const span = one
        ? where(g.first, multiFile)
        : g.first.file === g.last.file
          ? `${multiFile ? `${clean(g.first.file, 60)} ` : ''}lines ${fmtInt(g.first.line)} to ${fmtInt(g.last.line)}`
          : `${where(g.first, multiFile)} to ${where(g.last, multiFile)}`;
      const t1 = timeOf(g.first);
      const t2 = timeOf(g.last);
      const times = t1 && t2 ? (t1 === t2 ? `, ${t1}` : `, ${t1} to ${t2.slice(0, 10) === t1.slice(0, 10) ? t2.slice(11) : t2}`) : '';
      const dets = g.detectors.map(([k]) => k).slice(0, 4).join(', ');
      line(`${String(i + 1).padStart(3)}. [${g.severity.toUpperCase()}] ${fmtInt(g.count)}× score ${fmtScore(g.maxScore)}, ${span}${times}`);
      line(`     template: ${clean(g.template, W - 15)}`);
      line(`     reason:   ${clean(g.best.reason, W - 15)}${dets ? ` [${clean(dets, 60)}]` : ''}`);
      line(`     example:  ${clean(g.best.message, W - 15)}`);
    });
    const shownLines = shown.reduce((n, g) => n + g.count, 0);
    if (shown.length < templates) {
      line(`     … ${fmtInt(templates - shown.length)} more templates (${fmtInt(s.anomalies.lines - shownLines)} lines): see anomalies.json or anomaly_report.csv`);
    }
    if (dropped.groups > 0) line(`     (${fmtInt(dropped.groups)} of the least severe templates, ${fmtInt(dropped.lines)} lines, were counted without their details to bound memory)`);
  }

  // Security findings.
  const sec = s.security;
  heading(`SECURITY FINDINGS (${fmtInt(sec.findings)}, values masked)`);
  if (sec.findings === 0 && sec.samples.length === 0) line('  none found');
  else {
    const kinds = Object.entries(sec.byKind).sort((a, b) => b[1] - a[1]);
    if (kinds.length)
      line(`  ${kinds.slice(0, 10).map(([k, n]) => `${clean(k, 30)} ${fmtInt(n)}`).join(' · ')}${kinds.length > 10 ? ' · …' : ''}`);
    for (const f of sec.samples.slice(0, L.securitySamples)) line(`  - ${clean(f.file, 60)}:${fmtInt(f.line)}  ${clean(f.kind, 24)}  ${clean(f.masked, 80)}`);
    const more = Math.max(sec.findings, sec.samples.length) - Math.min(L.securitySamples, sec.samples.length);
    if (more > 0) line(`  … ${fmtInt(more)} more in summary.json`);
  }

  // Failing requests.
  const fr = s.failingRequests;
  heading(`FAILING REQUESTS (${fmtInt(fr.total)})`);
  if (fr.total === 0 && fr.samples.length === 0) line('  none found');
  else {
    for (const r of fr.samples.slice(0, L.failingRequests)) {
      line(`  - ${clean(r.requestId, 40)}: ${clean(r.services.slice(0, 8).join(' -> ') + (r.services.length > 8 ? ' -> …' : ''), 80)}; failed at ${clean(r.failedAt, 40)}`);
      line(`      ${clean(r.firstError, W - 6)}`);
    }
    const more = Math.max(fr.total, fr.samples.length) - Math.min(L.failingRequests, fr.samples.length);
    if (more > 0) line(`  … ${fmtInt(more)} more in summary.json`);
  }

  // Window findings.
  const wf = [...s.windowFindings].sort((a, b) => severityRank(a.severity ?? 'info') - severityRank(b.severity ?? 'info') || b.score - a.score || a.startMs - b.startMs);
  heading(`WINDOW FINDINGS (${fmtInt(wf.length)}: drops, error-rate changes, unusual windows)`);
  if (wf.length === 0) line('  none found');
  else {
    for (const w of wf.slice(0, L.windowFindings)) {
      const end = fmtMs(w.endMs);
      const start = fmtMs(w.startMs);
      line(
        `  - ${start} to ${end.slice(0, 10) === start.slice(0, 10) ? end.slice(11) : end} UTC (${fmtDuration((w.endMs - w.startMs) / 1000)}) [${(w.severity ?? 'info').toUpperCase()}] ${clean(w.detector, 30)}: ${clean(w.reason, W - 60)}`,
      );
    }
    if (wf.length > L.windowFindings) line(`  … ${fmtInt(wf.length - L.windowFindings)} more in summary.json`);
  }

  line();
  line(`Full details: report.html, anomalies.json, anomaly_report.csv, summary.json. Anomaly ratio ${fmtPct(s.anomalies.ratio)}.`);
  return `${out.join('\n')}\n`;
}
