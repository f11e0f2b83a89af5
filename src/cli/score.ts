/** `vigil score`: one line's anomaly score and reasons against a model saved by `vigil analyze`. */
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { LineScorer } from '../core/analyze/model.js';
import { reportError, VigilError } from './errors.js';

interface ScoreOptions {
  model: string;
  pretty?: boolean;
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('Score log lines against a model saved by `vigil analyze --save-model`: one JSON result per line')
    .argument('[line...]', 'the log line(s) to score; none: read lines from stdin')
    .requiredOption('-m, --model <file>', 'a model saved by `vigil analyze --save-model FILE`')
    .option('--pretty', 'indent the JSON output')
    .addHelpText('after', `
Examples:
  vigil score --model model.json "2024-01-15 10:00:00 ERROR [db] connection refused to 10.0.0.5:5432"
  tail -f app.log | vigil score --model model.json`)
    .action(async (line: string[], opts: ScoreOptions) => {
      try {
        await runScore(line, opts);
      } catch (err) {
        reportError(err);
      }
    });
}

async function runScore(lines: string[], opts: ScoreOptions): Promise<void> {
  if (!existsSync(opts.model)) throw new VigilError('VIGIL_INPUT_NOT_FOUND', `model file not found: ${opts.model} (save one with \`vigil analyze --save-model FILE\`)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(opts.model, 'utf8'));
  } catch (err) {
    throw new VigilError('VIGIL_MODEL_INVALID', `${opts.model} is not valid JSON: ${(err as Error).message}`);
  }
  const scorer = LineScorer.load(raw, new Date().getUTCFullYear());
  const print = (line: string): void => {
    const r = scorer.score(line);
    const out = { score: r.score, anomaly: r.anomaly, severity: r.severity, reason: r.reason, detectors: r.detectors, tags: r.tags, template: r.template, templateId: r.templateId, source: r.source, message: r.message, findings: r.findings };
    process.stdout.write(JSON.stringify(out, null, opts.pretty ? 2 : undefined) + '\n');
  };
  if (lines.length > 0) {
    print(lines.join(' '));
    return;
  }
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) if (line.trim() !== '') print(line);
}
