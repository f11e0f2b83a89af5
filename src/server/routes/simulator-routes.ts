/** The log simulator of the caller's project: start, stop, status. */
import type { FastifyInstance } from 'fastify';
import { SIMULATOR_LIMITS, SimulatorError, type SimulatorStartOptions } from '../../core/simulate/simulator.js';
import { callerOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { errorResponses, security } from '../schemas.js';
import type { AppContext } from '../app.js';

const statusSchema = { type: 'object', additionalProperties: true, properties: { state: { type: 'string' }, running: { type: 'boolean' }, logsGenerated: { type: 'integer' }, logsShipped: { type: 'integer' } } } as const;

export function simulatorRoutes(app: FastifyInstance, ctx: AppContext): void {
  const auth = ctx.auth.require(['jwt', 'api_key']);

  app.post<{ Body: SimulatorStartOptions | undefined }>('/api/log-server/start', {
    preHandler: auth,
    schema: {
      tags: ['simulator'],
      summary: 'Start the project’s log simulator: synthetic traffic with error bursts, ingested as source "simulator" (409 when it is running)',
      security: security.apiKeyOrSession,
      body: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: {
          durationMs: { type: 'integer', exclusiveMinimum: 0, maximum: SIMULATOR_LIMITS.maxDurationMs },
          ratePerSecond: { type: 'number', exclusiveMinimum: 0, maximum: SIMULATOR_LIMITS.maxRatePerSecond },
          batchIntervalMs: { type: 'integer', minimum: SIMULATOR_LIMITS.minBatchIntervalMs, maximum: SIMULATOR_LIMITS.maxBatchIntervalMs },
          seed: { type: 'integer', minimum: 0 },
        },
      },
      response: { 200: statusSchema, ...errorResponses },
    },
  }, async (req) => {
    const { projectId } = callerOf(req);
    const b = req.body ?? {};
    const options: SimulatorStartOptions = { format: 'text' };
    if (b.durationMs !== undefined) options.durationMs = b.durationMs;
    if (b.ratePerSecond !== undefined) options.ratePerSecond = b.ratePerSecond;
    if (b.batchIntervalMs !== undefined) options.batchIntervalMs = b.batchIntervalMs;
    if (b.seed !== undefined) options.seed = b.seed;
    try {
      return ctx.simulators.start(projectId, options);
    } catch (err) {
      if (err instanceof SimulatorError) throw new ApiError(err.code === 'VIGIL_SIMULATOR_RUNNING' ? 409 : 400, err.code, err.message);
      throw err;
    }
  });

  app.post('/api/log-server/stop', {
    preHandler: auth,
    schema: { tags: ['simulator'], summary: 'Stop the project’s log simulator; the final status', security: security.apiKeyOrSession, response: { 200: statusSchema, ...errorResponses } },
  }, async (req) => ctx.simulators.stop(callerOf(req).projectId));

  app.get('/api/log-server/status', {
    preHandler: auth,
    schema: { tags: ['simulator'], summary: 'The project’s log simulator: state, counts, errors by kind', security: security.apiKeyOrSession, response: { 200: statusSchema, ...errorResponses } },
  }, async (req) => ctx.simulators.status(callerOf(req).projectId));
}
