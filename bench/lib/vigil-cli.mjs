/**
 * `node bench/lib/vigil-cli.mjs ARGS...` is `node bin/vigil.js ARGS...` run from the dist/ snapshot
 * bench/run.mjs took at start ($VIGIL_BENCH_DIST; ../../dist/ without it), so a rebuild of dist/
 * while the bench runs cannot change the code measured half-way through.
 *
 * With $VIGIL_BENCH_STATS set, writes { maxRssMB, userSeconds, systemSeconds, exitCode } of this
 * process to that file at exit: the peak RSS of the whole run (reading, detecting and rendering
 * the reports), without /usr/bin/time.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.VIGIL_BENCH_DIST ? pathToFileURL(resolve(process.env.VIGIL_BENCH_DIST) + '/').href : new URL('../../dist/', import.meta.url).href;
const statsFile = process.env.VIGIL_BENCH_STATS;
if (statsFile) {
  process.on('exit', (code) => {
    const u = process.resourceUsage();
    writeFileSync(statsFile, JSON.stringify({ maxRssMB: Math.round(u.maxRSS / 1024), userSeconds: u.userCPUTime / 1e6, systemSeconds: u.systemCPUTime / 1e6, exitCode: code }) + '\n');
  });
}
const { main } = await import(new URL('cli/main.js', dist).href);
await main(process.argv);
