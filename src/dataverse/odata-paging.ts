import type { FastifyReply } from 'fastify';
import { DomainError } from '../shared/domain-error.js';
import { invalidArgument } from './odata-errors.js';
import { selected } from './odata-responses.js';
import { DEFAULT_PAGE_SIZE, nextLink, parsePrefer, type ODataQuery } from './odata-query.js';

/** A page of a native list query: its items and the cursor after them. */
export type Page<T> = { items: T[]; nextCursor: string | null };

/** The native queries' largest page: a Dataverse page is read as several of them. */
const NATIVE_PAGE = 500;

/**
 * One Dataverse page: `Prefer: odata.maxpagesize` (default 5000), no more than what is left of
 * $top, read as native pages of at most 500. The native cursor after it is the $skiptoken.
 */
export async function readPage<T>(
  options: ODataQuery,
  prefer: string | undefined,
  reply: FastifyReply,
  read: (limit: number, cursor: string | undefined) => Promise<Page<T>>,
): Promise<Page<T>> {
  const { maxPageSize } = parsePrefer(prefer);
  if (maxPageSize) reply.header('Preference-Applied', `odata.maxpagesize=${maxPageSize}`);
  const size = Math.min(maxPageSize ?? DEFAULT_PAGE_SIZE, options.top ?? Number.POSITIVE_INFINITY);
  const items: T[] = [];
  let cursor = options.skiptoken;
  let more = true;
  while (items.length < size && more) {
    const page = await read(Math.min(NATIVE_PAGE, size - items.length), cursor).catch((error: unknown) => {
      if (error instanceof DomainError && error.code === 'INVALID_CURSOR')
        throw invalidArgument('The $skiptoken is not one this service issued for this query.');
      throw error;
    });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    more = cursor !== undefined;
  }
  return { items, nextCursor: more && items.length ? (cursor ?? null) : null };
}

/** The collection answer: `@odata.context`, the entities and, while more remain within $top, `@odata.nextLink`. */
export function collection<T>(
  root: string,
  entitySet: string,
  query: Record<string, unknown>,
  options: ODataQuery,
  page: Page<T>,
  toEntity: (item: T) => Record<string, unknown>,
): Record<string, unknown> {
  const topLeft = options.top === undefined ? undefined : options.top - page.items.length;
  const link = page.nextCursor && (topLeft === undefined || topLeft > 0) ? nextLink(root, entitySet, query, page.nextCursor, topLeft) : undefined;
  return {
    '@odata.context': `${root}$metadata#${entitySet}${selected(options)}`,
    value: page.items.map(toEntity),
    ...(link ? { '@odata.nextLink': link } : {}),
  };
}
