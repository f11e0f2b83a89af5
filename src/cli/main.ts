/** The `vigil` command line. */
import { Command } from 'commander';
import { registerMine } from './mine.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('vigil')
    .description('Log anomaly detection and incident triage: mine templates, find anomalies, group them into incidents.')
    .version('0.1.0')
    .showHelpAfterError();
  registerMine(program);
  await program.parseAsync(argv);
}
