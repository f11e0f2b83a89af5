/** The `vigil` command line. */
import { Command } from 'commander';
import { registerAnalyze } from './analyze.js';
import { registerGenerate } from './generate.js';
import { registerMine } from './mine.js';
import { registerScore } from './score.js';
import { registerServe } from './serve.js';
import { VERSION } from './version.js';
import { registerWorker } from './worker.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('vigil')
    .description('Log anomaly detection and incident triage: mine templates, find anomalies, group them into incidents.')
    .version(VERSION)
    .showHelpAfterError();
  registerMine(program);
  registerAnalyze(program);
  registerScore(program);
  registerGenerate(program);
  registerServe(program);
  registerWorker(program);
  await program.parseAsync(argv);
}
