import type { MigrationInterface } from 'typeorm';
import { Baseline1795996800000 } from './1795996800000-baseline.js';
import { DropUnusedStreamsTable1796000400000 } from './1796000400000-drop-unused-streams-table.js';
import { DropDuplicateDetectionIndexes1796004000000 } from './1796004000000-drop-duplicate-detection-indexes.js';
import { RecordSearchKeys1796007600000 } from './1796007600000-record-search-keys.js';
import { OpportunityCurrencyAndCampaign1796011200000 } from './1796011200000-opportunity-currency-and-campaign.js';
import { LeadFilterKeys1796014800000 } from './1796014800000-lead-filter-keys.js';

/**
 * Every schema change, in order: the only way a table, column or index comes to be (nothing runs
 * TypeORM's synchronize). One file per change; never edit one that has shipped, add the next.
 */
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  Baseline1795996800000,
  DropUnusedStreamsTable1796000400000,
  DropDuplicateDetectionIndexes1796004000000,
  RecordSearchKeys1796007600000,
  OpportunityCurrencyAndCampaign1796011200000,
  LeadFilterKeys1796014800000,
];

export const MIGRATIONS_TABLE = 'schema_migrations';
