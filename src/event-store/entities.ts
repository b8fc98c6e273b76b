import { CheckpointRow, DeadLetterRow } from './processor.entities.js';

/** Processor bookkeeping tables (TypeORM entities). The log's own tables: sql/schema.ts. */
export const EVENT_STORE_ENTITIES = [CheckpointRow, DeadLetterRow];
