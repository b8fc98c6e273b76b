import type { SqlRunner } from '../database/database.js';
import type { RecordedEvent } from './event-store.port.js';

/**
 * Something that follows the log: a projection or the lead conversion saga. The runner
 * (processor-runner.ts) feeds it every event after its checkpoint, in order.
 */
export interface Processor {
  readonly name: string;
  /** The event types it reads; other events only move its checkpoint. All when omitted. */
  readonly eventTypes?: readonly string[];
  /**
   * Side effects outside the database transaction (the saga's appends). Must be idempotent:
   * after a crash the same event is performed again. `signal` aborts when the runner stops: work
   * that waits (for another stream to catch up) must give up then.
   */
  perform?(event: RecordedEvent, signal: AbortSignal): Promise<void>;
  /** Read-model writes, committed in one transaction with the new checkpoint. */
  apply?(events: RecordedEvent[], sql: SqlRunner): Promise<void>;
  /** Called once when an event exhausted its retries, before it goes to the dead letters. */
  giveUp?(event: RecordedEvent, error: Error): Promise<void>;
  /** Drops the read model's rows so that a rebuild can replay from the start. */
  reset?(sql: SqlRunner): Promise<void>;
  /**
   * Around a rebuild: secondary indexes that only queries need can be dropped while the replay
   * runs (queries answer 503 meanwhile) and built once at the end, which is much cheaper than
   * maintaining them row by row. The runner runs each statement of restoreIndexes by itself
   * (Database#buildIndex), so that other work gets the database between two index builds (on
   * SQLite a build holds the connection and the event loop: about 1.5 s per index at 1,000,000
   * leads). The statements must be idempotent (a crash may repeat them).
   */
  suspendIndexes?(sql: SqlRunner): Promise<void>;
  restoreIndexes?(): readonly string[];
}

/**
 * Thrown by `perform` when the event cannot be handled yet because another one, earlier in the log
 * and still being performed in the same batch, has to finish first (a conversion that links a
 * record another conversion is creating). Waiting is not failing: the runner retries it without
 * counting attempts for up to `maxWaitMs`, after which it counts like any other failure (the
 * other event may never finish, if it went to the dead letters).
 */
export class NotYetError extends Error {
  constructor(
    message: string,
    readonly maxWaitMs = 60_000,
  ) {
    super(message);
    this.name = 'NotYetError';
  }
}
