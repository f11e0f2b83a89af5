/** `vigil generate`: a labelled synthetic log corpus with injected anomalies, written to a folder. */
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  generateCorpus, corpusOptionProblems, warmupLines, CorpusTally, ANOMALY_KINDS, CORPUS_DEFAULTS, CORPUS_LIMITS, DEFAULT_START,
  type CorpusOptions,
} from '../core/generate/corpus.js';
import { SERVICE_CATALOGUE } from '../core/generate/services.js';
import { reportError, VigilError } from './errors.js';

interface GenerateOptions {
  out?: string;
  lines: string;
  anomalyRate: string;
  seed: string;
  start: string;
  services: string;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Write a labelled synthetic log corpus (multi-service shop traffic with injected anomalies) to a folder')
    .option('--out <dir>', 'folder for app.log, labels.jsonl, ground_truth.csv and manifest.json (created if missing)')
    .option('--lines <n>', `log lines to write (integer, at least ${CORPUS_LIMITS.minLines})`, String(CORPUS_DEFAULTS.lines))
    .option('--anomaly-rate <r>', `share of anomalous lines, from 0 to ${CORPUS_LIMITS.maxAnomalyRate}`, String(CORPUS_DEFAULTS.anomalyRate))
    .option('--seed <s>', 'integer seed: the same seed and options give byte-identical files', String(CORPUS_DEFAULTS.seed))
    .option('--start <iso>', 'time of the first line, ISO-8601 (UTC when no zone is given)', DEFAULT_START)
    .option('--services <n>', `services running, ${CORPUS_LIMITS.minServices} to ${CORPUS_LIMITS.maxServices} (first N of: ${SERVICE_CATALOGUE.map((s) => s.name).join(', ')})`, String(CORPUS_DEFAULTS.services))
    .addHelpText('after', `
Anomaly kinds (equal shares of the anomalous lines, none in the first 10% of lines):
  new_error        a never-seen error message in a short burst
  spike            a normal message at 10-20x its usual rate for a while (the extra lines)
  flood            one identical message repeated hundreds of times within seconds
  broken_sequence  a request whose steps are out of order, skipped, repeated or unexpected
  leaked_secret    a password, API key, bearer token, JWT, private key or card number
  rare_outlier     a single odd line (hex dump, torn write, garbled text, ...)

Examples:
  vigil generate --out /tmp/corpus --lines 20000 --anomaly-rate 0.05 --seed 1
  vigil generate --out data/big --lines 5000000 --anomaly-rate 0.02 --seed 7
  vigil generate --out data/small --lines 2000 --services 5 --start 2026-03-01T00:00:00Z`)
    .action(async (opts: GenerateOptions) => {
      try {
        await runGenerate(opts);
      } catch (err) {
        reportError(err);
      }
    });
}

const bad = (message: string): VigilError => new VigilError('VIGIL_CLI_BAD_OPTION', message);

/** An integer written with optional thousands separators (`5000000`, `5_000_000`, `5,000,000`). */
function parseInteger(name: string, text: string, allowNegative = false): number {
  const t = text.trim();
  const re = allowNegative ? /^-?(?:\d+|\d{1,3}(?:[_,]\d{3})+)$/ : /^(?:\d+|\d{1,3}(?:[_,]\d{3})+)$/;
  if (!re.test(t)) throw bad(`${name} must be ${allowNegative ? 'an' : 'a non-negative'} integer, got "${text}"`);
  const n = Number(t.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n)) throw bad(`${name} is too large: "${text}"`);
  return n;
}

/** Offset of a zone designator (`Z`, `+02:00`, `-0530`) in ms. */
function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  return (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
}

/** ISO-8601 date or date-time; without a zone it is read as UTC (so output never depends on the machine's zone). */
function parseStart(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text.trim());
  if (!m) throw bad(`--start must be an ISO-8601 date or date-time such as 2026-11-20T08:00:00Z, got "${text}"`);
  const [, date, time, zone] = m;
  const iso = time === undefined ? `${date}T00:00:00Z` : `${date}T${time.length === 5 ? `${time}:00` : time}${zone ?? 'Z'}`;
  const ms = Date.parse(iso);
  // Date.parse rolls 2026-02-30 over to March: a date that does not round-trip does not exist
  const sameDay = Number.isFinite(ms) && new Date(ms + (time === undefined ? 0 : zoneOffsetMs(zone))).toISOString().slice(0, 10) === date;
  if (!sameDay) throw bad(`--start is not a valid time: "${text}"`);
  return ms;
}

