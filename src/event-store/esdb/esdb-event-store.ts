import { Logger } from '@nestjs/common';
import {
  ANY as ESDB_ANY, BACKWARDS, END, EventStoreDBClient, NO_STREAM as ESDB_NO_STREAM, START as ESDB_START,
  STREAM_EXISTS as ESDB_STREAM_EXISTS, StreamNotFoundError, WrongExpectedVersionError, eventTypeFilter, excludeSystemEvents, jsonEvent,
  type AllStreamResolvedEvent, type AllStreamSubscription, type AppendExpectedRevision, type Filter, type Position,
  type ReadPosition, type ResolvedEvent, type StreamingRead,
} from '@eventstore/db-client';
import {
  ANY, NO_STREAM, START, STREAM_EXISTS, WrongExpectedRevisionError,
  type AllSubscription, type AppendResult, type EventMetadata, type EventStore, type ExpectedRevision, type NewEvent,
  type RecordedEvent, type StreamAppend, type SubscriptionPage,
} from '../event-store.port.js';

/** Servers before 22.6 send this (uint64 -1) as the commit position of events read from a stream. */
const NO_POSITION = 2n ** 64n - 1n;
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
 * Event store on EventStoreDB through @eventstore/db-client 6.x (gRPC).
 *
 * Positions are the commit position of an event in $all, as a decimal string. Reading $all from
 * a position needs the {commit, prepare} pair; we rebuild it as {p, p}. That holds for every event
 * appended through gRPC (each is its own implicit transaction, so commit == prepare); it does not
 * hold for legacy TCP explicit transactions, which this service never writes. Single node assumed.
 */
export class EsdbEventStore implements EventStore {
  private readonly logger = new Logger(EsdbEventStore.name);
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<EsdbAllSubscription>();
  private closed = false;

  constructor(connectionString: string) {
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  async appendToStream(
    streamId: string,
    events: NewEvent[],
    { expectedRevision }: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    let result;
    try {
      result = await this.client.appendToStream(streamId, events.map(toEventData), {
        expectedRevision: toEsdbExpected(expectedRevision),
      });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion === ESDB_NO_STREAM ? -1 : Number(error.actualVersion);
        throw new WrongExpectedRevisionError(streamId, expectedRevision, actual);
      }
      throw error;
    }
    // An idempotent retry (same ids, same expected revision) answers without a position.
    const commit = result.position?.commit ?? (await this.commitPositionAt(streamId, result.nextExpectedRevision));
    return { nextRevision: Number(result.nextExpectedRevision), position: commit.toString() };
  }

  /** EventStoreDB appends to one stream per call: see appendToStreams. */
  readonly atomicMultiStreamAppends = false;

  /** Not atomic across streams (EventStoreDB has no such transaction): one append after the other. */
  async appendToStreams(appends: StreamAppend[]): Promise<AppendResult[]> {
    const results: AppendResult[] = [];
    for (const { streamId, events, expectedRevision } of appends) results.push(await this.appendToStream(streamId, events, { expectedRevision }));
    return results;
  }

