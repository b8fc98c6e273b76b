import type { SqlRunner } from './database.js';

/**
 * Small SQL helpers for the hot paths of projections, where TypeORM's per-row save() costs far
 * more than the work itself (~350 µs a row, measured). Both SQLite and PostgreSQL accept
 * INSERT … ON CONFLICT … DO UPDATE; only the placeholder syntax differs.
 */
export type Dialect = 'sqlite' | 'postgres';

export function placeholder(dialect: Dialect, n: number): string {
  return dialect === 'sqlite' ? '?' : `$${n}`;
}

export function placeholders(dialect: Dialect, count: number, offset = 0): string {
  return Array.from({ length: count }, (_, i) => placeholder(dialect, offset + i + 1)).join(', ');
}

/** Rows as objects keyed by column name; every row must have every column. */
export async function upsertRows(
  sql: SqlRunner,
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  key: readonly string[],
  rows: Record<string, unknown>[],
  chunkSize = Math.floor(30_000 / columns.length),
  onConflict: 'update' | 'ignore' = 'update',
  /** Updates an existing row only where this holds (e.g. `t.version < excluded.version`, with t the table). */
  updateWhere?: string,
): Promise<void> {
  const updates = onConflict === 'ignore' ? [] : columns.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`);
  const guard = updateWhere ? ` WHERE ${updateWhere.replaceAll('t.', `${table}.`)}` : '';
  const conflict = updates.length ? `DO UPDATE SET ${updates.join(', ')}${guard}` : 'DO NOTHING';
  if (dialect === 'sqlite') {
    // In-process SQLite: one cached single-row statement per row beats parsing a huge one.
    const statement = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders(dialect, columns.length)}) ON CONFLICT (${key.join(', ')}) ${conflict}`;
    for (const row of rows)
      await sql(
        statement,
        columns.map((c) => toSqlValue(dialect, row[c])),
      );
    return;
  }
  for (let start = 0; start < rows.length; start += chunkSize) {
    const chunk = rows.slice(start, start + chunkSize);
    const params: unknown[] = [];
    const values = chunk.map((row) => {
      const list = placeholders(dialect, columns.length, params.length);
      for (const c of columns) params.push(toSqlValue(dialect, row[c]));
      return `(${list})`;
    });
    await sql(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')} ON CONFLICT (${key.join(', ')}) ${conflict}`, params);
  }
}

/**
 * Updates a stored row to `after`, setting only the columns whose value differs from `before` (the
 * row as read), and only where `newer` (e.g. `version`) is below after's: the version guard of
 * upsertRows. An UPDATE rewrites the entries of every index on a column it sets, even to the same
 * value: setting all 45 columns of lead_details moved entries in its nine indexes (9.6 WAL frames
 * and 137 µs an update, against 1 frame and 23 µs for the one column that changed).
 */
export async function updateChangedColumns(
  sql: SqlRunner,
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  key: string,
  newer: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Promise<void> {
  const changed = columns.filter((c) => c !== key && toSqlValue(dialect, after[c]) !== toSqlValue(dialect, before[c]));
  if (changed.length === 0) return;
  const params = changed.map((c) => toSqlValue(dialect, after[c]));
  const set = changed.map((c, i) => `${c} = ${placeholder(dialect, i + 1)}`).join(', ');
  params.push(after[key], after[newer]);
  await sql(
    `UPDATE ${table} SET ${set} WHERE ${key} = ${placeholder(dialect, params.length - 1)} AND ${newer} < ${placeholder(dialect, params.length)}`,
    params,
  );
}

/** Selects rows whose `column` is in `values`, in chunks that fit the parameter limit. */
export async function selectIn<T extends object>(sql: SqlRunner, dialect: Dialect, table: string, column: string, values: readonly unknown[]): Promise<T[]> {
  const out: T[] = [];
  if (dialect === 'sqlite') {
    const statement = `SELECT * FROM ${table} WHERE ${column} = ?`;
    for (const value of values) out.push(...(await sql<T>(statement, [value])));
    return out;
  }
  for (let start = 0; start < values.length; start += 900) {
    const chunk = values.slice(start, start + 900);
    out.push(...(await sql<T>(`SELECT * FROM ${table} WHERE ${column} IN (${placeholders(dialect, chunk.length)})`, chunk)));
  }
  return out;
}

function toSqlValue(dialect: Dialect, value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean' && dialect === 'sqlite') return value ? 1 : 0;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}
