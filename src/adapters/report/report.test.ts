import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisReport, AnomalyRow } from '../../core/analyze/report-types.js';
import { renderAlertsText } from './alerts.js';
import { groupAnomalies } from '../../core/analyze/anomaly-groups.js';
import { CHART_IDS, chartSpecs, renderCharts, renderChartsSync, timeline, type ReportCharts } from './charts.js';
import { anomalyCsv, anomalyCsvHeader, anomalyCsvRow, anomalyCsvStream, CSV_COLUMNS, csvRecord } from './csv.js';
import { emptyReport, hugeReport, sampleReport } from './fixture.js';
import { fmtPct, renderHtml } from './html.js';
import { dashboardSvg, rasterise, renderDashboardPng } from './png.js';

const SECTION_IDS = ['charts', 'anomalies', 'security', 'requests', 'windows', 'decision', 'templates'];

/** A report whose log-derived strings all try to break out of HTML, SVG and CSV. */
function hostileReport(): AnalysisReport {
  const r = sampleReport();
  const evil = '<script>alert("x")</script></svg><img src=https://evil.example/x.png onerror=alert(1)>';
  r.summary.files = [`logs/${evil}.log`];
  r.summary.components = [{ name: `svc ${evil}`, records: 10, errors: 1, anomalies: 1 }];
  r.summary.templates.top = [{ templateId: 'deadbeef', template: `tpl ${evil} <*>`, count: 5, ratio: 0.5 }];
  r.summary.security.samples = [{ file: evil, line: 1, kind: evil, masked: evil }];
  r.summary.windowFindings = [{ detector: evil, score: 0.5, reason: evil, source: evil, startMs: 0, endMs: 60_000, service: evil }];
  r.summary.decision.weights = { [evil]: 1 };
  r.summary.levels = { [evil]: 3 };
  r.topAnomalies = r.topAnomalies.slice(0, 3).map((a) => ({
    ...a,
    message: `${evil} <a href="https://evil.example/">click</a>`,
    reason: evil,
    component: evil,
    detectors: [evil],
    tags: [evil],
  }));
  r.anomalyGroups = groupAnomalies(r.topAnomalies);
  return r;
}

