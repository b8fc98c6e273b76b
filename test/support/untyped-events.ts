import type * as Port from '../../src/event-store/event-store.port.js';

/**
 * The event store port as the suites read it. Service code declares the data of the events it reads
 * (RecordedEvent's data is `unknown` until then); an assertion reads fields of whatever event it
 * checks, as untyped JSON, like an HTTP response body.
 */
export type RecordedEvent = Port.RecordedEvent<any>;

export interface SubscriptionPage extends Omit<Port.SubscriptionPage, 'events'> {
  events: RecordedEvent[];
}

export interface AllSubscription extends Omit<Port.AllSubscription, 'pull'> {
  pull(max: number, waitMs: number): Promise<SubscriptionPage>;
}

export interface EventStore extends Omit<Port.EventStore, 'readStream' | 'readAll' | 'subscribeToAll'> {
  readStream(streamId: string, options?: { fromRevision?: number }): Promise<RecordedEvent[]>;
  readAll(after: string, limit: number): Promise<RecordedEvent[]>;
  subscribeToAll(options: { after: string; eventTypes?: readonly string[] }): AllSubscription;
}
