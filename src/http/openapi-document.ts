import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject, type OperationObject, type ResponseObject } from '@nestjs/swagger';
import { RATE_LIMIT_HEADERS } from './api-headers.js';
import { ProblemDetailsDto, problemResponse } from './api-problems.decorator.js';

/**
 * The OpenAPI document served at /docs-json: what the @nestjs/swagger decorators of the
 * controllers and DTOs say, plus the behaviour every route shares, which lives in Fastify hooks
 * and plugins (src/app.ts) where no decorator sees it:
 * - commands (every method but GET) carry @fastify/rate-limit's headers and can be answered 429;
 * - a request body is JSON under 100 kB: 413 and 415 wherever a body is taken;
 * - every route behind a token needs the database: 503 DATABASE_UNAVAILABLE with Retry-After.
 * Object schemas are closed (`additionalProperties: false`): bodies with other keys are refused
 * (src/http/validation.ts), and answers have exactly the members documented (test/openapi.e2e.spec.ts).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Lead qualification service')
      .setDescription('Commands and queries of the lead qualification experience. Errors are application/problem+json (RFC 9457).')
      .setVersion('1.0')
      .addServer('/', 'this service')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
    { extraModels: [ProblemDetailsDto] },
  );
  for (const [, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, OperationObject][]) {
      if (!['get', 'put', 'post', 'patch', 'delete'].includes(method)) continue;
      documentSharedBehaviour(method, operation);
    }
  }
  closeObjectSchemas(document);
  return document;
}

function documentSharedBehaviour(method: string, operation: OperationObject): void {
  const responses = operation.responses as Record<string, ResponseObject>;
  const add = (status: number, response: ResponseObject) => {
    responses[status] ??= response;
  };
  if (method !== 'get') {
    for (const [status, response] of Object.entries(responses)) {
      if (status.startsWith('2')) response.headers = { ...response.headers, ...RATE_LIMIT_HEADERS };
    }
    add(429, problemResponse(429));
  }
  if (operation.requestBody) {
    add(413, problemResponse(413));
    add(415, problemResponse(415));
  }
  const needsToken = operation.security?.some((requirement) => Object.keys(requirement).length > 0);
  if (needsToken) add(503, problemResponse(503, 'DATABASE_UNAVAILABLE (with Retry-After)'));
}

/** Every object schema with declared properties and no word on others gets `additionalProperties: false`. */
function closeObjectSchemas(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(closeObjectSchemas);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  if (schema.type === 'object' && schema.properties && !('additionalProperties' in schema)) schema.additionalProperties = false;
  // Examples are values, not schemas.
  for (const [key, value] of Object.entries(schema)) if (key !== 'example' && key !== 'examples') closeObjectSchemas(value);
}
