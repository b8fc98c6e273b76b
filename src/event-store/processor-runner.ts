import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type { Database, SqlRunner } from '../database/database.js';
import { comparePositions, START, type AllSubscription, type EventStore, type RecordedEvent } from './event-store.port.js';
import { NotYetError, type Processor } from './processor.js';
import { Checkpoints } from './checkpoints.js';
import { upcast } from './upcasting.js';
import { isDatabaseUnavailable, unavailableCause } from '../database/availability.js';

export interface RunnerOptions {
  /** Events read per batch; one transaction per batch. */
  batchSize: number;
  /**
   * Largest batch when far behind (a rebuild, a backlog): each full batch doubles the next one up
   * to this, so that a replay pays the fixed cost of a commit per thousands of events.
   */
  maxBatchSize: number;
  /** Attempts per event before it becomes a dead letter. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt. */
  retryDelayMs: number;
  /** How long a lease lasts without renewal; a dead holder is replaced after this. */
  leaseMs: number;
  /**
   * Longest wait for the subscription before the loop goes round again (lease renewal, stop). The
   * SQL store also re-reads then, which is how it sees appends made by other instances.
   */
  pollMs: number;
  /** Identifies this instance as lease owner. */
  instanceId: string;
  /** Events whose side effects (perform) run at once. */
  performConcurrency: number;
  /** Pause after a batch that emptied the backlog, so that the next batch is worth a transaction. */
  coalesceMs: number;
}

export const DEFAULT_RUNNER_OPTIONS: RunnerOptions = {
  batchSize: 500,
  maxBatchSize: 1000,
  maxAttempts: 5,
  retryDelayMs: 100,
  leaseMs: 10_000,
  pollMs: 250,
  // On SQLite each step of a conversion (reads, then the append) settles with a commit group, so
  // many conversions in flight share each group instead of queueing one after the other.
  performConcurrency: 128,
  coalesceMs: 15,
  instanceId: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
};

export type ProcessorState = 'starting' | 'running' | 'standby' | 'retrying' | 'stopped';

export interface ProcessorStatus {
  name: string;
  checkpoint: string;
  state: ProcessorState;
  owner: string | null;
  lastError: string | null;
}

class LeaseLostError extends Error {}

/**
 * Drives one processor from the event store: pull from a subscription that continues from the
 * checkpoint (filtered by the store to the processor's event types), perform side effects,
 * then commit read-model writes and the new checkpoint in one transaction. Exactly-once in
 * effect: the checkpoint and the writes commit together or not at all, and the checkpoint update
 * is a compare-and-set on (owner, old position), so a runner that lost its lease cannot commit.
 *
 * At most one instance runs a processor: the lease in its checkpoint row. An instance that dies
 * stops renewing, and after `leaseMs` another takes over from the committed checkpoint.
 */
export class ProcessorRunner {
  private readonly logger: Logger;
  private readonly checkpoints: Checkpoints;
  private checkpoint = START;
  private state: ProcessorState = 'stopped';
  private lastError: string | null = null;
  /** An outage of the database is going on (logged once, see databaseDown). */
  private waitingForDatabase = false;
  private owner: string | null = null;
  private leaseExpiresAt = 0;
  private rebuildTarget: string | null = null;
  private rebuildStartedAt = 0;
  private lastProgressLog = 0;
  private stopping = false;
  private pullSize: number;
  private loop?: Promise<void>;
  private wake?: () => void;
  private pendingWake = false;
  /** Open while this runner holds the lease; continues from `subscribedAt`. */
  private subscription?: AllSubscription;
  private subscribedAt = START;
  private readonly waiters = new Set<() => void>();
  /** Aborted by stop(): processors' waits end with it. */
  private stopSignal = new AbortController();

  constructor(
    readonly processor: Processor,
    private readonly store: EventStore,
    private readonly db: Database,
    private readonly options: RunnerOptions = DEFAULT_RUNNER_OPTIONS,
  ) {
    this.logger = new Logger(`Processor:${processor.name}`);
    this.checkpoints = new Checkpoints(db);
    this.pullSize = options.batchSize;
  }

