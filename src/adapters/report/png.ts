/**
 * dashboard.png: the report's charts composed into one SVG page (a title bar with the headline
 * numbers, then the chart grid) and rasterised with resvg. No browser. Text is drawn with the
 * system's fonts (resvg loads them); the chart font stack names common sans fonts first.
 */
import { once } from 'node:events';
import { createDeflate } from 'node:zlib';
import { Resvg, renderAsync, type RenderedImage, type ResvgRenderOptions } from '@resvg/resvg-js';
import type { AnalysisReport } from '../../core/analyze/report-types.js';
import { CHART_FONT, CHART_IDS, chartRows, FULL_WIDTH, GAP, HALF_WIDTH, PALETTE, renderChartsSync, truncate, type ChartSvg, type ReportCharts } from './charts.js';
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

/** A horizontal band of the dashboard: its markup and the rows of the page it draws in. */
interface Band {
  parts: string[];
  /** Where its drawing starts and ends (strokes included), in SVG units. */
  top: number;
  bottom: number;
}

/**
 * The dashboard laid out band by band: the title bar and headline cards first, then one band per
 * row of charts (CHART_ROWS order), each placed below the previous one.
 */
class DashboardLayout {
  readonly head: Band;
  /** Top of the next row of charts. */
  private y: number;

  constructor(report: AnalysisReport) {
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
    const y = 52 + 16;
    facts.forEach((f, i) => {
      const col = i % perRow;
      const row = Math.floor(i / perRow);
      parts.push(card(f, MARGIN + col * (cardW + cardGap), y + row * (cardH + cardGap), cardW, cardH));
    });
    const cardRows = Math.ceil(facts.length / perRow);
    this.head = { parts, top: 0, bottom: cardRows > 0 ? y + cardRows * (cardH + cardGap) - cardGap + 0.5 : 52 };
    this.y = y + cardRows * (cardH + cardGap) + 4;
  }

  /** The next band: one row of charts (wide ones take a row, half-width ones go two to a row). */
  row(row: readonly ChartSvg[]): Band {
    const y = this.y;
    const parts: string[] = [];
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
    this.y += rowH + GAP;
    return { parts, top: y - 0.5, bottom: y + rowH + 0.5 };
  }

  /** Top of the next band. */
  get nextTop(): number {
    return this.y - 0.5;
  }

  /**
   * The page's height once every row is laid out, rounded up to an even number: at the default
   * scale of 1.5 an odd height would make a half pixel, which resvg splits into a quarter-pixel
   * offset of the whole drawing (blurrier, and a page cut into slices would not match it).
   */
  get height(): number {
    return 2 * Math.ceil((this.y - GAP + MARGIN) / 2);
  }
}

const SVG_OPEN = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"`;

/** The dashboard as one SVG document (exported so it can be checked or saved as is). */
export function dashboardSvg(report: AnalysisReport, charts: ReportCharts = renderChartsSync(report)): string {
  const layout = new DashboardLayout(report);
  const bands = [layout.head, ...chartRows(CHART_IDS.map((id) => charts[id]), (c) => c.wide).map((row) => layout.row(row))];
  const height = layout.height;
  return `${SVG_OPEN} width="${PAGE_WIDTH}" height="${height}" viewBox="0 0 ${PAGE_WIDTH} ${height}" font-family="${CHART_FONT}">
<rect width="100%" height="100%" fill="${BG}"/>
${bands.flatMap((b) => b.parts).join('\n')}
</svg>`;
}

