import type { ArgumentMetadata } from '@nestjs/common';
import type { QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { strictValidationPipe } from '../http/validation.js';
import { GetLead } from '../leads/lead-details/lead-details.queries.js';
import type { LeadView } from '../leads/lead-details/lead-view.js';
import { DomainError } from '../shared/domain-error.js';
import { DATAVERSE_CODES, doesNotExist, invalidArgument, ODataError, ODATA_JSON } from './odata-errors.js';
import type { ODataQuery } from './odata-query.js';

/**
 * What the controllers of the Dataverse surface share (docs/dataverse.md): the OData headers, the
 * body and option checks, reading a lead, and the native errors they translate the same way.
 */

export function odataHeaders(reply: FastifyReply): void {
  reply.header('OData-Version', '4.0').header('Content-Type', ODATA_JSON);
}

export function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

/** The `(a,b)` of `@odata.context` under `$select`. */
export const selected = (options: ODataQuery) => (options.select ? `(${options.select.join(',')})` : '');

export function onlyEntityOptions(options: ODataQuery): void {
  if (options.top !== undefined || options.filter.length || options.skiptoken !== undefined) {
    throw invalidArgument('$top, $filter and $skiptoken apply to collections, not to a single record.');
  }
}

/** A native NOT_FOUND as Dataverse says it: "<entity> With Id = <id> Does Not Exist". */
export function notFoundAs(entity: string, id: string) {
  return (error: unknown): never => {
    if (error instanceof DomainError && error.code === 'NOT_FOUND') throw doesNotExist(entity, id);
    throw error;
  };
}

export function readLead(queries: QueryBus, id: string): Promise<LeadView> {
  return queries.execute(new GetLead(id)).catch(notFoundAs('lead', id));
}

/** A linked account or contact that does not exist (native 422 RECORD_NOT_FOUND): Dataverse's 404 0x80040217. */
export function linkedRecordMissing(error: DomainError): ODataError {
  const field = typeof error.details.field === 'string' ? error.details.field : '';
  const id = typeof error.details.id === 'string' ? error.details.id : '';
  const entity = /contact/i.test(field) ? 'contact' : 'account';
  return new ODataError(404, DATAVERSE_CODES.objectDoesNotExist, `${entity} With Id = ${id} Does Not Exist`);
}

/** 405 with the methods the resource has (`Allow`), for a method this surface does not serve on it. */
export function methodNotAllowed(message: string, allow: string): ODataError {
  return new ODataError(405, DATAVERSE_CODES.invalidArgument, message, { Allow: allow });
}

const pipe = strictValidationPipe();

/**
 * A body mapped to a native DTO, validated by the native rules; failures name the Dataverse
 * attributes or parameters (`attributeOf`: native field → Dataverse name).
 */
export async function validated<T>(metatype: new () => T, value: Record<string, unknown>, attributeOf: Readonly<Record<string, string>>): Promise<T> {
  const metadata: ArgumentMetadata = { type: 'body', metatype, data: undefined };
  try {
    return (await pipe.transform(value, metadata)) as T;
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'VALIDATION_FAILED') throw error;
    const errors = (error.details.errors ?? []) as { field: string; message: string }[];
    const named = errors.map((e) => {
      const attribute = attributeOf[e.field] ?? e.field;
      return `${attribute}: ${e.message.replace(new RegExp(`^${escapeRegExp(e.field)}\\b`), attribute)}`;
    });
    throw invalidArgument(named.join('; ') || 'The request is invalid.');
  }
}

/** `MSCRM.SuppressDuplicateDetection`: duplicates are ignored unless it says `false` (create, update). */
export const ignoresDuplicates = (header: string | undefined): boolean => header?.trim().toLowerCase() !== 'false';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
