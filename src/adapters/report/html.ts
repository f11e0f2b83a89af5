/**
 * report.html: one self-contained page that opens offline. No external URL of any kind: CSS is
 * inline, the charts are inline SVG (rendered by charts.ts), and the only script (sorting tables
 * by a click on a column head) is inline and allowed by hash in the page's Content-Security-Policy,
 * so even if a log line slipped through escaping, the page would not run it.
 *
 * Everything that comes from logs is escaped with `esc()`.
 */
import { createHash } from 'node:crypto';
import type { Severity } from '../../core/detect/detector.js';
import { SEVERITIES, severityRank } from '../../core/detect/detector.js';
import type { AnalysisReport, AnomalyRow } from '../../core/analyze/report-types.js';
import { CHART_IDS, FULL_WIDTH, PALETTE, renderChartsSync, SEVERITY_COLORS, truncate, type ReportCharts } from './charts.js';

// ---------------------------------------------------------------------------------------------
// Numbers and times as every renderer writes them (html, png, alerts)
// ---------------------------------------------------------------------------------------------

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `12,345`; `–` for a missing or non-finite number. */
export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : intFmt.format(n);
}

/** A share in [0, 1] as a percentage with sensible precision: `27%`, `4.3%`, `0.063%`, `0%`. */
export function fmtPct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const p = x * 100;
  if (p === 0) return '0%';
  if (p >= 99.95) return `${Math.round(p)}%`;
  if (p >= 10) return `${p.toFixed(1)}%`;
  if (p >= 0.1) return `${p.toFixed(2)}%`;
  if (p >= 0.001) return `${p.toPrecision(2)}%`;
  return '<0.001%';
}

/** `5 h 59 min`, `42 s`, `3 d 4 h`. */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s < 10 ? s.toFixed(1).replace(/\.0$/, '') : Math.round(s)} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

/** An ISO time as `2026-11-21 06:00:00` (UTC); the raw string when it does not parse. */
export function fmtTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '–';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

/** Epoch ms as `2026-11-21 06:00` (UTC). */
export function fmtMs(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 16).replace('T', ' ') : '–';
}

