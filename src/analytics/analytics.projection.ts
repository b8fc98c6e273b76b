import type { SqlRunner } from '../database/database.js';
import type { Database } from '../database/database.js';
import { clearTables, placeholders, selectIn, upsertRows } from '../database/sql.js';
import { isEventOf, type RecordedEvent } from '../event-store/event-store.port.js';
import type { Projection } from '../event-store/processor.js';
import type { LeadCreated, LeadDisqualified, LeadQualified, LeadUpdated } from '../leads/lead.events.js';
import type { RecordCreated } from '../records/record.decider.js';
import { RECORD_EVENT_TYPES } from '../records/record-kinds.js';

export const ANALYTICS = 'qualification-analytics';

const COUNTERS = ['leads_created', 'qualified', 'disqualified', 'accounts_created', 'contacts_created', 'opportunities_created'] as const;
type Counter = (typeof COUNTERS)[number];
const RECORD_COUNTER: Record<RecordCreated['type'], Counter> = {
  AccountCreated: 'accounts_created',
  ContactCreated: 'contacts_created',
  OpportunityCreated: 'opportunities_created',
};
const LEAD_EVENT_TYPES = ['LeadCreated', 'LeadUpdated', 'LeadQualified', 'LeadDisqualified'] as const;

/** The events counted here. */
type AnalyticsEvent = LeadCreated | LeadUpdated | LeadQualified | LeadDisqualified | RecordCreated;
const EVENT_TYPES: readonly AnalyticsEvent['type'][] = [...LEAD_EVENT_TYPES, ...RECORD_EVENT_TYPES];

/** A row of analytics_leads (a type, so that it is a row for upsertRows as it is). */
type LeadMark = {
  lead_id: string;
  lead_source: string;
  revision: number;
  setting_version: number | null;
  decided_by: string | null;
};

/**
 * Counts per day, lead source, setting version and decision. A batch becomes one set of counter
 * deltas added with one upsert. Idempotent: lead events at or below the revision already counted
 * for that lead, and record creations already counted, are skipped.
 */
export class AnalyticsProjection implements Projection {
  readonly name = ANALYTICS;
  readonly eventTypes = EVENT_TYPES;

  constructor(private readonly db: Database) {}

  async apply(recorded: RecordedEvent[], sql: SqlRunner): Promise<void> {
    const dialect = this.db.kind;
    const events = recorded.filter((e) => isEventOf<AnalyticsEvent>(e, EVENT_TYPES));
    const leadIds = [...new Set(events.map((e) => ('leadId' in e.data ? e.data.leadId : e.data.originatingLeadId)).filter(Boolean))];
    const leads = new Map<string, LeadMark>();
    for (const row of await selectIn<LeadMark>(sql, dialect, 'analytics_leads', 'lead_id', leadIds)) leads.set(row.lead_id, row);
    const recordIds = events.filter((e) => isEventOf<RecordCreated>(e, RECORD_EVENT_TYPES)).map((e) => e.streamId.slice(e.streamId.indexOf('-') + 1));
    const counted = new Set((await selectIn<{ record_id: string }>(sql, dialect, 'analytics_records', 'record_id', recordIds)).map((r) => r.record_id));

    const deltas = new Map<string, Record<string, unknown>>();
    const bump = (at: string, source: string, version: number, decidedBy: string, counter: Counter) => {
      const day = at.slice(0, 10);
      const key = `${day}|${source}|${version}|${decidedBy}`;
      let row = deltas.get(key);
      if (!row)
        deltas.set(
          key,
          (row = { day, lead_source: source, setting_version: version, decided_by: decidedBy, ...Object.fromEntries(COUNTERS.map((c) => [c, 0])) }),
        );
      (row[counter] as number)++;
    };
    const touchedLeads = new Set<string>();
    const newRecords: { record_id: string }[] = [];

    for (const e of events) {
      const at = e.metadata.at ?? e.createdAt.toISOString();
      if (isEventOf<RecordCreated>(e, RECORD_EVENT_TYPES)) {
        const record = RECORD_COUNTER[e.type];
        const id = e.streamId.slice(e.streamId.indexOf('-') + 1);
        if (counted.has(id)) continue;
        counted.add(id);
        newRecords.push({ record_id: id });
        const lead = leads.get(e.data.originatingLeadId);
        bump(at, lead?.lead_source ?? '', lead?.setting_version ?? -1, lead?.decided_by ?? '', record);
        continue;
      }
      const lead = leads.get(e.data.leadId);
      if (lead && e.revision <= lead.revision) continue;
      if (!lead && e.type !== 'LeadCreated') continue;
      const mark: LeadMark = lead ?? { lead_id: e.data.leadId, lead_source: '', revision: -1, setting_version: null, decided_by: null };
      mark.revision = e.revision;
      if (e.type === 'LeadCreated') {
        mark.lead_source = e.data.leadSource ?? '';
        bump(at, mark.lead_source, -1, '', 'leads_created');
      } else if (e.type === 'LeadUpdated') {
        if (e.data.leadSource !== undefined) mark.lead_source = e.data.leadSource ?? '';
      } else if (e.type === 'LeadQualified') {
        mark.setting_version = e.data.settingVersion;
        mark.decided_by = e.data.decidedBy;
        bump(at, mark.lead_source, e.data.settingVersion, e.data.decidedBy, 'qualified');
      } else if (e.type === 'LeadDisqualified') {
        bump(at, mark.lead_source, -1, '', 'disqualified');
      }
      leads.set(mark.lead_id, mark);
      touchedLeads.add(mark.lead_id);
    }

    await upsertRows(
      sql,
      dialect,
      'analytics_leads',
      ['lead_id', 'lead_source', 'revision', 'setting_version', 'decided_by'],
      ['lead_id'],
      [...touchedLeads].map((id) => leads.get(id)!),
    );
    if (newRecords.length) await upsertRows(sql, dialect, 'analytics_records', ['record_id'], ['record_id'], newRecords);
    await this.addCounters(sql, [...deltas.values()]);
  }

  async reset(sql: SqlRunner): Promise<void> {
    await clearTables(sql, ['qualification_stats_daily', 'analytics_leads', 'analytics_records']);
  }

  private async addCounters(sql: SqlRunner, rows: Record<string, unknown>[]): Promise<void> {
    const columns = ['day', 'lead_source', 'setting_version', 'decided_by', ...COUNTERS];
    const add = COUNTERS.map((c) => `${c} = qualification_stats_daily.${c} + excluded.${c}`).join(', ');
    for (let start = 0; start < rows.length; start += 500) {
      const chunk = rows.slice(start, start + 500);
      const params: unknown[] = [];
      const values = chunk.map((row) => {
        const list = placeholders(this.db.kind, columns.length, params.length);
        for (const c of columns) params.push(row[c]);
        return `(${list})`;
      });
      await sql(
        `INSERT INTO qualification_stats_daily (${columns.join(', ')}) VALUES ${values.join(', ')}
         ON CONFLICT (day, lead_source, setting_version, decided_by) DO UPDATE SET ${add}`,
        params,
      );
    }
  }
}
