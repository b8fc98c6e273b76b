import { AnalyticsLeadRow, AnalyticsRecordRow, QualificationStatsDailyRow } from '../analytics/analytics.entities.js';
import { EVENT_STORE_ENTITIES } from '../event-store/entities.js';
import { LeadDetailsRow } from '../leads/lead-details/lead-details.entity.js';
import { SettingHistoryRow } from '../qualify-setting/setting-history/setting-history.entity.js';
import { AccountRow, ContactRow, OpportunityRow } from '../records/records.entities.js';

/**
 * Every table the service has an entity for (the log's `events` has none: see the baseline
 * migration). The migrations must yield exactly these; test/schema.spec.ts holds them to it.
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
