import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Database } from '../database/database.js';
import type { Dialect } from '../database/sql.js';
import { CursorCodec, orderBy, Where, type Sort } from '../http/pagination.js';
import { LEAD_DETAILS } from '../leads/lead-details/lead-details.projection.js';
import { toLeadView, type LeadDetailsRecord, type LeadView } from '../leads/lead-details/lead-view.js';
import { ProjectionGate } from '../projections/projection-gate.js';
import { companyNameKey, emailKey } from '../shared/normalised-keys.js';

/**
 * The lead list filtered by e-mail and/or company name (Dataverse `$filter` on emailaddress1 and
 * companyname; the native list query has no such filters), optionally by status: compared as
 * Dataverse does, without regard to case. Oldest first, keyset-paged like the native list.
 *
 * The value is normalised as the projection normalises the stored one, and compared with that key
 * (lead_details.email_key: trimmed, lower-cased; company_key: also inner white space collapsed),
 * through its index (ix_lead_details_email_key, ix_lead_details_company_key); the few matches
 * are then sorted. null matches leads without a key (no value, or a blank one); a blank value
 * matches no lead.
 */
export class ListLeadsByAttributes extends Query<{ items: LeadView[]; nextCursor: string | null }> {
  constructor(readonly filter: { status?: string; email?: string | null; companyName?: string | null; limit: number; cursor?: string }) {
    super();
  }
}

const SORT: Sort = { column: 'created_at', descending: false };
const SCOPE = 'dataverse-leads:createdAt';

@QueryHandler(ListLeadsByAttributes)
export class ListLeadsByAttributesHandler implements IQueryHandler<ListLeadsByAttributes> {
  constructor(
    private readonly db: Database,
    private readonly gate: ProjectionGate,
    private readonly cursors: CursorCodec,
  ) {}

  async execute({ filter }: ListLeadsByAttributes) {
    const after = filter.cursor ? this.cursors.decode(SCOPE, filter.cursor) : undefined;
    const query = leadsByAttributesQuery(this.db.kind, filter, after);
    const rows = await this.gate.consistentQuery<LeadDetailsRecord>([LEAD_DETAILS], query.sql, query.params);
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return { items: page.map(toLeadView), nextCursor: rows.length > filter.limit && last ? this.cursors.encode(SCOPE, last.created_at, last.id) : null };
  }
}

/** The page's SQL (LIMIT one more than the page, to tell whether another follows); `after` is the decoded cursor. */
export function leadsByAttributesQuery(
  dialect: Dialect,
  filter: ListLeadsByAttributes['filter'],
  after?: [unknown, string],
): { sql: string; params: unknown[] } {
  const where = new Where(dialect);
  for (const [column, value, key] of [
    ['email_key', filter.email, emailKey],
    ['company_key', filter.companyName, companyNameKey],
  ] as const) {
    if (value === null) where.add(() => `${column} IS NULL`);
    else if (value !== undefined) {
      const normalised = key(value);
      if (normalised === null) where.add(() => '1 = 0');
      else where.add((p) => `${column} = ${p()}`, normalised);
    }
  }
  // On SQLite (no statistics) an equality on status, with the order it gives, draws the planner to
  // the status index, a walk of every open lead; the unary + keeps it on the key's index.
  // PostgreSQL weighs the two by its statistics (status has three values) and picks the key's.
  const keyed = filter.email !== undefined || filter.companyName !== undefined;
  if (filter.status) where.add((p) => `${keyed && dialect === 'sqlite' ? '+' : ''}status = ${p()}`, filter.status);
  if (after) where.after(SORT, after);
  return { sql: `SELECT * FROM lead_details ${where.toString()} ${orderBy(SORT)} LIMIT ${filter.limit + 1}`, params: where.params };
}
