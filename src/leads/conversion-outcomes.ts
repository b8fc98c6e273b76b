import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { EVENT_STORE, type AllSubscription, type EventStore } from '../event-store/event-store.port.js';
import { leadStream, type LeadConversionCompleted, type LeadConversionFailed } from './lead.events.js';

const OUTCOME_TYPES = ['LeadConversionCompleted', 'LeadConversionFailed'] as const;
/** How long one pull of the shared subscription waits before it goes round (and checks it is still needed). */
const PULL_WAIT_MS = 250;

export interface ConversionOutcome {
  conversion: 'completed' | 'failed';
  /** Position of the outcome event: the read models must reach it before the records can be read. */
  position: string;
}

type Waiter = (outcome: ConversionOutcome) => void;

/**
 * Lets requests wait for the outcome of the conversions they started (`Prefer: wait`). All waiters
 * of the process share one subscription to the log, filtered to the two outcome events, opened
 * while someone waits and closed when nobody does. On one SQL database an outcome appended by
 * another instance is seen within the subscription's poll interval; one of this process at once.
 */
@Injectable()
export class ConversionOutcomes implements OnModuleDestroy {
  private readonly logger = new Logger('ConversionOutcomes');
  private readonly waiters = new Map<string, Set<Waiter>>();
  private subscription: AllSubscription | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;
  /** Ends every wait at shutdown: the requests answer their 202 instead of holding the stop up. */
  private readonly stopping = new AbortController();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /**
   * The outcome of `qualificationId`, or undefined when there is none within `timeoutMs`. `after`
   * is a position before the outcome (the qualification's own).
   */
  async wait(leadId: string, qualificationId: string, after: string, timeoutMs: number): Promise<ConversionOutcome | undefined> {
    let resolve!: Waiter;
    const outcome = new Promise<ConversionOutcome>((r) => (resolve = r));
    const set = this.waiters.get(qualificationId) ?? new Set<Waiter>();
    set.add(resolve);
    this.waiters.set(qualificationId, set);
    let timer: NodeJS.Timeout | undefined;
    let stop: (() => void) | undefined;
    try {
      this.ensureSubscribed(after);
      // Registered first, then the stream: an outcome recorded before the subscription's start
      // (or while it was being opened) is found here, a later one by the subscription.
      void this.fromLeadStream(leadId, qualificationId).then(
        (found) => found && resolve(found),
        () => undefined,
      );
      const timeout = new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), timeoutMs);
        stop = () => r(undefined);
        if (this.stopping.signal.aborted) stop();
        this.stopping.signal.addEventListener('abort', stop, { once: true });
      });
      return await Promise.race([outcome, timeout]);
    } finally {
      clearTimeout(timer);
      if (stop) this.stopping.signal.removeEventListener('abort', stop);
      set.delete(resolve);
      if (!set.size) this.waiters.delete(qualificationId);
    }
  }

  private async fromLeadStream(leadId: string, qualificationId: string): Promise<ConversionOutcome | undefined> {
    const events = await this.store.readStream(leadStream(leadId));
    const event = events.find(
      (e) => (OUTCOME_TYPES as readonly string[]).includes(e.type) && (e.data as { qualificationId?: string }).qualificationId === qualificationId,
    );
    return event ? toOutcome(event.type, event.position) : undefined;
  }

  private ensureSubscribed(after: string): void {
    if (this.loop || this.closed) return;
    const subscription = this.store.subscribeToAll({ after, eventTypes: OUTCOME_TYPES });
    this.subscription = subscription;
    this.loop = this.follow(subscription).then((position) => {
      this.loop = undefined;
      this.subscription = undefined;
      // A waiter that came while the loop was closing found it still running: it needs one. After a
      // failure the next waiter opens it (no tight loop on a store that keeps failing).
      if (position && this.waiters.size && !this.closed) this.ensureSubscribed(position);
    });
  }

  /** Follows the log while anyone waits; resolves with where it stopped, or undefined after a failure. */
  private async follow(subscription: AllSubscription): Promise<string | undefined> {
    let position: string | undefined;
    try {
      while (this.waiters.size && !this.closed) {
        const page = await subscription.pull(256, PULL_WAIT_MS);
        for (const event of page.events) {
          const { qualificationId } = event.data as (LeadConversionCompleted | LeadConversionFailed)['data'];
          for (const waiter of this.waiters.get(qualificationId) ?? []) waiter(toOutcome(event.type, event.position));
        }
        position = page.position;
      }
      return position;
    } catch (error) {
      // The waiters time out into 202s.
      if (!this.closed) this.logger.warn(`conversion subscription stopped: ${(error as Error).message}`);
      return undefined;
    } finally {
      await subscription.close().catch(() => undefined);
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.stopping.abort();
    await this.subscription?.close().catch(() => undefined);
    await this.loop;
  }
}

function toOutcome(type: string, position: string): ConversionOutcome {
  return { conversion: type === 'LeadConversionCompleted' ? 'completed' : 'failed', position };
}
