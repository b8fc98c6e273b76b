import type { Logger } from '@nestjs/common';
import {
  START as ESDB_START,
  eventTypeFilter,
  excludeSystemEvents,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type Filter,
  type Position,
} from '@eventstore/db-client';
import type { AllSubscription, RecordedEvent, SubscriptionPage } from '../event-store.port.js';
import { isSystem, toRecorded } from './esdb-events.js';

const RESUBSCRIBE_MIN_MS = 500;
const RESUBSCRIBE_MAX_MS = 30_000;
/** Events a subscription holds for its reader before it pauses the gRPC stream. */
const MAX_BUFFERED = 1_000;
/**
 * A filtered subscription's position moves past events of other types only at a checkpoint, which
 * the server sends after every checkpointInterval × maxSearchWindow events it considered: here 32.
 * Smaller windows move it sooner but make catching up read the log in smaller pages.
 */
const MAX_SEARCH_WINDOW = 32;
const CHECKPOINT_INTERVAL = 1;

/**
 * A checkpoint travels down the subscription's stream as a marker among the events: the client
 * reports checkpoints through a callback, while events before it may still wait in the stream's
 * buffer, and taking its position at once would skip them.
 */
class Checkpoint {
  constructor(readonly position: Position) {}
}

/**
 * One catch-up subscription to $all, filtered on the server, read by pulling. Events are buffered
 * up to MAX_BUFFERED, then the gRPC stream is paused until the reader takes some. When the stream
 * fails or ends, the buffer is dropped and a new subscription starts from the last position handed
 * to the reader, so nothing is skipped or delivered twice.
 */
export class EsdbAllSubscription implements AllSubscription {
  private stream?: AllStreamSubscription;
  private buffer: RecordedEvent[] = [];
  /** Everything up to here arrived: the last event's or checkpoint's position. */
  private seen: bigint;
  /** Everything up to here was handed to the reader: where a new subscription starts. */
  private handedOut: bigint;
  private waiter?: () => void;
  private resubscribeTimer?: NodeJS.Timeout;
  private resubscribeDelay = RESUBSCRIBE_MIN_MS;
  private closed = false;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly logger: Logger,
    after: bigint,
    private readonly eventTypes: readonly string[] | undefined,
    private readonly onClose: () => void,
  ) {
    this.seen = this.handedOut = after;
    this.subscribe();
  }

  async pull(max: number, waitMs: number): Promise<SubscriptionPage> {
    if (this.closed) throw new Error('the subscription is closed');
    if (this.buffer.length === 0 && this.seen <= this.handedOut) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiter = done;
      });
      this.waiter = undefined;
    }
    const events = this.buffer.splice(0, max);
    if (this.stream?.isPaused() && this.buffer.length < MAX_BUFFERED) this.stream.resume();
    // Events left in the buffer lie between the last one taken and `seen`.
    const covered = this.buffer.length === 0 ? this.seen : events.length > 0 ? BigInt(events[events.length - 1].position) : this.handedOut;
    // Never backwards, even if a server sent a stale checkpoint (KurrentDB#3697).
    if (covered > this.handedOut) this.handedOut = covered;
    return { events, position: this.handedOut.toString() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resubscribeTimer);
    this.buffer = [];
    this.waiter?.();
    this.onClose();
    const stream = this.stream;
    this.stream = undefined;
    await stream?.unsubscribe().catch(() => undefined);
  }

  private subscribe(): void {
    this.resubscribeTimer = undefined;
    if (this.closed) return;
    const from = this.handedOut;
    const checkpointReached = (subscription: AllStreamSubscription, position: Position) => {
      // Called from within the stream's transform, so this lands behind the events before it.
      subscription.push(new Checkpoint(position));
    };
    const options = { checkpointInterval: CHECKPOINT_INTERVAL, maxSearchWindow: MAX_SEARCH_WINDOW, checkpointReached };
    const filter: Filter = this.eventTypes ? eventTypeFilter({ regex: exactly(this.eventTypes), ...options }) : excludeSystemEvents(options);
    const stream = this.client.subscribeToAll({ fromPosition: from === 0n ? ESDB_START : { commit: from, prepare: from }, filter });
    this.stream = stream;
    stream.on('confirmation', () => {
      this.resubscribeDelay = RESUBSCRIBE_MIN_MS;
    });
    stream.on('data', (item: AllStreamResolvedEvent | Checkpoint) => {
      if (this.stream !== stream) return;
      if (item instanceof Checkpoint) {
        // We resume from {commit, commit} (class comment), so only a checkpoint of that form is one
        // to resume from. Servers with KurrentDB#4970 send {end of log, 0}, which would skip an event.
        const { commit, prepare } = item.position;
        if (commit === prepare && commit > this.seen) this.seen = commit;
      } else {
        const event = item.event;
        if (!event) return;
        // Subscriptions start after fromPosition; should a server deliver the event at it anyway
        // (reads of $all do include their start), it was handed out already.
        if (event.position.commit <= from) return;
        if (!isSystem(event)) this.buffer.push(toRecorded(item)!);
        if (event.position.commit > this.seen) this.seen = event.position.commit;
        if (this.buffer.length >= MAX_BUFFERED) stream.pause();
      }
      this.waiter?.();
    });
    const drop = (why: string) => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      void stream.unsubscribe().catch(() => undefined);
      if (this.closed) return;
      const dropped = this.buffer.length;
      this.buffer = [];
      this.seen = this.handedOut;
      this.logger.error(`subscription to $all ${why}; dropped ${dropped} buffered events, resubscribing from ${this.handedOut} in ${this.resubscribeDelay} ms`);
      this.resubscribeTimer = setTimeout(() => this.subscribe(), this.resubscribeDelay).unref();
      this.resubscribeDelay = Math.min(this.resubscribeDelay * 2, RESUBSCRIBE_MAX_MS);
    };
    stream.on('error', (error: Error) => drop(`failed: ${error.message}`));
    stream.on('end', () => drop('ended'));
  }
}

/** A server-side regex (.NET) matching exactly these event types. */
function exactly(types: readonly string[]): string {
  // An empty alternation would match every type; this matches none.
  if (types.length === 0) return '(?!)';
  return `^(?:${types.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
}
