/**
 * Who is calling: a web session (JWT, `Authorization: Bearer <jwt>`) or a project's API key
 * (`X-API-Key: vgl_…` or `Authorization: Bearer vgl_…`). Either way the request is bound to one
 * project, and every route reads and changes that project's data only.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VigilStore } from '../adapters/store/vigil-store.js';
import { API_KEY_PREFIX, hashApiKey } from './credentials.js';
import { ApiError } from './errors.js';

export interface Caller {
  projectId: string;
  via: 'jwt' | 'api_key';
}

export interface SessionClaims {
  sub: string;
  name: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: SessionClaims;
    user: SessionClaims;
  }
}

/** How the request presents itself, before anything is checked. */
export function presentedCredential(req: FastifyRequest): { kind: 'api_key'; key: string } | { kind: 'jwt' } | undefined {
  const header = req.headers['x-api-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key) return { kind: 'api_key', key: key.trim() };
  const auth = req.headers.authorization;
  if (!auth) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  if (!m) return undefined;
  return m[1]!.startsWith(API_KEY_PREFIX) ? { kind: 'api_key', key: m[1]! } : { kind: 'jwt' };
}

const CACHE_TTL_MS = 10_000;
const CACHE_MAX = 10_000;

/** Checks credentials; API key lookups are cached for a few seconds (a rotation clears them). */
export class Authenticator {
  private readonly keys = new Map<string, { projectId: string; until: number }>();

  constructor(
    private readonly store: VigilStore,
    private readonly now: () => number,
  ) {}

  /** Forgets cached keys of a project (after a rotation). */
  forgetProject(projectId: string): void {
    for (const [hash, v] of this.keys) if (v.projectId === projectId) this.keys.delete(hash);
  }

  async projectOfKey(key: string): Promise<string | undefined> {
    const hash = hashApiKey(key);
    const hit = this.keys.get(hash);
    const now = this.now();
    if (hit && hit.until > now) return hit.projectId;
    const row = await this.store.apiKeyByHash(hash);
    if (!row) {
      this.keys.delete(hash);
      return undefined;
    }
    if (this.keys.size >= CACHE_MAX) this.keys.clear();
    this.keys.set(hash, { projectId: row.projectId, until: now + CACHE_TTL_MS });
    return row.projectId;
  }

  /** A preHandler accepting the given kinds of credential. */
  require(kinds: readonly Caller['via'][]): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
    const allowKey = kinds.includes('api_key');
    const allowJwt = kinds.includes('jwt');
    const what = allowKey && allowJwt ? 'a session token (Authorization: Bearer <token>) or an API key (X-API-Key)' : allowKey ? 'an API key (X-API-Key: vgl_… or Authorization: Bearer vgl_…)' : 'a session token from POST /api/auth/login (Authorization: Bearer <token>)';
    return async (req) => {
      const cred = presentedCredential(req);
      if (!cred) throw new ApiError(401, 'VIGIL_AUTH_REQUIRED', `this route needs ${what}`);
      if (cred.kind === 'api_key') {
        if (!allowKey) throw new ApiError(401, 'VIGIL_AUTH_REQUIRED', `this route needs ${what}, not an API key`);
        const projectId = await this.projectOfKey(cred.key);
        if (!projectId) throw new ApiError(401, 'VIGIL_AUTH_INVALID_KEY', 'API key not recognised (revoked, mistyped, or of another server)');
        req.caller = { projectId, via: 'api_key' };
        return;
      }
      if (!allowJwt) throw new ApiError(401, 'VIGIL_AUTH_REQUIRED', `this route needs ${what}`);
      let claims: SessionClaims;
      try {
        claims = await req.jwtVerify<SessionClaims>();
      } catch (err) {
        const expired = (err as { code?: string }).code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED';
        throw new ApiError(401, 'VIGIL_AUTH_INVALID_TOKEN', expired ? 'session expired; log in again' : 'session token not valid; log in again');
      }
      if (typeof claims.sub !== 'string') throw new ApiError(401, 'VIGIL_AUTH_INVALID_TOKEN', 'session token not valid; log in again');
      req.caller = { projectId: claims.sub, via: 'jwt' };
    };
  }
}

/** The authenticated caller (routes behind `Authenticator.require`). */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new ApiError(401, 'VIGIL_AUTH_REQUIRED', 'not authenticated');
  return req.caller;
}
