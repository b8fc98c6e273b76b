import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../shared/domain-error.js';
import { DATABASE_RETRY_AFTER_SECONDS, unavailableCause } from '../database/availability.js';
import { bodyErrors, codeForStatus, problem as base, PROBLEM_CONTENT_TYPE } from './problem.js';
import { statusOf } from './error-status.js';
import { errorShapeFor } from './framework-errors.js';

/**
 * Every error leaves as application/problem+json (RFC 9457) with the API's `code` (docs/api.md, Errors). Unknown
 * failures are logged with their stack and answered 500 without internals.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest | undefined>();
    // Paths with an error shape of their own (the Dataverse surface: OData errors).
    const shape = errorShapeFor(request?.url);
    const own = shape?.own?.(exception);
    if (shape && own) {
      reply
        .status(own.status)
        .headers(own.headers ?? {})
        .header('Content-Type', shape.contentType)
        .send(own.body);
      return;
    }
    const problem = this.toProblem(exception);
    if (problem.code === 'DATABASE_UNAVAILABLE') {
      // An outage, not a bug: one line per request, no stack; the route pattern, as the request log names it.
      const cause = unavailableCause(exception);
      const route = request?.routeOptions?.url ?? request?.url;
      this.logger.warn(
        `${request?.method} ${route}: database unavailable (${cause?.code ? `${cause.code}: ` : ''}${cause?.message}), answered 503 (correlationId ${request?.id})`,
      );
    } else if (problem.status >= 500 && !(exception instanceof DomainError) && problem.code !== 'NOT_READY') {
      // Not for a failed readiness check (NOT_READY): Terminus logs it already, with what is down.
      this.logger.error(`${request?.method} ${request?.url} failed: ${(exception as Error)?.stack ?? String(exception)}`);
    }
    if (problem.status === 503 && problem.retryAfter) reply.header('Retry-After', String(problem.retryAfter));
    const { retryAfter: _r, ...body } = problem;
    if (shape) {
      const shaped = shape.fromProblem(body as Parameters<typeof shape.fromProblem>[0]);
      reply.status(shaped.status).header('Content-Type', shape.contentType).send(shaped.body);
      return;
    }
    reply.status(problem.status).header('Content-Type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }

  private toProblem(exception: unknown): { status: number; code: string; detail: string; retryAfter?: number; [k: string]: unknown } {
    if (exception instanceof DomainError) {
      const status = statusOf(exception);
      // RFC 9457's own members win: a detail named like one (the lead's `status`) must not replace the HTTP status.
      if (status !== undefined) return { ...exception.details, ...base(status, exception.code, exception.message) };
      this.logger.error(`DomainError ${exception.code} has no HTTP status in src/http/error-status.ts: ${exception.stack}`);
      return base(500, 'INTERNAL_ERROR', 'an unexpected error occurred; it has been logged');
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Nest's own bodies: a message, or the messages of a validation.
      const response = exception.getResponse() as { message?: string | string[] } | string;
      if (status === 503 && typeof response === 'object') {
        // A failed readiness check (@nestjs/terminus): keep which part is down.
        return { ...response, ...base(503, 'NOT_READY', 'the service is not ready: a dependency or processor is down or starting') };
      }
      const message =
        typeof response === 'string'
          ? response
          : Array.isArray(response?.message)
            ? response.message.join('; ')
            : String(response?.message ?? exception.message);
      return { ...bodyErrors(status, message), ...base(status, codeForStatus(status), message) };
    }
    // Fastify's own errors: body too large, malformed JSON, unsupported content type.
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string; detail?: string };
    if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
      const status = fastifyError.statusCode;
      const detail = fastifyError.detail ?? fastifyError.message ?? 'request rejected';
      return { ...bodyErrors(status, detail), ...base(status, codeForStatus(status), detail) };
    }
    if (unavailableCause(exception)) {
      // Unreachable, restarting, refusing connections or locked: the request may be retried (see docs/operations.md).
      return {
        ...base(503, 'DATABASE_UNAVAILABLE', `the database is unavailable; retry in ${DATABASE_RETRY_AFTER_SECONDS} s`),
        retryAfter: DATABASE_RETRY_AFTER_SECONDS,
      };
    }
    return base(500, 'INTERNAL_ERROR', 'an unexpected error occurred; it has been logged');
  }
}
