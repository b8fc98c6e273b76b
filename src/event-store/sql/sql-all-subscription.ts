import type { EventEmitter } from 'node:events';
import type { AllSubscription, SubscriptionPage } from '../event-store.port.js';

/** Where the subscription reads its pages: SqlEventStore#readPage. */
export interface PageReader {
  readPage(after: string, limit: number, eventTypes?: readonly string[], sparse?: boolean): Promise<SubscriptionPage>;
}

/**
 * Waits for this process's appends through the store's emitter, and for other processes' (which it
 * cannot hear) by reading again when `waitMs` runs out. Holds no connection while it waits: on
 * SQLite every query queues on one connection.
 */
export class SqlAllSubscription implements AllSubscription {
  /** An append happened since the last read began: read again instead of waiting. */
  private dirty = false;
  private wake?: () => void;
  private closed = false;
  /** The last pages matched few of the events they covered (learnDensity). */
  private sparse = false;
  private readonly onAppend = () => {
    this.dirty = true;
    this.wake?.();
  };
  private readonly onClose = () => void this.close();

  constructor(
    private readonly store: PageReader,
    private readonly appended: EventEmitter,
    private after: string,
    private readonly eventTypes?: readonly string[],
  ) {
    appended.on('appended', this.onAppend);
    appended.once('closed', this.onClose);
  }

  async pull(max: number, waitMs: number): Promise<SubscriptionPage> {
    if (this.closed) throw new Error('the subscription is closed');
    const deadline = Date.now() + waitMs;
    for (;;) {
      this.dirty = false;
      const page = await this.store.readPage(this.after, max, this.eventTypes, this.sparse);
      if (page.events.length > 0 || page.position !== this.after) {
        this.learnDensity(page);
        this.after = page.position;
        return page;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return page;
      // Once the wait runs out, the loop reads once more: other processes' appends are not heard.
      if (!this.dirty) await this.sleep(left);
      if (this.closed) return page;
    }
  }

  /**
   * Sparse: under 1 event in 20 of the log matched over the last page that spanned enough of it to
   * tell (a page of a few positions says nothing). Decides how readPage walks the log.
   */
  private learnDensity(page: SubscriptionPage): void {
    if (!this.eventTypes) return;
    const span = Number(page.position) - Number(this.after);
    if (span >= 100) this.sparse = page.events.length / span < 0.05;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.appended.off('appended', this.onAppend);
    this.appended.off('closed', this.onClose);
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wake = wake;
    });
  }
}
