import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyErrors, codeForStatus, problem, PROBLEM_CONTENT_TYPE } from './problem.js';

/**
 * Errors Fastify answers before a route runs (a URL that does not decode, a path parameter over
 * the length limit): problem+json like every other error, and without echoing the path.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 400;
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path segment is longer than any id'
      : error.code === 'FST_ERR_BAD_URL'
        ? 'the URL does not decode'
        : 'the request was rejected';
  void reply
    .code(status)
    .header('Content-Type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ ...bodyErrors(status, detail), ...problem(status, codeForStatus(status), detail) }));
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
  fastify.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode < 400) return payload;
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('application/problem+json') || typeof payload !== 'string') return payload;
    const status = reply.statusCode;
    let detail = 'the request was rejected';
    try {
      const parsed = JSON.parse(payload) as { message?: unknown };
      if (typeof parsed?.message === 'string') detail = parsed.message;
    } catch {
      // not JSON: keep the generic detail
    }
    reply.header('Content-Type', PROBLEM_CONTENT_TYPE);
    return JSON.stringify({
      ...bodyErrors(status, detail),
      ...problem(status, codeForStatus(status), status >= 500 ? 'an unexpected error occurred' : detail),
    });
  });
}
