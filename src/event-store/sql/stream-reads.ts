/** One caller's readStream, waiting for its batch. */
interface QueuedRead<Event> {
  streamId: string;
  fromRevision: number;
  resolve(events: Event[]): void;
  reject(error: unknown): void;
}

/**
 * Stream reads on PostgreSQL, combined under load. A qualification reads eight streams or so (the
 * lead, the setting, the claims of its keys, the records it links), each a statement of its own:
 * 20,448 of the 27,000 statements of an end-to-end run, and with them most of the service's
 * socket writes. Up to `maxInFlight` reads run at once, each at once when there is room, so an
 * idle service waits for nothing; reads that find no room queue up and leave together, as one
 * `stream_id = ANY($1)` statement, as soon as one comes back.
 */
export class StreamReads<Event extends { streamId: string; revision: number }> {
  private readonly queue: QueuedRead<Event>[] = [];
  private inFlight = 0;

  constructor(
    private readonly maxInFlight: number,
    private readonly maxStreams: number,
    /** Every event of these streams, in stream order. */
    private readonly readMany: (streamIds: string[]) => Promise<Event[]>,
  ) {}

  read(streamId: string, fromRevision: number): Promise<Event[]> {
    return new Promise<Event[]>((resolve, reject) => {
      this.queue.push({ streamId, fromRevision, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxStreams);
      this.inFlight++;
      this.readMany([...new Set(batch.map((r) => r.streamId))])
        .then(
          (events) => {
            const byStream = new Map<string, Event[]>();
            for (const event of events) {
              const list = byStream.get(event.streamId);
              if (list) list.push(event);
              else byStream.set(event.streamId, [event]);
            }
            for (const read of batch) read.resolve((byStream.get(read.streamId) ?? []).filter((e) => e.revision >= read.fromRevision));
          },
          (error: unknown) => {
            for (const read of batch) read.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
