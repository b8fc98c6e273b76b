import { Inject, Injectable } from '@nestjs/common';
import { Database, type SqlRunner } from '../database/database.js';
import { EVENT_STORE, comparePositions, START, type EventStore } from '../event-store/event-store.port.js';
import { Processors } from '../event-store/event-store.module.js';
import { Checkpoints } from '../event-store/checkpoints.js';
import { CheckpointRow } from '../event-store/processor.entities.js';
import { DomainError } from '../shared/domain-error.js';

/** How long a query waits for its projections to reach minPosition before 503 PROJECTION_BEHIND. */
export const MIN_POSITION_WAIT_MS = 5_000;

/**
 * Read-your-writes for queries: waits until the projections a query reads have processed the
 * position a command returned, refuses models that are being rebuilt, and tells the position the
 * answer reflects (X-Projection-Position).
 */
@Injectable()
export class ProjectionGate {
  private readonly checkpoints: Checkpoints;

  constructor(
    private readonly processors: Processors,
    private readonly db: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {
    this.checkpoints = new Checkpoints(db);
  }

  /** Returns the position the projections have reached (the lowest of them). */
  async ready(names: readonly string[], minPosition?: string): Promise<string> {
    let lowest: string | undefined;
    for (const name of names) {
      const runner = this.processors.get(name);
      if (!runner) throw new Error(`no processor named ${name}`);
      if (minPosition !== undefined && !(await runner.waitFor(minPosition, MIN_POSITION_WAIT_MS))) {
        throw new DomainError('PROJECTION_BEHIND', `${name} has not yet processed position ${minPosition}; retry shortly`, {
          retryAfter: 1,
          projection: name,
          checkpoint: await runner.storedCheckpoint(),
        });
      }
      const row = await this.checkpoints.get((sql, params) => this.db.query(sql, params), name);
      const checkpoint = refuseRebuilding(name, row ? { position: row.position, rebuildTarget: row.rebuildTarget } : null);
      if (lowest === undefined || comparePositions(checkpoint, lowest) < 0) lowest = checkpoint;
    }
    return lowest ?? (await this.store.headPosition());
  }

  /**
   * Runs a query's reads on one snapshot of the database, having checked on that same snapshot
   * that none of its projections is being rebuilt. The check in ready() alone is not enough: a
   * rebuild that empties the tables between that check and the read would be answered as if it
   * were the model. On SQLite the unit is also queued (Database), so `read` must use `m` only.
   * `read` gets the projections' checkpoints on that snapshot: what it reads is a function of them.
   */
  async consistentRead<T>(names: readonly string[], read: (m: { query: SqlRunner }, checkpoints: string[]) => T | Promise<T>): Promise<T> {
    // A snapshot: a rebuild (here or in another process) cannot slip between check and read.
    return this.db.readSql(
      async (sql) => {
        const checkpoints: string[] = [];
        for (const name of names) checkpoints.push(refuseRebuilding(name, (await this.checkpoints.get(sql, name)) ?? null));
        return read({ query: sql }, checkpoints);
      },
      { snapshot: true },
    );
  }

  /**
   * One statement's rows, read as consistentRead reads them: 503 while a projection is being
   * rebuilt, on the same snapshot as the rows.
   */
  async consistentQuery<Row extends object>(names: readonly string[], sql: string, params: unknown[] = []): Promise<Row[]> {
    if (this.db.kind !== 'postgres') return this.consistentRead(names, (m) => m.query<Row>(sql, params));
    // The checkpoint columns are text; the read's own columns pass through untouched.
    const rows = await this.db.query<Record<string, string | null>>(withCheckpoints(names, sql), params);
    names.forEach((name, i) => {
      const first = rows[0];
      const position = first[`__gate_position_${i}`];
      refuseRebuilding(name, position == null ? null : { position, rebuildTarget: first[`__gate_rebuild_${i}`] ?? null });
    });
    return rows
      .filter((row) => row.__gate_row != null)
      .map((row) => {
        const out: Record<string, string | null> = {};
        for (const key of Object.keys(row)) if (!key.startsWith('__gate_')) out[key] = row[key];
        return out as unknown as Row;
      });
  }
}

/**
 * The processor names go into the statement as literals (they are constants of the code, never
 * input): the read's own placeholders keep their numbers.
 */
const PROCESSOR_NAME = /^[a-z][a-z0-9_-]*$/;

/**
 * PostgreSQL: the read wrapped in one statement that also reads each projection's checkpoint. One
 * statement sees one snapshot (READ COMMITTED), so a rebuild cannot slip between the check and the
 * rows, and the read costs one round trip instead of a transaction's five (START, SET ISOLATION,
 * checkpoint, rows, COMMIT: the database sat idle in transaction waiting for Node, docs/performance.md).
 * The LEFT JOIN keeps the checkpoints when the read finds no row; the row number keeps the read's order.
 */
function withCheckpoints(names: readonly string[], sql: string): string {
  const columns = names.map((name, i) => {
    if (!PROCESSOR_NAME.test(name)) throw new Error(`bad processor name ${name}`);
    const where = `FROM checkpoints WHERE processor = '${name}'`;
    return `(SELECT position ${where}) AS "__gate_position_${i}", (SELECT rebuild_target ${where}) AS "__gate_rebuild_${i}"`;
  });
  return `SELECT ${columns.join(', ')}, r.*
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (SELECT row_number() OVER () AS "__gate_row", q.* FROM (${sql}) AS q) AS r ON true
    ORDER BY r."__gate_row"`;
}

/** The projection's checkpoint, unless a rebuild has not yet caught up with its target: 503. */
function refuseRebuilding(name: string, row: Pick<CheckpointRow, 'position' | 'rebuildTarget'> | null): string {
  const checkpoint = row?.position ?? START;
  // Until the runner clears the mark: the replay reached its target and the indexes are back.
  if (row?.rebuildTarget) {
    throw new DomainError('PROJECTION_REBUILDING', `${name} is being rebuilt (at ${checkpoint} of ${row.rebuildTarget}); retry shortly`, {
      retryAfter: 5,
      projection: name,
      checkpoint,
      target: row.rebuildTarget,
    });
  }
  return checkpoint;
}
