import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Pre-aggregated counters: one row per (day, lead source, setting version, decided by). Grouped
 * queries sum a few thousand rows instead of scanning a million leads. Events that are not
 * qualifications (lead created, disqualified) count under setting_version -1 and decided_by ''.
 */
@Entity('qualification_stats_daily')
export class QualificationStatsDailyRow {
  /** UTC day, YYYY-MM-DD, of the event. */
  @PrimaryColumn({ type: 'varchar', length: 10 }) day: string;
  /** '' when the lead has no source. */
  @PrimaryColumn({ name: 'lead_source', type: 'varchar', length: 30 }) leadSource: string;
  @PrimaryColumn({ name: 'setting_version', type: 'integer' }) settingVersion: number;
  @PrimaryColumn({ name: 'decided_by', type: 'varchar', length: 12 }) decidedBy: string;
  @Column({ name: 'leads_created', type: 'integer', default: 0 }) leadsCreated: number;
  @Column({ type: 'integer', default: 0 }) qualified: number;
  @Column({ type: 'integer', default: 0 }) disqualified: number;
  @Column({ name: 'accounts_created', type: 'integer', default: 0 }) accountsCreated: number;
  @Column({ name: 'contacts_created', type: 'integer', default: 0 }) contactsCreated: number;
  @Column({ name: 'opportunities_created', type: 'integer', default: 0 }) opportunitiesCreated: number;
}

/** What the analytics projection remembers of each lead: its source, its last qualification, and how far it counted. */
@Entity('analytics_leads')
export class AnalyticsLeadRow {
  @PrimaryColumn({ name: 'lead_id', type: 'varchar', length: 36 }) leadId: string;
  @Column({ name: 'lead_source', type: 'varchar', length: 30 }) leadSource: string;
  @Column({ type: 'integer' }) revision: number;
  @Column({ name: 'setting_version', type: 'integer', nullable: true }) settingVersion: number | null;
  @Column({ name: 'decided_by', type: 'varchar', length: 12, nullable: true }) decidedBy: string | null;
}

/** Records (account, contact, opportunity) already counted: a replayed creation counts once. */
@Entity('analytics_records')
export class AnalyticsRecordRow {
  @PrimaryColumn({ name: 'record_id', type: 'varchar', length: 36 }) recordId: string;
}
