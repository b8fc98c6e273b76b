import { comparePositions, START, type AllSubscription, type EventStore, type SubscriptionPage } from './event-store.port.js';

/**
 * The subscription a runner pulls from, kept open between batches because opening one costs a
 * read. Opened again whenever it no longer continues from the checkpoint: a batch that did not
 * commit in full, a checkpoint moved by a takeover or a rebuild.
 */
export class CheckpointSubscription {
  private subscription?: AllSubscription;
  private continuesFrom = START;

  constructor(
    private readonly store: EventStore,
    private readonly eventTypes: readonly string[] | undefined,
  ) {}

  async pull(checkpoint: string, max: number, waitMs: number): Promise<SubscriptionPage> {
    const page = await this.from(checkpoint).pull(max, waitMs);
    this.continuesFrom = page.position;
    return page;
  }

  /** Also ends a pull in progress: stop() must not wait for `waitMs`. */
  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
  }

  private from(checkpoint: string): AllSubscription {
    if (this.subscription && comparePositions(this.continuesFrom, checkpoint) === 0) return this.subscription;
    void this.subscription?.close();
    this.subscription = this.store.subscribeToAll({ after: checkpoint, eventTypes: this.eventTypes });
    this.continuesFrom = checkpoint;
    return this.subscription;
  }
}
