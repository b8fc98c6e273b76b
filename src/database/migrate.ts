import type { DataSource } from 'typeorm';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations/index.js';

/** Names the one migration lock of PostgreSQL (the log's append lock is 727_100_001). */
const MIGRATION_LOCK_KEY = 727_100_002;

/** The database holds a migration this code does not know: it was written by a newer release. */
export class UnknownMigrationError extends Error {
  constructor(readonly names: string[]) {
    super(`the database schema is newer than this code: unknown migration ${names.join(', ')}; run the release that wrote it (nothing was changed)`);
    this.name = 'UnknownMigrationError';
  }
}

export interface MigrationStatus {
  name: string;
  applied: boolean;
}

/**
 * Applies the pending migrations, each in its own transaction, before anything else uses the
 * database. On PostgreSQL several instances may start at once: a session advisory lock lets one
 * apply them while the others wait, then find nothing pending. A database that has applied a
 * migration this code does not know is left untouched and refused.
 */
export async function applyMigrations(dataSource: DataSource): Promise<string[]> {
  return withMigrationLock(dataSource, async () => {
    await refuseUnknown(dataSource);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  });
}

/** Every migration the code knows, in order, and whether this database has applied it. */
export async function migrationStatus(dataSource: DataSource): Promise<{ migrations: MigrationStatus[]; unknown: string[] }> {
  const applied = await appliedNames(dataSource);
  const known = MIGRATIONS.map((m) => m.name);
  return { migrations: known.map((name) => ({ name, applied: applied.includes(name) })), unknown: applied.filter((name) => !known.includes(name)) };
}

async function refuseUnknown(dataSource: DataSource): Promise<void> {
  const { unknown } = await migrationStatus(dataSource);
  if (unknown.length) throw new UnknownMigrationError(unknown);
}

async function appliedNames(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    if (!(await runner.hasTable(MIGRATIONS_TABLE))) return [];
    // TypeORM's query() answers `any`: these are the rows selected.
    const rows = (await runner.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`)) as { name: string }[];
    return rows.map((r) => r.name);
  } finally {
    await runner.release();
  }
}

async function withMigrationLock<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (dataSource.options.type !== 'postgres') return work();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await work();
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
