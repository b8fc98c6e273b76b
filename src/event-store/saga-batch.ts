import type { BatchOutcome, CheckpointCommit } from './checkpointed-batch.js';
import type { DeadLetter } from './dead-letters.js';
import type { RecordedEvent } from './event-store.port.js';
import type { SagaProcessor } from './processor.js';
import type { Retries } from './retries.js';

/**
 * A saga's batch: side effects run concurrently (they are idempotent and independent per event),
 * each with its own retries, and the checkpoint moves past the batch once all are done or
 * dead-lettered. A failing event delays its batch by its retries; it never stops later events.
 */
export class SagaBatch {
  constructor(
    private readonly saga: SagaProcessor,
    private readonly commits: CheckpointCommit,
    private readonly retries: Retries,
    private readonly concurrency: number,
  ) {}

  async run(events: RecordedEvent[], position: string, signal: AbortSignal): Promise<BatchOutcome> {
    const deadLetters: DeadLetter[] = [];
    let next = 0;
    let stopped = false;
    const worker = async (): Promise<void> => {
      while (next < events.length && !signal.aborted) {
        const event = events[next++];
        const attempt = await this.retries.attempt(event, () => this.saga.perform(event, signal), signal);
        if (attempt.outcome === 'done') continue;
        // At once, not after the batch: another event of the batch may be waiting for this outcome
        // (a conversion linking a record this one was to create waits until it is created or failed).
        if (attempt.outcome === 'failed' && (await this.retries.giveUp(this.saga, event, attempt.error, signal)) === 'done') {
          deadLetters.push({ event, error: attempt.error, attempts: attempt.attempts });
          continue;
        }
        stopped = true;
        return;
      }
    };
    // Every worker ends before the runner does, so that no side effect outlives stop().
    await Promise.all(Array.from({ length: Math.min(this.concurrency, events.length) }, worker));
    // Events performed but not committed are performed again by the next holder: they are idempotent.
    if (stopped || next < events.length) return 'stopped';
    await this.commits.commit(position, { deadLetters });
    return 'done';
  }
}
