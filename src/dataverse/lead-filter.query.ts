import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Database } from '../database/database.js';
import { CursorCodec, orderBy, Where, type Sort } from '../http/pagination.js';
import { LEAD_DETAILS } from '../leads/lead-details/lead-details.projection.js';
import { toLeadView, type LeadDetailsRecord, type LeadView } from '../leads/lead-details/lead-view.js';
import { ProjectionGate } from '../projections/projection-gate.js';

/**
 * The lead list filtered by e-mail and/or company name (Dataverse `$filter` on emailaddress1 and
 * companyname; the native list query has no such filters), optionally by status: compared as
 * Dataverse does, without regard to case. Oldest first, keyset-paged like the native list.
 *
 * NOTE: lead_details has no index on email or company_name (adding one is a migration, outside
 * this module): until then this query walks the creation-order index.
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
    const where = new Where(this.db.kind);
    if (filter.status) where.add((p) => `status = ${p()}`, filter.status);
    for (const [column, value] of [
      ['email', filter.email],
      ['company_name', filter.companyName],
    ] as const) {
      if (value === null) where.add(() => `${column} IS NULL`);
      else if (value !== undefined) where.add((p) => `LOWER(${column}) = ${p()}`, value.toLowerCase());
    }
    if (filter.cursor) where.after(SORT, this.cursors.decode(SCOPE, filter.cursor));
    const rows = await this.gate.consistentQuery<LeadDetailsRecord>(
      [LEAD_DETAILS],
      `SELECT * FROM lead_details ${where.toString()} ${orderBy(SORT)} LIMIT ${filter.limit + 1}`,
      where.params,
    );
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return { items: page.map(toLeadView), nextCursor: rows.length > filter.limit && last ? this.cursors.encode(SCOPE, last.created_at, last.id) : null };
  }
}