export function parseGenerateOptions(opts: GenerateOptions): { out: string; corpus: CorpusOptions } {
  if (!opts.out) throw bad('--out is required: the folder to write app.log, labels.jsonl, ground_truth.csv and manifest.json into');
  const lines = parseInteger('--lines', opts.lines);
  if (lines < CORPUS_LIMITS.minLines || lines > CORPUS_LIMITS.maxLines) throw bad(`--lines must be from ${CORPUS_LIMITS.minLines} to ${CORPUS_LIMITS.maxLines.toLocaleString('en-US')}, got ${opts.lines}`);
  const rateText = opts.anomalyRate.trim();
  const anomalyRate = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e-?\d+)?$/i.test(rateText) ? Number(rateText) : NaN;
  if (!(anomalyRate >= 0 && anomalyRate <= CORPUS_LIMITS.maxAnomalyRate)) throw bad(`--anomaly-rate must be a number from 0 to ${CORPUS_LIMITS.maxAnomalyRate} (a share, e.g. 0.05 for 5%), got "${opts.anomalyRate}"`);
  const seed = parseInteger('--seed', opts.seed, true);
  const services = parseInteger('--services', opts.services);
  if (services < CORPUS_LIMITS.minServices || services > CORPUS_LIMITS.maxServices) throw bad(`--services must be from ${CORPUS_LIMITS.minServices} to ${CORPUS_LIMITS.maxServices}, got ${opts.services}`);
  const corpus: CorpusOptions = { lines, anomalyRate, seed, startMs: parseStart(opts.start), services };
  const problems = corpusOptionProblems(corpus);
  if (problems.length > 0) throw bad(problems.join('; '));
  return { out: opts.out, corpus };
}

/** A file written in large chunks, waiting for the stream to drain (bounded memory at any size). */
class FileSink {
  private readonly stream: WriteStream;
  private parts: string[] = [];
  private size = 0;
  private failure: Error | undefined;

  constructor(readonly path: string, private readonly chunkChars = 1 << 18) {
    this.stream = createWriteStream(path);
    this.stream.on('error', (err) => {
      this.failure ??= err;
    });
  }

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
  }

  get full(): boolean {
    return this.size >= this.chunkChars;
  }

  async flush(): Promise<void> {
    this.check();
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((res) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          res();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
      });
    }
    this.check();
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((res) => {
      if (this.failure) return res();
      this.stream.once('error', () => res());
      this.stream.end(() => res());
    });
    this.check();
  }

  /** Closes without waiting (after another sink failed). */
  destroy(): void {
    this.stream.destroy();
  }

  private check(): void {
    if (this.failure) throw new VigilError('VIGIL_OUTPUT_WRITE_FAILED', `cannot write ${this.path}: ${this.failure.message}`);
  }
}

function prepareOutDir(out: string): string {
  const dir = resolve(out);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw bad(`--out ${out} exists and is not a folder`);
    return dir;
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new VigilError('VIGIL_OUTPUT_WRITE_FAILED', `cannot create ${out}: ${(err as Error).message}`);
  }
  return dir;
}

async function runGenerate(opts: GenerateOptions): Promise<void> {
  const { out, corpus } = parseGenerateOptions(opts);
  const dir = prepareOutDir(out);
  const log = new FileSink(join(dir, 'app.log'));
  const labels = new FileSink(join(dir, 'labels.jsonl'));
  const truth = new FileSink(join(dir, 'ground_truth.csv'));
  const sinks = [log, labels, truth];
  const tally = new CorpusTally();
  truth.write('line,kind\n');
  try {
    for (const l of generateCorpus(corpus)) {
      tally.add(l);
      log.write(l.line + '\n');
      if (l.label) {
        labels.write(`${JSON.stringify({ line: tally.lines, kind: l.label.kind, detail: l.label.detail, episode: l.label.episode })}\n`);
        truth.write(`${tally.lines},${l.label.kind}\n`);
      }
      if (log.full) await log.flush();
      if (labels.full) await labels.flush();
      if (truth.full) await truth.flush();
    }
    for (const s of sinks) await s.close();
  } catch (err) {
    for (const s of sinks) s.destroy();
    throw err;
  }
  const manifest = buildManifest(corpus, tally);
  try {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  } catch (err) {
    throw new VigilError('VIGIL_OUTPUT_WRITE_FAILED', `cannot write ${join(dir, 'manifest.json')}: ${(err as Error).message}`);
  }
  const kinds = ANOMALY_KINDS.map((k) => `${k} ${tally.counts[k].toLocaleString('en-US')}`).join(', ');
  process.stdout.write(`wrote ${tally.lines.toLocaleString('en-US')} lines to ${join(dir, 'app.log')}: ${tally.anomalous.toLocaleString('en-US')} anomalous (${(100 * tally.anomalous / tally.lines).toFixed(2)}%: ${kinds})\n`);
  process.stdout.write(`labels in labels.jsonl and ground_truth.csv, summary in manifest.json; ${manifest.timeSpan.start} to ${manifest.timeSpan.end}\n`);
}

function buildManifest(c: CorpusOptions, t: CorpusTally) {
  const first = t.firstMs ?? c.startMs;
  const last = t.lastMs ?? c.startMs;
  const services = SERVICE_CATALOGUE.slice(0, c.services).map((s) => ({ name: s.name, format: s.format, lines: t.perService.get(s.name) ?? 0 }));
  return {
    generator: 'vigil generate',
    formatVersion: 1,
    seed: c.seed,
    lines: t.lines,
    anomalyRate: c.anomalyRate,
    achievedRate: t.lines > 0 ? Number((t.anomalous / t.lines).toFixed(6)) : 0,
    anomalousLines: t.anomalous,
    warmupLines: warmupLines(c.lines),
    counts: t.counts,
    episodes: t.episodes(),
    levels: t.levels,
    timeSpan: { start: new Date(first).toISOString(), end: new Date(last).toISOString(), seconds: Math.round((last - first) / 1000) },
    services,
    files: { log: 'app.log', labels: 'labels.jsonl', groundTruth: 'ground_truth.csv' },
  };
}