/** A score in [0, 1] with two decimals. */
export function fmtScore(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : '–';
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i] ?? 'B'}`;
}

export interface HeadlineFact {
  label: string;
  value: string;
  /** Written small after the value (`lines/s`). */
  unit?: string;
  detail: string;
  /** `alert` for a number that wants attention (anomalies found, high error rate). */
  tone?: 'alert';
}

/** The headline numbers, in the order every renderer shows them. */
export function headlineFacts(report: AnalysisReport): HeadlineFact[] {
  const s = report.summary;
  const time = s.time;
  const skipped = Object.values(s.lines.skipped).reduce((a, b) => a + b, 0);
  return [
    {
      label: 'Lines',
      value: fmtInt(s.lines.original),
      detail: `${fmtInt(s.lines.processed)} processed · ${fmtInt(s.lines.records)} records${skipped > 0 ? ` · ${fmtInt(skipped)} skipped` : ''}`,
    },
    {
      label: 'Anomalies',
      value: fmtInt(s.anomalies.lines),
      detail: `${fmtPct(s.anomalies.ratio)} of records · ${fmtInt(s.anomalies.windows)} window finding${s.anomalies.windows === 1 ? '' : 's'}`,
      ...(s.anomalies.lines > 0 ? { tone: 'alert' as const } : {}),
    },
    {
      label: 'Unique templates',
      value: fmtInt(s.templates.unique),
      detail: `entropy ${Number.isFinite(s.templates.entropyBits) ? s.templates.entropyBits.toFixed(2) : '–'} bits · top ${fmtPct(s.templates.topTemplateRatio)}`,
    },
    {
      label: 'Error rate',
      value: fmtPct(time.errorRate),
      detail: 'records at level error or fatal',
      ...(time.errorRate >= 0.05 ? { tone: 'alert' as const } : {}),
    },
    {
      label: 'Time span',
      value: time.spanSeconds === null ? 'no timestamps' : fmtDuration(time.spanSeconds),
      detail:
        time.first === null
          ? 'the input had no timestamps'
          : `${fmtTime(time.first)} → ${fmtTime(time.last).slice(fmtTime(time.last).slice(0, 10) === fmtTime(time.first).slice(0, 10) ? 11 : 0)} UTC`,
    },
    {
      label: 'Log rate',
      value: time.logsPerSecond === null ? '–' : time.logsPerSecond >= 10 ? fmtInt(time.logsPerSecond) : time.logsPerSecond.toFixed(2),
      ...(time.logsPerSecond === null ? {} : { unit: 'records/s' }),
      detail: time.peakMinute === null ? 'records per second of log time' : `peak ${fmtInt(time.peakPerMinute)}/min at ${fmtTime(time.peakMinute).slice(11, 16)}`,
    },
    {
      label: 'Processing',
      value: fmtInt(s.processing.linesPerSecond),
      unit: 'lines/s',
      detail: `${fmtDuration(s.processing.seconds)} · peak RSS ${fmtInt(s.processing.peakRssMB)} MB`,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and (double-quoted) attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Most rows any table of the page shows (the rest are in anomalies.json / the CSV). */
export const HTML_TABLE_LIMIT = 500;
const MESSAGE_CHARS = 200;
const TITLE_CHARS = 4000;

const SEVERITY_TEXT: Record<Severity, string> = { critical: '#fff', high: '#fff', medium: '#fff', low: '#1f2937', info: '#fff' };

function badge(sev: Severity | undefined): string {
  if (sev === undefined) return '<span class="muted">–</span>';
  const known = (SEVERITIES as readonly string[]).includes(sev);
  return `<span class="badge sev-${known ? sev : 'info'}">${esc(sev)}</span>`;
}

/** A long text cut for a table cell, with the full text (bounded) in the title. */
function cut(text: string, max: number, cls = ''): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const c = cls ? ` class="${cls}"` : '';
  if (flat.length <= max && !/\n/.test(text)) return `<span${c}>${esc(flat)}</span>`;
  const full = text.length > TITLE_CHARS ? `${text.slice(0, TITLE_CHARS)}…` : text;
  return `<span${c} title="${esc(full)}">${esc(truncate(flat, max))}</span>`;
}


function moreNote(shown: number, total: number, what: string): string {
  return total > shown ? `<p class="note">Showing ${fmtInt(shown)} of ${fmtInt(total)} ${what}.</p>` : '';
}

function section(id: string, title: string, count: string | null, body: string): string {
  const c = count === null ? '' : ` <span class="count">${esc(count)}</span>`;
  return `<section id="${id}"><h2>${esc(title)}${c}</h2>${body}</section>`;
}

function emptyNote(text: string): string {
  return `<p class="empty">${esc(text)}</p>`;
}

function headerHtml(report: AnalysisReport): string {
  const s = report.summary;
  const files = s.files;
  const shownFiles = files.slice(0, 12);
  const fileList = shownFiles
    .map((f) => {
      const n = s.volume.recordsPerFile[f];
      return `<li><code>${esc(f)}</code>${n === undefined ? '' : ` <span class="muted">${fmtInt(n)} records</span>`}</li>`;
    })
    .join('');
  const more = files.length > shownFiles.length ? `<li class="muted">and ${fmtInt(files.length - shownFiles.length)} more</li>` : '';
  const cards = headlineFacts(report)
    .map(
      (f) =>
        `<div class="card${f.tone === 'alert' ? ' alert' : ''}"><div class="label">${esc(f.label)}</div><div class="value">${esc(f.value)}${f.unit ? ` <span class="unit">${esc(f.unit)}</span>` : ''}</div><div class="detail">${esc(f.detail)}</div></div>`,
    )
    .join('');
  return `<header>
