import type { SqlRunner } from '../../database/database.js';
import type { Database } from '../../database/database.js';
import { selectIn, upsertRows } from '../../database/sql.js';
import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Processor } from '../../event-store/processor.js';
import type { LeadEvent, LeadFields } from '../lead.events.js';

export const LEAD_DETAILS = 'lead-details';

/** Lead field → column. The order is the column order of upserts. */
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

const COLUMNS = [
  'id',
  ...Object.values(FIELD_COLUMNS),
  'email_key',
  'company_key',
  'search_text',
  'status',
  'status_reason',
  'version',
  'position',
  'created_at',
  'created_by',
  'updated_at',
  'qualification_id',
  'plan',
  'decided_by',
  'setting_version',
  'create_records_by_default',
  'qualified_by',
  'qualified_at',
  'disqualified_at',
  'conversion',
  'conversion_failure_reason',
  'account_id',
  'contact_id',
  'opportunity_id',
] as const;

type Row = Record<(typeof COLUMNS)[number], any>;

const EVENT_TYPES = ['LeadCreated', 'LeadUpdated', 'LeadQualified', 'LeadConversionCompleted', 'LeadConversionFailed', 'LeadDisqualified', 'LeadReactivated'];

/**
 * lead_details: one row per lead. Applies a whole batch with one SELECT of the rows it touches
 * and one multi-row upsert, because per-row ORM calls would bound rebuild speed. Idempotent: an
 * event whose stream revision is not above the row's version is skipped.
 */
export class LeadDetailsProjection implements Processor {
  readonly name = LEAD_DETAILS;
  readonly eventTypes = EVENT_TYPES;

  constructor(private readonly db: Database) {}

  async apply(events: RecordedEvent[], sql: SqlRunner): Promise<void> {
    const dialect = this.db.kind;
    const ids = [...new Set(events.map(leadIdOf))];
    const rows = new Map<string, Row>();
    for (const row of await selectIn<Row>(sql, dialect, 'lead_details', 'id', ids)) rows.set(row.id, row);
    const changed = new Set<string>();
    for (const recorded of events) {
      const id = leadIdOf(recorded);
      const before = rows.get(id);
      if (before && recorded.revision <= Number(before.version)) continue;
      const after = evolveRow(before, recorded as RecordedEvent & LeadEvent, id);
      if (!after) continue;
      rows.set(id, after);
      changed.add(id);
    }
    if (changed.size) await upsertRows(sql, dialect, 'lead_details', COLUMNS, ['id'], [...changed].map((id) => rows.get(id)!));
  }

  async reset(sql: SqlRunner): Promise<void> {
    await sql('DELETE FROM lead_details');
  }
}

function leadIdOf(event: RecordedEvent): string {
  return event.data.leadId ?? event.streamId.slice('lead-'.length);
}

function evolveRow(row: Row | undefined, event: RecordedEvent & LeadEvent, id: string): Row | undefined {
  const at = event.metadata.at ?? event.createdAt.toISOString();
  const base = { version: event.revision, position: event.position, updated_at: at };
  if (event.type === 'LeadCreated') {
    const created = { id, status: 'Open', status_reason: 'New', created_at: at, created_by: event.metadata.userId } as Row;
    for (const c of COLUMNS) if (!(c in created)) (created as any)[c] = null;
    return withKeys({ ...created, ...fieldsToColumns(event.data), ...base });
  }
  if (!row) return undefined; // an event of a lead whose creation this model has not seen: nothing to show
  switch (event.type) {
    case 'LeadUpdated': {
      const { statusReason, ...fields } = event.data;
      return withKeys({ ...row, ...fieldsToColumns(fields), ...(statusReason ? { status_reason: statusReason } : {}), ...base });
    }
    case 'LeadQualified': {
      const d = event.data;
      return {
        ...row,
        ...base,
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
      };
    }
    case 'LeadConversionCompleted': {
      const d = event.data;
      if (d.qualificationId !== row.qualification_id) return { ...row, ...base };
      return { ...row, ...base, conversion: 'completed', account_id: d.accountId, contact_id: d.contactId, opportunity_id: d.opportunityId };
    }
    case 'LeadConversionFailed': {
      const d = event.data;
      if (d.qualificationId !== row.qualification_id) return { ...row, ...base };
      return { ...row, ...base, conversion: 'failed', conversion_failure_reason: d.reason };
    }
    case 'LeadDisqualified':
      return { ...row, ...base, status: 'Disqualified', status_reason: event.data.statusReason, disqualified_at: at };
    case 'LeadReactivated':
      return { ...row, ...base, status: 'Open', status_reason: 'New' };
    default:
      return { ...row, ...base };
  }
}

function fieldsToColumns(fields: Partial<LeadFields> & { leadId?: string }): Partial<Row> {
  const out: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(FIELD_COLUMNS)) {
    const value = (fields as Record<string, unknown>)[field];
    if (value !== undefined) out[column] = value;
  }
  return out as Partial<Row>;
}

function withKeys(row: Row): Row {
  const email = row.email ? String(row.email).toLowerCase() : null;
  const company = row.company_name ? String(row.company_name).trim().toLowerCase() : null;
  const search = [row.first_name, row.last_name, row.company_name, row.email].filter(Boolean).join(' ').toLowerCase();
  return { ...row, email_key: email, company_key: company, search_text: search };
}
