import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { entityColumns, entityIndexes } from '../../database/entity-columns.js';

/**
 * One row per lead: the lead's fields, its state and its latest qualification. Built by
 * LeadDetailsProjection from the lead streams. Times are ISO-8601 UTC strings (they sort as
 * text on both SQLite and PostgreSQL). docs/read-models.md documents every column.
 */
@Entity('lead_details')
@Index('ix_lead_details_created', ['createdAt', 'id'])
@Index('ix_lead_details_status_created', ['status', 'createdAt', 'id'])
@Index('ix_lead_details_source_created', ['leadSource', 'createdAt', 'id'])
// The commonest list filter (open leads of one source) as one range scan in creation order.
@Index('ix_lead_details_status_source_created', ['status', 'leadSource', 'createdAt', 'id'])
@Index('ix_lead_details_rating_created', ['rating', 'createdAt', 'id'])
@Index('ix_lead_details_qualified', ['qualifiedAt'])
@Index('ix_lead_details_last_name', ['lastName', 'id'])
@Index('ix_lead_details_topic', ['topic', 'id'])
@Index('ix_lead_details_updated', ['updatedAt', 'id'])
// Equality filters (Dataverse `emailaddress1 eq`, `companyname eq`): matches are few, so a
// one-column index finds them and the page sorts them; (key, created_at, id) would be a larger
// index to rebuild after every replay for no gain on a handful of rows.
@Index('ix_lead_details_email_key', ['emailKey'])
@Index('ix_lead_details_company_key', ['companyKey'])
export class LeadDetailsRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 200 }) topic: string;
  @Column({ name: 'first_name', type: 'varchar', length: 100, nullable: true }) firstName: string | null;
  @Column({ name: 'last_name', type: 'varchar', length: 100 }) lastName: string;
  @Column({ name: 'job_title', type: 'varchar', length: 100, nullable: true }) jobTitle: string | null;
  @Column({ name: 'company_name', type: 'varchar', length: 160, nullable: true }) companyName: string | null;
  @Column({ type: 'varchar', length: 254, nullable: true }) email: string | null;
  @Column({ name: 'business_phone', type: 'varchar', length: 50, nullable: true }) businessPhone: string | null;
  @Column({ name: 'mobile_phone', type: 'varchar', length: 50, nullable: true }) mobilePhone: string | null;
  @Column({ type: 'varchar', length: 200, nullable: true }) website: string | null;
  @Column({ type: 'varchar', length: 250, nullable: true }) street: string | null;
  @Column({ type: 'varchar', length: 80, nullable: true }) city: string | null;
  @Column({ name: 'state_or_province', type: 'varchar', length: 50, nullable: true }) stateOrProvince: string | null;
  @Column({ name: 'postal_code', type: 'varchar', length: 20, nullable: true }) postalCode: string | null;
  @Column({ type: 'varchar', length: 80, nullable: true }) country: string | null;
  @Column({ name: 'lead_source', type: 'varchar', length: 30, nullable: true }) leadSource: string | null;
  @Column({ type: 'varchar', length: 10, nullable: true }) rating: string | null;
  @Column({ name: 'budget_amount', type: 'float', nullable: true }) budgetAmount: number | null;
  @Column({ name: 'estimated_value', type: 'float', nullable: true }) estimatedValue: number | null;
  @Column({ name: 'purchase_timeframe', type: 'varchar', length: 20, nullable: true }) purchaseTimeframe: string | null;
  @Column({ type: 'text', nullable: true }) description: string | null;
  @Column({ name: 'existing_account_id', type: 'varchar', length: 36, nullable: true }) existingAccountId: string | null;
  @Column({ name: 'existing_contact_id', type: 'varchar', length: 36, nullable: true }) existingContactId: string | null;
  /** Lower-cased "first last company email", for the q filter. */
  @Column({ name: 'search_text', type: 'varchar', length: 600 }) searchText: string;
  /**
   * The e-mail trimmed and lower-cased (emailKey), computed in JavaScript: SQL's lower() differs
   * beyond ASCII. Twice the e-mail's length: lower-casing may lengthen a text (İ → i̇).
   */
  @Column({ name: 'email_key', type: 'varchar', length: 508, nullable: true }) emailKey: string | null;
  /** The company name trimmed, inner white space collapsed, lower-cased (companyNameKey); twice its length, as email_key. */
  @Column({ name: 'company_key', type: 'varchar', length: 320, nullable: true }) companyKey: string | null;
  @Column({ type: 'varchar', length: 15 }) status: string;
  @Column({ name: 'status_reason', type: 'varchar', length: 20 }) statusReason: string;
  /** Stream revision of the last event applied: a replayed older event is skipped. */
  @Column({ type: 'integer' }) version: number;
  @Column({ type: 'varchar', length: 40 }) position: string;
  @Column({ name: 'created_at', type: 'varchar', length: 30 }) createdAt: string;
  @Column({ name: 'created_by', type: 'varchar', length: 100 }) createdBy: string;
  @Column({ name: 'updated_at', type: 'varchar', length: 30 }) updatedAt: string;
  @Column({ name: 'qualification_id', type: 'varchar', length: 36, nullable: true }) qualificationId: string | null;
  /** JSON of {account, contact, opportunity}, each {action, id}. */
  @Column({ type: 'text', nullable: true }) plan: string | null;
  @Column({ name: 'decided_by', type: 'varchar', length: 12, nullable: true }) decidedBy: string | null;
  @Column({ name: 'setting_version', type: 'integer', nullable: true }) settingVersion: number | null;
  @Column({ name: 'create_records_by_default', type: 'boolean', nullable: true }) createRecordsByDefault: boolean | null;
  @Column({ name: 'qualified_by', type: 'varchar', length: 100, nullable: true }) qualifiedBy: string | null;
  @Column({ name: 'qualified_at', type: 'varchar', length: 30, nullable: true }) qualifiedAt: string | null;
  @Column({ name: 'disqualified_at', type: 'varchar', length: 30, nullable: true }) disqualifiedAt: string | null;
  /** pending | completed | failed, for the latest qualification. */
  @Column({ type: 'varchar', length: 10, nullable: true }) conversion: string | null;
  @Column({ name: 'conversion_failure_reason', type: 'text', nullable: true }) conversionFailureReason: string | null;
  @Column({ name: 'account_id', type: 'varchar', length: 36, nullable: true }) accountId: string | null;
  @Column({ name: 'contact_id', type: 'varchar', length: 36, nullable: true }) contactId: string | null;
  @Column({ name: 'opportunity_id', type: 'varchar', length: 36, nullable: true }) opportunityId: string | null;
}

/** The secondary indexes above: dropped during a rebuild and built again at its end. */
export const LEAD_DETAILS_INDEXES = entityIndexes(LeadDetailsRow);

/** Every column, in declaration order: the column list of the projection's upserts. */
export const LEAD_DETAILS_COLUMNS = entityColumns(LeadDetailsRow).map((c) => c.column);