<div class="brand"><span class="logo" aria-hidden="true"></span>Vigil <span class="muted">log analysis report</span></div>
<div class="meta">generated ${esc(fmtTime(s.generatedAt))} UTC · vigil ${esc(s.vigilVersion)} · ${esc(fmtBytes(s.volume.bytes))} read</div>
<h1>${files.length === 1 ? 'File analysed' : `${fmtInt(files.length)} files analysed`}</h1>
<ul class="files">${fileList}${more}${files.length === 0 ? '<li class="muted">none</li>' : ''}</ul>
<div class="cards">${cards}</div>
</header>`;
}

function navHtml(): string {
  const links: Array<[string, string]> = [
    ['charts', 'Charts'],
    ['anomalies', 'Top anomalies'],
    ['security', 'Security'],
    ['requests', 'Failing requests'],
    ['windows', 'Window findings'],
    ['decision', 'Decision rule'],
    ['templates', 'Templates'],
    ['details', 'Input details'],
  ];
  return `<nav>${links.map(([id, t]) => `<a href="#${id}">${t}</a>`).join('')}</nav>`;
}

/**
 * An SVG document made fit for inlining in HTML: the namespace declarations go (the HTML parser
 * puts <svg> in the SVG namespace by itself), so the page holds no URL at all.
 */
function inlineSvg(svg: string): string {
  return svg.replace(/^<svg\b[^>]*>/, (tag) => tag.replace(/\s+xmlns(?::\w+)?="[^"]*"/g, ''));
}

function chartsHtml(charts: ReportCharts): string {
  const figs = CHART_IDS.map((id) => {
    const c = charts[id];
    return `<figure class="chart${c.wide ? ' wide' : ''}" id="chart-${id}" aria-label="${esc(c.title)}">${inlineSvg(c.svg)}</figure>`;
  }).join('\n');
  return section('charts', 'Charts', null, `<div class="chart-grid">${figs}</div>`);
}

function anomaliesHtml(report: AnalysisReport): string {
  const rows = [...report.topAnomalies].sort((a, b) => b.score - a.score || severityRank(a.severity) - severityRank(b.severity) || a.line - b.line);
  const shown = rows.slice(0, HTML_TABLE_LIMIT);
  const total = report.summary.anomalies.lines;
  const multiFile = new Set(report.summary.files).size > 1 || new Set(shown.map((r) => r.file)).size > 1;
  if (shown.length === 0) return section('anomalies', 'Top anomalies', '0', emptyNote('No anomalous lines were found.'));
  const body = shown
    .map((r: AnomalyRow) => {
      const base = r.file.split(/[\\/]/).pop() ?? r.file;
      const where = multiFile ? `<div class="muted small file" title="${esc(r.file)}">${esc(truncate(base, 24))}</div>` : '';
      const ts = r.timestamp === null ? '–' : fmtTime(r.timestamp);
      const when = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(ts) ? `${ts.slice(11)}<div class="muted small">${ts.slice(0, 10)}</div>` : esc(ts);
      const tags = r.tags.length ? `<div class="tags">${r.tags.slice(0, 8).map((t) => `<span class="tag">${esc(t)}</span>`).join('')}</div>` : '';
      return `<tr>
<td class="num" data-v="${r.line}">${fmtInt(r.line)}${where}</td>
<td class="nowrap" data-v="${esc(r.timestamp ?? '')}">${when}</td>
<td data-v="${severityRank(r.severity)}">${badge(r.severity)}</td>
<td class="num">${fmtScore(r.score)}</td>
<td class="detectors">${r.detectors.map((d) => `<span class="det">${esc(d)}</span>`).join(' ')}</td>
<td>${esc(r.component ?? '–')}</td>
<td class="reason">${cut(r.reason, 160)}${tags}</td>
<td class="msg">${cut(r.message, MESSAGE_CHARS, 'mono')}</td>
</tr>`;
    })
    .join('');
  const head =
    '<colgroup><col class="w-line"><col class="w-time"><col class="w-sev"><col class="w-score"><col class="w-det"><col class="w-comp"><col class="w-reason"><col></colgroup>' +
    '<thead><tr><th>line</th><th>time (UTC)</th><th>severity</th><th>score</th><th>detectors</th><th>component</th><th>reason</th><th>message</th></tr></thead>';
  const bySev = SEVERITIES.filter((s) => (report.summary.anomalies.bySeverity[s] ?? 0) > 0)
    .map((s) => `${badge(s)} ${fmtInt(report.summary.anomalies.bySeverity[s])}`)
    .join(' ');
  return section(
    'anomalies',
    'Top anomalies',
    fmtInt(total),
    `<p class="lead">${bySev ? `${bySev} · ` : ''}highest score first; click a column head to sort.</p>
