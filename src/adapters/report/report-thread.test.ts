import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderChartsSync } from './charts.js';
import { emptyReport, hugeReport, sampleReport } from './fixture.js';
import { renderDashboardPng, renderDashboardPngAsync } from './png.js';
import { ReportThread } from './report-thread.js';
import { writeReportFiles } from './write-reports.js';

const tmp = mkdtempSync(join(tmpdir(), 'vigil-report-thread-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FILES = ['alerts.txt', 'report.html', 'dashboard.png'];
const read = (dir: string): Record<string, Buffer> => Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f))]));

describe('rendering off the calling thread', () => {
  it('renderDashboardPngAsync (rasterised on the thread pool) gives the bytes renderDashboardPng does', async () => {
    const report = sampleReport();
    const charts = renderChartsSync(report);
    expect(Buffer.from(await renderDashboardPngAsync(report, charts)).equals(Buffer.from(renderDashboardPng(report, charts)))).toBe(true);
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
});
