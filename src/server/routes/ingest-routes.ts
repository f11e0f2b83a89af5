/**
 * `POST /api/ingest`: lines or NDJSON records for one source of the caller's project. The reply
 * comes once the batch is stored (so an acknowledged batch survives a crash) and says which
 * records were accepted and why the others were not.
 *
 * Retries: send an `Idempotency-Key` header; a batch with a key already stored is not counted again.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CLIENT_KEY_PREFIX, type IngestBatch } from '../../worker/queue.js';
import { callerOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { decodeBody, parseNdjsonBody, parseTextBody, type ParsedBody } from '../ingest-body.js';
import { publishAndWait } from '../publish.js';
import { errorResponses, security, SOURCE_PATTERN } from '../schemas.js';
import type { AppContext } from '../app.js';

export const INGEST_MEDIA_TYPES = ['text/plain', 'application/x-ndjson'] as const;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

const outcomeSchema = {
  type: 'object',
  properties: {
    batchId: { type: 'string' },
    accepted: { type: 'integer' },
    rejected: { type: 'integer' },
    errors: {
      type: 'array',
      description: 'the first 20 rejected records: index is the 0-based line number in the (decompressed) body',
      items: { type: 'object', properties: { index: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

export function ingestRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post<{ Querystring: { source: string }; Body: Buffer }>('/api/ingest', {
    preHandler: ctx.auth.require(['api_key']),
    config: { rateLimit: ctx.ingestRateLimit },
    schema: {
      tags: ['ingest'],
      summary: 'Send log records: text/plain (a line each) or application/x-ndjson ({message, timestamp?, level?, service?, host?, attributes?}); gzip or deflate bodies welcome',
      security: security.apiKey,
      querystring: { type: 'object', properties: { source: { type: 'string', pattern: SOURCE_PATTERN, default: 'default', description: 'the stream these records belong to (a service, a file)' } } },
      headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', description: 'makes a retried batch count once' } } },
      response: { 200: outcomeSchema, ...errorResponses },
    },
  }, async (req) => {
    const { batch, outcome, kind } = await parseRequest(req, ctx);
    if (!batch) {
      if (outcome.rejected > 0) throw new ApiError(400, outcome.errors[0]!.code, `no record accepted: ${outcome.rejected} rejected (see errors)`, { batchId: null, ...outcome });
      return { batchId: null, ...outcome };
    }
    // from here on only `batch` holds the records: the queue may let them go once it has them
    await publishAndWait(ctx.queue, batch, ctx.ingestTimeoutMs, (err) => req.log.error({ err }, 'ingest batch failed'));
    ctx.metrics.ingested.inc({ source_kind: kind }, outcome.accepted);
    return { batchId: batch.id, ...outcome };
  });
}

/** The request's body as a batch (undefined when no record was accepted) and the reply's counts. */
async function parseRequest(req: FastifyRequest<{ Querystring: { source: string }; Body: Buffer }>, ctx: AppContext): Promise<{ batch: IngestBatch | undefined; outcome: { accepted: number; rejected: number; errors: ParsedBody['errors'] }; kind: 'ndjson' | 'text' }> {
  const { projectId } = callerOf(req);
  const keyHeader = req.headers['idempotency-key'];
  const idemKey = Array.isArray(keyHeader) ? keyHeader[0] : keyHeader;
  if (idemKey !== undefined && !IDEMPOTENCY_KEY.test(idemKey)) throw new ApiError(400, 'VIGIL_BAD_REQUEST', 'Idempotency-Key must be 1–200 visible ASCII characters');
  const limits = ctx.limits;
  const body = await decodeBody(req.body, req.headers['content-encoding'] as string | undefined, limits.maxBodyBytes);
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const kind = mediaType === 'application/x-ndjson' ? 'ndjson' : 'text';
  const now = ctx.now();
  const parsed: ParsedBody = kind === 'ndjson' ? parseNdjsonBody(body, limits, new Date(now).getUTCFullYear()) : parseTextBody(body, limits);
  for (const [code, n] of Object.entries(parsed.rejectedByCode)) ctx.metrics.rejected.inc({ reason: code }, n);
  const outcome = { accepted: parsed.records.length, rejected: parsed.rejected, errors: parsed.errors };
  if (parsed.records.length === 0) return { batch: undefined, outcome, kind };
  const batch: IngestBatch = { ...(idemKey !== undefined ? { id: `${CLIENT_KEY_PREFIX}${idemKey}` } : { id: randomUUID(), fresh: true }), projectId, source: req.query.source, receivedAtMs: now, records: parsed.records };
  return { batch, outcome, kind };
}