<div class="table-wrap"><table class="sortable anomalies">${head}<tbody>${body}</tbody></table></div>${moreNote(shown.length, Math.max(total, rows.length), 'anomalous lines (all are in anomalies.json and anomaly_report.csv)')}`,
  );
}

function securityHtml(report: AnalysisReport): string {
  const sec = report.summary.security;
  if (sec.findings === 0 && sec.samples.length === 0)
    return section('security', 'Security findings', '0', emptyNote('No secrets, tokens, passwords, keys, e-mails or card numbers were found.'));
  const kinds = Object.entries(sec.byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `<span class="chip">${esc(k)} <b>${fmtInt(n)}</b></span>`)
    .join('');
  const shown = sec.samples.slice(0, HTML_TABLE_LIMIT);
  const rows = shown
    .map(
      (f) =>
        `<tr><td>${esc(f.kind)}</td><td class="nowrap"><code>${esc(truncate(f.file, 60))}</code>:${fmtInt(f.line)}</td><td class="msg">${cut(f.masked, 200, 'mono')}</td></tr>`,
    )
    .join('');
  return section(
    'security',
    'Security findings',
    fmtInt(sec.findings),
    `<p class="lead">Sensitive values are shown masked. ${kinds}</p>
${shown.length ? `<div class="table-wrap"><table class="sortable"><thead><tr><th>kind</th><th>where</th><th>masked value</th></tr></thead><tbody>${rows}</tbody></table></div>` : ''}${moreNote(shown.length, Math.max(sec.findings, sec.samples.length), 'findings')}`,
  );
}

function requestsHtml(report: AnalysisReport): string {
  const fr = report.summary.failingRequests;
  if (fr.total === 0 && fr.samples.length === 0) return section('requests', 'Failing requests', '0', emptyNote('No request failed across services.'));
  const shown = fr.samples.slice(0, HTML_TABLE_LIMIT);
  const rows = shown
    .map(
      (r) =>
        `<tr><td class="mono">${esc(truncate(r.requestId, 60))}</td><td>${r.services.map((s) => `<span class="${s === r.failedAt ? 'svc failed' : 'svc'}">${esc(s)}</span>`).join('<span class="arrow">→</span>')}</td><td><b>${esc(r.failedAt)}</b></td><td class="msg">${cut(r.firstError, 200, 'mono')}</td></tr>`,
    )
    .join('');
  return section(
    'requests',
    'Failing requests',
    fmtInt(fr.total),
    `<p class="lead">Requests whose lines, followed across services by their id, end in an error.</p>
<div class="table-wrap"><table class="sortable"><thead><tr><th>request</th><th>services</th><th>failed at</th><th>first error</th></tr></thead><tbody>${rows}</tbody></table></div>${moreNote(shown.length, Math.max(fr.total, fr.samples.length), 'failing requests')}`,
  );
}

function windowsHtml(report: AnalysisReport): string {
  const all = report.summary.windowFindings;
  if (all.length === 0) return section('windows', 'Window findings', '0', emptyNote('No drops, error-rate changes or unusual windows.'));
  const sorted = [...all].sort((a, b) => a.startMs - b.startMs);
  const shown = sorted.slice(0, HTML_TABLE_LIMIT);
  const rows = shown
    .map((w) => {
      const what = [w.service ? `service ${w.service}` : '', w.templateId ? `template ${w.templateId}` : ''].filter(Boolean).join(' · ');
      return `<tr><td class="nowrap" data-v="${w.startMs}">${esc(fmtMs(w.startMs))} → ${esc(fmtMs(w.endMs).slice(11))}</td><td class="nowrap">${esc(fmtDuration((w.endMs - w.startMs) / 1000))}</td><td>${badge(w.severity)}</td><td><span class="det">${esc(w.detector)}</span></td><td class="num">${fmtScore(w.score)}</td><td class="reason">${cut(w.reason, 240)}${what ? `<div class="muted small">${esc(what)}</div>` : ''}</td></tr>`;
    })
    .join('');
  return section(
    'windows',
    'Window findings',
    fmtInt(all.length),
    `<p class="lead">Findings about spans of time rather than lines: templates that went quiet, error-rate changes, unusual windows.</p>
