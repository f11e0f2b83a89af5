/**
 * report.html in a real browser: the generated page is opened from disk in headless Chromium
 * (Debian's, driven by playwright-core). It must load nothing from anywhere, log no error (a
 * Content-Security-Policy violation would be one), show the five charts and sort a table on click,
 * and never need the whole page to scroll sideways on a laptop screen.
 *
 * Skipped when Chromium is not installed, unless VIGIL_REQUIRE_SERVICES=1 (CI), where that fails.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCharts } from '../src/adapters/report/charts.js';
import { emptyReport, sampleReport } from '../src/adapters/report/fixture.js';
import { renderHtml } from '../src/adapters/report/html.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  const msg = `report-browser: Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.VIGIL_REQUIRE_SERVICES === '1') throw new Error(`${msg}; required because VIGIL_REQUIRE_SERVICES=1`);
  console.warn(`${msg}: skipping the browser tests`);
}

interface PageReport {
  errors: string[];
  requests: string[];
  failed: string[];
  dialogs: string[];
}

describe.skipIf(!available)('report.html in headless Chromium', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-report-'));
    for (const [name, report] of [
      ['report.html', sampleReport()],
      ['empty.html', emptyReport()],
    ] as const) {
      writeFileSync(join(dir, name), renderHtml(report, await renderCharts(report)));
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(name: string): Promise<{ page: import('playwright-core').Page; seen: PageReport }> {
    const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
    const seen: PageReport = { errors: [], requests: [], failed: [], dialogs: [] };
    page.on('console', (m) => {
      if (m.type() === 'error') seen.errors.push(m.text());
    });
    page.on('pageerror', (e) => seen.errors.push(String(e)));
    page.on('request', (r) => seen.requests.push(r.url()));
    page.on('requestfailed', (r) => seen.failed.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('dialog', (d) => {
      seen.dialogs.push(d.message());
      void d.dismiss();
    });
    const url = pathToFileURL(join(dir, name)).href;
    await page.goto(url, { waitUntil: 'load' });
    // Only the page itself was requested.
    expect(seen.requests).toEqual([url]);
    return { page, seen };
  }

  it('loads with no console error, no failed or outside request, and shows the charts', async () => {
    const { page, seen } = await open('report.html');
    const charts = await page.$$eval('figure.chart > svg', (svgs) =>
      svgs.map((s) => {
        const r = s.getBoundingClientRect();
        return { w: r.width, h: r.height, marks: s.querySelectorAll('[role="graphics-symbol"], path, text').length };
      }),
    );
    expect(charts.length).toBe(5);
    for (const c of charts) {
      expect(c.w).toBeGreaterThan(300);
      expect(c.h).toBeGreaterThan(80);
      expect(c.marks).toBeGreaterThan(10);
    }
    for (const id of ['charts', 'anomalies', 'security', 'requests', 'windows', 'decision', 'templates']) expect(await page.locator(`section#${id}`).count()).toBe(1);

    // The log line with <script>alert(1)</script> is text on the page, not a script.
    expect(await page.locator('body').innerText()).toContain('<script>alert(1)</script>');
    expect(await page.locator('script').count()).toBe(1);

    // The inline sort script runs under the page's CSP: sort the anomalies by line number.
    const lines = (): Promise<number[]> =>
      page.$$eval('table.anomalies tbody tr td:first-child', (tds) => tds.map((td) => Number(td.getAttribute('data-v'))));
    await page.locator('table.anomalies th', { hasText: 'line' }).click();
    const sorted = await lines();
    expect(sorted.length).toBeGreaterThan(10);
    expect(sorted).toEqual([...sorted].sort((a, b) => a - b));
    expect(await page.locator('table.anomalies th[aria-sort="ascending"]').count()).toBe(1);

    // No sideways scrolling of the whole page on a laptop screen.
    const [scrollW, clientW] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(scrollW).toBeLessThanOrEqual(clientW);

    await page.waitForTimeout(200);
    expect(seen.errors).toEqual([]);
    expect(seen.failed).toEqual([]);
    expect(seen.dialogs).toEqual([]);
    await page.close();
  });

  it('renders an empty report the same way', async () => {
    const { page, seen } = await open('empty.html');
    expect(await page.locator('figure.chart > svg').count()).toBe(5);
    expect(await page.locator('#chart-volume').innerText()).toContain('No timestamps in the input');
    expect(seen.errors).toEqual([]);
    expect(seen.failed).toEqual([]);
    await page.close();
  });
});
