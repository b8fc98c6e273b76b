import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { DomainError } from '../shared/domain-error.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const CODES_BY_STATUS: Record<number, string> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/**
 * Every error leaves as application/problem+json (RFC 9457) with the SPEC's `code`. Unknown
 * failures are logged with their stack and answered 500 without internals.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse();
    const request = host.switchToHttp().getRequest();
    const problem = this.toProblem(exception);
    if (problem.status >= 500 && !(exception instanceof DomainError)) {
      this.logger.error(`${request?.method} ${request?.url} failed: ${(exception as Error)?.stack ?? String(exception)}`);
    }
    if (problem.status === 503 && problem.retryAfter) reply.header('Retry-After', String(problem.retryAfter));
    const { retryAfter: _r, ...body } = problem;
    reply.status(problem.status).header('Content-Type', 'application/problem+json; charset=utf-8').send(JSON.stringify(body));
  }

  private toProblem(exception: unknown): { status: number; code: string; detail: string; retryAfter?: number; [k: string]: unknown } {
    if (exception instanceof DomainError) {
      // RFC 9457's own members win: an extra named like one (the lead's `status`) must not replace the HTTP status.
      return { ...exception.extra, ...base(exception.status, exception.code, exception.message) };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse() as { message?: unknown } | string;
      if (status === 503 && typeof response === 'object') {
        // A failed readiness check (@nestjs/terminus): keep which part is down.
        return { ...response, ...base(503, 'NOT_READY', 'the service is not ready: a dependency or processor is down or starting') };
      }
      const message = typeof response === 'string' ? response : Array.isArray(response?.message) ? response.message.join('; ') : String(response?.message ?? exception.message);
      return { ...bodyErrors(status, message), ...base(status, CODES_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'REQUEST_REJECTED'), message) };
    }
    // Fastify's own errors: body too large, malformed JSON, unsupported content type.
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string; detail?: string };
    if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
      const status = fastifyError.statusCode;
      const detail = fastifyError.detail ?? fastifyError.message ?? 'request rejected';
      return { ...bodyErrors(status, detail), ...base(status, CODES_BY_STATUS[status] ?? 'REQUEST_REJECTED', detail) };
    }
    return base(500, 'INTERNAL_ERROR', 'an unexpected error occurred; it has been logged');
  }
}

/** A 400 outside the validation pipe (a body that does not parse) fails the body as a whole: same shape as any other. */
function bodyErrors(status: number, message: string) {
  return status === 400 ? { errors: [{ field: 'body', message }] } : {};
}

function base(status: number, code: string, detail: string) {
  return { type: `https://lead-qualification.example/problems/${code.toLowerCase().replace(/_/g, '-')}`, title: TITLES[status] ?? 'Error', status, detail, code };
}
