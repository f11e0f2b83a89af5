import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Resvg } from '@resvg/resvg-js';
import { inflateSync } from 'node:zlib';
import type { AnalysisReport } from '../../core/analyze/report-types.js';
import { CHART_IDS, CHART_ROWS, renderChartSync, renderChartsSync } from './charts.js';
import { emptyReport, hugeReport, sampleReport } from './fixture.js';
import { DashboardPainter, dashboardSvg, rasterise } from './png.js';
import { ReportThread } from './report-thread.js';
import { writeReportFiles } from './write-reports.js';

const tmp = mkdtempSync(join(tmpdir(), 'vigil-report-thread-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FILES = ['alerts.txt', 'report.html', 'dashboard.png'];

/** The sample report with one component fewer: its page height before rounding is odd (1665 units). */
function oddHeightReport(): AnalysisReport {
  const r = sampleReport();
  r.summary.components = r.summary.components.slice(0, 13);
  r.summary.templates.top = r.summary.templates.top.slice(0, 12);
  return r;
}

/** Width, height and RGBA of a PNG whose rows all use filter type 0 (DashboardPainter's). */
function decodeFilterlessPng(png: Buffer): { width: number; height: number; pixels: Buffer } {
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IHDR') {
      width = png.readUInt32BE(at + 8);
      height = png.readUInt32BE(at + 12);
    }
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)]).toBe(0);
    raw.copy(pixels, y * stride, y * (stride + 1) + 1, (y + 1) * (stride + 1));
  }
  return { width, height, pixels };
}
const read = (dir: string): Record<string, Buffer> => Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f))]));

describe('rendering off the calling thread', () => {
  it('DashboardPainter (slices drawn as their charts come) makes the pixels of the whole page rasterised at once', async () => {
    for (const report of [sampleReport(), emptyReport(), hugeReport(300), oddHeightReport()]) {
      const charts = renderChartsSync(report);
      const whole = rasterise(dashboardSvg(report, charts));
      const painter = new DashboardPainter(report);
      for (const row of CHART_ROWS) painter.addRow(row.map((id) => charts[id]));
      const png = Buffer.from(await painter.finish());
      const decoded = decodeFilterlessPng(png);
      expect([decoded.width, decoded.height]).toEqual([whole.width, whole.height]);
      expect(decoded.pixels.equals(Buffer.from(whole.pixels))).toBe(true);
      // and a PNG decoder (resvg's, reading it as an image) sees the same pixels
      const seen = new Resvg(`<svg xmlns="http://www.w3.org/2000/svg" width="${whole.width}" height="${whole.height}"><image width="${whole.width}" height="${whole.height}" href="data:image/png;base64,${png.toString('base64')}"/></svg>`, { imageRendering: 1 }).render();
      expect(Buffer.from(seen.pixels).equals(Buffer.from(whole.pixels))).toBe(true);
    }
  });

  it('the page height is even, so the default 1.5 scale draws on whole pixels', () => {
    for (const report of [sampleReport(), emptyReport(), oddHeightReport()]) {
      const h = Number(/^<svg[^>]*\sheight="(\d+)"/.exec(dashboardSvg(report))?.[1]);
      expect(h % 2).toBe(0);
    }
  });

  it('renderChartSync draws what renderChartsSync does, chart by chart', () => {
    const report = sampleReport();
    const all = renderChartsSync(report);
    for (const id of CHART_IDS) expect(renderChartSync(report, id)).toEqual(all[id]);
    expect(CHART_ROWS).toEqual([['volume'], ['severity', 'diversity'], ['components'], ['templates']]);
  });

  it('a report renders the same after other reports were rendered (what the warm-up relies on)', () => {
    const first = renderChartsSync(sampleReport());
    renderChartsSync(hugeReport(500));
    renderChartsSync(emptyReport());
    expect(renderChartsSync(sampleReport())).toEqual(first);
  });

  it('the reports thread writes the files writeReportFiles writes here, warmed up or not', async () => {
    const report = sampleReport();
    const here = join(tmp, 'here');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(here);
    await writeReportFiles(here, report);
    const expected = read(here);
    // at once (the report comes while the thread loads) and after the warm-up had time to run
    for (const [name, warmUp, delayMs] of [['early', true, 0], ['cold', false, 0], ['late', true, 4000]] as const) {
      const dir = join(tmp, name);
      mkdirSync(dir);
      const thread = new ReportThread({ warmUp });
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      const r = await thread.render(report, dir);
      await thread.close();
      expect(r.timings).toMatch(/charts \d+ ms/);
      const got = read(dir);
      for (const f of FILES) expect(got[f]!.equals(expected[f]!), `${name}: ${f}`).toBe(true);
    }
  });

  it('a failure on the thread rejects render', async () => {
    const thread = new ReportThread({ warmUp: false });
    await expect(thread.render(emptyReport(), join(tmp, 'no', 'such', 'dir'))).rejects.toThrow(/ENOENT/);
    await thread.close();
  });

  it('a closed thread rejects render (it would never answer)', async () => {
    const thread = new ReportThread({ warmUp: false });
    await thread.close();
    await expect(thread.render(emptyReport(), tmp)).rejects.toThrow(/closed/);
  });
});
