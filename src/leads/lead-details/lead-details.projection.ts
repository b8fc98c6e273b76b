import type { SqlRunner } from '../../database/database.js';
import type { Database } from '../../database/database.js';
import { clearTables, selectIn, updateChangedColumns, upsertRows } from '../../database/sql.js';
import { LEAD_DETAILS_COLUMNS, LEAD_DETAILS_INDEXES } from './lead-details.entity.js';
import { isEventOf, type RecordedEvent, type RecordedOf } from '../../event-store/event-store.port.js';
import type { Projection } from '../../event-store/processor.js';
import { LEAD_EVENT_TYPES, type LeadEvent, type LeadFields } from '../lead.events.js';
import { companyNameKey, emailKey } from '../../shared/normalised-keys.js';

export const LEAD_DETAILS = 'lead-details';

/** Lead field → column (test/schema.spec.ts checks them against the entity). */
export const FIELD_COLUMNS: Record<keyof LeadFields, string> = {
  topic: 'topic',
  firstName: 'first_name',
  lastName: 'last_name',
  jobTitle: 'job_title',
  companyName: 'company_name',
  email: 'email',
  businessPhone: 'business_phone',
  mobilePhone: 'mobile_phone',
  website: 'website',
  street: 'street',
  city: 'city',
  stateOrProvince: 'state_or_province',
  postalCode: 'postal_code',
  country: 'country',
  leadSource: 'lead_source',
  rating: 'rating',
  budgetAmount: 'budget_amount',
  estimatedValue: 'estimated_value',
  purchaseTimeframe: 'purchase_timeframe',
  description: 'description',
  existingAccountId: 'existing_account_id',
  existingContactId: 'existing_contact_id',
};

const COLUMNS = LEAD_DETAILS_COLUMNS;

/** A row of lead_details, column by column (COLUMNS), as stored or as a batch changes it. */
type Row = Record<string, unknown> & { id: string };

/**
 * lead_details: one row per lead. Applies a whole batch with one read of the rows it touches and
 * one upsert of the rows it changes (on SQLite one UPDATE of the changed columns per stored row),
 * because per-row ORM calls would bound rebuild speed.
 * Idempotent: an event whose stream revision is not above the row's version is skipped, and an
 * upsert never replaces a row with an older version.
 */
export class LeadDetailsProjection implements Projection {
  readonly name = LEAD_DETAILS;
  readonly eventTypes = LEAD_EVENT_TYPES;

  constructor(private readonly db: Database) {}

  async apply(recorded: RecordedEvent[], sql: SqlRunner): Promise<void> {
    const dialect = this.db.kind;
    const events = recorded.filter((e) => isEventOf<LeadEvent>(e, LEAD_EVENT_TYPES));
    // A lead whose first event here is its creation needs no read: the events determine its row.
    // Most of a replay is such leads, and this halves its statements. Should the row exist after
    // all (a batch applied again after a crash), the version guard on the upsert keeps it.
    const created = new Set<string>();
    const toRead = new Set<string>();
    for (const event of events) {
      const id = leadIdOf(event);
      if (created.has(id) || toRead.has(id)) continue;
      (event.type === 'LeadCreated' && event.revision === 0 ? created : toRead).add(id);
    }
    const rows = new Map<string, Row>();
    // The rows as stored: an update sets only the columns that changed (updateChangedColumns).
    const stored = new Map<string, Row>();
    for (const row of await selectIn<Row>(sql, dialect, 'lead_details', 'id', [...toRead])) {
      rows.set(row.id, row);
      stored.set(row.id, { ...row });
    }
    const changed = new Set<string>();
    for (const event of events) {
      const id = leadIdOf(event);
      const before = rows.get(id);
      if (before && event.revision <= Number(before.version)) continue;
      const after = evolveRow(before, event, id);
      if (!after) continue;
      rows.set(id, after);
      changed.add(id);
    }
    const upserts: Row[] = [];
    for (const id of changed) {
      const was = stored.get(id);
      // SQLite: in-process statements cost microseconds, index entries rewritten cost more
      // (updateChangedColumns). PostgreSQL: a statement is a round trip, and an UPDATE that sets a
      // column to its own value keeps the row's index entries (a HOT update), so every changed row
      // goes in one multi-row upsert: 2 statements a batch instead of one a row.
      if (was && dialect === 'sqlite') await updateChangedColumns(sql, dialect, 'lead_details', COLUMNS, 'id', 'version', was, rows.get(id)!);
      else upserts.push(rows.get(id)!);
    }
    if (upserts.length) await upsertRows(sql, dialect, 'lead_details', COLUMNS, ['id'], upserts, undefined, 'update', 't.version < excluded.version');
  }

