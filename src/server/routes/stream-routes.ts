/**
 * Live incident changes as Server-Sent Events: `GET /api/incidents/stream`, and
 * `POST /api/auth/stream-token` for browsers, whose EventSource cannot send headers.
 *
 * Authentication: like the other incident routes (a session JWT or an API key in the headers), or
 * `?token=` holding a stream token: a JWT valid for 60 s, for this route only (signed with a key
 * derived from the JWT secret, so it is not a session and a session token is not one). Long-lived
 * secrets never go in URLs (URLs end up in logs, proxies and browser history); the stream token
 * only opens a stream, and only for a minute. Once open, a stream lives on. When EventSource
 * reconnects after the token expired it gets a 401 and stops: the page mints a new token and
 * opens `…/stream?token=…&lastEventId=<the last id it saw>` (the query stands in for the
 * Last-Event-ID header a new EventSource cannot send).
 *
 * The stream: `retry: 3000`; then either the events missed since Last-Event-ID followed by
 * `event: ready`, or `event: reset` (refetch the list: what was missed is no longer held); then
 * `event: incident` for every change (data: IncidentFeedEvent JSON; `id:` on everything, so the
 * browser resumes by itself); `: heartbeat` comments every 15 s. A client that does not read is
 * cut off once 1 MiB waits for it (it reconnects and resumes).
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Gauge } from 'prom-client';
import type { FeedSignal } from '../incident-feed.js';
import { callerOf, presentedCredential } from '../auth.js';
import { ApiError } from '../errors.js';
import { errorResponses, security } from '../schemas.js';
import type { AppContext } from '../app.js';

export const STREAM_TOKEN_SECONDS = 60;
const STREAM_TOKEN_AUDIENCE = 'vigil:incident-stream';
/** What EventSource waits before reconnecting. */
const RETRY_MS = 3_000;
/** Bytes waiting for a client that does not read before it is cut off. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface StreamOptions {
  /** A comment line this often keeps proxies and load balancers from closing an idle stream. */
  heartbeatMs: number;
  /** Streams one project may hold open at once (tabs, screens, tools). */
  maxStreamsPerProject: number;
}

export const DEFAULT_STREAM_OPTIONS: Readonly<StreamOptions> = Object.freeze({
  // 15 s: under the 30–60 s idle timeouts of common proxies and load balancers
  heartbeatMs: 15_000,
  // 50: every screen of a team, with room; bounds what one leaked key can hold open
  maxStreamsPerProject: 50,
});

/** The key stream tokens are signed with: derived from the JWT secret, so it is never a session key. */
export function streamTokenKey(jwtSecret: string): string {
  return createHmac('sha256', jwtSecret).update('vigil incident stream token v1').digest('base64url');
}

function frame(s: FeedSignal): string {
  switch (s.type) {
    case 'event':
      return `id: ${s.id}\nevent: incident\ndata: ${s.data}\n\n`;
    case 'ready':
      return `id: ${s.id}\nevent: ready\ndata: ${JSON.stringify({ lastEventId: s.id, replayed: s.replayed })}\n\n`;
    case 'reset':
      return `id: ${s.id}\nevent: reset\ndata: ${JSON.stringify({ lastEventId: s.id, reason: s.reason })}\n\n`;
  }
}