<div class="table-wrap"><table class="sortable"><thead><tr><th>window (UTC)</th><th>length</th><th>severity</th><th>detector</th><th>score</th><th>what happened</th></tr></thead><tbody>${rows}</tbody></table></div>${moreNote(shown.length, all.length, 'window findings')}`,
  );
}

function decisionHtml(report: AnalysisReport): string {
  const d = report.summary.decision;
  const by = report.summary.anomalies.byDetector;
  const names = [...new Set([...Object.keys(d.weights), ...Object.keys(by)])].sort((a, b) => (by[b] ?? 0) - (by[a] ?? 0) || a.localeCompare(b));
  const rows = names
    .map((n) => `<tr><td><span class="det">${esc(n)}</span></td><td class="num">${d.weights[n] === undefined ? '–' : esc(String(d.weights[n]))}</td><td class="num">${fmtInt(by[n] ?? 0)}</td></tr>`)
    .join('');
  return section(
    'decision',
    'Decision rule',
    null,
    `<p class="rule">A line is reported as an anomaly when its combined score is <b>≥ ${esc(String(d.threshold))}</b> and at least <b>${fmtInt(d.minDetectors)}</b> detector${d.minDetectors === 1 ? '' : 's'} fired on it. Each detector's score counts with its weight.</p>
${names.length ? `<div class="table-wrap narrow"><table class="sortable"><thead><tr><th>detector</th><th>weight</th><th>anomalous lines it fired on</th></tr></thead><tbody>${rows}</tbody></table></div>` : ''}`,
  );
}

function templatesHtml(report: AnalysisReport): string {
  const t = report.summary.templates;
  if (t.top.length === 0) return section('templates', 'Top templates', '0', emptyNote('No templates: the input had no records.'));
  const shown = [...t.top].sort((a, b) => b.count - a.count).slice(0, HTML_TABLE_LIMIT);
  const rows = shown
    .map(
      (x, i) =>
        `<tr><td class="num">${i + 1}</td><td class="num" data-v="${x.count}">${fmtInt(x.count)}</td><td class="num" data-v="${x.ratio}">${fmtPct(x.ratio)}</td><td class="msg">${cut(x.template, 300, 'mono')}</td><td class="mono muted">${esc(x.templateId)}</td></tr>`,
    )
    .join('');
  return section(
    'templates',
    'Top templates',
    fmtInt(t.unique),
    `<p class="lead">${fmtInt(t.unique)} unique templates; entropy ${Number.isFinite(t.entropyBits) ? t.entropyBits.toFixed(2) : '–'} bits; the most frequent holds ${fmtPct(t.topTemplateRatio)} of records. <code>&lt;*&gt;</code> marks a value.</p>
<div class="table-wrap"><table class="sortable"><thead><tr><th>#</th><th>records</th><th>share</th><th>template</th><th>id</th></tr></thead><tbody>${rows}</tbody></table></div>${moreNote(shown.length, t.top.length, 'templates')}`,
  );
}

function kv(entries: Array<[string, number]>, limit = 20): string {
  if (entries.length === 0) return '<span class="muted">none</span>';
  const sorted = entries.sort((a, b) => b[1] - a[1]);
  return (
    sorted
      .slice(0, limit)
      .map(([k, v]) => `<span class="chip">${esc(truncate(k, 40))} <b>${fmtInt(v)}</b></span>`)
      .join('') + (sorted.length > limit ? ` <span class="muted">+${fmtInt(sorted.length - limit)} more</span>` : '')
  );
}

