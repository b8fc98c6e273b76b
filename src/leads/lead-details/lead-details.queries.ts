import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Database } from '../../database/database.js';
import { placeholder } from '../../database/sql.js';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port.js';
import { upcast } from '../../event-store/upcasting.js';
import { CursorCodec, orderBy, Where, type Sort } from '../../http/pagination.js';
import { ProjectionGate } from '../../projections/projection-gate.js';
import { DomainError, notFound } from '../../shared/domain-error.js';
import { leadStream } from '../lead.events.js';
import { LEAD_DETAILS } from './lead-details.projection.js';
import type { ListLeadsDto } from './lead-queries.dto.js';
import { toLeadView, type LeadDetailsRecord, type LeadView } from './lead-view.js';

const SORT_COLUMNS: Record<string, string> = { createdAt: 'created_at', updatedAt: 'updated_at', lastName: 'last_name', topic: 'topic' };

export class GetLead extends Query<LeadView> {
  constructor(readonly id: string) {
    super();
  }
}

export class ListLeads extends Query<{ items: LeadView[]; nextCursor: string | null }> {
  constructor(readonly filter: ListLeadsDto) {
    super();
  }
}

export class GetLeadHistory extends Query<{ items: unknown[] }> {
  constructor(readonly id: string) {
    super();
  }
}

@QueryHandler(GetLead)
export class GetLeadHandler implements IQueryHandler<GetLead> {
  constructor(
    private readonly db: Database,
    private readonly gate: ProjectionGate,
  ) {}

  async execute({ id }: GetLead): Promise<LeadView> {
    const rows = await this.gate.consistentQuery<LeadDetailsRecord>([LEAD_DETAILS], `SELECT * FROM lead_details WHERE id = ${placeholder(this.db.kind, 1)}`, [
      id,
    ]);
    if (!rows.length) throw notFound('lead', id);
    return toLeadView(rows[0]);
  }
}

@QueryHandler(ListLeads)
export class ListLeadsHandler implements IQueryHandler<ListLeads> {
  constructor(
    private readonly db: Database,
    private readonly gate: ProjectionGate,
    private readonly cursors: CursorCodec,
  ) {}

  async execute({ filter }: ListLeads) {
    const sortKey = filter.sort ?? '-createdAt';
    const sort: Sort = { column: SORT_COLUMNS[sortKey.replace('-', '')], descending: sortKey.startsWith('-') };
    const limit = filter.limit ?? 50;
    const where = new Where(this.db.kind);
    if (filter.status) where.add((p) => `status = ${p()}`, filter.status);
    if (filter.leadSource) where.add((p) => `lead_source = ${p()}`, filter.leadSource);
    if (filter.rating) where.add((p) => `rating = ${p()}`, filter.rating);
    if (filter.q) where.add((p) => `search_text LIKE ${p()} ESCAPE '\\'`, `%${escapeLike(filter.q.toLowerCase())}%`);
    range(where, 'created_at', filter.createdFrom, filter.createdTo);
    range(where, 'qualified_at', filter.qualifiedFrom, filter.qualifiedTo);
    const scope = `leads:${sortKey}`;
    if (filter.cursor) where.after(sort, this.cursors.decode(scope, filter.cursor));
    const rows = await this.gate.consistentQuery<LeadDetailsRecord>(
      [LEAD_DETAILS],
      `SELECT * FROM lead_details ${where.toString()} ${orderBy(sort)} LIMIT ${limit + 1}`,
      where.params,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextCursor = rows.length > limit && last ? this.cursors.encode(scope, last[sort.column], last.id) : null;
    return { items: page.map(toLeadView), nextCursor };
  }
}

@QueryHandler(GetLeadHistory)
export class GetLeadHistoryHandler implements IQueryHandler<GetLeadHistory> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** The audit trail comes from the event store itself, not from a projection. */
  async execute({ id }: GetLeadHistory) {
    const events = await this.store.readStream(leadStream(id));
    if (!events.length) throw notFound('lead', id);
    return {
      items: events
        .map((e) => upcast(e))
        .map((e) => ({
          type: e.type,
          version: e.revision,
          data: e.data,
          userId: e.metadata.userId,
          correlationId: e.metadata.correlationId,
          causationId: e.metadata.causationId,
          time: e.metadata.at ?? e.createdAt.toISOString(),
          position: e.position,
        })),
    };
  }
}

function range(where: Where, column: string, from?: string, to?: string): void {
  if (from) where.add((p) => `${column} >= ${p()}`, isoUtc(from, 'from'));
  if (to) where.add((p) => `${column} < ${p()}`, isoUtc(to, 'to'));
}

/** Stored times are UTC ISO strings: normalise any offset the client used before comparing. */
function isoUtc(value: string, field: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new DomainError('VALIDATION_FAILED', `${field} is not a time`, { errors: [{ field, message: 'must be an ISO 8601 time' }] });
  return date.toISOString();
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
