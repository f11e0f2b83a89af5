/**
 * The Fastify app: routes validate, call the store or the pipeline, map errors. Everything it
 * needs comes in `AppDeps`, so tests build it around an in-memory database and use `inject`.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyJwt from '@fastify/jwt';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import type { Incident, IncidentStatus } from '../core/incidents/incident.js';
import type { VigilStore } from '../adapters/store/vigil-store.js';
import type { IngestQueue } from '../worker/queue.js';
import { VERSION } from '../cli/version.js';
import { Authenticator, presentedCredential } from './auth.js';
import { hashApiKey } from './credentials.js';
import { MemoryIncidentFeed, type IncidentFeed } from './incident-feed.js';
import { ApiError, toErrorResponse } from './errors.js';
import type { VigilMetrics } from './metrics.js';
import { authRoutes } from './routes/auth-routes.js';
import { INGEST_MEDIA_TYPES, ingestRoutes } from './routes/ingest-routes.js';
import { projectRoutes } from './routes/project-routes.js';
import { PROTOCOL_INGEST_URLS, protocolRoutes } from './routes/protocol-routes.js';
import { simulatorRoutes } from './routes/simulator-routes.js';
import { DEFAULT_STREAM_OPTIONS, streamRoutes, type StreamOptions } from './routes/stream-routes.js';
import { SimulatorHost } from './simulators.js';

/** What the API asks of the pipeline: status changes go through it so they are never overwritten. */
export interface IncidentCommands {
  setIncidentStatus(projectId: string, id: string, status: IncidentStatus, by?: 'session' | 'api_key'): Promise<Incident | undefined>;
  /** The change's `status` event reaches the live feed from where it is applied (fleet: the worker), not from the route. */
  readonly announcesStatus?: boolean;
}

export interface HealthReport {
  ok: boolean;
  [part: string]: unknown;
}

export interface AppDeps {
  store: VigilStore;
  queue: IngestQueue;
  incidents: IncidentCommands;
  metrics: VigilMetrics;
  jwtSecret: string;
  limits: { maxBodyBytes: number; maxLineBytes: number; maxRecordsPerRequest: number; rateLimitPerMinute: number };
  /** Extra health checks (the pipeline's, or in fleet mode Redis'); storage and queue are checked here. */
  health?: () => HealthReport | Promise<HealthReport>;
  now?: () => number;
  logger?: FastifyServerOptions['logger'];
  /** How long an ingest request waits for its batch to be stored. */
  ingestTimeoutMs?: number;
  /** Login and registration attempts per IP and minute. */
  loginRateLimitPerMinute?: number;
  /** Live incident changes (the SSE stream); status changes are published here. Default: an in-process feed. */
  feed?: IncidentFeed;
  stream?: Partial<StreamOptions>;
}

interface RouteRateLimit {
  max: number;
  timeWindow: number;
  keyGenerator: (req: import('fastify').FastifyRequest) => string;
}

export interface AppContext {
  store: VigilStore;
  queue: IngestQueue;
  incidents: IncidentCommands;
  metrics: VigilMetrics;
  auth: Authenticator;
  limits: AppDeps['limits'];
  now: () => number;
  ingestTimeoutMs: number;
  ingestRateLimit: RouteRateLimit;
  loginRateLimit: RouteRateLimit;
  simulators: SimulatorHost;
  feed: IncidentFeed;
  stream: StreamOptions;
  jwtSecret: string;
}

/** A queue whose oldest batch waits longer than this is not healthy. */
const QUEUE_STALL_MS = 30_000;
const STORAGE_PING_TIMEOUT_MS = 2_000;
const INGEST_URLS: ReadonlySet<string> = new Set(['/api/ingest', ...PROTOCOL_INGEST_URLS]);

/** Stream tokens (`?token=`) are short-lived, but still kept out of the request log. */
const redactUrl = (url: string): string => url.replace(/([?&]token=)[^&]*/g, '$1[redacted]');

