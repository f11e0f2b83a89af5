/**
 * Benchmark corpora built from the Loghub 2k samples: each sample file is repeated, line by line,
 * into its own corpus file of exactly `linesPerSource` lines (one file = one source with its own
 * format). Corpora are cached in bench/.corpus/ and rebuilt when the samples change.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The Loghub 2k sample files: `<datasetsDir>/<Name>/<Name>_2k.log`, sorted by name. */
export function listSamples(datasetsDir) {
  if (!existsSync(datasetsDir)) throw new Error(`datasets not found: ${datasetsDir}`);
  const out = [];
  for (const name of readdirSync(datasetsDir).sort()) {
    const file = join(datasetsDir, name, `${name}_2k.log`);
    if (existsSync(file)) out.push({ name, file });
  }
  if (out.length === 0) throw new Error(`no */*_2k.log files under ${datasetsDir}`);
  return out;
}

/** Lines of a sample, without line terminators (a missing final newline is fine). */
function sampleLines(file) {
  const lines = readFileSync(file, 'utf8').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Writes `lines` repeated in turn until `count` lines are written (LF-terminated). */
function writeRepeated(path, lines, count) {
  const whole = Buffer.from(lines.join('\n') + '\n', 'utf8');
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    let left = count;
    while (left >= lines.length) {
      writeSync(fd, whole);
      bytes += whole.length;
      left -= lines.length;
    }
    if (left > 0) {
      const part = Buffer.from(lines.slice(0, left).join('\n') + '\n', 'utf8');
      writeSync(fd, part);
      bytes += part.length;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/**
 * A corpus of `totalLines` lines split evenly over the samples: one file per source, each the
 * sample repeated to `totalLines / sources` lines. Returns { totalLines, linesPerSource, bytes,
 * sources: [{ name, file, lines, bytes }] }.
 */
export function ensureCorpus(ctx, totalLines) {
  const samples = listSamples(ctx.datasetsDir);
  const linesPerSource = Math.ceil(totalLines / samples.length);
  const dir = join(ctx.corpusDir, `mixed-${linesPerSource * samples.length}`);
  const manifestPath = join(dir, 'manifest.json');
  const key = samples.map((s) => {
    const st = statSync(s.file);
    return `${s.name}:${st.size}:${st.mtimeMs}`;
  }).join('|');
  if (existsSync(manifestPath)) {
    try {
      const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
      if (m.key === key && m.sources.every((s) => existsSync(s.file) && statSync(s.file).size === s.bytes)) return m;
    } catch {
      // rebuild below
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  ctx.log(`building corpus ${dir} (${samples.length} sources × ${linesPerSource.toLocaleString('en-US')} lines)…`);
  const sources = samples.map((s) => {
    const file = join(dir, `${s.name}.log`);
    const bytes = writeRepeated(file + '.tmp', sampleLines(s.file), linesPerSource);
    renameSync(file + '.tmp', file);
    return { name: s.name, file, lines: linesPerSource, bytes };
  });
  const manifest = {
    key,
    totalLines: linesPerSource * samples.length,
    linesPerSource,
    bytes: sources.reduce((n, s) => n + s.bytes, 0),
    sources,
  };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  ctx.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s, ${(manifest.bytes / 1e6).toFixed(0)} MB`);
  return manifest;
}