  get name(): string {
    return this.processor.name;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.stopSignal = new AbortController();
    this.state = 'starting';
    this.loop = this.run().finally(() => {
      this.state = 'stopped';
    });
  }

  /**
   * Stops after the batch in progress; its checkpoint is committed and the lease released so that
   * another instance takes over at once. `releaseLease: false` leaves the lease to run out, as a
   * killed process would.
   */
  async stop({ releaseLease = true } = {}): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    this.poke();
    // Ends a pull that is waiting for events.
    void this.subscription?.close();
    await this.loop;
    this.loop = undefined;
    if (releaseLease && this.owner === this.options.instanceId) await this.releaseLease().catch(() => undefined);
  }

  status(): ProcessorStatus {
    return { name: this.name, checkpoint: this.checkpoint, state: this.state, owner: this.owner, lastError: this.lastError };
  }

  /** The committed checkpoint as stored (authoritative across instances). */
  async storedCheckpoint(): Promise<string> {
    const row = await this.checkpoints.get((sql, params) => this.db.query(sql, params), this.name);
    return row?.position ?? START;
  }

  /** Resolves true once this processor has processed `position`, false after `timeoutMs`. */
  async waitFor(position: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const checkpoint = this.state === 'running' ? this.checkpoint : await this.storedCheckpoint();
      if (comparePositions(checkpoint, position) >= 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, this.state === 'running' ? left : 50));
        this.waiters.add(done);
      });
    }
  }

  private poke(): void {
    this.pendingWake = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    try {
      await this.loopUntilStopped();
    } finally {
      await this.closeSubscription();
    }
  }

  private async loopUntilStopped(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!(await this.holdLease())) {
          await this.closeSubscription();
          this.state = 'standby';
          await this.idle(Math.min(this.options.leaseMs / 2, 1000));
          continue;
        }
        this.state = 'running';
        // stop() closes the subscription: never pull from it once stopping.
        if (this.stopping) break;
        const { events, position } = await this.subscribe().pull(this.pullSize, this.options.pollMs);
        this.subscribedAt = position;
        if (events.length === 0 && comparePositions(position, this.checkpoint) <= 0) continue;
        // Processors only ever see the current shape of each event type.
        await this.process(events.map((e) => upcast(e)), position);
        this.lastError = null;
        this.databaseBack();
        // SQLite work resolves synchronously, so without this the loop would run on microtasks
        // alone and starve incoming requests for as long as it has a backlog (a rebuild).
        await new Promise((resolve) => setImmediate(resolve));
        // Caught up: let appends gather for a moment instead of paying a transaction per event
        // while commands trickle in one by one (most of the cost of a batch is fixed).
        if (events.length < this.pullSize) {
          this.pullSize = this.options.batchSize;
          await delay(this.options.coalesceMs);
        } else {
          this.pullSize = Math.min(this.pullSize * 2, this.options.maxBatchSize);
        }
      } catch (error) {
        // Whatever was pulled but not committed is pulled again from the checkpoint.
        await this.closeSubscription();
        this.pullSize = this.options.batchSize;
        if (error instanceof LeaseLostError) {
          this.logger.warn(`lease lost to another instance; standing by`);
          this.owner = null;
          this.leaseExpiresAt = 0;
          continue;
        }
        this.lastError = (error as Error).message;
        if (isDatabaseUnavailable(error)) this.databaseDown(error);
        else this.logger.error(`processing failed, will retry: ${(error as Error).message}`);
        this.state = 'retrying';
        await this.idle(this.options.retryDelayMs * 10);
      }
    }
  }

  /**
   * The subscription continuing from the checkpoint. Opened again whenever the two differ: a batch
   * that did not commit in full, a checkpoint moved by a takeover or a rebuild.
   */
  private subscribe(): AllSubscription {
    if (this.subscription && comparePositions(this.subscribedAt, this.checkpoint) === 0) return this.subscription;
    void this.subscription?.close();
    this.subscription = this.store.subscribeToAll({ after: this.checkpoint, eventTypes: this.processor.eventTypes });
    this.subscribedAt = this.checkpoint;
    return this.subscription;
  }

  private async closeSubscription(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
  }

  /** Applies or performs a pulled batch, then moves the checkpoint to `position` (≥ its last event). */
  private async process(batch: RecordedEvent[], position: string): Promise<void> {
    // The store filters already; this guards against a store whose filter lets more through.
    const wanted = this.processor.eventTypes;
    const relevant = wanted ? batch.filter((e) => wanted.includes(e.type)) : batch;
    if (relevant.length === 0) return this.commit([], position);
    if (this.processor.perform) return this.performAll(relevant, position);
    try {
      return await this.commit(relevant, position);
    } catch (error) {
      // An outage is no bad event: the loop pulls the batch again once the database is back.
      if (error instanceof LeaseLostError || isDatabaseUnavailable(error)) throw error;
      // The batch rolled back. Find the bad event one transaction at a time, so that it alone
      // is retried and dead-lettered while the events around it still go through.
    }
    for (const event of relevant) {
      if (this.stopping) return;
      await this.withRetries(event, () => this.commit([event], event.position));
    }
    if (comparePositions(this.checkpoint, position) < 0) await this.commit([], position);
  }

  /**
   * Side effects of a batch run concurrently (they are idempotent and independent per event),
   * each with its own retries; the checkpoint moves past the batch once all are done or
   * dead-lettered. A failing event delays its batch by its retries; it never stops later events.
   */
  private async performAll(events: RecordedEvent[], last: string): Promise<void> {
    const failures: { event: RecordedEvent; error: Error; attempts: number }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < events.length && !this.stopping) {
        const event = events[next++];
        const failure = await this.withRetries(event, () => this.processor.perform!(event, this.stopSignal.signal), false);
        if (!failure) continue;
        // At once, not after the batch: another event of the batch may be waiting for this outcome
        // (a conversion linking a record this one was to create waits until it is created or failed).
        await this.giveUp(event, failure.error);
        failures.push({ event, ...failure });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.performConcurrency, events.length) }, worker));
    if (this.stopping && next < events.length) throw new Error('stopping');
    await this.db.transactionSql(async (sql) => {
      if (this.processor.apply) await this.processor.apply(events.filter((e) => !failures.some((f) => f.event === e)), sql);
      for (const f of failures) await this.checkpoints.deadLetter(sql, this.deadLetterRow(f.event, f.error, f.attempts));
      await this.advance(sql, last);
    });
    this.moved(last);
  }

  /**
   * Runs `work` up to maxAttempts times with exponential backoff. When the attempts run out it
   * dead-letters the event (moving the checkpoint past it), or with `deadLetterNow` false returns
   * the failure for the caller to record. An outage of the database is no attempt: the work waits
   * for the database for as long as the outage lasts (a restart must not fail conversions). Nor is
   * waiting for another event of the batch (NotYetError), up to the wait's bound.
   */
  private async withRetries(event: RecordedEvent, work: () => Promise<void>, deadLetterNow = true): Promise<{ error: Error; attempts: number } | undefined> {
    let waitingSince: number | undefined;
    for (let attempt = 1, outage = 0, waits = 0; ; attempt++) {
      try {
        await work();
        return undefined;
      } catch (error) {
        if (error instanceof LeaseLostError || this.stopping) throw error;
        this.lastError = (error as Error).message;
        if (isDatabaseUnavailable(error)) {
          await this.waitForDatabase(error, outage++);
          attempt--;
          continue;
        }
        if (error instanceof NotYetError && Date.now() - (waitingSince ??= Date.now()) < error.maxWaitMs) {
          await delay(Math.min(this.options.retryDelayMs * 2 ** Math.min(waits++, 10), 1_000));
          attempt--;
          continue;
        }
        if (attempt >= this.options.maxAttempts) {
          this.logger.error(`event ${event.type}@${event.position} dead-lettered after ${attempt} attempts: ${(error as Error).message}`);
          if (!deadLetterNow) return { error: error as Error, attempts: attempt };
          await this.deadLetter(event, error as Error, attempt);
          return undefined;
        }
        this.state = 'retrying';
        this.logger.warn(`event ${event.type}@${event.position} failed (attempt ${attempt}): ${(error as Error).message}`);
        await delay(this.options.retryDelayMs * 2 ** (attempt - 1));
        this.state = 'running';
      }
    }
  }

  /**
   * The processor's last word on an event (the saga records the failure on the lead). If even
   * that fails, the dead letter still records the event: one bad event must not hold back others.
   */
  private async giveUp(event: RecordedEvent, error: Error): Promise<void> {
    for (let attempt = 1, outage = 0; attempt <= this.options.maxAttempts; attempt++) {
      try {
        return await this.processor.giveUp?.(event, error);
      } catch (failure) {
        if (isDatabaseUnavailable(failure) && !this.stopping) {
          await this.waitForDatabase(failure, outage++);
          attempt--;
          continue;
        }
        this.logger.error(`giving up on ${event.type}@${event.position} failed (attempt ${attempt}): ${(failure as Error).message}`);
        if (this.stopping) throw failure;
        await delay(this.options.retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  /** Backs off while the database is unavailable: retryDelayMs doubling, at most ten times it. */
  private async waitForDatabase(error: unknown, waited: number): Promise<void> {
    this.databaseDown(error);
    this.state = 'retrying';
    await delay(Math.min(this.options.retryDelayMs * 2 ** Math.min(waited, 10), this.options.retryDelayMs * 10));
    if (!this.stopping) this.state = 'running';
  }

  /** One warning per outage, however many events wait for the database meanwhile. */
  private databaseDown(error: unknown): void {
    if (this.waitingForDatabase) return;
    this.waitingForDatabase = true;
    const cause = unavailableCause(error);
    this.logger.warn(`database unavailable (${cause?.code ? `${cause.code}: ` : ''}${cause?.message ?? (error as Error).message}); waiting for it, no attempt counted`);
  }

  private databaseBack(): void {
    if (!this.waitingForDatabase) return;
    this.waitingForDatabase = false;
    this.logger.log('database available again; processing resumed');
  }

  private async deadLetter(event: RecordedEvent, error: Error, attempts: number): Promise<void> {
    await this.giveUp(event, error);
    await this.db.transactionSql(async (sql) => {
      await this.checkpoints.deadLetter(sql, this.deadLetterRow(event, error, attempts));
      await this.advance(sql, event.position);
    });
    this.moved(event.position);
  }

  private deadLetterRow(event: RecordedEvent, error: Error, attempts: number) {
    return {
      processor: this.name,
      position: event.position,
      eventId: event.id,
      eventType: event.type,
      streamId: event.streamId,
      error: String(error.stack ?? error.message).slice(0, 4000),
      attempts,
    };
  }

  private async commit(events: RecordedEvent[], position: string): Promise<void> {
    await this.db.transactionSql(async (sql) => {
      if (events.length > 0) await this.processor.apply?.(events, sql);
      await this.advance(sql, position);
    });
    this.moved(position);
    if (this.rebuildTarget && Date.now() - this.lastProgressLog > 2000) {
      this.lastProgressLog = Date.now();
      this.logger.log(`rebuilding: at position ${position} of ${this.rebuildTarget}`);
    }
  }

  private async advance(sql: SqlRunner, position: string): Promise<void> {
    const leaseUntil = Date.now() + this.options.leaseMs;
    if (!(await this.checkpoints.advance(sql, this.name, this.options.instanceId, this.checkpoint, position, leaseUntil))) {
      throw new LeaseLostError(`checkpoint of ${this.name} moved under us`);
    }
    this.leaseExpiresAt = leaseUntil;
  }

  private moved(position: string): void {
    this.checkpoint = position;
    for (const waiter of [...this.waiters]) waiter();
    if (this.rebuildTarget && comparePositions(position, this.rebuildTarget) >= 0) void this.finishRebuild();
  }

  /**
   * Drops the read model and replays the log from the start. Runs from any instance: reset and
   * checkpoint move in one transaction, and whichever instance holds the lease sees its next
   * checkpoint compare-and-set fail and reloads from the start.
   */
  async rebuild(head: string): Promise<void> {
    if (!this.processor.reset) throw new Error(`${this.name} cannot be rebuilt`);
    const wasRunning = !!this.loop;
    if (wasRunning) await this.stop();
    await this.db.transactionSql(async (sql) => {
      await this.processor.reset!(sql);
      if (head !== START) await this.processor.suspendIndexes?.(sql);
      await this.checkpoints.restart(sql, this.name, head === START ? null : head);
    });
    this.logger.log(`rebuild started: replaying up to position ${head}`);
    this.rebuildTarget = head === START ? null : head;
    this.rebuildStartedAt = Date.now();
    this.checkpoint = START;
    if (wasRunning) this.start();
  }

  /**
   * Restores the indexes, one build at a time, then clears the rebuild mark: queries stay refused
   * until all of it is done. A failure keeps the mark and is tried again after the next batch.
   */
  private async finishRebuild(): Promise<void> {
    const target = this.rebuildTarget;
    if (!target) return;
    this.rebuildTarget = null;
    try {
      for (const statement of this.processor.restoreIndexes?.() ?? []) await this.db.buildIndex(statement);
      await this.db.transactionSql((sql) => this.checkpoints.clearRebuild(sql, this.name, target));
      this.logger.log(`rebuild finished at position ${target} in ${Date.now() - this.rebuildStartedAt} ms`);
    } catch (error) {
      this.rebuildTarget = target;
      this.logger.error(`could not finish the rebuild, will retry: ${(error as Error).message}`);
    }
  }

  /** Takes or renews the lease; loads the committed checkpoint whenever it is (re)taken. */
  private async holdLease(): Promise<boolean> {
    const me = this.options.instanceId;
    const now = Date.now();
    // Each checkpoint commit renews the lease; touch the row only when it is half spent.
    if (this.owner === me && this.leaseExpiresAt - now > this.options.leaseMs / 2) return true;
    const taken = await this.db.transactionSql(async (sql) => {
      const row = await this.checkpoints.get(sql, this.name);
      if (!row) {
        await this.checkpoints.create(sql, this.name, START, me, now + this.options.leaseMs);
        return { position: START, owner: me as string | null, rebuildTarget: null as string | null };
      }
      const free = row.owner === me || row.owner === null || row.leaseUntil < now;
      if (!free) return row;
      // Renew at most every few seconds: the checkpoint commit renews it on every batch anyway.
      if (row.owner !== me || row.leaseUntil - now < this.options.leaseMs / 2) {
        if (!(await this.checkpoints.claim(sql, this.name, me, now, now + this.options.leaseMs))) return row;
      }
      return { ...row, owner: me };
    });
    const wasMine = this.owner === me;
    this.owner = taken.owner;
    if (taken.owner !== me) return false;
    this.leaseExpiresAt = now + this.options.leaseMs;
    // Taken anew, or the checkpoint was moved by a rebuild started on another instance.
    if (!wasMine || taken.position !== this.checkpoint) {
      if (wasMine) this.logger.log(`checkpoint moved to ${taken.position} by another instance`);
      else this.logger.log(`lease taken by ${me} at checkpoint ${taken.position}`);
      this.checkpoint = taken.position;
      this.rebuildTarget = taken.rebuildTarget;
      // A rebuild whose replay ended on another instance, or before a crash, finishes here.
      if (this.rebuildTarget && comparePositions(this.checkpoint, this.rebuildTarget) >= 0) await this.finishRebuild();
    }
    return true;
  }

  private async releaseLease(): Promise<void> {
    await this.db.transactionSql((sql) => this.checkpoints.release(sql, this.name, this.options.instanceId));
    this.owner = null;
  }

  private idle(ms: number): Promise<void> {
    if (this.pendingWake || this.stopping) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        this.pendingWake = false;
        done();
      };
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
