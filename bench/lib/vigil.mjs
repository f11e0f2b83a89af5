/**
 * Running the `vigil` CLI from a bench section, and labelled corpora made by `vigil generate`.
 *
 * runVigil(ctx, args) spawns `node bench/lib/vigil-cli.mjs ARGS...` (the CLI from the dist/
 * snapshot, see vigil-cli.mjs) and resolves to { code, stdout, stderr, wallSeconds, maxRssMB,
 * cpuSeconds }: wall time is measured around the whole child (Node start-up, module loading,
 * reading, detecting and writing every report), peak RSS is the child's own maxRSS at exit.
 *
 * ensureGenerated(ctx, { lines, anomalyRate, seed }) builds bench/.corpus/gen-<lines>-<rate>-s<seed>/
 * with `vigil generate`, or reuses it when it was made with the same arguments by the same
 * generator code (a hash of dist/core/generate and dist/cli/generate.js) and its files are intact.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), 'vigil-cli.mjs');

export function runVigil(ctx, args, { cwd = ctx.repoRoot } = {}) {
  const statsFile = join(ctx.corpusDir, `.vigil-stats-${process.pid}-${Date.now()}.json`);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, VIGIL_BENCH_DIST: ctx.distDir, VIGIL_BENCH_STATS: statsFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      let stats = null;
      try {
        stats = JSON.parse(readFileSync(statsFile, 'utf8'));
      } catch {
        // killed before exit handlers ran
      }
      rmSync(statsFile, { force: true });
      const result = { code: code ?? signal, stdout, stderr, wallSeconds, maxRssMB: stats?.maxRssMB ?? null, cpuSeconds: stats ? stats.userSeconds + stats.systemSeconds : null };
      if (code !== 0) reject(Object.assign(new Error(`vigil ${args.join(' ')} exited with ${signal ?? code}\n${stderr.trim()}`), { result }));
      else resolve(result);
    });
  });
}

/** Hash of the generator's compiled code in the snapshot: a corpus is rebuilt when it changes. */
function generatorHash(ctx) {
  const hash = createHash('sha256');
  const files = [join(ctx.distDir, 'cli', 'generate.js')];
  const dir = join(ctx.distDir, 'core', 'generate');
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.js')) files.push(join(dir, f));
  for (const f of files) {
    hash.update(f.slice(ctx.distDir.length));
    hash.update(readFileSync(f));
  }
  return hash.digest('hex').slice(0, 12);
}

const CORPUS_FILES = ['app.log', 'labels.jsonl', 'ground_truth.csv', 'manifest.json'];

/** Returns { dir, log, labels, manifest, key, reused, seconds }. */
export async function ensureGenerated(ctx, { lines, anomalyRate, seed }) {
  const dir = join(ctx.corpusDir, `gen-${lines}-${anomalyRate}-s${seed}`);
  const keyPath = join(dir, 'bench-key.json');
  const key = { lines, anomalyRate, seed, generator: generatorHash(ctx) };
  if (existsSync(keyPath)) {
    try {
      const saved = JSON.parse(readFileSync(keyPath, 'utf8'));
      const same = JSON.stringify(saved.key) === JSON.stringify(key) && CORPUS_FILES.every((f) => existsSync(join(dir, f)) && statSync(join(dir, f)).size === saved.sizes[f]);
      if (same) return { dir, log: join(dir, 'app.log'), labels: join(dir, 'labels.jsonl'), manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), key, reused: true, seconds: 0 };
    } catch {
      // rebuild below
    }
  }
  rmSync(dir, { recursive: true, force: true });
  ctx.log(`generating ${dir.slice(ctx.repoRoot.length + 1)} (${lines.toLocaleString('en-US')} lines, anomaly rate ${anomalyRate}, seed ${seed})…`);
  const r = await runVigil(ctx, ['generate', '--out', dir, '--lines', String(lines), '--anomaly-rate', String(anomalyRate), '--seed', String(seed)]);
  const sizes = Object.fromEntries(CORPUS_FILES.map((f) => [f, statSync(join(dir, f)).size]));
  writeFileSync(keyPath, JSON.stringify({ key, sizes }, null, 2) + '\n');
  ctx.log(`  done in ${r.wallSeconds.toFixed(1)} s, ${(sizes['app.log'] / 1e6).toFixed(0)} MB`);
  return { dir, log: join(dir, 'app.log'), labels: join(dir, 'labels.jsonl'), manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), key, reused: false, seconds: r.wallSeconds };
}

/** Formats a count with thousands separators. */
export const fmt = (n) => Math.round(n).toLocaleString('en-US');
