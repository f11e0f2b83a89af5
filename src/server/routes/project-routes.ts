/** A project's incidents, templates and volume: every query is scoped to the caller's project. */
import type { FastifyInstance } from 'fastify';
import type { Severity } from '../../core/detect/detector.js';
import { SEVERITIES } from '../../core/detect/detector.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../../core/incidents/incident.js';
import { isUuid } from '../../adapters/store/vigil-store.js';
import { callerOf } from '../auth.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { incidentSummary } from '../incident-feed.js';
import { errorResponses, idParams, incidentJson, incidentSchema, security, SOURCE_PATTERN, templateJson, templateSchema, volumeJson, volumeSchema } from '../schemas.js';
import type { AppContext } from '../app.js';

const MAX_VOLUME_SPAN_MS = 7 * 24 * 3_600_000;
const MINUTE = 60_000;

function encodeCursor(lastSeenMs: number, id: string): string {
  return Buffer.from(`${lastSeenMs}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { lastSeenMs: number; id: string } {
  const m = /^(-?\d{1,16}):([0-9a-f-]{36})$/i.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || !isUuid(m[2]!)) throw badRequest('cursor is not one this API gave out');
  return { lastSeenMs: Number(m[1]), id: m[2]! };
}

/** An ISO-8601 time or epoch milliseconds. */
function parseTime(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw badRequest(`${name} must be an ISO-8601 time or epoch milliseconds, got "${value}"`);
  return ms;
}

export function projectRoutes(app: FastifyInstance, ctx: AppContext): void {
  const auth = ctx.auth.require(['jwt', 'api_key']);

  app.get<{ Querystring: { status?: IncidentStatus; severity?: Severity; q?: string; limit: number; cursor?: string } }>('/api/incidents', {
    preHandler: auth,
    schema: {
      tags: ['incidents'],
      summary: 'The project’s incidents, most recently seen first (keyset pagination: pass nextCursor as cursor)',
      security: security.apiKeyOrSession,
      querystring: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: [...INCIDENT_STATUSES] },
          severity: { type: 'string', enum: [...SEVERITIES] },
          q: { type: 'string', maxLength: 200, description: 'words in the title' },
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          cursor: { type: 'string', maxLength: 200 },
        },
      },
      response: { 200: { type: 'object', properties: { incidents: { type: 'array', items: incidentSchema }, nextCursor: { type: ['string', 'null'] } } }, ...errorResponses },
    },
  }, async (req) => {
    const { projectId } = callerOf(req);
    const { status, severity, q, limit, cursor } = req.query;
    const rows = await ctx.store.listIncidents(projectId, {
      limit: limit + 1,
      ...(status ? { status } : {}),
      ...(severity ? { severity } : {}),
      ...(q ? { q } : {}),
      ...(cursor ? { after: decodeCursor(cursor) } : {}),
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { incidents: page.map(incidentJson), nextCursor: rows.length > limit && last ? encodeCursor(last.lastSeenMs, last.id) : null };
  });

  app.get<{ Params: { id: string } }>('/api/incidents/:id', {
    preHandler: auth,
    schema: { tags: ['incidents'], summary: 'One incident', security: security.apiKeyOrSession, params: idParams, response: { 200: incidentSchema, ...errorResponses } },
  }, async (req) => {
    const { projectId } = callerOf(req);
    const incident = await ctx.store.getIncident(projectId, req.params.id);
    if (!incident) throw notFound('incident');
    return incidentJson(incident);
  });

  const actions: [string, IncidentStatus, string][] = [
    ['close', 'closed', 'Close an incident (it reopens if it recurs)'],
    ['ignore', 'ignored', 'Ignore an incident (it keeps counting, quietly)'],
    ['reopen', 'open', 'Reopen an incident'],
  ];
  for (const [action, status, summary] of actions) {
    app.post<{ Params: { id: string } }>(`/api/incidents/:id/${action}`, {
      preHandler: auth,
      schema: { tags: ['incidents'], summary, security: security.apiKeyOrSession, params: idParams, response: { 200: incidentSchema, ...errorResponses } },
    }, async (req) => {
      const { projectId, via } = callerOf(req);
      const by = via === 'jwt' ? 'session' : 'api_key';
      const incident = await ctx.incidents.setIncidentStatus(projectId, req.params.id, status, by);
      if (!incident) throw notFound('incident');
      // live views hear of it; the change is stored either way, so a feed failure is only logged
      if (!ctx.incidents.announcesStatus) {
        ctx.feed.publish(projectId, { kind: 'status', at: new Date(ctx.now()).toISOString(), by, incident: incidentSummary(incident) })
          .catch((err: unknown) => req.log.warn({ err }, 'could not publish a status change to the incident feed'));
      }
      return incidentJson(incident);
    });
  }

  app.get<{ Querystring: { source?: string; limit: number } }>('/api/templates', {
    preHandler: auth,
    schema: {
      tags: ['templates'],
      summary: 'The project’s templates, most frequent first',
      security: security.apiKeyOrSession,
      querystring: { type: 'object', properties: { source: { type: 'string', pattern: SOURCE_PATTERN }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: { type: 'object', properties: { templates: { type: 'array', items: templateSchema } } }, ...errorResponses },
    },
  }, async (req) => {
    const { projectId } = callerOf(req);
    const rows = await ctx.store.listTemplates(projectId, { limit: req.query.limit, ...(req.query.source !== undefined ? { source: req.query.source } : {}) });
    return { templates: rows.map(templateJson) };
  });

  app.get<{ Querystring: { from?: string; to?: string } }>('/api/stats/volume', {
    preHandler: auth,
    schema: {
      tags: ['stats'],
      summary: 'Records, anomalies and errors per minute (default: the last hour; at most 7 days)',
      security: security.apiKeyOrSession,
      querystring: { type: 'object', properties: { from: { type: 'string', description: 'ISO-8601 or epoch ms' }, to: { type: 'string', description: 'ISO-8601 or epoch ms' } } },
      response: { 200: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, minutes: { type: 'array', items: volumeSchema } } }, ...errorResponses },
    },
  }, async (req) => {
    const { projectId } = callerOf(req);
    const to = parseTime('to', req.query.to) ?? Math.ceil((ctx.now() + 1) / MINUTE) * MINUTE;
    const from = parseTime('from', req.query.from) ?? to - 60 * MINUTE;
    if (from >= to) throw badRequest('from must be before to');
    if (to - from > MAX_VOLUME_SPAN_MS) throw new ApiError(400, 'VIGIL_BAD_REQUEST', 'at most 7 days per request');
    const rows = await ctx.store.volume(projectId, from, to);
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), minutes: rows.map(volumeJson) };
  });
}
