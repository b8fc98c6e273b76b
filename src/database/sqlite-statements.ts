import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource } from 'typeorm';

/** The better-sqlite3 connection under TypeORM's driver. */
export type RawSqlite = BetterSqlite3.Database;
type RawStatement = BetterSqlite3.Statement<unknown[], unknown>;

const STATEMENT_CACHE = 500;

/** The connection of a SQLite data source: TypeORM's driver holds it, typed `any`. */
export function rawSqlite(dataSource: DataSource): RawSqlite {
  return (dataSource.driver as unknown as { databaseConnection: RawSqlite }).databaseConnection;
}

/**
 * Statements on the raw connection, past TypeORM: each prepared once (the last STATEMENT_CACHE
 * are kept) and run synchronously.
 */
export class SqliteStatements {
  private readonly statements = new Map<string, RawStatement>();

  constructor(private readonly connection: () => RawSqlite) {}

  /** Rows for a query, [] otherwise. `Row` names the columns the statement selects. */
  run<Row extends object>(sql: string, params: unknown[]): Row[] {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.connection().prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, statement);
    }
    const values = params.map(sqliteValue);
    // better-sqlite3's rows are `unknown`: they are the rows the caller's Row describes.
    if (statement.reader) return statement.all(...values) as Row[];
    statement.run(...values);
    return [];
  }
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null only. */
function sqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value;
}
