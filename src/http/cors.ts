import type { FastifyCorsOptions } from '@fastify/cors';

/** Request headers a page of an allowed origin may send (besides the CORS-safelisted ones). */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'Prefer', 'X-Correlation-Id'];

/**
 * Response headers such a page may read (besides the CORS-safelisted ones): what the API says in
 * headers (versions, positions, correlation, created resources) and the rate limiter's.
 */
export const CORS_EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Preference-Applied',
  'X-Correlation-Id',
  'X-Projection-Position',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'Retry-After',
];

export const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH'];

/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 h). */
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * @fastify/cors for CORS_ORIGINS. The request's Origin is echoed only when it is one of them;
 * any other (or none) gets no CORS header at all, so the browser keeps the answer from the page,
 * and its preflight falls through to a 404. An allowed preflight is answered (204) in the
 * plugin's onRequest hook, before the rate limiter and before Nest's auth guard: browsers send
 * no Authorization header on a preflight.
 */
export function corsOptions(origins: readonly string[]): FastifyCorsOptions {
  const allowed = new Set(origins);
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: CORS_METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: CORS_MAX_AGE_SECONDS,
    credentials: false,
    hideOptionsRoute: true,
  };
}
