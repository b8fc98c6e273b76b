import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions, type EntityManager, type MixedList } from 'typeorm';
import type { DatabaseConfig } from '../config/config.js';
import { applyMigrations } from './migrate.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations/index.js';
import { WalCheckpointer } from './wal-checkpointer.js';

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
  readonly inTransaction: boolean;
}

const STATEMENT_CACHE = 500;
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;
/** Bounds a commit group so that a steady stream of appends cannot hold readers off for long. */
const MAX_GROUP = 256;
/** The longest the queue runs work without letting the event loop handle I/O (see drain). */
const DRAIN_SLICE_MS = 20;

/** write: a transactionSql unit; read/snapshot: may join a commit group; alone: never does. */
type WorkKind = 'write' | 'read' | 'snapshot' | 'alone';

interface QueuedWork {
  kind: WorkKind;
  run: (sql: SqlRunner) => Promise<any>;
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
}

/**
 * The one way this service touches its SQL database.
 *
 * SQLite through better-sqlite3 is a single connection: two interleaved TypeORM transactions on
 * it fail ("cannot start a transaction within a transaction"). So on SQLite every unit of work
 * queues behind the previous one (FIFO); reads may join a commit group (transactionSql), and then
 * they settle only once it has committed, so that no caller acts on rows that might not commit. Write transactions start with BEGIN IMMEDIATE so that a second process
 * on the same file waits for the write lock up front instead of failing on a lock upgrade.
 * PostgreSQL gets a connection pool and real concurrency.
 */
export class Database {
  /** SQLite's FIFO: a transaction unit (grouped, see transactionSql) or any other work. */
  private readonly queue: QueuedWork[] = [];
  private draining = false;
  private drainScheduled = false;
  private checkpointer?: WalCheckpointer;

  /** The background WAL checkpointer, on a SQLite file (operations and tests look at it). */
  get walCheckpointer(): WalCheckpointer | undefined {
    return this.checkpointer;
  }
  private idle?: () => void;
  private readonly statements = new Map<string, RawStatement>();
  private readonly sql: SqlRunner = (text, params) => this.runRaw(text, params ?? []);

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
    // TypeORM's own transaction cannot nest in a commit group: it runs alone.
    return this.enqueue('alone', async () => {
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

  /** Runs read-only work (queued on SQLite, see the class comment). */
  read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.isSqlite) return fn(this.dataSource.manager);
    return this.enqueue('read', () => fn(this.dataSource.manager));
  }

  /**
   * Like read, with a plain SQL runner instead of TypeORM: on SQLite the statements run on the raw
   * connection (the query endpoints' path, where TypeORM's per-call overhead was a tenth of a request).
   * With `snapshot`, every statement of fn sees one consistent state, also against other processes.
   */
  readSql<T>(fn: (sql: SqlRunner) => Promise<T>, { snapshot = false } = {}): Promise<T> {
    if (!this.isSqlite) {
      const run = (m: EntityManager) => fn((sql, params) => m.query(sql, params));
      return snapshot ? this.dataSource.transaction('REPEATABLE READ', run) : run(this.dataSource.manager);
    }
    return this.enqueue(snapshot ? 'snapshot' : 'read', fn);
  }

  /**
   * Runs a single SQL statement outside a transaction. On SQLite the hot paths skip TypeORM: a
   * cached prepared statement on the raw better-sqlite3 connection, run synchronously in its turn.
   */
  query<T = any>(sql: string, params: unknown[] = []): Promise<T> {
    if (!this.isSqlite) return this.dataSource.query(sql, params);
    return this.enqueue('read', async () => this.runRaw(sql, params) as T);
  }

  /**
   * Runs one index build by itself, in its own implicit transaction, with temporary files on disk:
   * the connection keeps them in memory (see prepareDatabase), which for the sort of a
   * million-row index meant 60 MB more peak memory. Must be idempotent (IF NOT EXISTS).
   */
  buildIndex(statement: string): Promise<void> {
    if (!this.isSqlite) return this.dataSource.query(statement).then(() => undefined);
    return this.enqueue('alone', async () => {
      const raw = this.raw();
      raw.exec('PRAGMA temp_store = FILE');
      try {
        raw.exec(statement);
      } finally {
        raw.exec('PRAGMA temp_store = MEMORY');
      }
    });
  }

  /**
   * Runs fn in one transaction with a plain SQL runner: the event store's append path and every
   * processor batch. On SQLite every statement runs synchronously on the raw connection.
   *
   * Group commit (SQLite). A commit has fixed costs (the write lock, the WAL index, a frame per
   * dirtied page), and pages dirtied by several transactions (the log's tail, checkpoints,
   * counters) are written once per commit, so under load one commit carries dozens of
   * transactions (docs/performance.md has the figures). Work queued behind a transaction joins its group:
   * one BEGIN IMMEDIATE … COMMIT, each transaction in its own SAVEPOINT, reads in between in
   * queue order. A transaction that throws is rolled back to its savepoint alone. Every member of
   * a group settles only after the COMMIT: nothing is acknowledged before it is durable, and no
   * caller ever sees a state that might not commit (if the COMMIT fails, all members fail).
   */
  transactionSql<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T> {
    if (!this.isSqlite) {
      // Structured results: rows for every statement, including UPDATE … RETURNING.
      return this.dataSource.transaction('READ COMMITTED', (m) => fn(async (sql, params) => (await m.queryRunner!.query(sql, params, true)).records ?? []));
    }
    return this.enqueue('write', fn);
  }

