import { Controller, Get, Headers, Param, Query as QueryParams, type Type } from '@nestjs/common';
import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type as TransformType } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { CanRead } from '../auth/roles.decorator.js';
import { Database } from '../database/database.js';
import { placeholder, type Dialect } from '../database/sql.js';
import { ApiJsonOrCsvResponse } from '../http/api-headers.js';
import { ApiProblems } from '../http/api-problems.decorator.js';
import { csvStream, wantsCsv } from '../http/csv.js';
import { CursorCodec, orderBy, Where, type Sort } from '../http/pagination.js';
import { RecordIdPipe } from '../http/params.js';
import { ExportableQueryDto, ReadQueryDto } from '../http/read-query.dto.js';
import { ReadsProjections } from '../projections/reads-projections.js';
import { DomainError, notFound } from '../shared/domain-error.js';
import { RECORD_KINDS, type RecordKind } from './record-kinds.js';
import { RECORD_VIEWS } from './record-view.dto.js';
import { RECORDS } from './records.projection.js';
import { recordSearchQuery } from './record-search.js';
import { searchPrefix } from './search-keys.js';

export class ListRecordsDto extends ExportableQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() originatingLeadId?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 }) @IsOptional() @TransformType(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) cursor?: string;
}

/** Accounts and contacts can be searched: a front-end looks up the record a new one links to. */
export class SearchRecordsDto extends ListRecordsDto {
  @ApiPropertyOptional({ maxLength: 254, description: 'a prefix, case and spacing ignored; sorts the list by the key it matched' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  // Some non-blank text, and no control characters but white space (PostgreSQL text cannot hold NUL).
  // eslint-disable-next-line no-control-regex -- the control characters are what it refuses
  @Matches(/^(?=[\s\S]*\S)[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, { message: 'q must hold some text and no control characters' })
  q?: string;
}

const lookup = (description: string) => ApiPropertyOptional({ format: 'uuid', description: `${description}; not with q` });

/** GET /accounts: the search, and the account's primary contact. */
export class ListAccountsDto extends SearchRecordsDto {
  @lookup('accounts whose primary contact is this contact') @IsOptional() @IsUUID() primaryContactId?: string;
}

/** GET /contacts: the search, and the contact's account. */
export class ListContactsDto extends SearchRecordsDto {
  @lookup("contacts of this account (the contact's parent account)") @IsOptional() @IsUUID() parentAccountId?: string;
}

/** GET /opportunities: the opportunity's customer, account and contact. */
export class ListOpportunitiesDto extends ListRecordsDto {
  @lookup('opportunities whose customer (account or contact) is this record') @IsOptional() @IsUUID() customerId?: string;
  @lookup('opportunities of this account') @IsOptional() @IsUUID() parentAccountId?: string;
  @lookup('opportunities of this contact') @IsOptional() @IsUUID() parentContactId?: string;
}

/** Each kind's query DTO: validation and OpenAPI read it (recordsController), so a filter of another kind is 400. */
const LIST_DTOS: Record<RecordKind, Type<ListRecordsDto>> = { account: ListAccountsDto, contact: ListContactsDto, opportunity: ListOpportunitiesDto };

/**
 * The lookup filters of each kind: query field → column. Each column has a (column, created_at, id)
 * index (src/records/records.entities.ts), so a filtered page is one range scan in list order.
 */
export const RECORD_LOOKUP_FILTERS = {
  account: { primaryContactId: 'primary_contact_id' },
  contact: { parentAccountId: 'parent_account_id' },
  opportunity: { customerId: 'customer_id', parentAccountId: 'parent_account_id', parentContactId: 'parent_contact_id' },
} as const satisfies Record<RecordKind, Record<string, string>>;

export type RecordLookupField = 'primaryContactId' | 'parentAccountId' | 'customerId' | 'parentContactId';

/**
 * What ListRecords takes: the list, q (searchable kinds) and the lookup filters of the kind
 * (RECORD_LOOKUP_FILTERS; another kind's is refused). A lookup may be null for callers in
 * process (no such value): rows where it is not set; over HTTP it is a UUID.
 */
export type RecordListFilter = ListRecordsDto & { q?: string } & { [field in RecordLookupField]?: string | null };

type RecordView = Record<string, unknown>;

/** A row of accounts, contacts or opportunities as SQL returns it; the columns of RECORD_KINDS are read by name. */
interface RecordRow {
  [column: string]: unknown;
  id: string;
  created_at: string;
}

export class ListRecords extends Query<{ items: RecordView[]; nextCursor: string | null }> {
  constructor(
    readonly kind: RecordKind,
    readonly filter: RecordListFilter,
  ) {
    super();
  }
}

export class GetRecord extends Query<RecordView> {
  constructor(
    readonly kind: RecordKind,
    readonly id: string,
  ) {
    super();
  }
}

/** Column row → API record: the event's field names, plus id and createdAt. */
function toView(kind: RecordKind, row: RecordRow): RecordView {
  const view: RecordView = { id: row.id };
  for (const [field, column] of Object.entries(RECORD_KINDS[kind].columns)) view[field] = row[column] ?? null;
  view.createdAt = row.created_at;
  return view;
}

const SORT: Sort = { column: 'created_at', descending: false };

@QueryHandler(ListRecords)
export class ListRecordsHandler implements IQueryHandler<ListRecords> {
  constructor(
    private readonly db: Database,
    private readonly cursors: CursorCodec,
  ) {}

  async execute({ kind, filter }: ListRecords) {
    const lookups = lookupsOf(kind, filter);
    const q = filter.q;
    if (q !== undefined) {
      // The search walks its keys' indexes in key order; a lookup would be tested row by row on
      // every prefix match until a page is found, unbounded, so the two are not combined.
      if (lookups.length)
        throw new DomainError('VALIDATION_FAILED', 'q cannot be combined with a lookup filter', {
          errors: lookups.map(({ field }) => ({ field, message: `${field} cannot be combined with q: search, or filter by ${field}` })),
        });
      return this.search(kind, q, filter);
    }
    const limit = filter.limit ?? 50;
    const scope = `${kind}:createdAt`;
    const after = filter.cursor ? this.cursors.decode(scope, filter.cursor) : undefined;
    const query = recordListQuery(this.db.kind, kind, filter, after);
    const rows = await this.db.query<RecordRow>(query.sql, query.params);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((r) => toView(kind, r)), nextCursor: rows.length > limit && last ? this.cursors.encode(scope, last.created_at, last.id) : null };
  }

  private async search(kind: RecordKind, q: string, filter: ListRecordsDto) {
    const limit = filter.limit ?? 50;
    const prefix = searchPrefix(q) ?? '';
    // The cursor is bound to the prefix: it resumes this search, not another.
    const scope = `${kind}:q:${prefix}`;
    const after = filter.cursor ? this.cursors.decode(scope, filter.cursor) : undefined;
    const query = recordSearchQuery(this.db.kind, kind, { prefix, after, limit: limit + 1, originatingLeadId: filter.originatingLeadId?.toLowerCase() });
    // The search answers each row with the key it matched (search_key), its sort value.
    const rows = await this.db.query<RecordRow & { search_key: string }>(query.sql, query.params);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((r) => toView(kind, r)), nextCursor: rows.length > limit && last ? this.cursors.encode(scope, last.search_key, last.id) : null };
  }
}

/**
 * The list's SQL, oldest first (LIMIT one more than the page, to tell whether another follows);
 * `after` is the decoded cursor. A lookup filter is a range scan of its (column, created_at, id) index.
 */
export function recordListQuery(dialect: Dialect, kind: RecordKind, filter: RecordListFilter, after?: [unknown, string]): { sql: string; params: unknown[] } {
  const where = new Where(dialect);
  if (filter.originatingLeadId) where.add((p) => `originating_lead_id = ${p()}`, filter.originatingLeadId.toLowerCase());
  for (const { column, value } of lookupsOf(kind, filter)) {
    if (value === null) where.add(() => `${column} IS NULL`);
    else where.add((p) => `${column} = ${p()}`, value.toLowerCase());
  }
  if (after) where.after(SORT, after);
  return { sql: `SELECT * FROM ${RECORD_KINDS[kind].table} ${where.toString()} ${orderBy(SORT)} LIMIT ${(filter.limit ?? 50) + 1}`, params: where.params };
}

/** The lookup filters given, each checked against the kind (a caller in process skips the DTO). */
function lookupsOf(kind: RecordKind, filter: RecordListFilter): { field: RecordLookupField; column: string; value: string | null }[] {
  const own: Record<string, string> = RECORD_LOOKUP_FILTERS[kind];
  const given: { field: RecordLookupField; column: string; value: string | null }[] = [];
  const foreign: string[] = [];
  for (const field of ['primaryContactId', 'parentAccountId', 'customerId', 'parentContactId'] as const) {
    const value = filter[field];
    if (value === undefined) continue;
    if (own[field]) given.push({ field, column: own[field], value });
    else foreign.push(field);
  }
  if (foreign.length)
    throw new DomainError('VALIDATION_FAILED', 'the request is invalid', {
      errors: foreign.map((field) => ({ field, message: `property ${field} should not exist` })),
    });
  return given;
}

@QueryHandler(GetRecord)
export class GetRecordHandler implements IQueryHandler<GetRecord> {
  constructor(private readonly db: Database) {}
  async execute({ kind, id }: GetRecord) {
    const rows = await this.db.query<RecordRow>(`SELECT * FROM ${RECORD_KINDS[kind].table} WHERE id = ${placeholder(this.db.kind, 1)}`, [id]);
    if (!rows.length) throw notFound(kind, id);
    return toView(kind, rows[0]);
  }
}

/** GET /accounts, /contacts, /opportunities (+ /:id): one controller class per kind, same behaviour. */
function recordsController(kind: RecordKind): Type<unknown> {
  const info = RECORD_KINDS[kind];
  const filters = ['originatingLeadId', ...Object.keys(RECORD_LOOKUP_FILTERS[kind])].join(', ');
  @ApiTags(info.table)
  @ApiBearerAuth()
  @CanRead()
  @Controller(info.table)
  class RecordsController {
    constructor(readonly queries: QueryBus) {}

    @Get()
    @ReadsProjections(RECORDS)
    @ApiOperation({
      summary: info.searchKeys
        ? `List ${info.table}, oldest first, or those whose ${kind === 'contact' ? 'name, last name or e-mail' : 'name'} starts with q (case-insensitive), by that key; filter ${filters}; Accept: text/csv or ?format=csv streams them all`
        : `List ${info.table}, oldest first; filter ${filters}; Accept: text/csv or ?format=csv streams them all`,
    })
    @ApiProduces('application/json', 'text/csv')
    @ApiJsonOrCsvResponse(RECORD_VIEWS[kind].page, `a page of ${info.table}; CSV: all of them from cursor on`)
    @ApiProblems(400, 401, 403)
    async list(@QueryParams() filter: RecordListFilter, @Headers('accept') accept?: string) {
      if (!wantsCsv(accept, filter.format)) return this.queries.execute(new ListRecords(kind, filter));
      const queries = this.queries;
      async function* pages() {
        let cursor = filter.cursor;
        do {
          const page = await queries.execute(new ListRecords(kind, { ...filter, cursor, limit: 500 }));
          yield page.items;
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
      }
      return csvStream(['id', ...Object.keys(info.columns), 'createdAt'], pages(), `${info.table}.csv`);
    }

    @Get(':id')
    @ReadsProjections(RECORDS)
    @ApiOperation({ summary: `One ${kind}` })
    @ApiOkResponse({ type: RECORD_VIEWS[kind].record })
    @ApiProblems(400, 401, 403, 404)
    get(@Param('id', RecordIdPipe) id: string, @QueryParams() _q: ReadQueryDto) {
      return this.queries.execute(new GetRecord(kind, id));
    }
  }
  // The query DTO differs by kind (only searchable kinds take q; each kind its own lookup filters).
  // TypeScript records the declared parameter type, which a factory cannot vary; validation and
  // OpenAPI both read it from here.
  Reflect.defineMetadata('design:paramtypes', [LIST_DTOS[kind], String], RecordsController.prototype, 'list');
  Object.defineProperty(RecordsController, 'name', { value: `${info.table[0].toUpperCase()}${info.table.slice(1)}Controller` });
  return RecordsController;
}

export const RECORD_CONTROLLERS = (Object.keys(RECORD_KINDS) as RecordKind[]).map(recordsController);
