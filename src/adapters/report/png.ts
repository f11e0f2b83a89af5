/**
 * dashboard.png: the report's charts composed into one SVG page (a title bar with the headline
 * numbers, then the chart grid) and rasterised with resvg. No browser. Text is drawn with the
 * system's fonts (resvg loads them); the chart font stack names common sans fonts first.
 */
import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import type { AnalysisReport } from '../../core/analyze/report-types.js';
import { CHART_FONT, CHART_IDS, FULL_WIDTH, GAP, HALF_WIDTH, PALETTE, renderChartsSync, truncate, type ChartSvg, type ReportCharts } from './charts.js';
import { esc, fmtInt, fmtTime, headlineFacts, type HeadlineFact } from './html.js';

const MARGIN = 24;
const CARD_PAD = 8;
const PAGE_WIDTH = FULL_WIDTH + 2 * MARGIN;
const BG = '#f3f4f6';

export interface DashboardOptions {
  /** Pixels per SVG unit (default 1.5: crisp text on high-density screens). */
  scale?: number;
  /** Font family used when a named one is missing (default `DejaVu Sans`). */
  defaultFontFamily?: string;
  /** Extra font files to load besides the system's. */
  fontFiles?: string[];
}

/** Approximate advance of a character in em for common sans fonts (resvg has no measuring API). */
function charEm(c: string): number {
  if (/[0-9]/.test(c)) return 0.556;
  if (/[ .,:;·|il'!()\[\]/-]/.test(c)) return 0.3;
  if (/[A-Z@%&MWmw]/.test(c)) return 0.72;
  if (c.charCodeAt(0) > 0x2000) return 1;
  return 0.53;
}

/** Cuts `text` so that it fits `width` px at `fontSize`, by an estimate on the safe side. */
export function fitText(text: string, fontSize: number, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  let w = 0;
  for (let i = 0; i < flat.length; i++) {
    w += charEm(flat.charAt(i)) * fontSize;
    if (w > width) return truncate(flat, Math.max(2, i));
  }
  return flat;
}

/** Re-roots a chart's standalone SVG at (x, y) inside the page as a nested <svg>. */
function place(chart: ChartSvg, x: number, y: number, width: number, height: number): string {
  const inner = chart.svg.replace(/^<svg\b[^>]*>/, '').replace(/<\/svg>\s*$/, '');
  const vb = /viewBox="([^"]+)"/.exec(chart.svg)?.[1] ?? `0 0 ${chart.width} ${chart.height}`;
  return `<svg x="${x}" y="${y}" width="${width}" height="${height}" viewBox="${vb}" preserveAspectRatio="xMinYMin meet">${inner}</svg>`;
}

function card(f: HeadlineFact, x: number, y: number, w: number, h: number): string {
  const alert = f.tone === 'alert';
  return `<g transform="translate(${x},${y})">
<rect width="${w}" height="${h}" rx="8" fill="${alert ? '#fef2f2' : '#fafafa'}" stroke="${alert ? '#fecaca' : '#e5e7eb'}"/>
<text x="12" y="20" font-size="11" fill="#6b7280" letter-spacing="0.4">${esc(f.label.toUpperCase())}</text>
<text x="12" y="45" font-size="21" font-weight="bold" fill="${alert ? '#b91c1c' : '#1f2937'}">${esc(fitText(f.value, 21, w - 24))}${f.unit ? `<tspan dx="5" font-size="13" font-weight="normal" fill="#6b7280">${esc(f.unit)}</tspan>` : ''}</text>
<text x="12" y="64" font-size="11.5" fill="#6b7280">${esc(fitText(f.detail, 11.5, w - 24))}</text>
</g>`;
}

