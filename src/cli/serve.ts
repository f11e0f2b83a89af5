/**
 * `vigil serve`, the service in one process (or the fleet's API): the command's definition and help.
 * The implementation (serve-run.ts) and what it pulls in (server, database and Redis clients)
 * load only when the command runs, so other `vigil` commands do not pay for them at start.
 */
import type { Command } from 'commander';
import { ConfigError, ServeEnvSchema } from '../config.js';
import { reportError, VigilError } from './errors.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the service: HTTP API and pipeline in one process, with embedded storage (or PostgreSQL via DATABASE_URL)')
    .addHelpText('after', `
Configured by environment variables (defaults in brackets):
  PORT [8080] (0: any free port)   HOST [0.0.0.0]   VIGIL_DATA_DIR [./data]   LOG_LEVEL [info]
  DATABASE_URL        PostgreSQL instead of the embedded database (postgres://user@host/db)
  REDIS_URL           with DATABASE_URL: the fleet's API; ingest into Redis streams for \`vigil worker\`s
  JWT_SECRET          signs sessions; when absent one is generated and kept in VIGIL_DATA_DIR
  ${Object.keys(ServeEnvSchema.shape).filter((k) => k.startsWith('VIGIL_') && k !== 'VIGIL_DATA_DIR').join(', ')}

Examples:
  vigil serve
  PORT=9000 VIGIL_DATA_DIR=/var/lib/vigil vigil serve
  DATABASE_URL=postgres://vigil@db/vigil REDIS_URL=redis://redis:6379 vigil serve   # and some \`vigil worker\`s
  curl -s localhost:8080/api/auth/register -H 'content-type: application/json' -d '{"name":"shop","password":"a long password"}'
  tail -F app.log | while read -r l; do echo "$l"; done | curl -s -X POST 'localhost:8080/api/ingest?source=app' -H "X-API-Key: $KEY" -H 'content-type: text/plain' --data-binary @-`)
    .action(async () => {
      try {
        const { runServe } = await import('./serve-run.js');
        await runServe(process.env);
      } catch (err) {
        if (err instanceof ConfigError) reportError(new VigilError(err.code, err.message));
        else reportError(err);
      }
    });
}
