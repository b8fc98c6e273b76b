import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions, type EntityManager, type MixedList } from 'typeorm';
import type { DatabaseConfig } from '../config/config.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** Runs one SQL statement: rows for a query, [] otherwise. Synchronous on SQLite. */
export type SqlRunner = (sql: string, params?: unknown[]) => Promise<any[]> | any[];

interface RawStatement {
  reader: boolean;
  all(...params: unknown[]): any[];
  run(...params: unknown[]): unknown;
}
interface RawSqlite {
  prepare(sql: string): RawStatement;
  exec(sql: string): void;
}

const STATEMENT_CACHE = 500;

/**
 * The one way this service touches its SQL database.
 *
 * SQLite through better-sqlite3 is a single connection: two interleaved TypeORM transactions on
 * it fail ("cannot start a transaction within a transaction"), and a read that interleaves with
 * an open transaction would see uncommitted rows. So on SQLite every unit of work queues behind
 * the previous one (FIFO). Write transactions start with BEGIN IMMEDIATE so that a second process
 * on the same file waits for the write lock up front instead of failing on a lock upgrade.
 * PostgreSQL gets a connection pool and real concurrency.
 */
export class Database {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, RawStatement>();

  constructor(
    readonly dataSource: DataSource,
    readonly kind: DatabaseKind,
  ) {}

  get isSqlite(): boolean {
    return this.kind === 'sqlite';
  }

  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.isSqlite) return this.dataSource.transaction('READ COMMITTED', fn);
    return this.serialised(async () => {
      const runner = this.dataSource.createQueryRunner();
      await runner.query('BEGIN IMMEDIATE');
      // TypeORM must not open a nested transaction inside ours (save() would try to).
      (runner as { isTransactionActive: boolean }).isTransactionActive = true;
      try {
        const result = await fn(runner.manager);
        await runner.query('COMMIT');
        return result;
      } catch (error) {
        await runner.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        (runner as { isTransactionActive: boolean }).isTransactionActive = false;
        await runner.release();
      }
    });
  }

  /** Runs read-only work outside a transaction (queued on SQLite, see the class comment). */
  read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.isSqlite) return fn(this.dataSource.manager);
    return this.serialised(() => fn(this.dataSource.manager));
  }

  /**
   * Runs a single SQL statement outside a transaction. On SQLite the hot paths skip TypeORM: a
   * cached prepared statement on the raw better-sqlite3 connection, run synchronously in its turn.
   */
  query<T = any>(sql: string, params: unknown[] = []): Promise<T> {
    if (!this.isSqlite) return this.dataSource.query(sql, params);
    return this.serialised(async () => this.runRaw(sql, params) as T);
  }

  /**
   * Runs fn in one transaction with a plain SQL runner: the event store's append path. On SQLite
   * every statement runs synchronously on the raw connection between BEGIN IMMEDIATE and COMMIT,
   * which is an order of magnitude cheaper than a TypeORM query runner per statement.
   */
  transactionSql<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T> {
    if (!this.isSqlite) {
      // Structured results: rows for every statement, including UPDATE … RETURNING.
      return this.dataSource.transaction('READ COMMITTED', (m) => fn(async (sql, params) => (await m.queryRunner!.query(sql, params, true)).records ?? []));
    }
    return this.serialised(async () => {
      const raw = this.raw();
      raw.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn((sql, params) => this.runRaw(sql, params ?? []));
        raw.exec('COMMIT');
        return result;
      } catch (error) {
        try {
          raw.exec('ROLLBACK');
        } catch {
          // already rolled back by SQLite
        }
        throw error;
      }
    });
  }

  private raw(): RawSqlite {
    return (this.dataSource.driver as unknown as { databaseConnection: RawSqlite }).databaseConnection;
  }

  private runRaw(sql: string, params: unknown[]): any[] {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.raw().prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, statement);
    }
    const values = params.map(sqliteValue);
    if (statement.reader) return statement.all(...values);
    statement.run(...values);
    return [];
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null only. */
function sqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value;
}

export function dataSourceOptions(config: DatabaseConfig, entities: MixedList<Function>): DataSourceOptions {
  if (config.kind === 'sqlite') {
    if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
    return {
      type: 'better-sqlite3',
      database: config.path,
      entities,
      synchronize: true,
      // WAL + synchronous=NORMAL: a process crash loses nothing that was committed; a power
      // loss can drop the last few commits. docs/operations.md explains the choice.
      enableWAL: config.path !== ':memory:',
      timeout: 10_000,
      prepareDatabase: (db: any) => {
        db.pragma('synchronous = NORMAL');
        db.pragma('foreign_keys = ON');
      },
    };
  }
  return {
    type: 'postgres',
    url: config.url,
    entities,
    synchronize: true,
    extra: { max: 16 },
  };
}

export async function openDatabase(config: DatabaseConfig, entities: MixedList<Function>): Promise<Database> {
  const dataSource = new DataSource(dataSourceOptions(config, entities));
  await dataSource.initialize();
  return new Database(dataSource, config.kind);
}
