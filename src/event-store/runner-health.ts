import type { Logger } from '@nestjs/common';
import { unavailableCause } from '../database/availability.js';
import type { ProcessorState } from './runner-options.js';

/**
 * What /projections and /health/ready show of a runner (its state, its last failure), kept apart
 * from the work so that the loop, the retries and the batches all report the same way.
 */
export class RunnerHealth {
  state: ProcessorState = 'stopped';
  lastError: string | null = null;
  /** Outage warnings come once per outage, however many events wait for the database meanwhile. */
  private waitingForDatabase = false;

  constructor(private readonly logger: Logger) {}

  failed(error: unknown): void {
    this.lastError = errorMessage(error);
  }

  /** A batch went through, so whatever failed before, the database included, works again. */
  succeeded(): void {
    this.lastError = null;
    if (!this.waitingForDatabase) return;
    this.waitingForDatabase = false;
    this.logger.log('database available again; processing resumed');
  }

  databaseDown(error: unknown): void {
    if (this.waitingForDatabase) return;
    this.waitingForDatabase = true;
    const cause = unavailableCause(error);
    this.logger.warn(
      `database unavailable (${cause?.code ? `${cause.code}: ` : ''}${cause?.message ?? errorMessage(error)}); waiting for it, no attempt counted`,
    );
  }
}

/** Anything can be thrown; logs and dead letters need an Error. */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

export function errorMessage(thrown: unknown): string {
  return asError(thrown).message;
}
