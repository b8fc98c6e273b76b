import { Logger } from '@nestjs/common';
import {
  ANY as ESDB_ANY, BACKWARDS, END, EventStoreDBClient, NO_STREAM as ESDB_NO_STREAM, START as ESDB_START,
  STREAM_EXISTS as ESDB_STREAM_EXISTS, StreamNotFoundError, WrongExpectedVersionError, excludeSystemEvents, jsonEvent,
  type AllStreamResolvedEvent, type AllStreamSubscription, type AppendExpectedRevision, type Position,
  type ReadPosition, type ResolvedEvent, type StreamingRead,
} from '@eventstore/db-client';
import {
  ANY, NO_STREAM, START, STREAM_EXISTS, WrongExpectedRevisionError,
  type AppendResult, type EventMetadata, type EventStore, type ExpectedRevision, type NewEvent, type RecordedEvent, type StreamAppend,
} from '../event-store.port.js';

/** Servers before 22.6 send this (uint64 -1) as the commit position of events read from a stream. */
const NO_POSITION = 2n ** 64n - 1n;
/** Bounds the ids awaiting their echo from the live subscription (an echo can be lost in a resubscribe gap). */
const MAX_PENDING_ECHOES = 10_000;
const RESUBSCRIBE_MIN_MS = 500;
const RESUBSCRIBE_MAX_MS = 30_000;

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
  private readonly listeners = new Set<() => void>();
  /** Ids this process appended and already announced: their echo on the subscription is not news. */
  private readonly pendingEchoes = new Set<string>();
  private subscription?: AllStreamSubscription;
  private resubscribeTimer?: NodeJS.Timeout;
  private resubscribeDelay = RESUBSCRIBE_MIN_MS;
  private missedWhileDown = false;
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
    // Registered before sending: the subscription may deliver the events before the append answers.
    const echoes = this.subscription ? events.map((e) => e.id) : [];
    for (const id of echoes) this.expectEcho(id);
    let result;
    try {
      result = await this.client.appendToStream(streamId, events.map(toEventData), {
        expectedRevision: toEsdbExpected(expectedRevision),
      });
    } catch (error) {
      for (const id of echoes) this.pendingEchoes.delete(id);
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion === ESDB_NO_STREAM ? -1 : Number(error.actualVersion);
        throw new WrongExpectedRevisionError(streamId, expectedRevision, actual);
      }
      throw error;
    }
    // An idempotent retry (same ids, same expected revision) answers without a position.
    const commit = result.position?.commit ?? (await this.commitPositionAt(streamId, result.nextExpectedRevision));
    this.notify();
    return { nextRevision: Number(result.nextExpectedRevision), position: commit.toString() };
  }

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

  /**
   * Listeners hear of this process's appends as soon as they commit, and of other processes'
   * appends through one live subscription to $all, opened with the first listener.
   */
  onAppended(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.subscription && !this.resubscribeTimer && !this.closed) this.subscribe();
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resubscribeTimer);
    this.listeners.clear();
    this.pendingEchoes.clear();
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.unsubscribe().catch(() => undefined);
    await this.client.dispose();
  }

  private subscribe(): void {
    this.resubscribeTimer = undefined;
    if (this.closed) return;
    const subscription = this.client.subscribeToAll({ fromPosition: END, filter: excludeSystemEvents() });
    this.subscription = subscription;
    subscription.on('confirmation', () => {
      this.resubscribeDelay = RESUBSCRIBE_MIN_MS;
      // Appends made while we were not subscribed went unheard: one poke makes readers look.
      if (this.missedWhileDown) {
        this.missedWhileDown = false;
        this.notify();
      }
    });
    subscription.on('data', (resolved: AllStreamResolvedEvent) => {
      const event = resolved.event;
      if (!event || isSystem(event) || this.pendingEchoes.delete(event.id)) return;
      this.notify();
    });
    const drop = (why: string) => {
      if (this.subscription !== subscription) return;
      this.subscription = undefined;
      void subscription.unsubscribe().catch(() => undefined);
      if (this.closed) return;
      this.missedWhileDown = true;
      this.logger.error(`live subscription to $all ${why}; resubscribing in ${this.resubscribeDelay} ms`);
      this.resubscribeTimer = setTimeout(() => this.subscribe(), this.resubscribeDelay).unref();
      this.resubscribeDelay = Math.min(this.resubscribeDelay * 2, RESUBSCRIBE_MAX_MS);
    };
    subscription.on('error', (error: Error) => drop(`failed: ${error.message}`));
    subscription.on('end', () => drop('ended'));
  }

  private expectEcho(id: string): void {
    this.pendingEchoes.add(id);
    if (this.pendingEchoes.size > MAX_PENDING_ECHOES) {
      this.pendingEchoes.delete(this.pendingEchoes.values().next().value!);
    }
  }

  private notify(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        this.logger.error(`onAppended listener threw: ${(error as Error).message}`);
      }
    }
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
