/** Projects and access: register, log in, rotate the API key. */
import type { FastifyInstance } from 'fastify';
import { StoreError } from '../../adapters/store/vigil-store.js';
import { callerOf } from '../auth.js';
import { DUMMY_PASSWORD_HASH, hashPassword, newApiKey, verifyPassword } from '../credentials.js';
import { ApiError } from '../errors.js';
import { errorResponses, projectJson, projectSchema, security } from '../schemas.js';
import type { AppContext } from '../app.js';

const SESSION_SECONDS = 12 * 3600;
const AUTH_BODY_LIMIT = 64 * 1024;

const credentials = {
  name: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' },
  password: { type: 'string', minLength: 8, maxLength: 1024 },
} as const;

export function authRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post<{ Body: { name: string; password: string; notifications?: Record<string, unknown> } }>('/api/auth/register', {
    bodyLimit: AUTH_BODY_LIMIT,
    config: { rateLimit: ctx.loginRateLimit },
    schema: {
      tags: ['auth'],
      summary: 'Create a project; returns its first API key (shown once)',
      body: {
        type: 'object',
        properties: { ...credentials, notifications: { type: 'object', additionalProperties: true, maxProperties: 64, description: 'notification settings (e-mail, webhooks, …)' } },
        required: ['name', 'password'],
        additionalProperties: false,
      },
      response: { 201: { type: 'object', properties: { project: projectSchema, apiKey: { type: 'string' }, apiKeyPrefix: { type: 'string' } } }, ...errorResponses },
    },
  }, async (req, reply) => {
    const { name, password, notifications } = req.body;
    const key = newApiKey();
    let project;
    try {
      project = await ctx.store.createProject({ name: name.trim(), passwordHash: await hashPassword(password), notifications: notifications ?? {} }, { hash: key.hash, prefix: key.prefix });
    } catch (err) {
      if (err instanceof StoreError && err.code === 'VIGIL_AUTH_NAME_TAKEN') throw new ApiError(409, err.code, err.message);
      throw err;
    }
    reply.code(201);
    return { project: projectJson(project), apiKey: key.key, apiKeyPrefix: key.prefix };
  });

  app.post<{ Body: { name: string; password: string } }>('/api/auth/login', {
    bodyLimit: AUTH_BODY_LIMIT,
    config: { rateLimit: ctx.loginRateLimit },
    schema: {
      tags: ['auth'],
      summary: 'Log in to a project; returns a session token (JWT, 12 h)',
      body: { type: 'object', properties: { name: { type: 'string', maxLength: 100 }, password: { type: 'string', maxLength: 1024 } }, required: ['name', 'password'], additionalProperties: false },
      response: { 200: { type: 'object', properties: { token: { type: 'string' }, tokenType: { type: 'string' }, expiresIn: { type: 'integer' }, project: projectSchema } }, ...errorResponses },
    },
  }, async (req) => {
    const project = await ctx.store.projectByName(req.body.name.trim());
    // a missing project costs as much as a wrong password: names cannot be probed by timing
    const ok = await verifyPassword(req.body.password, project?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!project || !ok) throw new ApiError(401, 'VIGIL_AUTH_INVALID_CREDENTIALS', 'project name or password is wrong');
    const token = app.jwt.sign({ sub: project.id, name: project.name }, { expiresIn: SESSION_SECONDS });
    return { token, tokenType: 'Bearer', expiresIn: SESSION_SECONDS, project: projectJson(project) };
  });

  app.post('/api/keys/rotate', {
    preHandler: ctx.auth.require(['jwt']),
    schema: {
      tags: ['auth'],
      summary: 'Replace the project’s API key: the new key is shown once, the old one stops working',
      security: security.session,
      response: { 200: { type: 'object', properties: { apiKey: { type: 'string' }, apiKeyPrefix: { type: 'string' }, revoked: { type: 'integer' } } }, ...errorResponses },
    },
  }, async (req) => {
    const { projectId } = callerOf(req);
    const key = newApiKey();
    const { revoked } = await ctx.store.rotateApiKey(projectId, { hash: key.hash, prefix: key.prefix });
    ctx.auth.forgetProject(projectId);
    return { apiKey: key.key, apiKeyPrefix: key.prefix, revoked };
  });
}