  async reset(sql: SqlRunner): Promise<void> {
    await clearTables(sql, ['lead_details']);
  }

  /** A replay maintains no query index row by row; building them once at the end is faster. */
  async suspendIndexes(sql: SqlRunner): Promise<void> {
    for (const { name } of LEAD_DETAILS_INDEXES) await sql(`DROP INDEX IF EXISTS ${name}`);
  }

  restoreIndexes(): string[] {
    return LEAD_DETAILS_INDEXES.map(({ name, columns }) => `CREATE INDEX IF NOT EXISTS ${name} ON lead_details (${columns.join(', ')})`);
  }
}

function leadIdOf(event: RecordedOf<LeadEvent>): string {
  return event.data.leadId ?? event.streamId.slice('lead-'.length);
}

const FIELD_ENTRIES = Object.entries(FIELD_COLUMNS);

const EMPTY_ROW: Record<string, unknown> = Object.fromEntries(COLUMNS.map((column) => [column, null]));

/**
 * A row with every column, in column order (one object shape, so the upsert loop stays fast).
 * Copied from a template: adding 45 properties one by one cost 1.1 µs a row, a copy 0.1 µs.
 */
function emptyRow(id: string): Row {
  return { ...EMPTY_ROW, id };
}

/**
 * Applies one event to the lead's row, in place (the rows of a batch are this call's own copies).
 * Returns undefined for events of a lead whose creation this model has not seen.
 */
function evolveRow(row: Row | undefined, event: RecordedOf<LeadEvent>, id: string): Row | undefined {
  const at = event.metadata.at ?? event.createdAt.toISOString();
  if (event.type === 'LeadCreated') {
    row = emptyRow(id);
    Object.assign(row, { status: 'Open', status_reason: 'New', created_at: at, created_by: event.metadata.userId });
    setFields(row, event.data);
  }
  if (!row) return undefined;
  row.version = event.revision;
  row.position = event.position;
  row.updated_at = at;
  switch (event.type) {
    case 'LeadUpdated':
      setFields(row, event.data);
      if (event.data.statusReason) row.status_reason = event.data.statusReason;
      break;
    case 'LeadQualified': {
      const d = event.data;
      Object.assign(row, {
        status: 'Qualified',
        status_reason: 'Qualified',
        qualification_id: d.qualificationId,
        plan: JSON.stringify(d.plan),
        decided_by: d.decidedBy,
        setting_version: d.settingVersion,
        create_records_by_default: d.createRecordsByDefault,
        qualified_by: d.qualifiedBy,
        qualified_at: d.qualifiedAt,
        conversion: 'pending',
        conversion_failure_reason: null,
        account_id: null,
        contact_id: null,
        opportunity_id: null,
      });
      break;
    }
    case 'LeadConversionCompleted': {
      const d = event.data;
      if (d.qualificationId === row.qualification_id)
        Object.assign(row, { conversion: 'completed', account_id: d.accountId, contact_id: d.contactId, opportunity_id: d.opportunityId });
      break;
    }
    case 'LeadConversionFailed':
      if (event.data.qualificationId === row.qualification_id) Object.assign(row, { conversion: 'failed', conversion_failure_reason: event.data.reason });
      break;
    case 'LeadDisqualified':
      Object.assign(row, { status: 'Disqualified', status_reason: event.data.statusReason, disqualified_at: at });
      break;
    case 'LeadReactivated':
      Object.assign(row, { status: 'Open', status_reason: 'New', disqualified_at: null });
      break;
  }
  return row;
}

/** Copies the lead fields an event carries onto their columns, and refreshes the search text and keys. */
function setFields(row: Row, fields: Partial<LeadFields>): void {
  for (const [field, column] of FIELD_ENTRIES) {
    const value = (fields as Record<string, unknown>)[field];
    if (value !== undefined) row[column] = value;
  }
  withKeys(row);
}

/**
 * The derived columns. The migration LeadFilterKeys1796014800000 computed the keys of the rows
 * that existed before them with the same functions (src/shared/normalised-keys.ts).
 */
function withKeys(row: Row): void {
  row.search_text = [row.first_name, row.last_name, row.company_name, row.email].filter(Boolean).join(' ').toLowerCase();
  row.email_key = emailKey(row.email as string | null);
  row.company_key = companyNameKey(row.company_name as string | null);
}