  async readStream(streamId: string, options: { fromRevision?: number } = {}): Promise<RecordedEvent[]> {
    const fromRevision = options.fromRevision === undefined ? ESDB_START : BigInt(options.fromRevision);
    const events: RecordedEvent[] = [];
    try {
      await scan(this.client.readStream(streamId, { fromRevision }), (resolved) => {
        const event = toRecorded(resolved);
        if (event) events.push(event);
        return true;
      });
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async readAll(after: string, limit: number): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    if (limit <= 0) return events;
    // Reads of $all include their start position, and system events fill pages without counting
    // towards `limit`: page on, skipping everything at or before the highest commit seen.
    let floor = BigInt(after);
    let from: ReadPosition = floor === 0n ? ESDB_START : { commit: floor, prepare: floor };
    const pageSize = Math.max(limit + 1, 64);
    for (;;) {
      let last: Position | undefined;
      const seen = await scan(this.client.readAll({ fromPosition: from, maxCount: pageSize }), (resolved) => {
        const event = resolved.event;
        if (!event) return true;
        last = event.position;
        if (event.position.commit <= floor || isSystem(event)) return true;
        events.push(toRecorded(resolved)!);
        return events.length < limit;
      });
      if (events.length >= limit || seen < pageSize || !last) return events;
      from = last;
      floor = last.commit;
    }
  }

  async headPosition(): Promise<string> {
    let head = START;
    await scan(this.client.readAll({ fromPosition: END, direction: BACKWARDS }), (resolved) => {
      const event = resolved.event;
      if (!event || isSystem(event)) return true;
      head = event.position.commit.toString();
      return false;
    });
    return head;
  }

  subscribeToAll({ after, eventTypes }: { after: string; eventTypes?: readonly string[] }): AllSubscription {
    if (this.closed) throw new Error('the event store is closed');
    const subscription = new EsdbAllSubscription(this.client, this.logger, BigInt(after), eventTypes, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }

  private async commitPositionAt(streamId: string, revision: bigint): Promise<bigint> {
    let commit: bigint | undefined;
    await scan(this.client.readStream(streamId, { fromRevision: revision, direction: BACKWARDS, maxCount: 1 }), (resolved) => {
      const event = toRecorded(resolved);
      if (event) commit = BigInt(event.position);
      return false;
    });
    if (commit === undefined) throw new Error(`no event at ${streamId}@${revision} to take the append's position from`);
    return commit;
  }
}

/** Visits events until `visit` returns false; returns how many it saw. Stopping early cancels the call. */
async function scan<E>(read: StreamingRead<E>, visit: (event: E) => boolean): Promise<number> {
  let seen = 0;
  for await (const item of read) {
    seen++;
    if (!visit(item)) {
      await read.cancel();
      break;
    }
  }
  return seen;
}

const ESDB_EXPECTED: Record<Exclude<ExpectedRevision, number>, AppendExpectedRevision> = {
  [NO_STREAM]: ESDB_NO_STREAM,
  [STREAM_EXISTS]: ESDB_STREAM_EXISTS,
  [ANY]: ESDB_ANY,
};

function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  return typeof expected === 'number' ? BigInt(expected) : ESDB_EXPECTED[expected];
}

function toEventData(event: NewEvent) {
  // $correlationId/$causationId are the keys EventStoreDB's $by_correlation_id projection reads.
  const metadata = { ...event.metadata, $correlationId: event.metadata.correlationId, $causationId: event.metadata.causationId };
  return jsonEvent({ id: event.id, type: event.type, data: event.data, metadata });
}

function isSystem(event: { type: string; streamId: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event) return undefined;
  const commit = event.position && event.position.commit !== NO_POSITION ? event.position.commit : resolved.commitPosition;
  if (commit === undefined || commit === NO_POSITION) {
    throw new Error(`EventStoreDB gave no position for ${event.streamId}@${event.revision}: a server 22.6 or later is needed`);
  }
  return {
    id: event.id,
    type: event.type,
    streamId: event.streamId,
    revision: Number(event.revision),
    position: commit.toString(),
    data: event.data,
    metadata: ownMetadata(event.metadata),
    createdAt: event.created,
  };
}

/** Our metadata without the keys added for EventStoreDB ($correlationId, $causationId, ...). */
function ownMetadata(metadata: unknown): EventMetadata {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata) || metadata instanceof Uint8Array) {
    return {} as EventMetadata;
  }
  return Object.fromEntries(Object.entries(metadata).filter(([key]) => !key.startsWith('$'))) as EventMetadata;
}

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
class EsdbAllSubscription implements AllSubscription {
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
      this.logger.error(
        `subscription to $all ${why}; dropped ${dropped} buffered events, resubscribing from ${this.handedOut} in ${this.resubscribeDelay} ms`,
      );
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
