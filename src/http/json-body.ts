import type { FastifyInstance } from 'fastify';

/** No command body nests deeper than 3 levels; 64 leaves room for any client's wrapping. */
export const MAX_JSON_DEPTH = 64;

/**
 * The JSON parser, the transformer and the validator all recurse: a body of thousands of `[`
 * costs stack and CPU in each of them, and 50 such bodies at once stalled every request. One
 * linear scan, before any of them runs, refuses a body that nests too deep.
 */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/** A 400 the problem-details filter answers as VALIDATION_FAILED on `body`, like malformed JSON. */
class BodyTooDeepError extends Error {
  readonly statusCode = 400;
  constructor() {
    super(`the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

/**
 * Replaces Fastify's JSON parser with the same parser (prototype-poisoning checks included)
 * behind the depth check.
 */
export function registerJsonParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (jsonDepthExceeds(text)) {
      done(new BodyTooDeepError(), undefined);
      return;
    }
    void parse(request, text, done);
  });
}
