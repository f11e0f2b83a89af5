/**
 * The miner over real corpora (Loghub-2k, in ../shared beside the checkout): accuracy must not fall
 * below what it reaches today, and the templates it finds are pinned in golden files so any change
 * of behaviour shows up as a diff (regenerate with UPDATE_GOLDEN=1 after checking it is better).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamMiner } from '../src/core/mine/stream-miner.js';

const DATASETS = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'loghub-2k');
const EVAL = join(import.meta.dirname, '..', '..', 'shared', 'tools', 'eval-parsing.mjs');
const GOLDEN = join(import.meta.dirname, 'golden');
const available = existsSync(DATASETS) && existsSync(EVAL);
if (!available && process.env.VIGIL_REQUIRE_SERVICES === '1') throw new Error(`Loghub corpora not found at ${DATASETS} (required in CI)`);

interface Row { Content: string; EventId: string; EventTemplate: string }
type Score = { GA: number; PA: number };

function mine(lines: string[], messageOnly: boolean): { templateId: string; template: string }[] {
  const s = new StreamMiner({ defaultYear: 2024, messageOnly });
  const out: { templateId: string; template: string }[] = [];
  const emit = (m: { mined: { templateId: string; template: string } }): void => void out.push({ templateId: m.mined.templateId, template: m.mined.template });
  for (const l of lines) s.push(l, emit);
  s.end(emit);
  return out;
}

describe.skipIf(!available)('template mining on Loghub-2k', () => {
  const systems = available ? readdirSync(DATASETS).filter((d) => existsSync(join(DATASETS, d, `${d}_2k.log`))).sort() : [];

  it.each([false, true])('keeps average GA >= 0.95 and PA >= 0.84 (message-only: %s)', async (messageOnly) => {
    const { score } = (await import(EVAL)) as { score: (truth: Row[], preds: { templateId: string; template: string }[]) => Score };
    const { parseCsv } = await import('./csv.js');
    const results: Score[] = [];
    for (const sys of systems) {
      const truth = parseCsv(readFileSync(join(DATASETS, sys, `${sys}_2k.log_structured_corrected.csv`), 'utf8')) as unknown as Row[];
      const lines = messageOnly ? truth.map((r) => r.Content) : readFileSync(join(DATASETS, sys, `${sys}_2k.log`), 'utf8').split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
      results.push(score(truth, mine(lines, messageOnly)));
    }
    const avg = (k: keyof Score): number => results.reduce((s, r) => s + r[k], 0) / results.length;
    expect(avg('GA')).toBeGreaterThanOrEqual(0.95);
    expect(avg('PA')).toBeGreaterThanOrEqual(0.84);
  });

  it('finds the same templates as the golden files', () => {
    for (const sys of systems) {
      const lines = readFileSync(join(DATASETS, sys, `${sys}_2k.log`), 'utf8').split('\n').filter((l) => l !== '');
      const counts = new Map<string, number>();
      for (const r of mine(lines, false)) counts.set(r.template, (counts.get(r.template) ?? 0) + 1);
      const text = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t, n]) => `${n}\t${t}`).join('\n') + '\n';
      const file = join(GOLDEN, `${sys}.templates.tsv`);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, text);
      expect(text, `templates of ${sys} differ from ${file}`).toBe(readFileSync(file, 'utf8'));
    }
  });
});
