/**
 * What existing shippers speak: OTLP/HTTP logs in the JSON encoding (`POST /v1/logs`, OpenTelemetry
 * SDKs and collectors with protocol `http/json`) and the Loki push API in JSON (`POST
 * /loki/api/v1/push`, Promtail/Alloy/Fluent Bit with JSON). Same API key, limits, gzip and rate
 * limit as `/api/ingest`; records are grouped by service into one batch per source, and the reply
 * comes once every batch is stored.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { IngestError, type IngestLimits, type IngestRecord, type IngestResult } from '../../core/ingest-protocols/ingest-record.js';
import { parseLokiPushJson, lokiPushReply } from '../../core/ingest-protocols/loki.js';
import { assertOtlpJsonContentType, otlpExportResponse, parseOtlpLogsJson } from '../../core/ingest-protocols/otlp.js';
import { callerOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { decodeBody } from '../ingest-body.js';
import { publishAndWait, recordsBySource, sourceName } from '../publish.js';
import { errorResponses, security } from '../schemas.js';
import type { AppContext } from '../app.js';

export const PROTOCOL_INGEST_URLS = ['/v1/logs', '/loki/api/v1/push'] as const;

function assertJsonContentType(contentType: string | undefined, what: string): void {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '' || type === 'application/json' || type.endsWith('+json')) return;
  throw new IngestError('VIGIL_INGEST_UNSUPPORTED_MEDIA_TYPE', `${what} content type "${type}" is not supported: send JSON (Content-Type: application/json)`, 415);
}

export function protocolRoutes(app: FastifyInstance, ctx: AppContext): void {
  const limits: Partial<IngestLimits> = {
    maxRecords: ctx.limits.maxRecordsPerRequest,
    maxBodyChars: ctx.limits.maxBodyBytes,
    maxMessageChars: ctx.limits.maxLineBytes,
  };

  /** Reads, parses and stores one request; an unreadable request is a 4xx in the API's error format. */
  async function ingest(req: FastifyRequest, kind: 'otlp' | 'loki', parse: (body: Buffer) => IngestResult): Promise<IngestResult> {
    const { projectId } = callerOf(req);
    let result: IngestResult;
    try {
      if (kind === 'otlp') assertOtlpJsonContentType(req.headers['content-type']);
      else assertJsonContentType(req.headers['content-type'], 'Loki push');
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const body = await decodeBody(raw, req.headers['content-encoding'] as string | undefined, ctx.limits.maxBodyBytes);
      result = parse(body);
    } catch (err) {
      if (err instanceof IngestError) throw new ApiError(err.status, err.code, err.message);
      throw err;
    }
    const byCode = new Map<string, number>();
    for (const r of result.rejected) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
    const undetailed = result.rejectedCount - result.rejected.length;
    if (undetailed > 0) byCode.set('VIGIL_INGEST_REJECTED', undetailed);
    for (const [code, n] of byCode) ctx.metrics.rejected.inc({ reason: code }, n);
    if (result.records.length === 0) return result;
    const now = ctx.now();
    const batches = recordsBySource(result.records, (r: IngestRecord) => sourceName(r.service, kind));
    await Promise.all([...batches].map(([source, records]) =>
      publishAndWait(ctx.queue, { id: randomUUID(), fresh: true, projectId, source, receivedAtMs: now, records }, ctx.ingestTimeoutMs, (err) => req.log.error({ err }, `${kind} batch failed`))));
    ctx.metrics.ingested.inc({ source_kind: kind }, result.records.length);
    return result;
  }

  // bodies are read as bytes here (gzip is undone in the route), whatever their type
  void app.register(async (sub) => {
    sub.removeAllContentTypeParsers();
    sub.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    sub.post('/v1/logs', {
      preHandler: ctx.auth.require(['api_key']),
      config: { rateLimit: ctx.ingestRateLimit },
      schema: {
        tags: ['ingest'],
        summary: 'OTLP/HTTP logs, JSON encoding (exporter protocol http/json); one batch per service.name (source "otlp" when absent); protobuf is refused with 415',
        security: security.apiKey,
        response: {
          200: { type: 'object', properties: { partialSuccess: { type: 'object', properties: { rejectedLogRecords: { type: 'integer' }, errorMessage: { type: 'string' } } } } },
          ...errorResponses,
        },
      },
    }, async (req) => otlpExportResponse(await ingest(req, 'otlp', (body) => parseOtlpLogsJson(body, { limits }))));

    sub.post('/loki/api/v1/push', {
      preHandler: ctx.auth.require(['api_key']),
      config: { rateLimit: ctx.ingestRateLimit },
      schema: {
        tags: ['ingest'],
        summary: 'Loki push API, JSON; one batch per service label (service_name, service, app, job; source "loki" when absent). 204, or 400 with the reasons in text when some entries were rejected',
        security: security.apiKey,
      },
    }, async (req, reply) => {
      const out = lokiPushReply(await ingest(req, 'loki', (body) => parseLokiPushJson(body, { limits })));
      if (out.status === 204) return reply.code(204).send();
      return reply.code(400).type('text/plain; charset=utf-8').send(out.body);
    });
  });
}
