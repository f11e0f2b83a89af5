/**
 * API errors: a stable code (`VIGIL_<AREA>_<WHAT>`), an HTTP status and a message a person can act
 * on. Every error the API sends is `{error: {code, message}}`, whatever raised it (a route, a
 * plugin, Fastify itself).
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra fields sent beside `error` (e.g. the per-record outcome of an ingest). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'VIGIL_BAD_REQUEST', message);
export const notFound = (what = 'resource'): ApiError => new ApiError(404, 'VIGIL_NOT_FOUND', `${what} not found`);

/** Fastify's own error codes, mapped to ours. */
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'VIGIL_INGEST_BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'VIGIL_UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'VIGIL_BAD_REQUEST' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'VIGIL_BAD_REQUEST' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'VIGIL_BAD_REQUEST' },
  FST_ERR_VALIDATION: { status: 400, code: 'VIGIL_BAD_REQUEST' },
  FST_ERR_NOT_FOUND: { status: 404, code: 'VIGIL_NOT_FOUND' },
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: { status: 401, code: 'VIGIL_AUTH_REQUIRED' },
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: { status: 401, code: 'VIGIL_AUTH_INVALID_TOKEN' },
  FST_JWT_AUTHORIZATION_TOKEN_INVALID: { status: 401, code: 'VIGIL_AUTH_INVALID_TOKEN' },
  FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED: { status: 401, code: 'VIGIL_AUTH_INVALID_TOKEN' },
  FST_JWT_BAD_REQUEST: { status: 401, code: 'VIGIL_AUTH_INVALID_TOKEN' },
};

export interface ErrorBody {
  error: { code: string; message: string };
  [extra: string]: unknown;
}

/** The status and body for any thrown value; `internal` is true for errors nobody planned for. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof ApiError) return { status: err.statusCode, body: { ...(err.extra ?? {}), error: { code: err.code, message: err.message } }, internal: false };
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; validation?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : 'unexpected error';
  if (code?.startsWith('VIGIL_')) {
    const status = typeof e?.statusCode === 'number' ? e.statusCode : 400;
    return { status, body: { error: { code, message } }, internal: status >= 500 };
  }
  const mapped = code ? FASTIFY_CODES[code] : undefined;
  if (mapped) return { status: mapped.status, body: { error: { code: mapped.code, message } }, internal: false };
  if (e?.validation) return { status: 400, body: { error: { code: 'VIGIL_BAD_REQUEST', message } }, internal: false };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status < 500) return { status, body: { error: { code: status === 404 ? 'VIGIL_NOT_FOUND' : 'VIGIL_BAD_REQUEST', message } }, internal: false };
  return { status: 500, body: { error: { code: 'VIGIL_INTERNAL', message: 'internal error; the server log has the details' } }, internal: true };
}

/** The OpenAPI schema of an error reply. */
export const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] },
  },
  required: ['error'],
  additionalProperties: true,
} as const;
