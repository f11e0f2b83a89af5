/** `vigil mine`: templates of a log file, as JSON lines or a table. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TemplateMiner, DEFAULT_MINER_CONFIG } from '../core/mine/miner.js';
import { StreamMiner, type MinedLine } from '../core/mine/stream-miner.js';
import { openInput, readLineBatches } from '../adapters/line-source.js';
import { BufferedWriter } from './output.js';
import { reportError, VigilError } from './errors.js';

interface MineOptions {
  format: 'jsonl' | 'table';
  messageOnly?: boolean;
  loadState?: string;
  saveState?: string;
  maxTemplates: string;
  top?: string;
}

/** Longest line read; longer lines keep their head (the miner cuts messages further). */
const MAX_LINE_CHARS = 1 << 20;

export function registerMine(program: Command): void {
  program
    .command('mine')
    .description('Mine log templates from FILE (or - for stdin): one JSON object per line, or a table of templates')
    .argument('<file>', 'log file (plain or .gz), or - for standard input')
    .option('--format <format>', 'jsonl (one object per input line, in order) or table (templates by count)', 'table')
    .option('--message-only', 'treat each line as a bare message (no header detection)')
    .option('--load-state <file>', 'start from a saved miner state (template ids stay stable)')
    .option('--save-state <file>', 'save the miner state here when done')
    .option('--max-templates <n>', 'templates kept; the least recently used are evicted beyond this', String(DEFAULT_MINER_CONFIG.maxTemplates))
    .option('--top <n>', 'table: show only the N most frequent templates')
    .addHelpText('after', `
Examples:
  vigil mine app.log --format table
  vigil mine app.log.gz --format jsonl > templates.jsonl
  tail -f app.log | vigil mine - --format jsonl --save-state miner.json`)
    .action(async (file: string, opts: MineOptions) => {
      try {
        await runMine(file, opts);
      } catch (err) {
        reportError(err);
      }
    });
}

function loadMiner(opts: MineOptions): TemplateMiner {
  const maxTemplates = Number(opts.maxTemplates);
  if (!Number.isInteger(maxTemplates) || maxTemplates < 1) throw new VigilError('VIGIL_CLI_BAD_OPTION', `--max-templates must be a positive integer, got "${opts.maxTemplates}"`);
  if (!opts.loadState) return new TemplateMiner({ maxTemplates });
  if (!existsSync(opts.loadState)) throw new VigilError('VIGIL_INPUT_NOT_FOUND', `state file not found: ${opts.loadState}`);
  let snapshot: unknown;
  try {
    snapshot = JSON.parse(readFileSync(opts.loadState, 'utf8'));
  } catch (err) {
    throw new VigilError('VIGIL_MINER_BAD_SNAPSHOT', `state file ${opts.loadState} is not valid JSON: ${(err as Error).message}`);
  }
  return TemplateMiner.restore(snapshot);
}

async function runMine(file: string, opts: MineOptions): Promise<void> {
  if (opts.format !== 'jsonl' && opts.format !== 'table') throw new VigilError('VIGIL_CLI_BAD_OPTION', `--format must be jsonl or table, got "${opts.format}"`);
  if (file !== '-' && !existsSync(file)) throw new VigilError('VIGIL_INPUT_NOT_FOUND', `input file not found: ${file}`);
  const miner = loadMiner(opts);
  const stream = new StreamMiner({ defaultYear: new Date().getUTCFullYear(), messageOnly: opts.messageOnly, miner });
  const out = new BufferedWriter();
  const started = process.hrtime.bigint();
  let lines = 0;
  let truncatedLines = 0;
  const jsonl = opts.format === 'jsonl';
  const emit = (m: MinedLine): void => {
    lines++;
    if (jsonl) out.write(formatJsonl(lines, m));
  };
  for await (const batch of readLineBatches(openInput(file), { maxLineChars: MAX_LINE_CHARS })) {
    for (const l of batch) {
      if (l.truncated) truncatedLines++;
      stream.push(l.text, emit);
    }
    if (jsonl) {
      await out.maybeFlush();
      if (out.isClosed) break;
    }
  }
  stream.end(emit);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!jsonl) writeTable(out, miner, lines, seconds, truncatedLines, opts.top ? Number(opts.top) : undefined);
  await out.flush();
  if (opts.saveState) writeFileSync(opts.saveState, JSON.stringify(miner.snapshot()));
}

function formatJsonl(lineNo: number, m: MinedLine): string {
  const r = m.record;
  const o: Record<string, unknown> = { line: lineNo, templateId: m.mined.templateId, template: m.mined.template, message: r.message, params: m.mined.params };
  if (r.timestamp !== undefined) o.timestamp = new Date(r.timestamp).toISOString();
  if (r.level) o.level = r.level;
  if (r.component !== undefined) o.component = r.component;
  return JSON.stringify(o) + '\n';
}

function writeTable(out: BufferedWriter, miner: TemplateMiner, lines: number, seconds: number, truncatedLines: number, top?: number): void {
  const rows = miner.templates().sort((a, b) => b.count - a.count);
  const shown = top ? rows.slice(0, top) : rows;
  const width = Math.max(5, String(rows[0]?.count ?? 0).length);
  out.write(`${'count'.padStart(width)}  ${'id'.padEnd(12)}  template\n`);
  for (const r of shown) out.write(`${String(r.count).padStart(width)}  ${r.templateId.padEnd(12)}  ${r.template}\n`);
  if (shown.length < rows.length) out.write(`… ${rows.length - shown.length} more templates\n`);
  const rate = seconds > 0 ? Math.round(lines / seconds) : lines;
  const limits = Object.entries(miner.limits).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  if (truncatedLines > 0) limits.unshift(`line_truncated ${truncatedLines}`);
  out.write(`\n${lines} lines, ${rows.length} templates, ${rate.toLocaleString('en-US')} lines/s${limits.length ? `; limits hit: ${limits.join(', ')}` : ''}\n`);
}
