import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyErrors, codeForStatus, problem, PROBLEM_CONTENT_TYPE, type Problem } from './problem.js';

/**
 * Another error shape for a part of the URL space: the Dataverse surface (/api/data/) answers
 * OData errors instead of problem+json. The module that serves those paths registers its shape;
 * every error answer built here or in the problem-details filter asks for the shape of its URL.
 */
export interface ErrorShape {
  contentType: string;
  /** The answer to an error of the shape's own (its module's exception types), else undefined. */
  own?(exception: unknown): { status: number; body: string; headers?: Record<string, string> } | undefined;
  /** The answer to an error the API would answer with this problem. */
  fromProblem(problem: Problem): { status: number; body: string };
  /** Whether a body already has this shape (then onSend leaves it alone). */
  isShaped(body: string): boolean;
}

const errorShapes: { prefix: string; shape: ErrorShape }[] = [];

/** Registers the shape of the URLs under `prefix` (once; later registrations of the prefix are ignored). */
export function registerErrorShape(prefix: string, shape: ErrorShape): void {
  if (!errorShapes.some((s) => s.prefix === prefix)) errorShapes.push({ prefix, shape });
}

/** The error shape of a request URL, or undefined for problem+json. */
export function errorShapeFor(url: string | undefined): ErrorShape | undefined {
  if (!url) return undefined;
  return errorShapes.find((s) => url.startsWith(s.prefix))?.shape;
}

/**
 * Errors Fastify answers before a route runs (a URL that does not decode, a path parameter over
 * the length limit): problem+json like every other error, and without echoing the path.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 400;
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path segment is longer than any id'
      : error.code === 'FST_ERR_BAD_URL'
        ? 'the URL does not decode'
        : 'the request was rejected';
  const body = { ...bodyErrors(status, detail), ...problem(status, codeForStatus(status), detail) };
  const shape = errorShapeFor(request?.url);
  if (shape) {
    const shaped = shape.fromProblem(body);
    void reply.code(shaped.status).header('Content-Type', shape.contentType).send(shaped.body);
    return;
  }
  void reply.code(status).header('Content-Type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

/**
 * Errors of the connection itself (a request not received in time, headers too large, bytes that
 * are not HTTP): Node hands over the socket, and the answer is written to it raw before closing.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request was not received in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request headers are too large']
        : [400, 'the request is not valid HTTP'];
  const body = JSON.stringify(problem(status, codeForStatus(status), detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${problem(status, '', '').title}\r\nConnection: close\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * The last line of defence: an error answer built anywhere else in Fastify or a plugin (plain
 * JSON with `statusCode`/`error`/`message`) is rewritten as problem+json before it leaves.
 */
export function problemOnSend(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400) return payload;
    const type = String(reply.getHeader('content-type') ?? '');
    const shape = errorShapeFor(request.url);
    if (shape && typeof payload === 'string' && type.startsWith(shape.contentType) && shape.isShaped(payload)) return payload;
    if ((!shape && type.startsWith('application/problem+json')) || typeof payload !== 'string') return payload;
    const status = reply.statusCode;
    let detail = 'the request was rejected';
    try {
      const parsed = JSON.parse(payload) as { message?: unknown };
      if (typeof parsed?.message === 'string') detail = parsed.message;
    } catch {
      // not JSON: keep the generic detail
    }
    const body = { ...bodyErrors(status, detail), ...problem(status, codeForStatus(status), status >= 500 ? 'an unexpected error occurred' : detail) };
    if (shape) {
      // A problem+json (the rate limiter's, say) or a plain error on a path with its own shape.
      const shaped = shape.fromProblem(type.startsWith('application/problem+json') ? { ...body, ...parsedProblem(payload) } : body);
      reply.code(shaped.status).header('Content-Type', shape.contentType);
      return shaped.body;
    }
    reply.header('Content-Type', PROBLEM_CONTENT_TYPE);
    return JSON.stringify(body);
  });
}

function parsedProblem(payload: string): Partial<Problem> {
  try {
    const parsed = JSON.parse(payload) as unknown;
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}
