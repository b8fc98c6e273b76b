import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

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
