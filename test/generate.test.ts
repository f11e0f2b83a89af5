/**
 * `vigil generate` end to end: the built CLI (`npm run build` first, as `npm test` does) writes a
 * corpus folder whose four files agree with each other and are the same for the same seed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from './csv.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'vigil.js');
const tmp = mkdtempSync(join(tmpdir(), 'vigil-generate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function vigil(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FILES = ['app.log', 'labels.jsonl', 'ground_truth.csv', 'manifest.json'];
const read = (dir: string, f: string): string => readFileSync(join(dir, f), 'utf8');

interface Label { line: number; kind: string; detail: string; episode: number }

describe('vigil generate', () => {
  const out = join(tmp, 'nested', 'corpus-a');
  const first = vigil('generate', '--out', out, '--lines', '5000', '--anomaly-rate', '0.05', '--seed', '7');

  it('writes app.log, labels.jsonl, ground_truth.csv and manifest.json into a new folder', () => {
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/wrote 5,000 lines .* 250 anomalous \(5\.00%/);
    const lines = read(out, 'app.log').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(5000);
  });

  it('labels agree with the log, the CSV and the manifest', () => {
    const log = read(out, 'app.log').split('\n');
    const labels = read(out, 'labels.jsonl').trim().split('\n').map((l) => JSON.parse(l) as Label);
    expect(labels).toHaveLength(250);
    for (const l of labels) {
      expect(Object.keys(l)).toEqual(['line', 'kind', 'detail', 'episode']);
      expect(l.line).toBeGreaterThan(500); // after the warm-up
      expect(l.line).toBeLessThanOrEqual(5000);
      expect(log[l.line - 1]).toBeTruthy();
    }
    expect(labels.map((l) => l.line)).toEqual([...labels.map((l) => l.line)].sort((a, b) => a - b));
    expect(new Set(labels.map((l) => l.line)).size).toBe(labels.length);

    const csv = read(out, 'ground_truth.csv');
    expect(csv.startsWith('line,kind\n')).toBe(true);
    expect(parseCsv(csv)).toEqual(labels.map((l) => ({ line: String(l.line), kind: l.kind })));

    const manifest = JSON.parse(read(out, 'manifest.json')) as {
      seed: number; lines: number; anomalyRate: number; anomalousLines: number; warmupLines: number;
      counts: Record<string, number>; episodes: Record<string, number>; services: { name: string; lines: number }[];
      timeSpan: { start: string; end: string; seconds: number };
    };
    const counts: Record<string, number> = {};
    for (const l of labels) counts[l.kind] = (counts[l.kind] ?? 0) + 1;
    expect(manifest.counts).toEqual(counts);
    expect(Object.keys(counts).sort()).toEqual(['broken_sequence', 'flood', 'leaked_secret', 'new_error', 'rare_outlier', 'spike']);
    const episodes: Record<string, Set<number>> = {};
    for (const l of labels) (episodes[l.kind] ??= new Set()).add(l.episode);
    expect(manifest.episodes).toEqual(Object.fromEntries(Object.entries(episodes).map(([k, s]) => [k, s.size])));
    expect(manifest).toMatchObject({ seed: 7, lines: 5000, anomalyRate: 0.05, anomalousLines: 250, warmupLines: 500 });
    expect(manifest.services).toHaveLength(12);
    expect(manifest.services.reduce((s, x) => s + x.lines, 0)).toBeLessThanOrEqual(5000);
    expect(manifest.timeSpan.start).toBe('2026-11-20T08:00:00.000Z');
    expect(log[0]!.startsWith('2026-11-20T08:00:00.000Z')).toBe(true);
  });

  it('is byte-identical for the same seed and options, and different for another seed', () => {
    const again = join(tmp, 'corpus-b');
    expect(vigil('generate', '--out', again, '--lines', '5000', '--anomaly-rate', '0.05', '--seed', '7').status).toBe(0);
    for (const f of FILES) expect(read(again, f), f).toBe(read(out, f));
    const other = join(tmp, 'corpus-c');
    expect(vigil('generate', '--out', other, '--lines', '5000', '--anomaly-rate', '0.05', '--seed', '8').status).toBe(0);
    expect(read(other, 'app.log')).not.toBe(read(out, 'app.log'));
  });

  it('takes a start time, a service count, separators in numbers and a rate of 0', () => {
    const dir = join(tmp, 'corpus-d');
    const r = vigil('generate', '--out', dir, '--lines', '1,000', '--anomaly-rate', '0', '--seed', '-3', '--start', '2025-03-01T12:30', '--services', '3');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(read(dir, 'app.log').startsWith('2025-03-01T12:30:00.000Z ')).toBe(true);
    expect(read(dir, 'labels.jsonl')).toBe('');
    expect(read(dir, 'ground_truth.csv')).toBe('line,kind\n');
    const m = JSON.parse(read(dir, 'manifest.json')) as { seed: number; anomalousLines: number; services: { name: string }[] };
    expect(m.seed).toBe(-3);
    expect(m.anomalousLines).toBe(0);
    expect(m.services.map((s) => s.name)).toEqual(['api-gateway', 'auth', 'orders']);
  });

  it.each([
    [['--lines', '99'], /--lines must be from 100/],
    [['--lines', '12.5'], /--lines must be a non-negative integer/],
    [['--lines', 'many'], /--lines must be a non-negative integer/],
    [['--anomaly-rate', '0.6'], /--anomaly-rate must be a number from 0 to 0.5/],
    [['--anomaly-rate', '-0.1'], /--anomaly-rate must be a number/],
    [['--anomaly-rate', '5%'], /--anomaly-rate must be a number/],
    [['--seed', '1.5'], /--seed must be an integer/],
    [['--seed', 'abc'], /--seed must be an integer/],
    [['--start', 'yesterday'], /--start must be an ISO-8601 date/],
    [['--start', '2026-02-30T00:00:00Z'], /--start/],
    [['--services', '2'], /--services must be from 3 to 12/],
  ])('rejects %j with VIGIL_CLI_BAD_OPTION', (args, message) => {
    const r = vigil('generate', '--out', join(tmp, 'never'), ...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vigil: VIGIL_CLI_BAD_OPTION: /);
    expect(r.stderr).toMatch(message);
  });

  it('needs --out, and --out must not be a file', () => {
    const missing = vigil('generate', '--lines', '100');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/VIGIL_CLI_BAD_OPTION: --out is required/);
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const r = vigil('generate', '--out', file, '--lines', '100');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/VIGIL_CLI_BAD_OPTION: --out .* is not a folder/);
  });

  it('explains itself in --help, with examples', () => {
    const r = vigil('generate', '--help');
    expect(r.status).toBe(0);
    for (const s of ['--out <dir>', '--lines <n>', '--anomaly-rate <r>', '--seed <s>', '--start <iso>', '--services <n>', 'Examples:', 'vigil generate --out', 'broken_sequence']) expect(r.stdout).toContain(s);
  });
});
