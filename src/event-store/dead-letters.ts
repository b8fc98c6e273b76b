import type { SqlRunner } from '../database/database.js';
import type { Checkpoints } from './checkpoints.js';
import type { RecordedEvent } from './event-store.port.js';

/** An event that exhausted its retries: recorded, and the checkpoint moves past it, so that later events flow. */
export interface DeadLetter {
  event: RecordedEvent;
  error: Error;
  attempts: number;
}

/** Writes dead letters inside the transaction that moves the checkpoint past them, so neither happens without the other. */
export class DeadLetters {
  constructor(
    private readonly checkpoints: Checkpoints,
    private readonly processor: string,
  ) {}

  record(sql: SqlRunner, { event, error, attempts }: DeadLetter): Promise<void> {
    return this.checkpoints.deadLetter(sql, {
      processor: this.processor,
      position: event.position,
      eventId: event.id,
      eventType: event.type,
      streamId: event.streamId,
      // The stack says where it failed; the cap keeps one runaway message from bloating the table.
      error: String(error.stack ?? error.message).slice(0, 4000),
      attempts,
    });
  }
}
