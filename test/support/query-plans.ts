import type { Database } from '../../src/database/database.js';

/**
 * The query plan as text; on PostgreSQL with sequential and bitmap scans priced out, so that a tiny
 * table still shows which index can serve.
 */
export async function explain(db: Database, sql: string, params: unknown[]): Promise<string> {
  if (db.isSqlite) return (await db.query(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r: { detail: string }) => r.detail).join('\n');
  return db.transaction(async (manager) => {
    await manager.query('SET LOCAL enable_seqscan = off');
    await manager.query('SET LOCAL enable_bitmapscan = off');
    return (await manager.query(`EXPLAIN ${sql}`, params)).map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
  });
}
