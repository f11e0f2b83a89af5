/**
 * The report's charts: Vega-Lite specs built from an AnalysisReport, compiled with vega-lite and
 * rendered to static SVG strings by vega in Node (no browser, no canvas). The same SVGs go into
 * report.html (inlined) and dashboard.png (composed into one grid and rasterised).
 *
 * Everything that comes from logs (component names, template text) is passed to Vega as *data*,
 * never as an expression, and Vega escapes it when it writes the SVG markup.
 */
import { compile, type TopLevelSpec } from 'vega-lite';
import * as vega from 'vega';
import { parse, View } from 'vega';
import type { Severity } from '../../core/detect/detector.js';
import { SEVERITIES } from '../../core/detect/detector.js';
import type { AnalysisReport, MinutePoint } from '../../core/analyze/report-types.js';

export type ChartId = 'volume' | 'severity' | 'components' | 'templates' | 'diversity';
export const CHART_IDS: readonly ChartId[] = ['volume', 'severity', 'diversity', 'components', 'templates'];

export interface ChartSvg {
  id: ChartId;
  title: string;
  /** Standalone SVG markup (`<svg …>…</svg>`), ids prefixed with the chart id so several can share a page. */
  svg: string;
  width: number;
  height: number;
  /** True when the chart is drawn full width in the dashboard grid. */
  wide: boolean;
  /** Set when there was nothing to draw (the SVG then shows this message). */
  empty?: string;
}

export type ReportCharts = Record<ChartId, ChartSvg>;

/** Fixed colours: the same in every chart, the HTML badges and the PNG. */
export const SEVERITY_COLORS: Record<Severity, string> = {
  critical: '#991b1b',
  high: '#dc2626',
  medium: '#ea580c',
  low: '#ca8a04',
  info: '#64748b',
};

export const PALETTE = {
  records: '#3b6ea5',
  errors: '#f59e0b',
  anomalies: '#d62728',
  templates: '#6d5fb3',
  ink: '#1f2937',
  muted: '#6b7280',
  grid: '#e5e7eb',
} as const;

/** Font stack for chart text: common sans fonts first, so resvg finds one on Linux, macOS and Windows. */
export const CHART_FONT = 'Helvetica, Arial, Liberation Sans, DejaVu Sans, sans-serif';

/** Width of a half-width chart and of a full-width one (two half charts and the gap between). */
export const HALF_WIDTH = 560;
export const GAP = 20;
export const FULL_WIDTH = HALF_WIDTH * 2 + GAP;
const CHART_HEIGHT = 240;

const TOP_N = 15;
const TEMPLATE_LABEL_CHARS = 80;

const CONFIG = {
  font: CHART_FONT,
  background: '#ffffff',
  padding: { left: 8, right: 12, top: 8, bottom: 8 },
  view: { stroke: null },
  title: {
    fontSize: 14,
    fontWeight: 'bold',
    anchor: 'start',
    color: PALETTE.ink,
    subtitleColor: PALETTE.muted,
    subtitleFontSize: 11,
    offset: 10,
  },
  axis: {
    labelFontSize: 11,
    titleFontSize: 11,
    titleFontWeight: 'normal',
    labelColor: '#374151',
    titleColor: '#4b5563',
    gridColor: PALETTE.grid,
    domainColor: '#9ca3af',
    tickColor: '#9ca3af',
    labelPadding: 4,
  },
  legend: { labelFontSize: 11, titleFontSize: 11, labelColor: '#374151', orient: 'top', symbolSize: 90, symbolOpacity: 1 },
} as const;

