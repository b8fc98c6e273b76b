import type { Logger } from '@nestjs/common';
import type { Database, SqlRunner } from '../database/database.js';
import type { Checkpoints, StoredCheckpoint } from './checkpoints.js';
import { START } from './event-store.port.js';
import type { RunnerOptions } from './runner-options.js';

/**
 * The checkpoint's compare-and-set found the row moved or owned by another instance. Thrown, not
 * returned, because it must roll back the batch transaction it happens in.
 */
export class LeaseLostError extends Error {}

/**
 * `moved` comes when the runner must reload where it stands: the lease was taken anew (from a
 * holder that died or released it), or another instance moved the checkpoint (a rebuild).
 */
export type Holding = { held: false } | { held: true; moved?: Pick<StoredCheckpoint, 'position' | 'rebuildTarget'> };

/**
 * At most one instance runs a processor: the lease in its checkpoint row. An instance that dies
 * stops renewing, and after `leaseMs` another takes over from the committed checkpoint. Every
 * checkpoint commit is a compare-and-set on (owner, old position), so a runner that lost its lease
 * cannot commit.
 */
export class ProcessorLease {
  private holder: string | null = null;
  private expiresAt = 0;

  constructor(
    private readonly db: Database,
    private readonly checkpoints: Checkpoints,
    private readonly name: string,
    private readonly options: Pick<RunnerOptions, 'instanceId' | 'leaseMs'>,
    private readonly logger: Logger,
  ) {}

  get owner(): string | null {
    return this.holder;
  }

  /** Takes or renews the lease; `checkpoint` is where this runner believes it stands. */
  async hold(checkpoint: string): Promise<Holding> {
    const me = this.options.instanceId;
    const now = Date.now();
    // Each checkpoint commit renews the lease; touch the row only when it is half spent.
    if (this.holder === me && this.expiresAt - now > this.options.leaseMs / 2) return { held: true };
    const taken = await this.db.transactionSql(async (sql): Promise<Pick<StoredCheckpoint, 'position' | 'owner' | 'rebuildTarget'>> => {
      const row = await this.checkpoints.get(sql, this.name);
      if (!row) {
        await this.checkpoints.create(sql, this.name, START, me, now + this.options.leaseMs);
        return { position: START, owner: me, rebuildTarget: null };
      }
      const free = row.owner === me || row.owner === null || row.leaseUntil < now;
      if (!free) return row;
      // Renew at most every few seconds: the checkpoint commit renews it on every batch anyway.
      if (row.owner !== me || row.leaseUntil - now < this.options.leaseMs / 2) {
        if (!(await this.checkpoints.claim(sql, this.name, me, now, now + this.options.leaseMs))) return row;
      }
      return { ...row, owner: me };
    });
    const wasMine = this.holder === me;
    this.holder = taken.owner;
    if (taken.owner !== me) return { held: false };
    this.expiresAt = now + this.options.leaseMs;
    if (wasMine && taken.position === checkpoint) return { held: true };
    if (wasMine) this.logger.log(`checkpoint moved to ${taken.position} by another instance`);
    else this.logger.log(`lease taken by ${me} at checkpoint ${taken.position}`);
    return { held: true, moved: { position: taken.position, rebuildTarget: taken.rebuildTarget } };
  }

  /** Inside the batch's transaction, so that the batch commits only if the lease is still ours. */
  async advance(sql: SqlRunner, from: string, to: string): Promise<void> {
    const leaseUntil = Date.now() + this.options.leaseMs;
    if (!(await this.checkpoints.advance(sql, this.name, this.options.instanceId, from, to, leaseUntil))) {
      throw new LeaseLostError(`checkpoint of ${this.name} moved under us`);
    }
    this.expiresAt = leaseUntil;
  }

  /** After a LeaseLostError: the next hold() reads the row again instead of trusting the renewal. */
  lost(): void {
    this.logger.warn(`lease lost to another instance; standing by`);
    this.holder = null;
    this.expiresAt = 0;
  }

  /** Lets another instance take over at once instead of after `leaseMs`; a lease held elsewhere is left alone. */
  async release(): Promise<void> {
    if (this.holder !== this.options.instanceId) return;
    await this.db.transactionSql((sql) => this.checkpoints.release(sql, this.name, this.options.instanceId));
    this.holder = null;
  }
}
