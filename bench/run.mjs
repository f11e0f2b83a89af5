/**
 * Vigil benchmarks: `npm run bench` (builds, then runs every section), or
 * `node bench/run.mjs [SECTION...]` to run some sections against the current dist/.
 *
 * A section is a module in bench/sections/ exporting `name`, `title` and `async run(ctx)`; it
 * prints its own table through ctx and returns a small JSON-serialisable result, written to
 * bench/results/<name>.json together with the environment. Add new sections to SECTIONS below.
 *
 * ctx: repoRoot, benchDir, datasetsDir (../shared/datasets/loghub-2k), corpusDir (bench/.corpus,
 * gitignored), resultsDir, distDir (snapshot of dist/ for workers), env, log (progress, stderr),
 * print and table (report, stdout), runWorker(script, args) (fresh Node process, returns its JSON).
 * bench/lib/corpus.mjs `ensureCorpus(ctx, lines)` builds or reuses the mixed Loghub corpus.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWorker } from './lib/child.mjs';
import * as analyze from './sections/analyze.mjs';
import * as detection from './sections/detection.mjs';
import * as ingest from './sections/ingest.mjs';
import * as latency from './sections/latency.mjs';
import * as mine from './sections/mine.mjs';

const SECTIONS = [mine, detection, analyze, ingest, latency];

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);

/**
 * Workers run a private copy of dist/ taken now: the build `npm run bench` just made. A rebuild
 * of dist/ while the bench runs (say, by someone working on src/) then cannot mix two builds.
 */
function snapshotDist() {
  const dist = join(repoRoot, 'dist');
  if (!existsSync(join(dist, 'core'))) throw new Error('dist/ not built: run `npm run bench` (or `npm run build` first)');
  const snap = join(benchDir, '.corpus', 'dist');
  rmSync(snap, { recursive: true, force: true });
  cpSync(dist, snap, { recursive: true, filter: (p) => !p.endsWith('.map') });
  // dist/cli/version.js reads ../package.json relative to dist/: the snapshot gets a copy beside it
  copyFileSync(join(repoRoot, 'package.json'), join(snap, '..', 'package.json'));
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        hash.update(p.slice(snap.length));
        hash.update(readFileSync(p));
      }
    }
  };
  walk(snap);
  return { dir: snap, sha256: hash.digest('hex').slice(0, 12) };
}

/** The commit measured, and whether src/ had uncommitted changes. */
function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return { commit, srcDirty: dirty };
  } catch {
    return { commit: 'unknown', srcDirty: null };
  }
}

const distSnapshot = snapshotDist();

const env = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  platform: `${os.platform()} ${os.arch()}`,
  totalMemMB: Math.round(os.totalmem() / 2 ** 20),
  ...gitInfo(),
  distSha256: distSnapshot.sha256,
};

/** Prints rows as an aligned table (first column left-aligned, the others right-aligned). */
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

const ctx = {
  repoRoot,
  benchDir,
  datasetsDir: join(repoRoot, '..', 'shared', 'datasets', 'loghub-2k'),
  corpusDir: join(benchDir, '.corpus'),
  resultsDir: join(benchDir, 'results'),
  /** Snapshot of dist/ that workers import (see snapshotDist). */
  distDir: distSnapshot.dir,
  env,
  /** Runs a worker script in a fresh Node process against the dist/ snapshot; resolves to its JSON. */
  runWorker: (script, args, opts = {}) => runWorker(script, args, { ...opts, env: { VIGIL_BENCH_DIST: distSnapshot.dir, ...opts.env } }),
  /** Progress, on stderr so stdout stays the report. */
  log: (msg) => console.error(msg),
  print: (msg) => console.log(msg),
  table,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w));
if (unknown.length > 0) {
  console.error(`unknown section(s): ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const selected = wanted.length > 0 ? SECTIONS.filter((s) => wanted.includes(s.name)) : SECTIONS;

console.log(`Vigil bench — ${env.date}`);
console.log(`node ${env.node}, ${env.cpu} (${env.cores} cores), ${env.platform}, ${env.totalMemMB} MB RAM`);
console.log(`commit ${env.commit}${env.srcDirty ? ' + uncommitted src/ changes' : ''}, dist ${env.distSha256}`);
mkdirSync(ctx.resultsDir, { recursive: true });
const started = Date.now();
for (const section of selected) {
  console.log(`\n== ${section.title ?? section.name} ==`);
  const t0 = Date.now();
  const result = await section.run(ctx);
  const seconds = (Date.now() - t0) / 1000;
  const out = join(ctx.resultsDir, `${section.name}.json`);
  writeFileSync(out, JSON.stringify({ section: section.name, env, seconds: Number(seconds.toFixed(1)), ...result }, null, 2) + '\n');
  console.log(`(${section.name}: ${seconds.toFixed(0)} s; results in ${out.slice(repoRoot.length + 1)})`);
}
console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
