import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { Logger as PinoLogger, PinoLogger as PinoRoot } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { EventStoreWrapper } from './event-store/event-store.module.js';
import type { AppConfig } from './config/config.js';
import { corsOptions } from './http/cors.js';
import { clientErrorHandler, frameworkErrors, problemOnSend } from './http/framework-errors.js';
import { registerJsonParser } from './http/json-body.js';
import { buildOpenApiDocument } from './http/openapi-document.js';
import { ProblemDetailsFilter } from './http/problem-details.filter.js';
import { logRequests } from './http/request-log.js';
import { strictValidationPipe } from './http/validation.js';

/** Bodies over 100 kB are refused with 413 before they are parsed (docs/api.md, Authentication and roles). */
export const BODY_LIMIT_BYTES = 100 * 1024;
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** Builds the application (not yet listening): main.ts and the end-to-end tests share it. */
export interface CreateAppOptions {
  logger?: false;
  /**
   * Serve the Swagger UI's static assets at /docs (default). Jest on Node 20 cannot load
   * @fastify/static's ESM-only dependency, so in-process tests read /docs-json only; the UI is
   * checked against the real process (test/process.e2e.spec.ts).
   */
  docsUi?: boolean;
  /** Wraps the event store (tests: a store that fails between streams). */
  wrapEventStore?: EventStoreWrapper;
}

/**
 * The HTTP server Fastify would make, with a bound on receiving each request: Fastify's
 * requestTimeout defaults to none, and Node checks deadlines only every 30 s unless told. Only
 * receiving is bounded; producing the answer may take as long as it takes.
 */
function httpServer(handler: RequestListener, requestTimeoutMs: number) {
  return createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(60_000, requestTimeoutMs),
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(requestTimeoutMs / 10))),
      // Fastify's own default, above the idle timeouts of common load balancers.
      keepAliveTimeout: 72_000,
    },
    handler,
  );
}

export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    serverFactory: (handler: RequestListener) => httpServer(handler, config.requestTimeoutMs),
    frameworkErrors,
    clientErrorHandler,
    // The caller's X-Correlation-Id, when sane, ties its request to the events it causes.
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-correlation-id'];
      return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
    },
  });
  // The API speaks JSON only: Fastify's own JSON parser, and no form or text parsers, so any
  // other content type is 415 rather than a second way in.
  adapter.getInstance().removeContentTypeParser('text/plain');
  registerJsonParser(adapter.getInstance());
  problemOnSend(adapter.getInstance());
  if (options.logger !== false) logRequests(adapter.getInstance(), () => PinoRoot.root);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.wrapEventStore), adapter, {
    bufferLogs: true,
    bodyParser: false,
    abortOnError: false,
  });
  // Structured JSON logs (pino) for the framework's own messages too.
  app.useLogger(options.logger === false ? false : app.get(PinoLogger));
  // CORS only when CORS_ORIGINS names origins (else same-origin only: no CORS header at all).
  // Registered first: an allowed preflight is answered in its onRequest hook, before the rate
  // limiter and Nest's auth guard (src/http/cors.ts).
  if (config.corsOrigins.length > 0) await app.register(cors, corsOptions(config.corsOrigins));
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    // Commands only: reads, health, metrics and CORS preflights (OPTIONS) are not limited. Keyed
    // by token, else address.
    allowList: (req: FastifyRequest) => req.method === 'GET' || req.method === 'OPTIONS' || config.rateLimitPerMinute === 0,
    keyGenerator: (req: FastifyRequest) => String(req.headers.authorization ?? req.ip),
    errorResponseBuilder: (_req: FastifyRequest, context: { after: string; max: number }) => ({
      statusCode: 429,
      type: 'https://lead-qualification.example/problems/rate-limited',
      title: 'Too Many Requests',
      status: 429,
      detail: `more than ${context.max} commands a minute; retry after ${context.after}`,
      code: 'RATE_LIMITED',
    }),
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (request, reply) => {
      reply.header('X-Correlation-Id', request.id);
    });
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  // Exit 0 once the hooks ran (processors stopped, database closed) instead of re-raising the
  // signal (status 143): a clean stop reads as one to supervisors, and async logs get flushed.
  app.enableShutdownHooks([], { useProcessExit: true });

  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json', swaggerUiEnabled: options.docsUi ?? true });
  return app;
}
