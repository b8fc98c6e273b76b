import type { QualificationPlan } from '../lead.events.js';
import { FIELD_COLUMNS } from './lead-details.projection.js';

/**
 * A lead_details row as SQL returns it: snake_case, the columns of LeadDetailsRow (booleans are 0/1
 * on SQLite). The lead fields' columns (FIELD_COLUMNS) are read by name.
 */
export interface LeadDetailsRecord {
  [column: string]: unknown;
  id: string;
  status: string;
  status_reason: string;
  version: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  disqualified_at: string | null;
  qualification_id: string | null;
  /** JSON text of the plan. */
  plan: string | QualificationPlan | null;
  decided_by: string | null;
  setting_version: number | null;
  create_records_by_default: boolean | number | null;
  qualified_by: string | null;
  qualified_at: string | null;
  conversion: string | null;
  conversion_failure_reason: string | null;
  account_id: string | null;
  contact_id: string | null;
  opportunity_id: string | null;
}

/** A lead_details row → the API's lead. */
export function toLeadView(row: LeadDetailsRecord) {
  const fields: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(FIELD_COLUMNS)) fields[field] = row[column] ?? null;
  return {
    id: row.id,
    ...fields,
    status: row.status,
    statusReason: row.status_reason,
    version: Number(row.version),
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    disqualifiedAt: row.disqualified_at ?? null,
    qualification: row.qualification_id
      ? {
          qualificationId: row.qualification_id,
          plan: typeof row.plan === 'string' ? (JSON.parse(row.plan) as QualificationPlan) : row.plan,
          decidedBy: row.decided_by,
          settingVersion: Number(row.setting_version),
          createRecordsByDefault: row.create_records_by_default === true || row.create_records_by_default === 1,
          qualifiedBy: row.qualified_by,
          qualifiedAt: row.qualified_at,
          conversion: row.conversion,
          failureReason: row.conversion_failure_reason ?? null,
          accountId: row.account_id ?? null,
          contactId: row.contact_id ?? null,
          opportunityId: row.opportunity_id ?? null,
        }
      : null,
  };
}

export type LeadView = ReturnType<typeof toLeadView>;

/** Flat columns of the CSV export. */
export const LEAD_CSV_COLUMNS = [
  'id',
  ...Object.keys(FIELD_COLUMNS),
  'status',
  'statusReason',
  'version',
  'createdAt',
  'createdBy',
  'updatedAt',
  'qualificationId',
  'decidedBy',
  'settingVersion',
  'qualifiedBy',
  'qualifiedAt',
  'conversion',
  'accountId',
  'contactId',
  'opportunityId',
];

export function flattenLead(view: LeadView): Record<string, unknown> {
  const { qualification, ...rest } = view;
  return { ...rest, ...(qualification ?? {}), plan: undefined };
}
