import type { StreamAppend } from '../event-store.port.js';

/** One caller's appendToStreams, waiting for its batch. */
export interface QueuedAppend<Result> {
  appends: StreamAppend[];
  resolve(results: Result[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit for PostgreSQL appends. Appends are serialised by a lock held until COMMIT (the
 * store's class comment), so one append at a time pays the lock, four round trips and the WAL
 * flush while every other waits: under load 13 of 15 busy sessions waited on the lock
 * (docs/performance.md). Appends that arrive while a batch is in flight queue up and go together in
 * the next one: one lock, one read of every stream's revision, one INSERT, one flush for all.
 *
 * A batch holds appends whose streams are disjoint (an append that touches a stream already in the
 * batch waits for the next one, so each checks its expected revision against committed state) and
 * stays under `maxEvents`, but always takes at least one append.
 */
export class AppendBatches<Result> {
  private readonly queue: QueuedAppend<Result>[] = [];
  private flushing = false;

  constructor(
    private readonly maxEvents: number,
    /** Commits one batch; settles every member (resolve or reject) before it resolves. */
    private readonly commitBatch: (batch: QueuedAppend<Result>[]) => Promise<void>,
  ) {}

  submit(appends: StreamAppend[]): Promise<Result[]> {
    return new Promise<Result[]>((resolve, reject) => {
      this.queue.push({ appends, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.commitBatch(batch);
        } catch (error) {
          // commitBatch settles its members itself; this only guards against a bug leaving them hanging.
          for (const member of batch) member.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private takeBatch(): QueuedAppend<Result>[] {
    const batch: QueuedAppend<Result>[] = [];
    const streams = new Set<string>();
    let events = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0];
      const size = next.appends.reduce((n, a) => n + a.events.length, 0);
      const overlaps = next.appends.some((a) => streams.has(a.streamId));
      if (batch.length > 0 && (overlaps || events + size > this.maxEvents)) break;
      this.queue.shift();
      batch.push(next);
      events += size;
      for (const a of next.appends) streams.add(a.streamId);
    }
    return batch;
  }
}
