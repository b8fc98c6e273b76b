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
  /** The next page, asked for when the last one came back full (readAhead). */
  private ahead?: { after: string; limit: number; page: Promise<SubscriptionPage | undefined> };

  /**
   * readAhead (PostgreSQL): while a runner catches up (full pages), the next page is read while the
   * runner commits the last one, on another connection, so a replay costs the larger of reading and
   * writing rather than their sum. A page read early is still a true page: the log only grows, and
   * its head bounded what it claims to cover. SQLite has one connection: nothing to overlap.
   */
  constructor(
    private readonly store: PageReader,
    private readonly appended: EventEmitter,
    private after: string,
    private readonly eventTypes?: readonly string[],
    private readonly readAhead = false,
  ) {
    appended.on('appended', this.onAppend);
    appended.once('closed', this.onClose);
  }

  async pull(max: number, waitMs: number): Promise<SubscriptionPage> {
    if (this.closed) throw new Error('the subscription is closed');
    const deadline = Date.now() + waitMs;
    for (;;) {
      this.dirty = false;
      const page = (await this.takeAhead(max)) ?? (await this.store.readPage(this.after, max, this.eventTypes, this.sparse));
      if (page.events.length > 0 || page.position !== this.after) {
        this.learnDensity(page);
        this.after = page.position;
        if (this.readAhead && page.events.length === max) this.readNext(max);
        return page;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return page;
      // Once the wait runs out, the loop reads once more: other processes' appends are not heard.
      if (!this.dirty) await this.sleep(left);
      if (this.closed) return page;
    }
  }

  private readNext(limit: number): void {
    const after = this.after;
    // A failed read ahead is not this pull's error: the next pull reads the page itself.
    const page = this.store.readPage(after, limit, this.eventTypes, this.sparse).catch(() => undefined);
    this.ahead = { after, limit, page };
  }

  /**
   * The page read ahead, if it continues from here at the size the runner asks for now: a smaller
   * one would read as "caught up" to the runner's batch sizing, a larger one would overfill a batch.
   */
  private async takeAhead(max: number): Promise<SubscriptionPage | undefined> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (!ahead || ahead.after !== this.after || ahead.limit !== max) return undefined;
    const page = await ahead.page;
    // Nothing new when it was read: appends since then are only heard by a read of now.
    return page && (page.events.length > 0 || page.position !== this.after) ? page : undefined;
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
    this.ahead = undefined;
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
