import type { Database } from '../../database/database.js';

/**
 * The log's tables, created by hand rather than by TypeORM's synchronize: the position column
 * must be a 64-bit identity on PostgreSQL and SQLite's INTEGER PRIMARY KEY AUTOINCREMENT (never
 * reused), which no single entity definition yields on both.
 *
 * A stream's revision is MAX(stream_revision) through the (stream_id, stream_revision) index:
 * no table of stream revisions to keep in step, which cost two more B-tree writes per append.
 * Databases created before that keep an unused `streams` table; it can be dropped.
 */
const POSTGRES = [
  `CREATE TABLE IF NOT EXISTS events (
     global_position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     event_id UUID NOT NULL,
     stream_id VARCHAR(200) NOT NULL,
     stream_revision INTEGER NOT NULL,
     type VARCHAR(100) NOT NULL,
     data JSONB NOT NULL,
     metadata JSONB NOT NULL,
     created_at TIMESTAMPTZ NOT NULL,
     CONSTRAINT uq_events_event_id UNIQUE (event_id),
     CONSTRAINT uq_events_stream_revision UNIQUE (stream_id, stream_revision))`,
  `CREATE INDEX IF NOT EXISTS ix_events_type ON events (type, global_position)`,
];

const SQLITE = [
  `CREATE TABLE IF NOT EXISTS events (
     global_position INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id TEXT NOT NULL UNIQUE,
     stream_id TEXT NOT NULL,
     stream_revision INTEGER NOT NULL,
     type TEXT NOT NULL,
     data TEXT NOT NULL,
     metadata TEXT NOT NULL,
     created_at TEXT NOT NULL,
     UNIQUE (stream_id, stream_revision))`,
  `CREATE INDEX IF NOT EXISTS ix_events_type ON events (type, global_position)`,
];

export async function ensureEventStoreSchema(db: Database): Promise<void> {
  const statements = db.isSqlite ? SQLITE : POSTGRES;
  await db.transaction(async (m) => {
    // Two instances starting at once on one PostgreSQL must not race on CREATE TABLE.
    if (!db.isSqlite) await m.query('SELECT pg_advisory_xact_lock(727100000)');
    for (const sql of statements) await m.query(sql);
  });
}