/** Cuts `s` to at most `max` characters, ending with an ellipsis when cut; folds white space. */
export function truncate(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(1, max - 1))}…`;
}

/** True when the report has a usable time axis. */
export function hasTimeline(report: AnalysisReport): boolean {
  return report.summary.time.first !== null && report.minutes.length > 0;
}

function base(title: string, subtitle?: string): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: subtitle === undefined ? { text: title } : { text: title, subtitle },
    config: CONFIG,
  };
}

/** A chart with nothing to draw: the title and a grey message in the middle. */
function placeholderSpec(title: string, message: string, width: number, height: number): TopLevelSpec {
  return {
    ...base(title),
    width,
    height,
    data: { values: [{ message }] },
    mark: { type: 'text', fontSize: 14, color: PALETTE.muted, align: 'center', baseline: 'middle' },
    encoding: {
      text: { field: 'message', type: 'nominal' },
      x: { value: width / 2 },
      y: { value: height / 2 },
    },
  } as TopLevelSpec;
}

const fmtInt = new Intl.NumberFormat('en-US');

/** `2026-11-21 06:00` for an epoch-ms minute start. */
function utcMinute(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 16).replace('T', ' ') : String(t);
}

const MINUTE_MS = 60_000;

/** The time series as the charts draw it, with the width of one point and the axis settings. */
export interface Timeline {
  points: MinutePoint[];
  /** Width of one point in ms (one minute, or more when the run was long and buckets coarsened). */
  stepMs: number;
  /** `min`, or `5 min` when one point holds five minutes. */
  per: string;
  axisTitle: string;
  axisFormat: string;
}

/**
 * Sorts the points, finds the width of one point (the smallest gap between two) and puts zero
 * points at both ends of every gap, so a stretch with no records is drawn as a drop to zero rather
 * than a straight line across it. Adds at most two points per gap.
 */
export function timeline(minutes: readonly MinutePoint[]): Timeline {
  const sorted = minutes.filter((m) => Number.isFinite(m.t)).sort((a, b) => a.t - b.t);
  let stepMs = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const d = (sorted[i]?.t ?? 0) - (sorted[i - 1]?.t ?? 0);
    if (d > 0 && d < stepMs) stepMs = d;
  }
  if (!Number.isFinite(stepMs)) stepMs = MINUTE_MS;
  const points: MinutePoint[] = [];
  for (const m of sorted) {
    const prev = points[points.length - 1];
    if (prev && m.t - prev.t > stepMs * 1.5) {
      const zero = { records: 0, anomalies: 0, errors: 0, templatesSoFar: prev.templatesSoFar };
      points.push({ t: prev.t + stepMs, ...zero });
      if (m.t - stepMs > prev.t + stepMs) points.push({ t: m.t - stepMs, ...zero });
    }
    points.push({ ...m });
  }
  const stepMinutes = Math.round(stepMs / MINUTE_MS);
  const per = stepMs <= MINUTE_MS * 1.5 ? 'min' : stepMs % 3_600_000 === 0 ? `${stepMs / 3_600_000} h` : `${stepMinutes} min`;
  const first = points[0]?.t ?? 0;
  const last = points[points.length - 1]?.t ?? 0;
  const span = last - first;
  const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
  const axisFormat = span <= 36 * 3_600_000 ? '%H:%M' : span <= 14 * 86_400_000 ? '%b %d %H:%M' : '%Y-%m-%d';
  const axisTitle =
    span <= 36 * 3_600_000 && points.length > 0
      ? `time (UTC), ${day(first)}${day(last) !== day(first) ? ` to ${day(last)}` : ''}`
      : 'time (UTC)';
  return { points, stepMs, per, axisTitle, axisFormat };
}

/** (a) Records, errors and anomalies per minute on one time axis. */
export function volumeSpec(report: AnalysisReport): TopLevelSpec {
  const title = 'Volume over time';
  const width = FULL_WIDTH - 110;
  if (!hasTimeline(report)) return placeholderSpec(title, 'No timestamps in the input', width, 100);
  const tl = timeline(report.minutes);
  const values = tl.points.map((m) => ({
    t: m.t,
    records: m.records,
    errors: m.errors,
    anomalies: m.anomalies,
    desc: `${utcMinute(m.t)} UTC${tl.per === 'min' ? '' : ` (${tl.per})`}: ${fmtInt.format(m.anomalies)} anomalous, ${fmtInt.format(m.records)} records, ${fmtInt.format(m.errors)} errors`,
  }));
  const totalAnomalies = tl.points.reduce((s, m) => s + m.anomalies, 0);
  const x = { field: 't', type: 'temporal', title: tl.axisTitle, scale: { type: 'utc' }, axis: { format: tl.axisFormat, labelOverlap: true, grid: false } };
  const names = [`records / ${tl.per}`, `errors / ${tl.per}`, `anomalies / ${tl.per}`] as const;
  const color = {
    scale: { domain: [...names], range: [PALETTE.records, PALETTE.errors, PALETTE.anomalies] },
    legend: { title: null },
  };
  const perWords = tl.per === 'min' ? 'per minute' : `per ${tl.per}`;
  // Records and errors share the left axis; anomalies (far fewer) get their own on the right.
  const layers: unknown[] = [
    {
      layer: [
        {
          mark: { type: 'area', opacity: 0.2, line: { strokeWidth: 1.5, aria: false }, interpolate: 'monotone', aria: false },
          encoding: {
            x,
            y: { field: 'records', type: 'quantitative', title: `records / errors ${perWords}`, axis: { grid: true, tickCount: 5 } },
            color: { ...color, datum: names[0] },
          },
        },
        {
          mark: { type: 'line', strokeWidth: 2, interpolate: 'monotone', aria: false },
          encoding: { x, y: { field: 'errors', type: 'quantitative' }, color: { ...color, datum: names[1] } },
        },
      ],
    },
  ];
  if (totalAnomalies > 0) {
    layers.push({
      transform: [{ filter: 'datum.anomalies > 0' }],
      layer: [
        { mark: { type: 'rule', strokeWidth: 1.2, opacity: 0.6, aria: false }, encoding: { x, y: { field: 'anomalies', type: 'quantitative' }, y2: { datum: 0 }, color: { ...color, datum: names[2] } } },
        {
          mark: { type: 'circle', size: 34, opacity: 0.9 },
          encoding: {
            x,
            y: { field: 'anomalies', type: 'quantitative', title: `anomalies ${perWords}`, axis: { orient: 'right', titleColor: PALETTE.anomalies, labelColor: PALETTE.anomalies, grid: false, tickMinStep: 1, tickCount: 4 } },
            color: { ...color, datum: names[2] },
            description: { field: 'desc', type: 'nominal' },
          },
        },
      ],
    });
  }
  const subtitle =
    totalAnomalies > 0
      ? `records and errors ${perWords} (left axis); red: anomalous lines ${perWords} (right axis), ${fmtInt.format(totalAnomalies)} in all`
      : `records and errors ${perWords}; no anomalies found`;
  return {
    ...base(title, subtitle),
    width,
    height: CHART_HEIGHT - 20,
    data: { values },
    layer: layers,
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/** (b) Anomalies by severity, one fixed colour per severity. */
export function severitySpec(report: AnalysisReport): TopLevelSpec {
  const by = report.summary.anomalies.bySeverity;
  const values = SEVERITIES.map((s) => ({ severity: s, count: by[s] ?? 0, desc: `${s}: ${fmtInt.format(by[s] ?? 0)} anomalous lines` }));
  const total = values.reduce((s, v) => s + v.count, 0);
  return {
    ...base('Anomalies by severity', total === 0 ? 'no anomalies found' : `${fmtInt.format(total)} anomalous lines`),
    width: HALF_WIDTH - 80,
    height: CHART_HEIGHT - 70,
    data: { values },
    encoding: {
      x: { field: 'severity', type: 'nominal', sort: [...SEVERITIES], title: null, axis: { labelAngle: 0, labelFontSize: 12 } },
      y: { field: 'count', type: 'quantitative', title: 'lines', axis: { tickMinStep: 1, tickCount: 5 }, scale: total === 0 ? { domain: [0, 1] } : {} },
    },
    layer: [
      {
        mark: { type: 'bar', cornerRadiusTopLeft: 3, cornerRadiusTopRight: 3, width: { band: 0.6 } },
        encoding: {
          color: { field: 'severity', type: 'nominal', scale: { domain: [...SEVERITIES], range: SEVERITIES.map((s) => SEVERITY_COLORS[s]) }, legend: null },
          description: { field: 'desc', type: 'nominal' },
        },
      },
      { mark: { type: 'text', dy: -7, fontSize: 11, color: PALETTE.ink, aria: false }, encoding: { text: { field: 'count', type: 'quantitative', format: ',' } } },
    ],
  } as TopLevelSpec;
}

/** (c) Records and anomalies per component (top 15 by records), as two panels sharing the rows. */
export function componentsSpec(report: AnalysisReport): TopLevelSpec {
  const title = 'Components';
  const all = report.summary.components;
  if (all.length === 0) return placeholderSpec(title, 'No component names in the input', FULL_WIDTH - 40, 80);
  const top = [...all].sort((a, b) => b.records - a.records || b.anomalies - a.anomalies || a.name.localeCompare(b.name)).slice(0, TOP_N);
  const values = top.map((c, i) => ({
    rank: i,
    name: truncate(c.name, 40),
    fullName: c.name,
    records: c.records,
    errors: c.errors,
    anomalies: c.anomalies,
    desc: `${c.name}: ${fmtInt.format(c.records)} records, ${fmtInt.format(c.errors)} errors, ${fmtInt.format(c.anomalies)} anomalous lines`,
  }));
  const rowHeight = 20;
  const height = Math.max(rowHeight * 2, rowHeight * values.length);
  const y = { field: 'name', type: 'nominal', sort: values.map((v) => v.name), title: null };
  const description = { field: 'desc', type: 'nominal' };
  const totalAnomalies = all.reduce((s, c) => s + c.anomalies, 0);
  const subtitle =
    (all.length > TOP_N ? `top ${TOP_N} of ${fmtInt.format(all.length)} by records` : `${all.length} component${all.length === 1 ? '' : 's'}`) +
    (totalAnomalies === 0 ? '; no anomalies' : '');
  return {
    ...base(title, subtitle),
    data: { values },
    spacing: 24,
    hconcat: [
      {
        width: 620,
        height,
        layer: [
          {
            mark: { type: 'bar', color: PALETTE.records, cornerRadiusEnd: 2, height: { band: 0.7 } },
            encoding: { y, x: { field: 'records', type: 'quantitative', title: 'records', axis: { tickCount: 5, format: ',d' } }, description },
          },
          {
            mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#374151', aria: false },
            encoding: { y, x: { field: 'records', type: 'quantitative' }, text: { field: 'records', type: 'quantitative', format: ',' } },
          },
        ],
      },
      {
        width: 260,
        height,
        layer: [
          {
            mark: { type: 'bar', color: PALETTE.anomalies, cornerRadiusEnd: 2, height: { band: 0.7 } },
            encoding: {
              y: { ...y, axis: null },
              x: { field: 'anomalies', type: 'quantitative', title: 'anomalous lines', axis: { tickMinStep: 1, tickCount: 4 }, scale: totalAnomalies === 0 ? { domain: [0, 1] } : {} },
              description,
            },
          },
          {
            mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#374151', aria: false },
            encoding: { y: { ...y, axis: null }, x: { field: 'anomalies', type: 'quantitative' }, text: { field: 'anomalies', type: 'quantitative', format: ',' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/** (d) The most frequent templates (top 15), text cut to ~80 characters; full text in the tooltip. */
export function templatesSpec(report: AnalysisReport): TopLevelSpec {
  const title = 'Top templates';
  const all = report.summary.templates.top;
  if (all.length === 0) return placeholderSpec(title, 'No templates: the input had no records', FULL_WIDTH - 40, 80);
  const top = [...all].sort((a, b) => b.count - a.count).slice(0, TOP_N);
  const values = top.map((t, i) => ({
    rank: i,
    // The rank keeps labels unique when two templates share their first 80 characters.
    label: `${i + 1}. ${truncate(t.template, TEMPLATE_LABEL_CHARS)}`,
    count: t.count,
    ratio: t.ratio,
    desc: `${truncate(t.template, 2000)} (${fmtInt.format(t.count)} records, ${(t.ratio * 100).toFixed(2)}%)`,
  }));
  const height = Math.max(40, values.length * 20);
  const y = {
    field: 'label',
    type: 'nominal',
    sort: values.map((v) => v.label),
    title: null,
    axis: { labelLimit: 600, labelFontSize: 10.5, labelFont: 'DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace' },
  };
  return {
    ...base(
      title,
      `${all.length > TOP_N ? `top ${TOP_N} of ${fmtInt.format(report.summary.templates.unique)} unique` : `${fmtInt.format(report.summary.templates.unique)} unique`}; share of all records`,
    ),
    width: 440,
    height,
    data: { values },
    layer: [
      {
        mark: { type: 'bar', color: PALETTE.templates, cornerRadiusEnd: 2, height: { band: 0.7 } },
        encoding: {
          y,
          x: { field: 'count', type: 'quantitative', title: 'records', axis: { tickCount: 5, format: ',d' } },
          description: { field: 'desc', type: 'nominal' },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#374151', aria: false },
        encoding: { y, x: { field: 'count', type: 'quantitative' }, text: { field: 'ratio', type: 'quantitative', format: '.1%' } },
      },
    ],
  } as TopLevelSpec;
}

/** (e) Distinct templates seen so far, over time. */
export function diversitySpec(report: AnalysisReport): TopLevelSpec {
  const title = 'Template diversity';
  const width = HALF_WIDTH - 80;
  if (!hasTimeline(report)) return placeholderSpec(title, 'No timestamps in the input', width, CHART_HEIGHT - 70);
  const tl = timeline(report.minutes);
  const values = tl.points.map((m) => ({ t: m.t, templates: m.templatesSoFar }));
  return {
    ...base(title, `distinct templates seen so far; ${fmtInt.format(report.summary.templates.unique)} at the end`),
    width,
    height: CHART_HEIGHT - 70,
    data: { values },
    mark: { type: 'area', color: PALETTE.templates, opacity: 0.18, line: { color: PALETTE.templates, strokeWidth: 1.8, aria: false }, interpolate: 'step-after', aria: false },
    encoding: {
      x: { field: 't', type: 'temporal', title: tl.axisTitle, scale: { type: 'utc' }, axis: { format: tl.axisFormat, labelOverlap: true, grid: false } },
      y: { field: 'templates', type: 'quantitative', title: 'distinct templates', axis: { tickMinStep: 1, tickCount: 5 } },
    },
  } as TopLevelSpec;
}

const TITLES: Record<ChartId, string> = {
  volume: 'Volume over time',
  severity: 'Anomalies by severity',
  components: 'Components',
  templates: 'Top templates',
  diversity: 'Template diversity',
};

const WIDE: Record<ChartId, boolean> = { volume: true, severity: false, diversity: false, components: true, templates: true };

const SPECS: Record<ChartId, (report: AnalysisReport) => TopLevelSpec> = {
  volume: volumeSpec,
  severity: severitySpec,
  components: componentsSpec,
  templates: templatesSpec,
  diversity: diversitySpec,
};

/** Every chart's Vega-Lite spec. */
export function chartSpecs(report: AnalysisReport): Record<ChartId, TopLevelSpec> {
  return {
    volume: volumeSpec(report),
    severity: severitySpec(report),
    components: componentsSpec(report),
    templates: templatesSpec(report),
    diversity: diversitySpec(report),
  };
}

/**
 * Items in rows as the dashboard puts them, in order: a wide one takes a row, half-width ones go
 * two to a row (a half-width one waits for the next half-width one, past wide ones).
 */
export function chartRows<T>(items: readonly T[], wide: (item: T) => boolean): T[][] {
  let pendingHalf: T | undefined;
  const rows: T[][] = [];
  for (const c of items) {
    if (wide(c)) rows.push([c]);
    else if (pendingHalf !== undefined) {
      rows.push([pendingHalf, c]);
      pendingHalf = undefined;
    } else pendingHalf = c;
  }
  if (pendingHalf !== undefined) rows.push([pendingHalf]);
  return rows;
}

/** The dashboard's rows of chart ids (CHART_IDS by chartRows), known before any chart is drawn. */
export const CHART_ROWS: readonly (readonly ChartId[])[] = chartRows(CHART_IDS, (id) => WIDE[id]);

function emptyReason(id: ChartId, report: AnalysisReport): string | undefined {
  switch (id) {
    case 'volume':
    case 'diversity':
      return hasTimeline(report) ? undefined : 'No timestamps in the input';
    case 'components':
      return report.summary.components.length === 0 ? 'No component names in the input' : undefined;
    case 'templates':
      return report.summary.templates.top.length === 0 ? 'No templates: the input had no records' : undefined;
    case 'severity':
      return undefined;
  }
}

/**
 * Makes Vega's SVG fit to share a page: prefixes ids (clip paths, gradients) with the chart id so
 * two charts never point at each other's defs, and turns each mark's aria-label (Vega-Lite builds
 * it from the tooltip fields) into a `<title>` child, the tooltip a static SVG can show without JS.
 */
export function postprocessSvg(svg: string, id: string): string {
  let out = svg
    .replace(/\sid="([^"]+)"/g, (_m, v: string) => ` id="${id}-${v}"`)
    .replace(/="url\(#([^)"]+)\)"/g, (_m, v: string) => `="url(#${id}-${v})"`)
    .replace(/href="#([^"]+)"/g, (_m, v: string) => `href="#${id}-${v}"`);
  // Only marks that carry data (role graphics-symbol) get a title; the text stays escaped as Vega wrote it.
  out = out.replace(/<(path|circle|rect|line)\b([^>]*?)\saria-label="([^"]*)"([^>]*?)\/>/g, (m, tag: string, pre: string, label: string, post: string) => {
    if (!/role="graphics-symbol"/.test(pre + post)) return m;
    return `<${tag}${pre} aria-label="${label}"${post}><title>${label}</title></${tag}>`;
  });
  return out;
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  return { width: m ? Number(m[1]) : HALF_WIDTH, height: m ? Number(m[2]) : CHART_HEIGHT };
}

/** Vega-Lite's warnings go nowhere: a report must not print to the CLI's terminal. */
interface QuietLogger {
  level(): number;
  error(): QuietLogger;
  warn(): QuietLogger;
  info(): QuietLogger;
  debug(): QuietLogger;
}
const silentLogger: QuietLogger = {
  level: () => 0,
  error: () => silentLogger,
  warn: () => silentLogger,
  info: () => silentLogger,
  debug: () => silentLogger,
};

/** Compiles one Vega-Lite spec and renders it to an SVG string (headless, no canvas). */
export async function renderSpecSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile(spec, { logger: silentLogger }).spec;
  const view = new View(parse(vgSpec), { renderer: 'none', logLevel: 0 });
  try {
    // Clip-path ids restart at 1 for every chart: the same report always gives the same bytes.
    vega.resetSVGDefIds();
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The parts of a Vega View that the synchronous path reads (not in Vega's typings). */
interface ViewInternals {
  _pulse: unknown;
  _pending: unknown;
  _postrun: unknown[];
  _touched: { length: number };
  _viewWidth: number;
  _viewHeight: number;
  _origin: [number, number];
}

interface SvgStringRenderer {
  initialize(el: null, width: number, height: number, origin: readonly number[], scaleFactor?: number): SvgStringRenderer;
  background(color: unknown): SvgStringRenderer;
  render(scene: unknown): SvgStringRenderer;
  svg(): string | null;
}

/**
 * Same output as `renderSpecSvg`, without a Promise. Vega's dataflow only awaits when it loads data
 * or images, and these specs have neither (inline values, no image marks), so `run()` settles at
 * once; then the headless SVG renderer Vega's own `toSVG()` uses draws the scene, sized the way
 * `toSVG()` sizes it. If the view has not settled (a future Vega could change that), this throws
 * rather than draw half a chart; report.test.ts checks that both paths give the same SVG.
 */
export function renderSpecSvgSync(spec: TopLevelSpec): string {
  const view = new View(parse(compile(spec, { logger: silentLogger }).spec), { renderer: 'none', logLevel: 0 });
  try {
    void view.run();
    const v = view as unknown as ViewInternals;
    if (v._pulse !== null || v._pending || v._postrun.length > 0 || v._touched.length > 0 || !Number.isFinite(v._viewWidth))
      throw new Error('vigil: the chart did not render synchronously (Vega changed?); use renderCharts() instead');
    const Ctor = (vega as unknown as { SVGStringRenderer: new (loader: unknown) => SvgStringRenderer }).SVGStringRenderer;
    const p = view.padding();
    const pad = typeof p === 'number' ? { top: p, left: p, right: p, bottom: p } : { top: p.top ?? 0, left: p.left ?? 0, right: p.right ?? 0, bottom: p.bottom ?? 0 };
    const width = Math.max(0, v._viewWidth + pad.left + pad.right);
    const height = Math.max(0, v._viewHeight + pad.top + pad.bottom);
    const origin = [pad.left + v._origin[0], pad.top + v._origin[1]];
    const root = (view.scenegraph() as unknown as { root: unknown }).root;
    vega.resetSVGDefIds();
    const svg = new Ctor(view.loader()).initialize(null, width, height, origin).background(view.background()).render(root).svg();
    if (!svg) throw new Error('vigil: Vega rendered no SVG');
    return svg;
  } finally {
    view.finalize();
  }
}

function chartSvg(report: AnalysisReport, id: ChartId, vegaSvg: string): ChartSvg {
  const svg = postprocessSvg(vegaSvg, `vg-${id}`);
  const empty = emptyReason(id, report);
  return { id, title: TITLES[id], svg, ...svgSize(svg), wide: WIDE[id], ...(empty === undefined ? {} : { empty }) };
}

function assemble(report: AnalysisReport, svgs: Record<ChartId, string>): ReportCharts {
  const out: Partial<ReportCharts> = {};
  for (const id of CHART_IDS) out[id] = chartSvg(report, id, svgs[id]);
  return out as ReportCharts;
}

/** One chart, as `renderChartsSync(report)[id]` (so a caller can use each as soon as it is drawn). */
export function renderChartSync(report: AnalysisReport, id: ChartId): ChartSvg {
  return chartSvg(report, id, renderSpecSvgSync(SPECS[id](report)));
}

/** Renders all five charts with Vega's `toSVG()`. */
export async function renderCharts(report: AnalysisReport): Promise<ReportCharts> {
  const specs = chartSpecs(report);
  const svgs: Partial<Record<ChartId, string>> = {};
  for (const id of CHART_IDS) svgs[id] = await renderSpecSvg(specs[id]);
  return assemble(report, svgs as Record<ChartId, string>);
}

/** Renders all five charts synchronously (see `renderSpecSvgSync`); same result as `renderCharts`. */
export function renderChartsSync(report: AnalysisReport): ReportCharts {
  const specs = chartSpecs(report);
  const svgs: Partial<Record<ChartId, string>> = {};
  for (const id of CHART_IDS) svgs[id] = renderSpecSvgSync(specs[id]);
  return assemble(report, svgs as Record<ChartId, string>);
}
