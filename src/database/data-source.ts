import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/config.js';
import { applyMigrations } from './migrate.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations/index.js';

/** The entity classes a data source maps (TypeORM's own type for them). */
export type Entities = NonNullable<DataSourceOptions['entities']>;

/** How a TypeORM data source reaches the configured database: the driver, its pragmas, the migrations. */
export function dataSourceOptions(config: DatabaseConfig, entities: Entities): DataSourceOptions {
  if (config.kind === 'sqlite') {
    if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
    return {
      type: 'better-sqlite3',
      database: config.path,
      entities,
      ...MIGRATION_OPTIONS,
      // WAL + synchronous=NORMAL: a process crash loses nothing that was committed; a power
      // loss can drop the last few commits. docs/operations.md explains the choice.
      enableWAL: config.path !== ':memory:',
      timeout: 10_000,
      // TypeORM declares the connection it hands over as `any`: it is better-sqlite3's.
      prepareDatabase: (db: BetterSqlite3.Database) => {
        db.pragma('synchronous = NORMAL');
        db.pragma('foreign_keys = ON');
        // Every member of a commit group runs in a savepoint, and SQLite copies each page a
        // savepoint first changes to a sub-journal, a temporary file once it passes 64 KiB: two
        // system calls per page. In memory instead, end to end went from 767 to 830 leads/s
        // (docs/performance.md). Index builds, whose sorts would then be held in memory too,
        // switch back to files while they run (Database#buildIndex).
        db.pragma('temp_store = MEMORY');
      },
    };
  }
  return {
    type: 'postgres',
    url: config.url,
    entities,
    ...MIGRATION_OPTIONS,
    // JIT off for the service's sessions: its statements are short, and a table without statistics
    // yet (a fresh rebuild, autovacuum not round) makes them look expensive enough to be compiled,
    // which costs more than running them.
    extra: { max: 16, options: '-c jit=off' },
  };
}

/** The schema comes from the migrations alone (applyMigrations), never from synchronize. */
const MIGRATION_OPTIONS = { synchronize: false, migrationsRun: false, migrations: MIGRATIONS, migrationsTableName: MIGRATIONS_TABLE } as const;

/** Applies pending migrations to the database of `config` and disconnects: main.ts does it first of all. */
export async function migrateDatabase(config: DatabaseConfig): Promise<void> {
  await (await initializeDataSource(dataSourceOptions(config, []))).destroy();
}

/** Connects and applies pending migrations: every data source of the service is made here. */
export async function initializeDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize();
  try {
    await applyMigrations(dataSource);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}
