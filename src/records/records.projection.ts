import type { SqlRunner } from '../database/database.js';
import type { Database } from '../database/database.js';
import { clearTables, upsertRows } from '../database/sql.js';
import { isEventOf, type RecordedEvent, type RecordedOf } from '../event-store/event-store.port.js';
import type { Projection } from '../event-store/processor.js';
import { RECORD_EVENT_TYPES, RECORD_KINDS } from './record-kinds.js';
import type { RecordCreated } from './record.decider.js';

export const RECORDS = 'customer-records';

/**
 * accounts, contacts, opportunities: one row per record, written once (ON CONFLICT DO NOTHING),
 * so the same creation applied twice changes nothing.
 */
export class RecordsProjection implements Projection {
  readonly name = RECORDS;
  readonly eventTypes = RECORD_EVENT_TYPES;

  constructor(private readonly db: Database) {}

  async apply(events: RecordedEvent[], sql: SqlRunner): Promise<void> {
    for (const info of Object.values(RECORD_KINDS)) {
      const rows = events
        .filter((e): e is RecordedOf<RecordCreated> => isEventOf<RecordCreated>(e, [info.eventType]))
        .map((e) => {
          const row: Record<string, unknown> = { id: e.data.id, created_at: e.metadata.at ?? e.createdAt.toISOString(), position: e.position };
          for (const [field, column] of Object.entries(info.columns)) row[column] = e.data[field] ?? null;
          return { ...row, ...(info.keys?.(e.data) ?? {}) };
        });
      if (!rows.length) continue;
      const columns = Object.keys(rows[0]);
      await upsertRows(sql, this.db.kind, info.table, columns, ['id'], rows, undefined, 'ignore');
    }
  }

  async reset(sql: SqlRunner): Promise<void> {
    await clearTables(
      sql,
      Object.values(RECORD_KINDS).map((info) => info.table),
    );
  }
}
