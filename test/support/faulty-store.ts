import type {
  AllSubscription,
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  RecordedEvent,
  StreamAppend,
} from '../../src/event-store/event-store.port.js';

/** Whether the request "crashes" just before appending `appends[index]` (the ones before it are written). */
export type CrashBefore = (index: number, appends: StreamAppend[]) => boolean;

/**
 * A test double of the event store port with injected crashes. `atomic: false` appends several
 * streams as EventStoreDB does, one after the other, so a crash leaves the streams before it
 * written and the ones after not; `atomic: true` keeps the inner store's all-or-nothing and a
 * crash writes nothing. The invariant suites run on both to show that uniqueness and linked
 * records hold whether or not multi-stream appends are atomic.
 */
export class FaultyStore implements EventStore {
  /** Appends abandoned so far. */
  crashes = 0;

  constructor(
    private readonly inner: EventStore,
    readonly atomicMultiStreamAppends: boolean,
    private readonly crashBefore: CrashBefore,
  ) {}

  async appendToStreams(appends: StreamAppend[]): Promise<AppendResult[]> {
    if (this.atomicMultiStreamAppends) {
      if (appends.some((_, i) => this.crashBefore(i, appends))) this.crash(appends[0]);
      return this.inner.appendToStreams(appends);
    }
    const results: AppendResult[] = [];
    for (const [i, append] of appends.entries()) {
      if (this.crashBefore(i, appends)) this.crash(append);
      results.push(await this.inner.appendToStream(append.streamId, append.events, { expectedRevision: append.expectedRevision }));
    }
    return results;
  }

  private crash(before: StreamAppend): never {
    this.crashes++;
    throw new Error(`injected crash before appending to ${before.streamId}`);
  }

  appendToStream(streamId: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    return this.inner.appendToStream(streamId, events, options);
  }
  readStream(streamId: string, options?: { fromRevision?: number }): Promise<RecordedEvent[]> {
    return this.inner.readStream(streamId, options);
  }
  readAll(after: string, limit: number): Promise<RecordedEvent[]> {
    return this.inner.readAll(after, limit);
  }
  headPosition(): Promise<string> {
    return this.inner.headPosition();
  }
  subscribeToAll(options: { after: string; eventTypes?: readonly string[] }): AllSubscription {
    return this.inner.subscribeToAll(options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