  private enqueue<T>(kind: WorkKind, run: (sql: SqlRunner) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind, run, resolve, reject });
      // SQLite work runs synchronously, so a group started at once would only ever hold the work
      // queued in the same tick. Starting it after this turn's I/O callbacks lets every request
      // that arrived together join one commit; it costs an idle request one event-loop turn.
      if (!this.draining && !this.drainScheduled) {
        this.drainScheduled = true;
        setImmediate(() => {
          this.drainScheduled = false;
          this.drain();
        });
      }
    });
  }

  private raw(): RawSqlite {
    return (this.dataSource.driver as unknown as { databaseConnection: RawSqlite }).databaseConnection;
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    void (async () => {
      try {
        let sliceStart = performance.now();
        while (this.queue.length > 0) {
          // Work that queues its next unit as it settles (a microtask) would keep this loop going
          // without the event loop ever reaching I/O: requests, health checks and timers waited
          // for all nine index builds after a rebuild (12 s at 1,000,000 leads). Let I/O in now
          // and then; what it queues lines up behind the work already queued.
          if (performance.now() - sliceStart > DRAIN_SLICE_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            sliceStart = performance.now();
          }
          if (this.queue[0].kind === 'write') await this.runGroup();
          else await this.runAlone(this.queue.shift()!);
        }
      } finally {
        this.draining = false;
        this.idle?.();
        this.idle = undefined;
      }
    })();
  }

  private async runAlone({ kind, run, resolve, reject }: QueuedWork): Promise<void> {
    const raw = this.raw();
    if (kind !== 'snapshot') return run(this.sql).then(resolve, reject);
    try {
      raw.exec('BEGIN');
      const value = await run(this.sql);
      raw.exec('COMMIT');
      resolve(value);
    } catch (error) {
      if (raw.inTransaction) raw.exec('ROLLBACK');
      reject(error);
    }
  }

  /** One SQLite transaction for the work at the head of the queue (see transactionSql). */
  private async runGroup(): Promise<void> {
    const raw = this.raw();
    try {
      raw.exec('BEGIN IMMEDIATE');
    } catch (error) {
      // No write lock (another process held it past the busy timeout): fail this unit only.
      this.queue.shift()!.reject(error);
      return;
    }
    const members: { work: QueuedWork; outcome: { value: unknown } | { error: unknown } }[] = [];
    let lost: unknown;
    for (let n = 0; n < MAX_GROUP && this.queue.length > 0 && this.queue[0].kind !== 'alone'; n++) {
      const work = this.queue.shift()!;
      const isWrite = work.kind === 'write';
      if (isWrite) this.runRaw('SAVEPOINT unit', []);
      try {
        const value = await work.run(this.sql);
        if (isWrite) this.runRaw('RELEASE unit', []);
        members.push({ work, outcome: { value } });
      } catch (error) {
        members.push({ work, outcome: { error } });
        if (!raw.inTransaction) {
          // SQLite rolled the whole transaction back (I/O error, disk full): the members
          // before this one are gone too.
          lost = error;
          break;
        }
        if (isWrite) {
          this.runRaw('ROLLBACK TO unit', []);
          this.runRaw('RELEASE unit', []);
        }
      }
    }
    if (lost === undefined) {
      try {
        raw.exec('COMMIT');
      } catch (error) {
        lost = error;
        if (raw.inTransaction) raw.exec('ROLLBACK');
      }
    }
    for (const { work, outcome } of members) {
      if ('error' in outcome) work.reject(outcome.error);
      else if (lost !== undefined) work.reject(lost);
      else work.resolve(outcome.value);
    }
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

  /** Moves WAL checkpoints off this connection onto a worker thread (see WalCheckpointer). */
  checkpointInBackground(path: string, intervalMs: number): void {
    this.raw().exec('PRAGMA wal_autocheckpoint = 0');
    this.checkpointer = new WalCheckpointer({
      path,
      intervalMs,
      busyTimeoutMs: 10_000,
      onFailure: () => {
        if (this.dataSource.isInitialized) this.raw().exec(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
      },
    });
  }

  /** Stops the background checkpointer (the service's data source is closed by its module). */
  async stopBackgroundWork(): Promise<void> {
    await this.checkpointer?.stop();
  }

  async close(): Promise<void> {
    if (this.draining || this.queue.length > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    await this.stopBackgroundWork();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
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
      ...MIGRATION_OPTIONS,
      // WAL + synchronous=NORMAL: a process crash loses nothing that was committed; a power
      // loss can drop the last few commits. docs/operations.md explains the choice.
      enableWAL: config.path !== ':memory:',
      timeout: 10_000,
      prepareDatabase: (db: any) => {
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
    extra: { max: 16 },
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

/** How often the background checkpointer runs; the WAL stays within a few MB under full load. */
const WAL_CHECKPOINT_INTERVAL_MS = 100;

export async function openDatabase(config: DatabaseConfig, entities: MixedList<Function>): Promise<Database> {
  return attachDatabase(await initializeDataSource(dataSourceOptions(config, entities)), config);
}

/** The Database over an initialised data source, with WAL checkpoints in the background on a SQLite file. */
export function attachDatabase(dataSource: DataSource, config: DatabaseConfig): Database {
  const db = new Database(dataSource, config.kind);
  if (config.kind === 'sqlite' && config.path !== ':memory:') db.checkpointInBackground(config.path, WAL_CHECKPOINT_INTERVAL_MS);
  return db;
}
