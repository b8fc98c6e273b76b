import type { SqlRunner } from '../database/database.js';
import type { RecordedEvent } from './event-store.port.js';

/** What every processor declares. The runner (processor-runner.ts) feeds it every event after its checkpoint, in order. */
interface FollowsTheLog {
  readonly name: string;
  /** The event types it reads; other events only move its checkpoint. All when omitted. */
  readonly eventTypes?: readonly string[];
}

/**
 * A read model: its writes commit in one transaction with the checkpoint, so that they happen
 * exactly once, and it can be dropped and replayed from the start of the log (a rebuild), which
 * is only safe because it has no effect outside its own tables.
 */
export interface Projection extends FollowsTheLog {
  /** Read-model writes, committed in one transaction with the new checkpoint. */
  apply(events: RecordedEvent[], sql: SqlRunner): Promise<void>;
  /** Drops the read model's rows so that a rebuild can replay from the start. */
  reset(sql: SqlRunner): Promise<void>;
  /**
   * Around a rebuild: secondary indexes that only queries need can be dropped while the replay
   * runs (queries answer 503 meanwhile) and built once at the end, which is much cheaper than
   * maintaining them row by row. The runner runs each statement of restoreIndexes by itself
   * (Database#buildIndex), so that other work gets the database between two index builds (on
   * SQLite a build holds the connection and the event loop: about 1.5 s per index at 1,000,000
   * leads). The statements must be idempotent (a crash may repeat them). Optional because most
   * read models have no index worth the trouble.
   */
  suspendIndexes?(sql: SqlRunner): Promise<void>;
  restoreIndexes?(): readonly string[];
  /** Never: an effect outside the transaction would happen again on every rebuild. */
  readonly perform?: never;
}

/**
 * Side effects driven by the log (the lead conversion saga's commands, the lapsed-claims
 * releases). Not rebuildable: replaying it would perform its effects a second time.
 */
export interface SagaProcessor extends FollowsTheLog {
  /**
   * Runs outside any database transaction, so it must be idempotent: after a crash the same event
   * is performed again. `signal` aborts when the runner stops: work that waits (for another stream
   * to catch up) must give up then, by resolving or rejecting; either way the runner does not
   * count it as a failure and the next lease holder performs the event again.
   */
  perform(event: RecordedEvent, signal: AbortSignal): Promise<void>;
  /** Called once when an event exhausted its retries, before it goes to the dead letters. */
  giveUp?(event: RecordedEvent, error: Error): Promise<void>;
  /** Never: it has no read model to write in the checkpoint's transaction or to drop. */
  readonly apply?: never;
  readonly reset?: never;
}

/** One or the other, never a mix: the runner commits a projection's batch and performs a saga's events. */
export type Processor = Projection | SagaProcessor;

export function isSaga(processor: Processor): processor is SagaProcessor {
  return typeof processor.perform === 'function';
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
