import type { Database, SqlRunner } from '../database/database.js';
import { placeholder } from '../database/sql.js';

export interface StoredCheckpoint {
  position: string;
  owner: string | null;
  leaseUntil: number;
  rebuildTarget: string | null;
}

/** PostgreSQL returns its bigint columns as strings. */
interface CheckpointSelect {
  position: string;
  owner: string | null;
  lease_until: string | number;
  rebuild_target: string | null;
}

/**
 * The SQL of processor bookkeeping (tables `checkpoints` and `dead_letters`, defined as entities in
 * processor.entities.ts), in plain statements that run inside the processor's own transaction.
 */
export class Checkpoints {
  constructor(private readonly db: Database) {}

  private p(n: number): string {
    return placeholder(this.db.kind, n);
  }

  async get(sql: SqlRunner, processor: string): Promise<StoredCheckpoint | undefined> {
    const rows = await sql<CheckpointSelect>(`SELECT position, owner, lease_until, rebuild_target FROM checkpoints WHERE processor = ${this.p(1)}`, [
      processor,
    ]);
    if (!rows.length) return undefined;
    const r = rows[0];
    return { position: String(r.position), owner: r.owner ?? null, leaseUntil: Number(r.lease_until), rebuildTarget: r.rebuild_target ?? null };
  }

  async create(sql: SqlRunner, processor: string, position: string, owner: string | null, leaseUntil: number): Promise<void> {
    await sql(
      `INSERT INTO checkpoints (processor, position, owner, lease_until, updated_at) VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)}, ${this.p(4)}, ${this.p(5)})`,
      [processor, position, owner, leaseUntil, new Date().toISOString()],
    );
  }

  /** Compare-and-set: moves the checkpoint only if `owner` holds the lease and nobody moved it since `from`. */
  async advance(sql: SqlRunner, processor: string, owner: string, from: string, to: string, leaseUntil: number): Promise<boolean> {
    const rows = await sql(
      `UPDATE checkpoints SET position = ${this.p(1)}, lease_until = ${this.p(2)}, updated_at = ${this.p(3)}
       WHERE processor = ${this.p(4)} AND owner = ${this.p(5)} AND position = ${this.p(6)} RETURNING processor`,
      [to, leaseUntil, new Date().toISOString(), processor, owner, from],
    );
    return rows.length > 0;
  }

  /** Takes or renews the lease when it is free, expired or already ours. */
  async claim(sql: SqlRunner, processor: string, owner: string, now: number, leaseUntil: number): Promise<boolean> {
    const rows = await sql(
      `UPDATE checkpoints SET owner = ${this.p(1)}, lease_until = ${this.p(2)}
       WHERE processor = ${this.p(3)} AND (owner IS NULL OR owner = ${this.p(4)} OR lease_until < ${this.p(5)}) RETURNING processor`,
      [owner, leaseUntil, processor, owner, now],
    );
    return rows.length > 0;
  }

  async release(sql: SqlRunner, processor: string, owner: string): Promise<void> {
    await sql(`UPDATE checkpoints SET owner = NULL, lease_until = 0 WHERE processor = ${this.p(1)} AND owner = ${this.p(2)}`, [processor, owner]);
  }

  /** Back to the start of the log, marked as rebuilding up to `target` (null: nothing to replay). */
  async restart(sql: SqlRunner, processor: string, target: string | null): Promise<void> {
    if (!(await this.get(sql, processor))) await this.create(sql, processor, '0', null, 0);
    await sql(`UPDATE checkpoints SET position = '0', rebuild_target = ${this.p(1)}, updated_at = ${this.p(2)} WHERE processor = ${this.p(3)}`, [
      target,
      new Date().toISOString(),
      processor,
    ]);
  }

  async clearRebuild(sql: SqlRunner, processor: string, target: string): Promise<void> {
    await sql(`UPDATE checkpoints SET rebuild_target = NULL WHERE processor = ${this.p(1)} AND rebuild_target = ${this.p(2)}`, [processor, target]);
  }

  async deadLetter(
    sql: SqlRunner,
    row: { processor: string; position: string; eventId: string; eventType: string; streamId: string; error: string; attempts: number },
  ): Promise<void> {
    await sql(
      `INSERT INTO dead_letters (processor, position, event_id, event_type, stream_id, error, attempts, created_at)
       VALUES (${[1, 2, 3, 4, 5, 6, 7, 8].map((n) => this.p(n)).join(', ')})`,
      [row.processor, row.position, row.eventId, row.eventType, row.streamId, row.error, row.attempts, new Date().toISOString()],
    );
  }
}
