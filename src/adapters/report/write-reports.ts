/**
 * Writes the rendered reports of `vigil analyze` into its output folder: alerts.txt, report.html
 * and dashboard.png (summary.json, anomalies.json and the CSV are the judge's). The charts are
 * rendered once for the page and the picture; the picture is rasterised on libuv's thread pool,
 * a slice at a time as its charts are ready (DashboardPainter), while this thread draws the next
 * charts and writes the page.
 */
import { writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisReport } from '../../core/analyze/report-types.js';
import { renderAlertsText } from './alerts.js';
import { CHART_ROWS, renderChartSync, type ReportCharts } from './charts.js';
import { renderHtml } from './html.js';
import { DashboardPainter } from './png.js';

/** Milliseconds spent on each part (for VIGIL_ANALYZE_TIMINGS). */
export interface ReportTimings {
  alerts: number;
  charts: number;
  html: number;
  /** From the last chart drawn to dashboard.png written (the page is written meanwhile). */
  png: number;
}

export async function writeReportFiles(dir: string, report: AnalysisReport): Promise<ReportTimings> {
  const t0 = performance.now();
  writeFileSync(join(dir, 'alerts.txt'), renderAlertsText(report));
  const t1 = performance.now();
  // the charts once, for both the page and the picture; the picture is painted row by row meanwhile
  const painter = new DashboardPainter(report);
  const charts: Partial<ReportCharts> = {};
  for (const row of CHART_ROWS) {
    for (const id of row) charts[id] = renderChartSync(report, id);
    painter.addRow(row.map((id) => charts[id]!));
  }
  const t2 = performance.now();
  const png = painter.finish().then((bytes) => writeFile(join(dir, 'dashboard.png'), bytes));
  let t3: number;
  try {
    writeFileSync(join(dir, 'report.html'), renderHtml(report, charts as ReportCharts));
    t3 = performance.now();
  } finally {
    await png;
  }
  return { alerts: t1 - t0, charts: t2 - t1, html: t3 - t2, png: performance.now() - t2 };
}

export function formatReportTimings(t: ReportTimings): string {
  return `alerts ${t.alerts.toFixed(0)} ms, charts ${t.charts.toFixed(0)} ms, html ${t.html.toFixed(0)} ms, png ${t.png.toFixed(0)} ms (html and png overlap)`;
}