function detailsHtml(report: AnalysisReport): string {
  const s = report.summary;
  const rows: Array<[string, string]> = [
    ['Lines read', fmtInt(s.lines.original)],
    ['Lines processed', fmtInt(s.lines.processed)],
    ['Records (multi-line records count once)', fmtInt(s.lines.records)],
    ['Skipped lines', kv(Object.entries(s.lines.skipped))],
    ['Lines cut to the length limit', fmtInt(s.lines.truncated)],
    ['Lines without a recognised header', fmtInt(s.lines.unparsedHeader)],
    ['Levels', kv(Object.entries(s.levels))],
    ['Anomaly tags', kv(Object.entries(s.tags))],
    ['Components', `${fmtInt(s.components.length)}`],
  ];
  return section(
    'details',
    'Input details',
    null,
    `<dl class="details">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`,
  );
}

/** Sorts a table by the clicked column (numbers by data-v when present). Allowed by hash in the CSP. */
const SORT_SCRIPT = `(function(){function key(c){var v=c.getAttribute('data-v');if(v===null)v=c.textContent||'';var n=Number(v);return v!==''&&!isNaN(n)?n:v.toLowerCase();}
document.querySelectorAll('table.sortable th').forEach(function(th){th.setAttribute('tabindex','0');function go(){var t=th.closest('table'),b=t.tBodies[0],i=th.cellIndex,asc=th.getAttribute('aria-sort')!=='ascending';t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});th.setAttribute('aria-sort',asc?'ascending':'descending');var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){var p=key(x.cells[i]),q=key(y.cells[i]);if(typeof p!==typeof q){p=String(p);q=String(q);}return (p<q?-1:p>q?1:0)*(asc?1:-1);});rows.forEach(function(r){b.appendChild(r);});}
th.addEventListener('click',go);th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});});})();`;