export function streamRoutes(app: FastifyInstance, ctx: AppContext): void {
  const opts = ctx.stream;
  const tokenKey = streamTokenKey(ctx.jwtSecret);
  const sessionOrKey = ctx.auth.require(['jwt', 'api_key']);
  /** Open streams, to end them when the server closes (an open stream would hold `close()` forever). */
  const open = new Set<() => void>();
  const perProject = new Map<string, number>();

  new Gauge({
    name: 'vigil_incident_streams', help: 'Open Server-Sent Events streams of incident changes', registers: [ctx.metrics.registry],
    collect() { this.set(open.size); },
  });
  app.addHook('preClose', (done) => {
    for (const end of [...open]) end();
    done();
  });

  app.post('/api/auth/stream-token', {
    preHandler: sessionOrKey,
    schema: {
      tags: ['auth'],
      summary: `A token for opening the incident stream from a browser (?token=; valid ${STREAM_TOKEN_SECONDS} s, for that route only)`,
      security: security.apiKeyOrSession,
      response: { 200: { type: 'object', properties: { token: { type: 'string' }, expiresIn: { type: 'integer' }, url: { type: 'string' } } }, ...errorResponses },
    },
  }, async (req) => {
    const { projectId } = callerOf(req);
    const token = app.jwt.sign({ sub: projectId, name: '' }, { key: tokenKey, expiresIn: STREAM_TOKEN_SECONDS, aud: STREAM_TOKEN_AUDIENCE });
    return { token, expiresIn: STREAM_TOKEN_SECONDS, url: `/api/incidents/stream?token=${encodeURIComponent(token)}` };
  });

  const streamAuth = async (req: FastifyRequest<{ Querystring: { token?: string } }>, reply: FastifyReply): Promise<void> => {
    const token = req.query.token;
    if (token === undefined || presentedCredential(req)) return sessionOrKey(req, reply);
    let claims: { sub?: unknown };
    try {
      claims = app.jwt.verify<{ sub?: unknown }>(token, { key: tokenKey, allowedAud: STREAM_TOKEN_AUDIENCE });
    } catch (err) {
      const expired = (err as { code?: string }).code === 'FAST_JWT_EXPIRED';
      throw new ApiError(401, 'VIGIL_AUTH_INVALID_TOKEN', expired ? 'stream token expired; get a new one from POST /api/auth/stream-token' : 'stream token not valid; get one from POST /api/auth/stream-token');
    }
    if (typeof claims.sub !== 'string') throw new ApiError(401, 'VIGIL_AUTH_INVALID_TOKEN', 'stream token not valid; get one from POST /api/auth/stream-token');
    req.caller = { projectId: claims.sub, via: 'jwt' };
  };

  app.get<{ Querystring: { token?: string; lastEventId?: string } }>('/api/incidents/stream', {
    preHandler: streamAuth,
    schema: {
      tags: ['incidents'],
      summary: 'Incident changes as Server-Sent Events (created, updated, reanalyze, reopened, recurred, status); resumes from Last-Event-ID',
      description: 'text/event-stream. `event: incident` (data: {kind, at, milestone?, by?, incident}), `event: ready` (live from here), `event: reset` (refetch: missed events are no longer held). Every event has an id; send it back as Last-Event-ID (or ?lastEventId=) to resume. Browsers: ?token= from POST /api/auth/stream-token.',
      security: [...security.apiKeyOrSession, { streamToken: [] }],
      querystring: {
        type: 'object',
        properties: {
          token: { type: 'string', maxLength: 2_000, description: 'a stream token (browsers); otherwise use the headers' },
          lastEventId: { type: 'string', maxLength: 100, description: 'resume after this event (when the Last-Event-ID header cannot be sent)' },
        },
      },
      headers: { type: 'object', properties: { 'last-event-id': { type: 'string', maxLength: 100 } } },
      response: { 200: { type: 'string', description: 'text/event-stream' }, ...errorResponses },
    },
  }, async (req, reply) => {
    const { projectId } = callerOf(req);
    const held = perProject.get(projectId) ?? 0;
    if (held >= opts.maxStreamsPerProject) {
      throw new ApiError(429, 'VIGIL_STREAM_LIMIT', `this project already has ${held} streams open (at most ${opts.maxStreamsPerProject}); close some`);
    }
    const header = req.headers['last-event-id'];
    const lastEventId = (Array.isArray(header) ? header[0] : header) ?? req.query.lastEventId;

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx and others: do not buffer the stream
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    perProject.set(projectId, held + 1);

    let ended = false;
    let unsubscribe: (() => void) | undefined;
    const end = (): void => {
      if (ended) return;
      ended = true;
      open.delete(end);
      clearInterval(heartbeat);
      unsubscribe?.();
      const n = (perProject.get(projectId) ?? 1) - 1;
      if (n > 0) perProject.set(projectId, n);
      else perProject.delete(projectId);
      if (!res.writableEnded) res.end();
    };
    const write = (text: string): void => {
      if (ended) return;
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        // the client does not keep up: it reconnects and resumes (or resets) from its last id
        end();
        return;
      }
      res.write(text);
    };
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), opts.heartbeatMs);
    heartbeat.unref();
    open.add(end);
    res.on('close', end);
    res.on('error', end);
    try {
      unsubscribe = ctx.feed.subscribe(projectId, (s) => write(frame(s)), lastEventId !== undefined ? { lastEventId } : {});
    } catch (err) {
      // the headers are out: all that is left is to end the stream (the client retries)
      req.log.error({ err }, 'could not subscribe to the incident feed');
      end();
      return;
    }
    if (ended) unsubscribe();
  });
}