/** The dashboard as one SVG document (exported so it can be checked or saved as is). */
export function dashboardSvg(report: AnalysisReport, charts: ReportCharts = renderChartsSync(report)): string {
  const s = report.summary;
  const files = s.files;
  const facts = headlineFacts(report);
  facts.unshift({
    label: files.length === 1 ? 'File' : 'Files',
    value: files.length === 1 ? (files[0]?.split('/').pop() ?? '') : fmtInt(files.length),
    detail: files.length === 1 ? (files[0] ?? '') : files.slice(0, 3).join(', ') + (files.length > 3 ? ', …' : ''),
  });

  const parts: string[] = [];
  // Title bar.
  parts.push(`<rect x="0" y="0" width="${PAGE_WIDTH}" height="52" fill="#1f2937"/>
<circle cx="${MARGIN + 7}" cy="26" r="7" fill="${PALETTE.records}" stroke="#dbe6f3" stroke-width="3"/>
<text x="${MARGIN + 22}" y="32" font-size="18" font-weight="bold" fill="#ffffff">Vigil <tspan font-weight="normal" fill="#cbd5e1">log analysis dashboard</tspan></text>
<text x="${PAGE_WIDTH - MARGIN}" y="32" font-size="12" fill="#cbd5e1" text-anchor="end">generated ${esc(fmtTime(s.generatedAt))} UTC · vigil ${esc(s.vigilVersion)}</text>`);

  // Headline cards: two rows of four.
  const perRow = 4;
  const cardGap = 12;
  const cardW = (FULL_WIDTH - cardGap * (perRow - 1)) / perRow;
  const cardH = 76;
  let y = 52 + 16;
  facts.forEach((f, i) => {
    const col = i % perRow;
    const row = Math.floor(i / perRow);
    parts.push(card(f, MARGIN + col * (cardW + cardGap), y + row * (cardH + cardGap), cardW, cardH));
  });
  y += Math.ceil(facts.length / perRow) * (cardH + cardGap) + 4;

  // Charts: wide ones take a row, half-width ones go two to a row, in CHART_IDS order.
  const queue = CHART_IDS.map((id) => charts[id]);
  let pendingHalf: ChartSvg | null = null;
  const rows: ChartSvg[][] = [];
  for (const c of queue) {
    if (c.wide) rows.push([c]);
    else if (pendingHalf) {
      rows.push([pendingHalf, c]);
      pendingHalf = null;
    } else pendingHalf = c;
  }
  if (pendingHalf) rows.push([pendingHalf]);

  for (const row of rows) {
    const slotW = row.length === 1 && row[0]?.wide ? FULL_WIDTH : HALF_WIDTH;
    const heights = row.map((c) => (c.height * Math.min(1, (slotW - 2 * CARD_PAD) / c.width)) + 2 * CARD_PAD);
    const rowH = Math.ceil(Math.max(...heights));
    row.forEach((c, i) => {
      const x = MARGIN + i * (HALF_WIDTH + GAP);
      const innerW = slotW - 2 * CARD_PAD;
      const scale = Math.min(1, innerW / c.width);
      const w = c.width * scale;
      const h = c.height * scale;
      parts.push(`<rect x="${x}" y="${y}" width="${slotW}" height="${rowH}" rx="8" fill="#ffffff" stroke="#e5e7eb"/>`);
      parts.push(place(c, x + CARD_PAD, y + CARD_PAD, w, h));
    });
    y += rowH + GAP;
  }
  const height = Math.ceil(y - GAP + MARGIN);
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${PAGE_WIDTH}" height="${height}" viewBox="0 0 ${PAGE_WIDTH} ${height}" font-family="${CHART_FONT}">
<rect width="100%" height="100%" fill="${BG}"/>
${parts.join('\n')}
</svg>`;
}

/** Rasterises an SVG document with resvg and the system fonts. */
export function rasterise(svg: string, opts: DashboardOptions = {}): { png: Uint8Array; width: number; height: number; pixels: Uint8Array } {
  const img = new Resvg(svg, resvgOptions(opts)).render();
  return { png: new Uint8Array(img.asPng()), width: img.width, height: img.height, pixels: new Uint8Array(img.pixels) };
}

function resvgOptions(opts: DashboardOptions): ResvgRenderOptions {
  return {
    fitTo: { mode: 'zoom', value: opts.scale ?? 1.5 },
    background: BG,
    font: {
      loadSystemFonts: true,
      ...(opts.fontFiles ? { fontFiles: opts.fontFiles } : {}),
      defaultFontFamily: opts.defaultFontFamily ?? 'DejaVu Sans',
      sansSerifFamily: opts.defaultFontFamily ?? 'DejaVu Sans',
      monospaceFamily: 'DejaVu Sans Mono',
    },
    shapeRendering: 2,
    textRendering: 1,
  };
}

/**
 * dashboard.png for a report. Pass `charts` (from `renderCharts` or `renderChartsSync`) to share
 * one rendering with `renderHtml`; without them the charts are rendered here.
 */
export function renderDashboardPng(report: AnalysisReport, charts: ReportCharts = renderChartsSync(report), opts: DashboardOptions = {}): Uint8Array {
  return rasterise(dashboardSvg(report, charts), opts).png;
}

/**
 * `renderDashboardPng` with the rasterising (SVG parse, text layout, drawing) on libuv's thread
 * pool, so the calling thread can do other work meanwhile (report.html); the PNG is encoded on the
 * calling thread. The same bytes as `renderDashboardPng` (report.test.ts checks).
 */
export async function renderDashboardPngAsync(report: AnalysisReport, charts: ReportCharts, opts: DashboardOptions = {}): Promise<Uint8Array> {
  const img = await renderAsync(dashboardSvg(report, charts), resvgOptions(opts));
  return new Uint8Array(img.asPng());
}