function css(): string {
  const sev = SEVERITIES.map((s) => `.sev-${s}{background:${SEVERITY_COLORS[s]};color:${SEVERITY_TEXT[s]}}`).join('');
  return `*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f3f4f6;color:#1f2937;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif;overflow-x:hidden}
main{max-width:${FULL_WIDTH + 200}px;margin:0 auto;padding:24px 20px 48px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:12.5px}
header{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:20px 24px;margin-bottom:16px}
.brand{font-weight:700;font-size:15px;display:flex;align-items:center;gap:8px}
.brand .muted{font-weight:400}
.logo{display:inline-block;width:14px;height:14px;border-radius:50%;background:${PALETTE.records};box-shadow:0 0 0 3px #dbe6f3}
.meta{color:#6b7280;font-size:12.5px;margin-top:2px}
h1{font-size:20px;margin:14px 0 4px}
h2{font-size:17px;margin:0 0 10px;display:flex;align-items:center;gap:8px}
.count{font-size:12px;font-weight:600;background:#eef2f7;color:#374151;border-radius:999px;padding:1px 9px}
.files{margin:0 0 14px;padding-left:18px;overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.card{border:1px solid #e5e7eb;border-radius:10px;padding:10px 12px;background:#fafafa;min-width:0}
.card .label{font-size:11.5px;text-transform:uppercase;letter-spacing:.04em;color:#6b7280}
.card .value{font-size:22px;font-weight:700;line-height:1.25;margin:2px 0;overflow-wrap:anywhere}
.card .unit{font-size:13px;font-weight:500;color:#6b7280}
.card .detail{font-size:12px;color:#6b7280}
.card.alert{border-color:#fecaca;background:#fef2f2}
.card.alert .value{color:#b91c1c}
nav{position:sticky;top:0;z-index:2;background:rgba(243,244,246,.95);padding:8px 0;margin-bottom:8px;display:flex;flex-wrap:wrap;gap:6px}
nav a{color:#1f2937;text-decoration:none;font-size:13px;padding:4px 10px;border-radius:999px;background:#fff;border:1px solid #e5e7eb}
nav a:hover{background:#eef2f7}
section{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:18px 22px;margin-bottom:16px;min-width:0}
.chart-grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.chart{margin:0;min-width:0;border:1px solid #f0f1f3;border-radius:8px;padding:6px;overflow:hidden}
.chart.wide{grid-column:1/-1}
.chart svg{display:block;width:100%;max-width:100%;height:auto}
@media (max-width:900px){.chart-grid{grid-template-columns:minmax(0,1fr)}}
.lead{margin:0 0 10px;color:#4b5563}
.rule{margin:0 0 12px;font-size:15px}
.note{margin:8px 0 0;color:#6b7280;font-size:12.5px}
.empty{margin:0;color:#6b7280;font-style:italic}
.table-wrap{overflow-x:auto;max-width:100%}
.table-wrap.narrow{max-width:640px}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-weight:600;color:#374151;background:#f9fafb;border-bottom:1px solid #e5e7eb;padding:7px 8px;white-space:nowrap;position:relative}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{background:#eef2f7}
th[aria-sort=ascending]::after{content:" ▲";font-size:10px}
th[aria-sort=descending]::after{content:" ▼";font-size:10px}
td{border-bottom:1px solid #f0f1f3;padding:6px 8px;vertical-align:top;overflow-wrap:anywhere}
tbody tr:hover{background:#fafbfc}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nowrap{white-space:nowrap}
td.msg{min-width:240px}
td.reason{min-width:180px}
table.anomalies{table-layout:fixed;min-width:980px}
.w-line{width:92px}.w-time{width:92px}.w-sev{width:78px}.w-score{width:58px}.w-det{width:148px}.w-comp{width:118px}.w-reason{width:27%}
table.anomalies td.msg,table.anomalies td.reason{min-width:0}
table.anomalies .det{white-space:normal;overflow-wrap:anywhere}
.badge{display:inline-block;font-size:11.5px;font-weight:600;border-radius:4px;padding:1px 7px;line-height:1.5;white-space:nowrap}
${sev}
.det{display:inline-block;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11.5px;background:#eef2f7;border-radius:4px;padding:0 5px;margin:1px 0;white-space:nowrap}
.tags{margin-top:3px}
.tag{display:inline-block;font-size:11px;color:#4b5563;border:1px solid #e5e7eb;border-radius:999px;padding:0 7px;margin:2px 3px 0 0}
.chip{display:inline-block;font-size:12px;background:#f3f4f6;border-radius:999px;padding:1px 9px;margin:2px 4px 2px 0}
.svc{display:inline-block;font-size:12px;background:#eef2f7;border-radius:4px;padding:0 6px}
.svc.failed{background:#fee2e2;color:#991b1b;font-weight:600}
.arrow{color:#9ca3af;margin:0 4px}
.muted{color:#6b7280}
.small{font-size:12px}
.file{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:100%}
dl.details{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0}
dl.details dt{color:#6b7280}
dl.details dd{margin:0;min-width:0;overflow-wrap:anywhere}
footer{color:#9ca3af;font-size:12px;text-align:center;margin-top:24px}
[title]{cursor:help}
@media print{nav{display:none}body{background:#fff}section,header{border:none}}`;
}

/**
 * The whole report page. Pass `charts` (from `renderCharts` or `renderChartsSync`) to share one
 * rendering with `renderDashboardPng`; without them the charts are rendered here.
 */
export function renderHtml(report: AnalysisReport, charts: ReportCharts = renderChartsSync(report)): string {
  const scriptHash = createHash('sha256').update(SORT_SCRIPT, 'utf8').digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${scriptHash}'; base-uri 'none'; form-action 'none'`;
  const files = report.summary.files;
  const title = `Vigil report: ${files.length === 1 ? (files[0] ?? '') : `${fmtInt(files.length)} files`}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="vigil ${esc(report.summary.vigilVersion)}">
<title>${esc(truncate(title, 120))}</title>
<style>${css()}</style>
</head>
<body>
<main>
${headerHtml(report)}
${navHtml()}
${chartsHtml(charts)}
${anomaliesHtml(report)}
${securityHtml(report)}
${requestsHtml(report)}
${windowsHtml(report)}
${decisionHtml(report)}
${templatesHtml(report)}
${detailsHtml(report)}
<footer>Made by Vigil ${esc(report.summary.vigilVersion)} · self-contained: this file loads nothing from the network.</footer>
</main>
<script>${SORT_SCRIPT}</script>
</body>
</html>
`;
}
