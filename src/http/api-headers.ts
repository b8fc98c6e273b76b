import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, getSchemaPath, type HeaderObject } from '@nestjs/swagger';

/**
 * The response headers the service sends, for the OpenAPI document (they are response headers,
 * not request parameters: ApiHeader would document a request header).
 */
export type ResponseHeaders = Record<string, HeaderObject>;

export const ETAG_HEADER = (of: string, resendOn: string): ResponseHeaders => ({
  ETag: {
    description: `the ${of}'s version (as in the body) as a strong ETag, e.g. "3"; send it back as If-Match on ${resendOn}`,
    schema: { type: 'string', example: '"3"' },
  },
});

export const PROJECTION_POSITION_HEADER: ResponseHeaders = {
  'X-Projection-Position': {
    description: 'the log position the answer reflects (the lowest checkpoint of the projections read; the head of the log for reads of the event store)',
    schema: { type: 'string', pattern: '^\\d{1,20}$', example: '42' },
  },
};

export const LOCATION_HEADER = (what: string): ResponseHeaders => ({
  Location: { description: `the URL of ${what}`, schema: { type: 'string', example: '/leads/0190a0a4-6b0e-7c39-9c1e-2f6a7d1b9e10' } },
});

/** RFC 7240: the answer of a request that said `Prefer: wait=N` and was waited for. */
export const PREFERENCE_APPLIED_HEADER: ResponseHeaders = {
  'Preference-Applied': { description: 'with Prefer: wait=N, the wait honoured', schema: { type: 'string', example: 'wait=10' } },
};

export const RETRY_AFTER_HEADER: ResponseHeaders = {
  'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'integer', minimum: 0, example: 1 } },
};

export const CSV_DISPOSITION_HEADER: ResponseHeaders = {
  'Content-Disposition': {
    description: 'CSV only: attachment; filename="<list>.csv"',
    schema: { type: 'string', example: 'attachment; filename="leads.csv"' },
  },
};

/** @fastify/rate-limit's headers: on every command (non-GET request), limited or not (src/app.ts). */
export const RATE_LIMIT_HEADERS: ResponseHeaders = {
  'x-ratelimit-limit': { description: 'commands this token (else this address) may send per minute', schema: { type: 'integer', minimum: 0 } },
  'x-ratelimit-remaining': { description: 'commands left in the current minute', schema: { type: 'integer', minimum: 0 } },
  'x-ratelimit-reset': { description: 'seconds until the current window ends', schema: { type: 'integer', minimum: 0 } },
};

/** Where @nestjs/swagger keeps a route's documented responses (what ApiResponse writes). */
const API_RESPONSE = 'swagger/apiResponse';

/**
 * Adds response headers to the documented `status` response, keeping what other decorators said
 * of it, whichever comes first: ApiResponse merges entries one level deep only (two that both
 * name `headers` would keep one set, and a later one without a `type` drops the earlier type).
 * Use it, not ApiResponse's `headers`, for every header.
 */
export const ApiResponseHeaders =
  (status: number, headers: ResponseHeaders): MethodDecorator =>
  (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const documented = (Reflect.getMetadata(API_RESPONSE, method) ?? {}) as Record<string, { description?: string; headers?: ResponseHeaders }>;
    const entry = documented[status] ?? { description: '' };
    Reflect.defineMetadata(API_RESPONSE, { ...documented, [status]: { ...entry, headers: { ...entry.headers, ...headers } } }, method);
    return descriptor;
  };

/**
 * A 200 that is JSON (a `model`) or CSV (`Accept: text/csv` or ?format=csv), with the CSV's
 * Content-Disposition: ApiProduces alone would give the CSV media type the JSON schema. The
 * route's `@Headers('accept')` is documented as the optional header it is (not a required one).
 */
export const ApiJsonOrCsvResponse = (model: Type<unknown>, description: string) =>
  applyDecorators(
    ApiExtraModels(model),
    ApiOkResponse({
      description,
      content: {
        'application/json': { schema: { $ref: getSchemaPath(model) } },
        'text/csv': { schema: { type: 'string', description: 'a header row, then one row per item (RFC 4180)' } },
      },
    }),
    ApiResponseHeaders(200, CSV_DISPOSITION_HEADER),
    ApiHeader({ name: 'accept', required: false, description: 'text/csv for CSV (or ?format=csv); JSON otherwise' }),
  );
