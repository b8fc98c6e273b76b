import { AnalyticsLeadRow, AnalyticsRecordRow, QualificationStatsDailyRow } from './analytics/analytics.entities.js';
import { EVENT_STORE_ENTITIES } from './event-store/entities.js';
import { LeadDetailsRow } from './leads/lead-details/lead-details.entity.js';
import { SettingHistoryRow } from './qualify-setting/setting-history/setting-history.entity.js';
import { AccountRow, ContactRow, OpportunityRow } from './records/records.entities.js';

/**
 * Every table the service has an entity for (the log's `events` has none: see the baseline
 * migration). The migrations must yield exactly these; test/schema.spec.ts holds them to it.
 * Here, beside app.module.ts, because it names every feature's tables: src/database/ sits below the
 * features and imports none of them (test/architecture.spec.ts).
 */
export const ALL_ENTITIES = [
  ...EVENT_STORE_ENTITIES,
  LeadDetailsRow,
  SettingHistoryRow,
  AccountRow,
  ContactRow,
  OpportunityRow,
  QualificationStatsDailyRow,
  AnalyticsLeadRow,
  AnalyticsRecordRow,
];
