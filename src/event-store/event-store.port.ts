/**
 * The event store port. Two adapters implement it (sql/ on TypeORM, esdb/ on EventStoreDB) and
 * both pass test/event-store.contract.ts. Semantics follow EventStoreDB so that the adapters agree:
 * first revision 0, expected revisions NO_STREAM / STREAM_EXISTS / ANY / n, idempotent retry of
 * the same event ids, and positions that are exclusive lower bounds when reading or subscribing.
 *
 * Positions are opaque, totally ordered, and travel as decimal strings at every edge (HTTP, JSON):
 * PostgreSQL's bigint arrives as a string and JSON.stringify throws on BigInt.
 */
export const NO_STREAM = 'no_stream' as const;
export const STREAM_EXISTS = 'stream_exists' as const;
export const ANY = 'any' as const;
export type ExpectedRevision = typeof NO_STREAM | typeof STREAM_EXISTS | typeof ANY | number;

/** Position before the first event: reading or subscribing from it yields everything. */
export const START = '0';

export interface EventMetadata {
  userId: string;
  correlationId: string;
  causationId: string;
  /** ISO time at which the command that caused the event was accepted. */
  at: string;
  [key: string]: unknown;
}

export interface NewEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  data: T;
  metadata: EventMetadata;
}

/**
 * An event as stored. `T` is the shape of its data and `Type` its type name when the reader knows
 * them (RecordedOf); read from the store they are `unknown` and `string`.
 */
export interface RecordedEvent<T = unknown, Type extends string = string> {
  id: string;
  type: Type;
  streamId: string;
  revision: number;
  position: string;
  data: T;
  metadata: EventMetadata;
  createdAt: Date;
}

/** An event of the domain as its decider or its module declares it: a type name and the data of that type. */
export interface DomainEvent {
  type: string;
  data: Record<string, unknown>;
}

/**
 * The recorded form of each event of a union: a switch on `type` narrows `data`. The log holds, for
 * each type, the data its event declares (upcasting, upcasting.ts, keeps old events in that shape).
 */
export type RecordedOf<E extends DomainEvent> = E extends DomainEvent ? RecordedEvent<E['data'], E['type']> : never;

/** Narrows a recorded event to the event of E its type names, so that its data can be read. */
export function isEventOf<E extends DomainEvent>(event: RecordedEvent, types: readonly E['type'][]): event is RecordedOf<E> {
  return types.some((type) => type === event.type);
}

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  nextRevision: number;
  /** Global position of the last appended event. */
  position: string;
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** -1 when the stream does not exist. */
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${actual}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

export interface StreamAppend {
  streamId: string;
  events: NewEvent[];
  expectedRevision: ExpectedRevision;
}

export interface EventStore {
  /**
   * Whether appendToStreams is all or nothing. Where it is not, a crash between two streams can
   * leave the first ones written, and what depends on them being written together needs repair
   * (uniqueness claims whose owner never came: LapsedClaimsProcessor).
   */
  readonly atomicMultiStreamAppends: boolean;
  appendToStream(streamId: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult>;
  /**
   * Appends to several streams. The SQL adapter does it in one transaction (all or nothing);
   * EventStoreDB has no multi-stream transaction, so its adapter appends one stream after the
   * other and a failure can leave the first ones written: callers must be idempotent per stream
   * (the saga is). Results are in the order of `appends`.
   */
  appendToStreams(appends: StreamAppend[]): Promise<AppendResult[]>;
  /** Events of one stream in revision order; a missing stream reads as empty. */
  readStream(streamId: string, options?: { fromRevision?: number }): Promise<RecordedEvent[]>;
  /** Events of all streams with position > `after`, in position order, at most `limit`. */
  readAll(after: string, limit: number): Promise<RecordedEvent[]>;
  /** Position of the last event in the store (START when empty). */
  headPosition(): Promise<string>;
  /**
   * A catch-up subscription to all streams from `after` (exclusive), optionally only the events of
   * `eventTypes` (filtered by the store, so that a processor reading one type in a hundred is not
   * sent the other ninety-nine). It follows appends of this and other processes. Close it when done.
   */
  subscribeToAll(options: { after: string; eventTypes?: readonly string[] }): AllSubscription;
  close(): Promise<void>;
}

export interface SubscriptionPage {
  /** The next events after the previous page, in position order. */
  events: RecordedEvent[];
  /**
   * Everything up to here has been seen: every matching event at or before it is in this page or
   * an earlier one. At least the last event's position; with a filter it can lie beyond it, past
   * events of other types. An exclusive lower bound, like readAll's `after`: subscribing again
   * from it continues without gap or repeat.
   */
  position: string;
}

export interface AllSubscription {
  /**
   * The next events, at most `max`. Resolves as soon as there are events or `position` moved on,
   * else after `waitMs` with no events and the same position. One pull at a time; a pull after
   * close() rejects.
   */
  pull(max: number, waitMs: number): Promise<SubscriptionPage>;
  /** Ends the subscription; a pull in progress resolves at once with no events. */
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EVENT_STORE');

export function comparePositions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
