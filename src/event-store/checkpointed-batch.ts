import { isDatabaseUnavailable } from '../database/availability.js';
import type { Database, SqlRunner } from '../database/database.js';
import type { DeadLetter, DeadLetters } from './dead-letters.js';
import { comparePositions, type RecordedEvent } from './event-store.port.js';
import type { Projection } from './processor.js';
import { LeaseLostError, type ProcessorLease } from './processor-lease.js';
import type { Retries } from './retries.js';

/** `stopped`: a stop was requested before the batch was through; what did not commit is pulled again by the next holder. */
export type BatchOutcome = 'done' | 'stopped';

/** Where the runner stands; it learns of a new position only once the commit went through. */
export interface Cursor {
  checkpoint(): string;
  moved(position: string): void;
}

/**
 * The only way a processor's position moves. Its writes, its dead letters and the checkpoint's
 * compare-and-set commit in one transaction, together or not at all: a crash anywhere causes
 * neither a lost nor a double effect.
 */
export class CheckpointCommit {
  constructor(
    private readonly db: Database,
    private readonly lease: ProcessorLease,
    private readonly deadLetters: DeadLetters,
    private readonly cursor: Cursor,
  ) {}

  get checkpoint(): string {
    return this.cursor.checkpoint();
  }

  async commit(
    to: string,
    { write, deadLetters = [] }: { write?: (sql: SqlRunner) => Promise<void>; deadLetters?: readonly DeadLetter[] } = {},
  ): Promise<void> {
    await this.db.transactionSql(async (sql) => {
      if (write) await write(sql);
      for (const letter of deadLetters) await this.deadLetters.record(sql, letter);
      await this.lease.advance(sql, this.cursor.checkpoint(), to);
    });
    this.cursor.moved(to);
  }
}

/**
 * A projection's batch in one transaction, since most of the cost of a commit is fixed. When it
 * fails, the batch is applied again one event per transaction to find the bad event, so that it
 * alone is retried and dead-lettered while the events around it still go through.
 */
export class ProjectionBatch {
  constructor(
    private readonly projection: Projection,
    private readonly commits: CheckpointCommit,
    private readonly retries: Retries,
  ) {}

  async run(events: RecordedEvent[], position: string, signal: AbortSignal): Promise<BatchOutcome> {
    const apply = (batch: RecordedEvent[]) => (sql: SqlRunner) => this.projection.apply(batch, sql);
    try {
      await this.commits.commit(position, { write: apply(events) });
      return 'done';
    } catch (error) {
      // An outage is no bad event: the loop pulls the batch again once the database is back.
      if (error instanceof LeaseLostError || isDatabaseUnavailable(error)) throw error;
    }
    for (const event of events) {
      if (signal.aborted) return 'stopped';
      const attempt = await this.retries.attempt(event, () => this.commits.commit(event.position, { write: apply([event]) }), signal);
      if (attempt.outcome === 'stopped') return 'stopped';
      if (attempt.outcome === 'failed')
        await this.commits.commit(event.position, { deadLetters: [{ event, error: attempt.error, attempts: attempt.attempts }] });
    }
    // Past the last event when the store's filter skipped events of other types after it.
    if (comparePositions(this.commits.checkpoint, position) < 0) await this.commits.commit(position);
    return 'done';
  }
}

/**
 * Adaptive batching: while far behind (a rebuild, a backlog) each full batch doubles the next one,
 * up to the maximum, so that a replay pays the fixed cost of a commit per thousands of events;
 * once caught up, batches are small again so that no single commit holds the database long.
 */
export class BatchSize {
  private size: number;

  constructor(
    private readonly initial: number,
    private readonly max: number,
  ) {
    this.size = initial;
  }

  get current(): number {
    return this.size;
  }

  /** After a batch of `pulled` events: a batch that was not full emptied the backlog. */
  next(pulled: number): 'caught up' | 'behind' {
    if (pulled < this.size) {
      this.size = this.initial;
      return 'caught up';
    }
    this.size = Math.min(this.size * 2, this.max);
    return 'behind';
  }

  reset(): void {
    this.size = this.initial;
  }
}