function withRedactedUrls(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const base = logger === true ? {} : logger;
  return {
    ...base,
    serializers: {
      req: (req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({ method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
      ...base.serializers,
    },
  };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    logger: withRedactedUrls(deps.logger),
    bodyLimit: deps.limits.maxBodyBytes,
    // requests arriving while the server shuts down get our 503 (below), in our error format
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Vigil API', version: VERSION, description: 'Log anomaly detection and incident triage. Errors are always {error: {code, message}} with a stable code.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'a project API key (vgl_…); also accepted as Authorization: Bearer vgl_…' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a session token from POST /api/auth/login' },
          streamToken: { type: 'apiKey', in: 'query', name: 'token', description: 'a 60 s token from POST /api/auth/stream-token (the incident stream only)' },
        },
      },
    },
    // the ingest body is read as bytes (so it has no body schema); the document still says what it takes
    transform: ({ schema, url }) => {
      if (url !== '/api/ingest' || !schema) return { schema, url };
      const body = { type: 'string', description: 'text/plain: one record per line; application/x-ndjson: one JSON object per line' };
      return { schema: { ...schema, consumes: [...INGEST_MEDIA_TYPES], body } as typeof schema, url };
    },
  });
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async (_req, reply) => {
    if (!closing) return;
    void reply.header('connection', 'close');
    throw new ApiError(503, 'VIGIL_SHUTTING_DOWN', 'the server is shutting down; retry shortly');
  });

  await app.register(fastifyJwt, { secret: deps.jwtSecret });
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_req, c) => new ApiError(c.statusCode, 'VIGIL_RATE_LIMITED', `too many requests: at most ${c.max} a minute; retry in ${c.after}`),
  });

  // ingest bodies arrive as bytes: gzip is undone, lines are split and limits applied in the route
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser([...INGEST_MEDIA_TYPES], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const auth = new Authenticator(deps.store, now);
  const byKey = (req: import('fastify').FastifyRequest): string => {
    const cred = presentedCredential(req);
    return cred?.kind === 'api_key' ? `key:${hashApiKey(cred.key)}` : `ip:${req.ip}`;
  };
  const ingestTimeoutMs = deps.ingestTimeoutMs ?? 30_000;
  const simulators = new SimulatorHost({
    queue: deps.queue,
    limits: deps.limits,
    now,
    ingestTimeoutMs,
    onError: (err) => app.log.error({ err }, 'simulator batch failed'),
  });
  // no simulator timer outlives the server; batches being shipped are stored before the queue closes
  app.addHook('onClose', async () => simulators.close());
  const ctx: AppContext = {
    store: deps.store,
    queue: deps.queue,
    incidents: deps.incidents,
    metrics: deps.metrics,
    auth,
    limits: deps.limits,
    now,
    ingestTimeoutMs,
    ingestRateLimit: { max: deps.limits.rateLimitPerMinute, timeWindow: 60_000, keyGenerator: byKey },
    loginRateLimit: { max: deps.loginRateLimitPerMinute ?? 30, timeWindow: 60_000, keyGenerator: (req) => `ip:${req.ip}` },
    simulators,
    feed: deps.feed ?? new MemoryIncidentFeed(),
    stream: { ...DEFAULT_STREAM_OPTIONS, ...deps.stream },
    jwtSecret: deps.jwtSecret,
  };

  app.setErrorHandler((err, req, reply) => {
    const r = toErrorResponse(err);
    if (r.internal) req.log.error({ err }, 'request failed');
    if (INGEST_URLS.has(req.routeOptions.url ?? '') && r.body.error.code !== 'VIGIL_INGEST_LINE_TOO_LONG') {
      // a whole request turned away: counted once, under its code
      ctx.metrics.rejected.inc({ reason: r.body.error.code });
    }
    void reply.code(r.status).send(r.body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'VIGIL_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });

  authRoutes(app, ctx);
  ingestRoutes(app, ctx);
  projectRoutes(app, ctx);
  protocolRoutes(app, ctx);
  simulatorRoutes(app, ctx);
  streamRoutes(app, ctx);

  app.get('/healthz', {
    schema: {
      tags: ['operations'],
      summary: 'Health: storage reachable, queue moving, last flush stored',
      response: { 200: { type: 'object', additionalProperties: true }, 503: { type: 'object', additionalProperties: true } },
    },
  }, async (_req, reply) => {
    let storage: { ok: boolean; kind: string; error?: string };
    try {
      await Promise.race([
        deps.store.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${STORAGE_PING_TIMEOUT_MS} ms`)), STORAGE_PING_TIMEOUT_MS).unref()),
      ]);
      storage = { ok: true, kind: deps.store.kind };
    } catch (err) {
      storage = { ok: false, kind: deps.store.kind, error: (err as Error).message };
    }
    const q = deps.queue.stats();
    const queue = { ok: q.oldestPendingMs < QUEUE_STALL_MS, ...q };
    const extra = (await deps.health?.()) ?? { ok: true };
    const ok = storage.ok && queue.ok && extra.ok;
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unhealthy', storage, queue, pipeline: extra };
  });

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    const body = await deps.metrics.registry.metrics();
    void reply.type(deps.metrics.registry.contentType);
    return body;
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