/** Every src/href (and CSS url()) in a page that points off the page. */
function externalRefs(html: string): string[] {
  const refs: string[] = [];
  for (const m of html.matchAll(/<[a-zA-Z][^>]*>/g)) {
    for (const a of m[0].matchAll(/\s(?:src|href|xlink:href|action|srcset|poster|data)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
      const v = (a[2] ?? a[3] ?? a[4] ?? '').trim();
      if (!v.startsWith('#') && !v.startsWith('data:')) refs.push(v);
    }
  }
  for (const m of html.matchAll(/url\(\s*['"]?([^'")]+)/g)) if (!m[1]?.startsWith('#')) refs.push(m[1] ?? '');
  if (/@import/i.test(html)) refs.push('@import');
  return refs;
}

describe('charts', () => {
  it('builds five Vega-Lite specs and renders them to SVG with prefixed ids', async () => {
    const report = sampleReport();
    const specs = chartSpecs(report);
    expect(Object.keys(specs).sort()).toEqual([...CHART_IDS].sort());
    const charts = await renderCharts(report);
    const ids = new Set<string>();
    for (const id of CHART_IDS) {
      const c = charts[id];
      expect(c.svg.startsWith('<svg')).toBe(true);
      expect(c.svg.trim().endsWith('</svg>')).toBe(true);
      expect(c.width).toBeGreaterThan(300);
      expect(c.height).toBeGreaterThan(100);
      expect(c.empty).toBeUndefined();
      for (const m of c.svg.matchAll(/\sid="([^"]+)"/g)) {
        const v = m[1] ?? '';
        expect(v.startsWith(`vg-${id}-`)).toBe(true);
        expect(ids.has(v)).toBe(false);
        ids.add(v);
      }
    }
    expect(charts.volume.svg).toContain('Volume over time');
    expect(charts.volume.svg).toContain('anomalies per minute');
    // Fixed severity colours, in order.
    expect(charts.severity.svg).toContain('#991b1b');
    expect(charts.severity.svg).toContain('#64748b');
    // Top 15 templates and components, not more; the full template text is in a <title> tooltip.
    expect(charts.templates.svg.match(/role="graphics-symbol"[^>]*aria-roledescription="bar"/g)?.length).toBe(15);
    expect(charts.templates.svg).toMatch(/<title>slow request: [^<]*pod=&lt;\*&gt;/);
    expect(charts.components.svg).toContain('top 15 of 18');
    expect(charts.components.svg).not.toContain('>report-builder<');
  });

  it('draws "no timestamps" placeholders and handles empty, single-component and anomaly-free data', async () => {
    const empty = await renderCharts(emptyReport());
    expect(empty.volume.empty).toBe('No timestamps in the input');
    expect(empty.volume.svg).toContain('No timestamps in the input');
    expect(empty.diversity.svg).toContain('No timestamps in the input');
    expect(empty.components.empty).toBeDefined();
    expect(empty.templates.empty).toBeDefined();
    expect(empty.severity.svg).toContain('no anomalies found');

    const one = sampleReport();
    one.summary.components = [{ name: 'only-one', records: 42, errors: 0, anomalies: 0 }];
    one.summary.anomalies.bySeverity = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
    one.minutes = one.minutes.map((m) => ({ ...m, anomalies: 0 }));
    one.topAnomalies = [];
    const charts = await renderCharts(one);
    expect(charts.components.svg).toContain('only-one');
    expect(charts.components.svg).toContain('1 component');
    expect(charts.volume.svg).toContain('no anomalies found');

    // One single minute of data, and timestamps but no minutes.
    const single = sampleReport();
    single.minutes = single.minutes.slice(0, 1);
    await expect(renderCharts(single)).resolves.toBeDefined();
    const noMinutes = sampleReport();
    noMinutes.minutes = [];
    expect((await renderCharts(noMinutes)).volume.empty).toBe('No timestamps in the input');
  });

  it('renders the same SVG synchronously as with Vega\'s async toSVG, byte for byte', async () => {
    const oneMinute = sampleReport();
    oneMinute.minutes = oneMinute.minutes.slice(10, 11);
    for (const report of [sampleReport(), emptyReport(), hostileReport(), oneMinute]) {
      const a = await renderCharts(report);
      const b = renderChartsSync(report);
      for (const id of CHART_IDS) expect(b[id]).toEqual(a[id]);
    }
  });

  it('draws a gap in the records as a drop to zero and labels coarse buckets', async () => {
    const p = (t: number, records: number, templatesSoFar = 1) => ({ t, records, anomalies: 0, errors: 0, templatesSoFar });
    const T0 = Date.UTC(2026, 0, 1);
    const tl = timeline([p(T0 + 600_000, 5, 3), p(T0, 10), p(T0 + 60_000, 12), p(T0 + 120_000, 9, 2)]);
    expect(tl.stepMs).toBe(60_000);
    expect(tl.per).toBe('min');
    expect(tl.points.map((x) => [(x.t - T0) / 60_000, x.records, x.templatesSoFar])).toEqual([
      [0, 10, 1],
      [1, 12, 1],
      [2, 9, 2],
      [3, 0, 2],
      [9, 0, 2],
      [10, 5, 3],
    ]);
    expect(tl.axisTitle).toBe('time (UTC), 2026-01-01');

    const coarse = sampleReport();
    coarse.minutes = coarse.minutes.filter((_, i) => i % 5 === 0);
    expect(timeline(coarse.minutes).per).toBe('5 min');
    const charts = await renderCharts(coarse);
    expect(charts.volume.svg).toContain('records and errors per 5 min');
    expect(charts.volume.svg).toContain('records / 5 min');
  });

  it('escapes log text in chart SVGs', async () => {
    const charts = await renderCharts(hostileReport());
    for (const id of CHART_IDS) {
      expect(charts[id].svg).not.toMatch(/<script/i);
      expect(charts[id].svg).not.toMatch(/<img/i);
    }
    expect(charts.components.svg).toContain('&lt;script&gt;');
  });
});

describe('report.html', () => {
  let report: AnalysisReport;
  let charts: ReportCharts;
  let html: string;
  beforeAll(async () => {
    report = sampleReport();
    charts = await renderCharts(report);
    html = renderHtml(report, charts);
  });

  it('is one self-contained page: no external resource, no URL at all', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(externalRefs(html)).toEqual([]);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<iframe|<object|<embed/i);
  });

  it('has every section, the five charts inline and the headline numbers', () => {
    for (const id of SECTION_IDS) expect(html).toContain(`<section id="${id}">`);
    for (const id of CHART_IDS) expect(html).toMatch(new RegExp(`<figure[^>]*id="chart-${id}"[^>]*><svg`));
    expect(html.match(/<svg\b/g)?.length).toBe(5);
    const s = report.summary;
    for (const n of [s.lines.original, s.lines.records, s.anomalies.lines, s.templates.unique, s.processing.linesPerSecond])
      expect(html).toContain(n.toLocaleString('en-US'));
    expect(html).toContain(fmtPct(s.anomalies.ratio));
    expect(html).toContain(fmtPct(s.time.errorRate));
    expect(html).toContain('6 h');
    expect(html).toContain('logs/platform-2026-11-21.log');
    expect(html).toContain('password=********');
    expect(html).toContain('req-7f3a91');
    expect(html).toContain('frequency_drop');
    expect(html).toContain('combined score is <b>≥ 0.6</b>');
    for (const sev of ['critical', 'high', 'medium', 'low', 'info']) expect(html).toContain(`class="badge sev-${sev}"`);
  });

  it('escapes everything from logs; the only script is its own and the CSP allows only it', () => {
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>bold</b>');
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    expect(html.match(/<script/gi)?.length).toBe(1);
    const hash = createHash('sha256')
      .update(scripts[0]?.[1] ?? '')
      .digest('base64');
    expect(html).toContain(`script-src 'sha256-${hash}'`);
    expect(html).toContain("default-src 'none'");

    const hostile = renderHtml(hostileReport(), charts);
    expect(hostile.match(/<script/gi)?.length).toBe(1);
    expect(hostile).not.toMatch(/<img/i);
    expect(hostile).not.toMatch(/<a href="https/);
    expect(externalRefs(hostile)).toEqual([]);
    expect(hostile).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('cuts long messages and keeps the full text in the title', () => {
    const long = report.topAnomalies.find((a) => a.message.startsWith('ERROR failed to render report'));
    expect(long).toBeDefined();
    expect(html).toMatch(/title="ERROR failed to render report r-42: (template variable missing; ){30}end">ERROR failed to render report[^<]*…</);
  });

  it('renders its own charts when none are given (the same page)', () => {
    expect(renderHtml(report)).toBe(html);
  });

  it('renders empty and anomaly-free reports', async () => {
    const empty = emptyReport();
    const page = renderHtml(empty, await renderCharts(empty));
    for (const id of SECTION_IDS) expect(page).toContain(`<section id="${id}">`);
    expect(page).toContain('No timestamps in the input');
    expect(page).toContain('No anomalous lines were found.');
    expect(page).toContain('no timestamps');
    expect(externalRefs(page)).toEqual([]);
  });
});

describe('dashboard.png', () => {
  it('is a PNG of sensible size that is not blank and shows text', async () => {
    const report = sampleReport();
    const charts = await renderCharts(report);
    const png = renderDashboardPng(report, charts);
    expect([...png.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    const width = view.getUint32(16);
    const height = view.getUint32(20);
    expect(width).toBeGreaterThanOrEqual(1000);
    expect(width).toBeLessThanOrEqual(4000);
    expect(height).toBeGreaterThan(width);
    expect(height).toBeLessThanOrEqual(6000);
    expect(png.length).toBeGreaterThan(50_000);

    // Not blank: many distinct colours.
    const svg = dashboardSvg(report, charts);
    const full = rasterise(svg, { scale: 1 });
    const colours = new Set<number>();
    for (let i = 0; i < full.pixels.length; i += 4 * 7) colours.add(((full.pixels[i] ?? 0) << 16) | ((full.pixels[i + 1] ?? 0) << 8) | (full.pixels[i + 2] ?? 0));
    expect(colours.size).toBeGreaterThan(50);

    // Text is drawn: the same page without its <text> elements differs in many pixels.
    const noText = rasterise(svg.replace(/<text\b[\s\S]*?<\/text>/g, ''), { scale: 1 });
    expect(noText.width).toBe(full.width);
    let differing = 0;
    for (let i = 0; i < full.pixels.length; i += 4) if (full.pixels[i] !== noText.pixels[i]) differing++;
    expect(differing).toBeGreaterThan(20_000);
  });

  it('renders for an empty report, with or without charts given', async () => {
    const empty = emptyReport();
    const png = renderDashboardPng(empty, await renderCharts(empty));
    expect(renderDashboardPng(empty)).toEqual(png);
    expect([...png.slice(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    expect(png.length).toBeGreaterThan(10_000);
  });
});

describe('alerts.txt', () => {
  it('has the headline, groups by template, masked security findings, requests and windows', () => {
    const text = renderAlertsText(sampleReport());
    expect(text).toMatch(/^VIGIL ALERTS: 118 anomalous lines in 2 files/);
    expect(text).toMatch(/\[HIGH\] 40× score 1\.00, logs\/platform-2026-11-21\.log lines [\d,]+ to [\d,]+/);
    expect(text).toContain('template: ERROR connection refused to <*>');
    expect(text).toContain('SECURITY FINDINGS (4, values masked)');
    expect(text).toContain('password=********');
    expect(text).toContain('FAILING REQUESTS (9)');
    expect(text).toContain('… 6 more in summary.json');
    expect(text).toContain('WINDOW FINDINGS (4');
    // Most severe first.
    expect(text.indexOf('[CRITICAL]')).toBeLessThan(text.indexOf('[HIGH]'));
    expect(text.indexOf('[HIGH]')).toBeLessThan(text.indexOf('[MEDIUM]'));
    // One line per message (the stack trace is flattened), no control characters.
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });

  it('stays bounded for a run with 100,000 anomalies', () => {
    const text = renderAlertsText(hugeReport(100_000));
    const lines = text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(200);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(160);
    expect(text).toContain('100,000 anomalous lines');
    expect(text).toMatch(/… [\d,]+ more in summary\.json/);
  });

  it('renders an empty report', () => {
    const text = renderAlertsText(emptyReport());
    expect(text).toContain('0 anomalous lines');
    expect(text).toContain('none found');
    expect(text.split('\n').length).toBeLessThan(60);
  });
});

describe('anomaly_report.csv', () => {
  const tricky: AnomalyRow = {
    ...(sampleReport().topAnomalies[0] as AnomalyRow),
    file: 'dir, with comma/a "quoted" file.log',
    timestamp: null,
    message: 'line one, with "quotes"\nline two\r\nline three; =cmd|\' /C calc\'!A0',
    reason: 'a, b; "c"',
    detectors: ['new_template', 'flood'],
    tags: [],
  };

  it('parses back to the same rows (RFC 4180 quoting of commas, quotes and newlines)', () => {
    const rows = [...sampleReport().topAnomalies, tricky];
    const csv = anomalyCsv(rows);
    expect(csv.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    const parsed = parse(csv, { columns: true, skip_empty_lines: false }) as Array<Record<string, string>>;
    expect(parsed.length).toBe(rows.length);
    parsed.forEach((p, i) => {
      const row = rows[i] as AnomalyRow;
      expect(Object.keys(p)).toEqual([...CSV_COLUMNS]);
      expect(Object.values(p)).toEqual(csvRecord(row));
      expect(p.message).toBe(row.message);
      expect(Number(p.line)).toBe(row.line);
      expect(Number(p.score)).toBe(row.score);
      expect(p.detectors === '' ? [] : p.detectors?.split(';')).toEqual(row.detectors);
    });
    const last = parsed[parsed.length - 1];
    expect(last?.timestamp).toBe('');
    expect(last?.tags).toBe('');
    expect(csv).toContain('"line one, with ""quotes""\nline two\r\nline three; =cmd|\' /C calc\'!A0"');
  });

  it('header plus one record per row, as the analyze command streams them, equals the whole CSV', () => {
    const rows = [...sampleReport().topAnomalies, tricky];
    expect(anomalyCsvHeader() + rows.map((r) => anomalyCsvRow(r)).join('')).toBe(anomalyCsv(rows));
  });

  it('one record per row is byte for byte what csv-stringify writes, for any characters', () => {
    // cells drawn from characters that matter to CSV (and some that do not), empty cells included
    const alphabet = ['a', 'Z', '0', ' ', ',', '"', '\r', '\n', ';', '=', '-', '\t', "'", 'é', '\u2028', '\\'];
    let seed = 9;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const text = (): string => Array.from({ length: rnd(12) }, () => alphabet[rnd(alphabet.length)]).join('');
    for (let i = 0; i < 500; i++) {
      const row: AnomalyRow = { ...tricky, file: text(), message: text(), template: text(), reason: text(), timestamp: rnd(2) ? null : text(), detectors: [text(), text()].slice(0, rnd(3)), tags: [text()].slice(0, rnd(2)), severity: 'low', score: rnd(1000) / 1000, line: rnd(1e6) };
      expect(anomalyCsvRow(row)).toBe(anomalyCsv([row]).slice(anomalyCsvHeader().length));
    }
  });

  it('can escape formulas for spreadsheets', () => {
    const csv = anomalyCsv([{ ...tricky, message: '=HYPERLINK("x")' }], { escapeFormulas: true });
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
  });

  it('writes only the header for no rows, and the stream writer matches the one-shot one', async () => {
    expect(anomalyCsv([])).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    const rows = [...sampleReport().topAnomalies.slice(0, 20), tricky];
    const w = anomalyCsvStream();
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString('utf8');
        cb();
      },
    });
    const done = pipeline(w.stream, sink);
    for (const r of rows) w.write(r);
    w.end();
    await done;
    expect(out).toBe(anomalyCsv(rows));

    const empty = anomalyCsvStream();
    let emptyOut = '';
    const done2 = pipeline(
      empty.stream,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          emptyOut += chunk.toString('utf8');
          cb();
        },
      }),
    );
    empty.end();
    await done2;
    expect(emptyOut).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });
});

describe('fixture', () => {
  it('is realistic and self-consistent', () => {
    const r = sampleReport();
    expect(r.minutes.length).toBeGreaterThanOrEqual(200);
    expect(r.summary.components.length).toBeGreaterThan(15);
    expect(new Set(r.topAnomalies.flatMap((a) => a.detectors)).size).toBeGreaterThanOrEqual(8);
    expect(r.topAnomalies.some((a) => a.message.includes('<script>alert(1)</script>'))).toBe(true);
    expect(r.topAnomalies.length).toBe(r.summary.anomalies.lines);
    expect(r.minutes.reduce((n, m) => n + m.anomalies, 0)).toBe(r.summary.anomalies.lines);
    expect(r.minutes.reduce((n, m) => n + m.records, 0)).toBe(r.summary.lines.records);
    expect(JSON.stringify(sampleReport())).toBe(JSON.stringify(r));
  });
});
