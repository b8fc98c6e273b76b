import type { DataSource, EntityManager } from 'typeorm';
import type { DatabaseConfig } from '../config/config.js';
import { dataSourceOptions, initializeDataSource, type Entities } from './data-source.js';
import { rawSqlite, SqliteStatements, type RawSqlite } from './sqlite-statements.js';
import { WalCheckpointer } from './wal-checkpointer.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** A result row: column name to value. */
export type SqlRow = Record<string, unknown>;

/**
 * A row of Database#query when the caller names no Row: untyped, as the drivers hand it over
 * (TypeORM's query() returns `any`). Code in src/ names the columns it reads (its Row type; lint
 * refuses reading an untyped row there); ad-hoc queries of tests and tools read columns freely.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- driver boundary: the drivers' rows are untyped (see above)
export type UntypedRow = any;

/**
 * Runs one SQL statement: rows for a query, [] otherwise. Synchronous on SQLite. `Row` names the
 * columns the statement selects: the drivers return untyped rows, and this is where they get a type.
 */
export type SqlRunner = <Row extends object = SqlRow>(sql: string, params?: unknown[]) => Promise<Row[]> | Row[];

const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;
/** Bounds a commit group so that a steady stream of appends cannot hold readers off for long. */
const MAX_GROUP = 256;
/** The longest the queue runs work without letting the event loop handle I/O (see drain). */
const DRAIN_SLICE_MS = 20;

/** write: a transactionSql unit; read/snapshot: may join a commit group; alone: never does. */
type WorkKind = 'write' | 'read' | 'snapshot' | 'alone';

/**
 * One unit of queued work. The queue holds units of every result type: methods, so that a unit's
 * own typed resolve fits here (the queue hands resolve only what that unit's run returned).
 */
interface QueuedWork {
  kind: WorkKind;
  run(this: void, sql: SqlRunner): Promise<unknown>;
  resolve(this: void, value: unknown): void;
  reject(this: void, error: unknown): void;
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
  private readonly statements = new SqliteStatements(() => this.raw());
  private readonly sql: SqlRunner = <Row extends object>(text: string, params?: unknown[]) => this.statements.run<Row>(text, params ?? []);

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
      const run = (m: EntityManager) => fn(<Row extends object>(sql: string, params?: unknown[]) => m.query<Row[]>(sql, params));
      return snapshot ? this.dataSource.transaction('REPEATABLE READ', run) : run(this.dataSource.manager);
    }
    return this.enqueue(snapshot ? 'snapshot' : 'read', fn);
  }

  /**
   * Runs a single SQL statement outside a transaction. On SQLite the hot paths skip TypeORM: a
   * cached prepared statement on the raw better-sqlite3 connection, run synchronously in its turn.
   */
  query<Row extends object = UntypedRow>(sql: string, params: unknown[] = []): Promise<Row[]> {
    if (!this.isSqlite) return this.dataSource.query<Row[]>(sql, params);
    return this.enqueue('read', async () => this.statements.run<Row>(sql, params));
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
      // TypeORM types the records `any[]`: they are the rows the caller's Row describes.
      return this.dataSource.transaction('READ COMMITTED', (m) =>
        fn(async <Row extends object>(sql: string, params?: unknown[]) => ((await m.queryRunner!.query(sql, params, true)).records ?? []) as Row[]),
      );
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
    return rawSqlite(this.dataSource);
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
      if (isWrite) this.statements.run('SAVEPOINT unit', []);
      try {
        const value = await work.run(this.sql);
        if (isWrite) this.statements.run('RELEASE unit', []);
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
          this.statements.run('ROLLBACK TO unit', []);
          this.statements.run('RELEASE unit', []);
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

/** How often the background checkpointer runs; the WAL stays within a few MB under full load. */
const WAL_CHECKPOINT_INTERVAL_MS = 100;

export async function openDatabase(config: DatabaseConfig, entities: Entities): Promise<Database> {
  return attachDatabase(await initializeDataSource(dataSourceOptions(config, entities)), config);
}

/** The Database over an initialised data source, with WAL checkpoints in the background on a SQLite file. */
export function attachDatabase(dataSource: DataSource, config: DatabaseConfig): Database {
  const db = new Database(dataSource, config.kind);
  if (config.kind === 'sqlite' && config.path !== ':memory:') db.checkpointInBackground(config.path, WAL_CHECKPOINT_INTERVAL_MS);
  return db;
}
