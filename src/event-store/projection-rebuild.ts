import type { Logger } from '@nestjs/common';
import type { Database } from '../database/database.js';
import type { Checkpoints } from './checkpoints.js';
import { comparePositions, START } from './event-store.port.js';
import type { Projection } from './processor.js';
import { errorMessage } from './runner-health.js';

/**
 * Drops a projection's read model and replays the log from the start. The target, the head when
 * the rebuild began, is stored with the checkpoint, so that queries answer 503 until the replay
 * reaches it, on every instance, and a replay interrupted by a crash or a takeover still finishes.
 */
export class ProjectionRebuild {
  private target: string | null = null;
  private startedAt = 0;
  private lastProgressLog = 0;
  /** Moves on each rebuild begun here and each reload of the stored mark: an index restore started before stops. */
  private generation = 0;

  constructor(
    private readonly projection: Projection,
    private readonly db: Database,
    private readonly checkpoints: Checkpoints,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs from any instance: reset and checkpoint move in one transaction, and whichever instance
   * holds the lease sees its next checkpoint compare-and-set fail and reloads from the start.
   */
  async begin(head: string): Promise<void> {
    await this.db.transactionSql(async (sql) => {
      await this.projection.reset(sql);
      // An empty log has nothing to replay, so the indexes would never be restored.
      if (head !== START) await this.projection.suspendIndexes?.(sql);
      await this.checkpoints.restart(sql, this.projection.name, head === START ? null : head);
    });
    this.logger.log(`rebuild started: replaying up to position ${head}`);
    this.generation++;
    this.target = head === START ? null : head;
    this.startedAt = Date.now();
  }

  /** With the lease: the stored mark is the truth, whoever started the rebuild. */
  async resume(target: string | null, checkpoint: string): Promise<void> {
    // An index restore still running here belongs to what this instance knew before: it stops.
    this.generation++;
    this.target = target;
    // A rebuild whose replay ended on another instance, or before a crash, finishes here.
    if (this.target && comparePositions(checkpoint, this.target) >= 0) await this.finish();
  }

  /** On every commit: any of them, a dead letter's included, may be the one that reaches the target. */
  progressed(position: string): void {
    if (!this.target) return;
    if (comparePositions(position, this.target) >= 0) {
      void this.finish();
    } else if (Date.now() - this.lastProgressLog > 2000) {
      this.lastProgressLog = Date.now();
      this.logger.log(`rebuilding: at position ${position} of ${this.target}`);
    }
  }

  /**
   * Restores the indexes, one build at a time, then clears the rebuild mark: queries stay refused
   * until all of it is done. A failure keeps the mark and is tried again after the next batch.
   *
   * On SQLite a build holds the only connection, and with it the event loop, for its whole
   * duration (up to a few seconds at 1,000,000 leads, docs/sqlite.md): nothing else runs meanwhile.
   * Between two builds the work that waited (readiness probes, commands, the other processors'
   * batches) runs first, for a tenth of the time the build took, before the next build is queued:
   * so nothing waits longer than the build in progress. On PostgreSQL a build blocks only the
   * writes to its table (the replay's own, while queries are refused), and the pause costs nothing.
   */
  private async finish(): Promise<void> {
    const target = this.target;
    if (!target) return;
    // Cleared at once: the commits that follow must not start a second finish meanwhile.
    this.target = null;
    const generation = this.generation;
    try {
      for (const statement of this.projection.restoreIndexes?.() ?? []) {
        // A newer rebuild began (and dropped the indexes again): it restores them once its replay is done.
        if (this.generation !== generation) return;
        const started = performance.now();
        await this.db.buildIndex(statement);
        await idle(Math.min(MAX_PAUSE_BETWEEN_BUILDS_MS, (performance.now() - started) / 10));
      }
      if (this.generation !== generation) return;
      await this.db.transactionSql((sql) => this.checkpoints.clearRebuild(sql, this.projection.name, target));
      this.logger.log(`rebuild finished at position ${target} in ${Date.now() - this.startedAt} ms`);
    } catch (error) {
      if (this.generation === generation) this.target = target;
      this.logger.error(`could not finish the rebuild, will retry: ${errorMessage(error)}`);
    }
  }
}

/** The longest pause between two index builds (see finish). */
const MAX_PAUSE_BETWEEN_BUILDS_MS = 100;

/** A timer, not a microtask: the event loop handles I/O and the queued work runs before the next build. */
function idle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