/** A slice `[top, top + height)` of the page as an SVG document of its own, holding `parts`. */
function sliceSvg(top: number, height: number, parts: readonly string[]): string {
  return `${SVG_OPEN} width="${PAGE_WIDTH}" height="${height}" viewBox="0 ${top} ${PAGE_WIDTH} ${height}" font-family="${CHART_FONT}">
<rect x="0" y="${top}" width="${PAGE_WIDTH}" height="${height}" fill="${BG}"/>
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
 * dashboard.png painted in horizontal slices while the charts are still being drawn: the title and
 * headline cards at once, then each row of charts as soon as its charts are given (`addRow`, in
 * CHART_ROWS order). Each slice is its own SVG document (the page's background, the slice's own
 * markup, a viewBox on the slice's rows) rasterised by resvg on libuv's thread pool, so slices
 * are drawn in parallel with each other and with the caller drawing the next charts; each slice's
 * rows are compressed as soon as it and the slices above it are drawn, and `finish` wraps the
 * result as a PNG.
 *
 * The page is cut only in the gaps between bands (at least one unit from any drawing) and on
 * whole pixel rows, so each pixel is drawn by exactly the shapes that cover it in the whole page,
 * at the same place within the pixel: the pixels are those of `rasterise(dashboardSvg(…))`
 * (report-thread.test.ts compares them). The PNG's compression differs from resvg's own encoder
 * (zlib level 3, no row filter: faster and smaller here). When the page cannot be cut that way
 * (a scale that does not put the cuts on whole pixels) it is rasterised whole.
 */
export class DashboardPainter {
  private readonly layout: DashboardLayout;
  private readonly scale: number;
  private readonly sliced: boolean;
  /** The slices' rows, compressed as they come (on libuv's pool) and in order. */
  private readonly zip = createDeflate({ level: 3 });
  private readonly zipped: Buffer[] = [];
  private fed: Promise<void> = Promise.resolve();
  private width = -1;
  private height = 0;
  /** The band not yet sent to be drawn: its lower cut depends on where the next band starts. */
  private pending: Band;
  private sliceTop = 0;

  constructor(report: AnalysisReport, private readonly opts: DashboardOptions = {}) {
    this.layout = new DashboardLayout(report);
    this.scale = opts.scale ?? 1.5;
    this.sliced = Number.isInteger(this.scale * 2);
    this.pending = this.layout.head;
    this.zip.on('data', (b: Buffer) => this.zipped.push(b));
  }

  /** The next row of charts (CHART_ROWS order). */
  addRow(row: readonly ChartSvg[]): void {
    const band = this.layout.row(row);
    const cut = this.sliced ? evenBetween(this.pending.bottom + 1, band.top - 1) : undefined;
    if (cut === undefined) {
      this.pending = { parts: [...this.pending.parts, ...band.parts], top: this.pending.top, bottom: band.bottom };
      return;
    }
    this.draw(cut);
    this.pending = band;
  }

  /** Waits for every slice and returns the PNG. */
  async finish(): Promise<Uint8Array> {
    this.draw(this.layout.height);
    await this.fed;
    this.zip.end();
    await once(this.zip, 'end');
    return encodePng(this.width, this.height, Buffer.concat(this.zipped));
  }

  private draw(bottom: number): void {
    const top = this.sliceTop;
    const image = renderAsync(sliceSvg(top, bottom - top, this.pending.parts), resvgOptions(this.opts));
    // each slice's rows go to the compressor when it is drawn and the slices above it are in
    this.fed = this.fed.then(async () => this.feed(await image));
    this.fed.catch(() => undefined); // awaited by finish
    this.sliceTop = bottom;
  }

  private async feed(image: RenderedImage): Promise<void> {
    if (this.width < 0) this.width = image.width;
    else if (image.width !== this.width) throw new Error('dashboard slices of different widths');
    const stride = this.width * 4;
    const px = image.pixels;
    // each row: filter type 0 (none), then the RGBA bytes (opaque: the page's background is)
    const raw = Buffer.allocUnsafe((stride + 1) * image.height);
    for (let r = 0; r < image.height; r++) {
      const at = r * (stride + 1);
      raw[at] = 0;
      px.copy(raw, at + 1, r * stride, (r + 1) * stride);
    }
    this.height += image.height;
    if (!this.zip.write(raw)) await once(this.zip, 'drain');
  }
}

/** An even whole number in [lo, hi] near the middle (a cut on whole pixels at scales 1, 1.5, 2 …), if any. */
function evenBetween(lo: number, hi: number): number | undefined {
  const mid = 2 * Math.round((lo + hi) / 4);
  for (const c of [mid, mid - 2, mid + 2]) if (c >= lo && c <= hi) return c;
  return undefined;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32(parts: readonly Uint8Array[]): number {
  let c = -1;
  for (const b of parts) for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer[] {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32([head.subarray(4), data]), 0);
  return [head, Buffer.from(data.buffer, data.byteOffset, data.length), tail];
}

/** A PNG of 8-bit RGBA rows, `idat` being their zlib stream (each row led by its filter type). */
function encodePng(width: number, height: number, idat: Uint8Array): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([signature, ...chunk('IHDR', ihdr), ...chunk('IDAT', idat), ...chunk('IEND', new Uint8Array(0))]));
}
