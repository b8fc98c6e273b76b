import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Response } from './app.js';

// ajv-formats is CommonJS: under ESM its default import is module.exports (the plugin, which also has itself as `default`).
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats: FormatsPlugin = (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

type Json = Record<string, any>;

const SCHEMA_BASE = 'https://lead-qualification.example/schemas/';
/** Keywords whose value is a map of names to schemas (the names are not keywords). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs']);
/** Keywords whose value is data, not a schema. */
const VALUES = new Set(['example', 'examples', 'default', 'enum', 'const']);

/**
 * An OpenAPI 3.0 schema as JSON Schema (draft-07): `nullable: true` becomes a `null` type (and a
 * `null` in an enum; a null alternative beside a $ref or a combinator), component $refs point at
 * the schemas registered below.
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const schema = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace('#/components/schemas/', SCHEMA_BASE);
    else if (SCHEMA_MAPS.has(key)) out[key] = Object.fromEntries(Object.entries(value as Json).map(([name, sub]) => [name, toJsonSchema(sub)]));
    else if (VALUES.has(key)) out[key] = value;
    else out[key] = toJsonSchema(value);
  }
  if (schema.nullable !== true) return out;
  if (out.$ref || out.allOf || out.oneOf || out.anyOf) {
    const { description, example, ...rest } = out;
    return { ...(description === undefined ? {} : { description }), ...(example === undefined ? {} : { example }), anyOf: [rest, { type: 'null' }] };
  }
  if (!out.type) throw new Error(`nullable without a type: ${JSON.stringify(schema)}`);
  out.type = [out.type, 'null'];
  if (out.enum) out.enum = [...out.enum, null];
  return out;
}

/** Validates real answers against the OpenAPI document's response schemas, with ajv in strict mode. */
export class ResponseValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<unknown, ValidateFunction>();
  /** `METHOD /template` → statuses checked. */
  readonly checked = new Map<string, Set<number>>();

  constructor(readonly document: Json) {
    this.ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
    addFormats(this.ajv);
    // OpenAPI's annotation keywords: known, so that strict mode still refuses any other.
    this.ajv.addVocabulary(['example']);
    for (const [name, schema] of Object.entries(document.components.schemas as Json)) {
      this.ajv.addSchema({ ...(toJsonSchema(schema) as Json), $id: `${SCHEMA_BASE}${name}` });
    }
  }

  /** The documented response of `template`'s `method` for this answer's status (or its range). */
  response(method: string, template: string, status: number): Json {
    const operation = this.document.paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${template} is not in the document`);
    const response = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default;
    if (!response) throw new Error(`${method} ${template} answered ${status}, which is not documented (${Object.keys(operation.responses).join(', ')})`);
    return response;
  }

  /**
   * Checks an answer of `method template`: the status is documented, the body matches the schema
   * of its media type, and every documented header is there (but `optional` ones).
   */
  check(method: string, template: string, res: Response, optionalHeaders: string[] = []): void {
    const response = this.response(method, template, res.status);
    const where = `${method} ${template} → ${res.status}`;
    const mediaType = (res.headers['content-type'] ?? '').split(';')[0].trim();
    const content = response.content ?? {};
    if (!Object.keys(content).length) {
      if (res.text) throw new Error(`${where}: a body where none is documented`);
    } else {
      const media = content[mediaType];
      if (!media) throw new Error(`${where}: media type ${mediaType} is not documented (${Object.keys(content).join(', ')})`);
      const validate = this.validator(media.schema);
      const body = mediaType.includes('json') ? res.body : res.text;
      if (!validate(body))
        throw new Error(
          `${where}: the body does not match its schema:\n${this.ajv.errorsText(validate.errors, { separator: '\n' })}\n${JSON.stringify(body, null, 1).slice(0, 3000)}`,
        );
    }
    for (const header of Object.keys(response.headers ?? {})) {
      if (optionalHeaders.includes(header)) continue;
      if (res.headers[header.toLowerCase()] === undefined) throw new Error(`${where}: documented header ${header} is missing`);
    }
    const key = `${method.toUpperCase()} ${template}`;
    this.checked.set(key, (this.checked.get(key) ?? new Set()).add(res.status));
  }

  private validator(schema: unknown): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as Json);
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}

/** Every operation of the document, as `METHOD /template`. */
export function operations(document: Json): string[] {
  return Object.entries(document.paths as Json).flatMap(([path, item]) => Object.keys(item as Json).map((method) => `${method.toUpperCase()} ${path}`));
}
