import type { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDatabaseUnavailable } from '../database/availability.js';
import type { RecordedEvent } from './event-store.port.js';
import { NotYetError, type SagaProcessor } from './processor.js';
import { LeaseLostError } from './processor-lease.js';
import { asError, type RunnerHealth } from './runner-health.js';
import type { RunnerOptions } from './runner-options.js';

/**
 * `failed`: the attempts ran out, and the caller decides when the event becomes a dead letter.
 * `stopped`: a stop was requested, which is nobody's failure: the work ends uncounted and the
 * next holder of the lease runs the event again.
 */
export type Attempt = { outcome: 'done' } | { outcome: 'failed'; error: Error; attempts: number } | { outcome: 'stopped' };

const DONE: Attempt = { outcome: 'done' };
const STOPPED: Attempt = { outcome: 'stopped' };

/**
 * How long an event is tried before it is given up: up to maxAttempts, with exponential backoff,
 * so that a passing fault heals by itself and a poison event stops costing after a few tries.
 */
export class Retries {
  constructor(
    private readonly options: Pick<RunnerOptions, 'maxAttempts' | 'retryDelayMs'>,
    private readonly health: RunnerHealth,
    private readonly logger: Logger,
  ) {}

  /**
   * An outage of the database is no attempt: the work waits for the database for as long as the
   * outage lasts (a restart must not fail conversions). Nor is waiting for another event of the
   * batch (NotYetError), up to the wait's bound. A failure once `signal` aborted is put down to the
   * stop (the saga's waits give up then), not to the event.
   */
  async attempt(event: RecordedEvent, work: () => Promise<void>, signal: AbortSignal): Promise<Attempt> {
    let waitingSince: number | undefined;
    for (let attempt = 1, outage = 0, waits = 0; ; attempt++) {
      try {
        await work();
        return DONE;
      } catch (thrown) {
        // Not the event's fault either, but the whole batch is void: the loop stands by.
        if (thrown instanceof LeaseLostError) throw thrown;
        if (signal.aborted) return STOPPED;
        const error = asError(thrown);
        this.health.failed(error);
        if (isDatabaseUnavailable(thrown)) {
          await this.waitForDatabase(thrown, outage++, signal);
          attempt--;
          continue;
        }
        if (thrown instanceof NotYetError && Date.now() - (waitingSince ??= Date.now()) < thrown.maxWaitMs) {
          await sleep(Math.min(this.options.retryDelayMs * 2 ** Math.min(waits++, 10), 1_000));
          attempt--;
          continue;
        }
        if (attempt >= this.options.maxAttempts) {
          this.logger.error(`event ${event.type}@${event.position} dead-lettered after ${attempt} attempts: ${error.message}`);
          return { outcome: 'failed', error, attempts: attempt };
        }
        this.health.state = 'retrying';
        this.logger.warn(`event ${event.type}@${event.position} failed (attempt ${attempt}): ${error.message}`);
        await sleep(this.options.retryDelayMs * 2 ** (attempt - 1));
        this.health.state = 'running';
      }
    }
  }

  /**
   * The saga's last word on an event (the conversion saga records the failure on the lead). If even
   * that fails, the dead letter still records the event: one bad event must not hold back others.
   */
  async giveUp(saga: SagaProcessor, event: RecordedEvent, error: Error, signal: AbortSignal): Promise<'done' | 'stopped'> {
    if (!saga.giveUp) return 'done';
    for (let attempt = 1, outage = 0; attempt <= this.options.maxAttempts; attempt++) {
      try {
        await saga.giveUp(event, error);
        return 'done';
      } catch (failure) {
        // The next holder performs the event again and, if it fails again, gives up on it then.
        if (signal.aborted) return 'stopped';
        if (isDatabaseUnavailable(failure)) {
          await this.waitForDatabase(failure, outage++, signal);
          attempt--;
          continue;
        }
        this.logger.error(`giving up on ${event.type}@${event.position} failed (attempt ${attempt}): ${asError(failure).message}`);
        await sleep(this.options.retryDelayMs * 2 ** (attempt - 1));
      }
    }
    return 'done';
  }

  /** Backs off while the database is unavailable: retryDelayMs doubling, at most ten times it. */
  private async waitForDatabase(error: unknown, waited: number, signal: AbortSignal): Promise<void> {
    this.health.databaseDown(error);
    this.health.state = 'retrying';
    await sleep(Math.min(this.options.retryDelayMs * 2 ** Math.min(waited, 10), this.options.retryDelayMs * 10));
    if (!signal.aborted) this.health.state = 'running';
  }
}
