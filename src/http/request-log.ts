import type { FastifyInstance } from 'fastify';
import type { Logger as Pino } from 'pino';

/** Probes and scrapes come every few seconds from machines: logged at debug, not info. */
const QUIET_ROUTES = /^\/(health|metrics)(\/|$)/;

/**
 * One JSON line per request once its answer has gone: method, route pattern (not the URL, so ids
 * and query strings stay out and lines group by endpoint), status, duration, correlation id and
 * the authenticated user. Never the token or the body.
 */
export function logRequests(fastify: FastifyInstance, logger: () => Pino | undefined): void {
  fastify.addHook('onResponse', async (request, reply) => {
    const log = logger();
    if (!log) return;
    const route = request.routeOptions.url ?? null;
    const status = reply.statusCode;
    // A 503 is an outage or a projection catching up, said with Retry-After: worth a warning, not an error.
    const level = status >= 500 ? (status === 503 ? 'warn' : 'error') : QUIET_ROUTES.test(route ?? request.url) ? 'debug' : 'info';
    const user = (request as { user?: { id?: string } }).user;
    log[level](
      {
        context: 'HTTP',
        method: request.method,
        route,
        status,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        correlationId: request.id,
        userId: user?.id ?? null,
      },
      'request',
    );
  });
}
