import { comparePositions } from './event-store.port.js';

/** Where a processor stands, as seen from the instance asked. */
export interface CheckpointSource {
  /** This instance holds the lease, so its own checkpoint is current and each move is notified. */
  live(): boolean;
  local(): string;
  stored(): Promise<string>;
}

/**
 * Read-your-writes: a request that wrote at some position waits until a processor has processed
 * it, so that the read model it reads next shows its own write.
 */
export class CheckpointWaiters {
  private readonly waiters = new Set<() => void>();

  /** Woken by each move rather than left to poll, so that a read is answered as soon as it can be. */
  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves true once the processor has processed `position`, false after `timeoutMs`. */
  async waitFor(position: string, timeoutMs: number, source: CheckpointSource): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const checkpoint = source.live() ? source.local() : await source.stored();
      if (comparePositions(checkpoint, position) >= 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        // Another instance's commits are never notified here: poll the stored checkpoint instead.
        const timer = setTimeout(done, Math.min(left, source.live() ? left : 50));
        this.waiters.add(done);
      });
    }
  }
}
