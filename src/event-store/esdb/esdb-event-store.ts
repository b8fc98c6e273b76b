import { Logger } from '@nestjs/common';
import {
  ANY as ESDB_ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  NO_STREAM as ESDB_NO_STREAM,
  START as ESDB_START,
  STREAM_EXISTS as ESDB_STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AppendExpectedRevision,
  type Position,
  type ReadPosition,
  type StreamingRead,
} from '@eventstore/db-client';
import {
  ANY,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  WrongExpectedRevisionError,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type RecordedEvent,
  type StreamAppend,
} from '../event-store.port.js';
import { EsdbAllSubscription } from './esdb-all-subscription.js';
import { isSystem, toEventData, toRecorded } from './esdb-events.js';

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

  async appendToStream(streamId: string, events: NewEvent[], { expectedRevision }: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
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
