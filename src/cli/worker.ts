/**
 * `vigil worker`, one of the fleet's processing workers: the command's definition and help.
 * The implementation (worker-run.ts) and what it pulls in (server, database and Redis clients)
 * load only when the command runs, so other `vigil` commands do not pay for them at start.
 */
import type { Command } from 'commander';
import { ConfigError, WorkerEnvSchema } from '../config.js';
import { reportError, VigilError } from './errors.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Process the fleet\'s Redis streams into PostgreSQL (needs DATABASE_URL and REDIS_URL); run as many as the load needs')
    .addHelpText('after', `
Configured by environment variables (defaults in brackets):
  DATABASE_URL        PostgreSQL shared by the fleet (postgres://user@host/db)     required
  REDIS_URL           Redis holding the streams (redis://host:6379)                required
  VIGIL_STREAM_PREFIX [vigil]   VIGIL_STREAM_SHARDS [16]  (the same as \`vigil serve\`'s)
  VIGIL_CLAIM_IDLE_MS [60000]   entries a live worker left unacknowledged this long are claimed
  VIGIL_LEASE_TTL_MS [15000]    a dead worker's shards are taken over within about this long
  ${Object.keys(WorkerEnvSchema.shape).filter((k) => !['DATABASE_URL', 'REDIS_URL', 'VIGIL_STREAM_PREFIX', 'VIGIL_STREAM_SHARDS', 'VIGIL_CLAIM_IDLE_MS', 'VIGIL_LEASE_TTL_MS'].includes(k)).join(', ')}

Examples:
  DATABASE_URL=postgres://vigil@db/vigil REDIS_URL=redis://redis:6379 vigil worker
  DATABASE_URL=… REDIS_URL=… vigil serve      # the API: ingests into the streams, runs no pipeline
  for i in 1 2 3; do DATABASE_URL=… REDIS_URL=… vigil worker & done   # three workers share the shards`)
    .action(async () => {
      try {
        const { runWorker } = await import('./worker-run.js');
        await runWorker(process.env);
      } catch (err) {
        if (err instanceof ConfigError) reportError(new VigilError(err.code, err.message));
        else reportError(err);
      }
    });
}
