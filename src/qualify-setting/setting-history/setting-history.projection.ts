import type { SqlRunner } from '../../database/database.js';
import type { Database } from '../../database/database.js';
import { clearTables, upsertRows } from '../../database/sql.js';
import { isEventOf, type RecordedEvent, type RecordedOf } from '../../event-store/event-store.port.js';
import type { Projection } from '../../event-store/processor.js';
import type { QualifyLeadSettingUpdated } from '../qualify-lead-setting.decider.js';

const EVENT_TYPES: readonly QualifyLeadSettingUpdated['type'][] = ['QualifyLeadSettingUpdated'];

export const SETTING_HISTORY = 'qualify-setting-history';

/**
 * qualify_setting_history: keyed by version, so a replayed event inserts nothing. A batch holding
 * the same version twice is cut to one row first: PostgreSQL refuses an upsert that touches a row
 * twice.
 */
export class SettingHistoryProjection implements Projection {
  readonly name = SETTING_HISTORY;
  readonly eventTypes = EVENT_TYPES;

  constructor(private readonly db: Database) {}

  async apply(events: RecordedEvent[], sql: SqlRunner): Promise<void> {
    const byVersion = new Map<number, RecordedOf<QualifyLeadSettingUpdated>>();
    for (const e of events) if (isEventOf<QualifyLeadSettingUpdated>(e, EVENT_TYPES) && !byVersion.has(e.data.version)) byVersion.set(e.data.version, e);
    const rows = [...byVersion.values()].map((e) => ({
      version: e.data.version,
      create_records_by_default: e.data.createRecordsByDefault,
      previous_value: e.data.previousValue,
      changed_by: e.metadata.userId,
      changed_at: e.metadata.at ?? e.createdAt.toISOString(),
      position: e.position,
    }));
    const columns = ['version', 'create_records_by_default', 'previous_value', 'changed_by', 'changed_at', 'position'];
    await upsertRows(sql, this.db.kind, 'qualify_setting_history', columns, ['version'], rows, 500);
  }

  async reset(sql: SqlRunner): Promise<void> {
    await clearTables(sql, ['qualify_setting_history']);
  }
}
