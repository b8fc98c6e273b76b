import { Inject, Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { EVENT_STORE, comparePositions, START, type EventStore } from '../event-store/event-store.port.js';
import { Processors } from '../event-store/event-store.module.js';
import { CheckpointRow } from '../event-store/processor.entities.js';
import { DomainError } from '../shared/domain-error.js';

/** How long a query waits for its projections to reach minPosition before 503 PROJECTION_BEHIND. */
export const MIN_POSITION_WAIT_MS = 5_000;

/**
 * Read-your-writes for queries: waits until the projections a query reads have processed the
 * position a command returned, refuses models that are being rebuilt, and tells the position the
 * answer reflects (X-Projection-Position).
 */
@Injectable()
export class ProjectionGate {
  constructor(
    private readonly processors: Processors,
    private readonly db: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** Returns the position the projections have reached (the lowest of them). */
  async ready(names: readonly string[], minPosition?: string): Promise<string> {
    let lowest: string | undefined;
    for (const name of names) {
      const runner = this.processors.get(name);
      if (!runner) throw new Error(`no processor named ${name}`);
      if (minPosition !== undefined && !(await runner.waitFor(minPosition, MIN_POSITION_WAIT_MS))) {
        throw new DomainError(503, 'PROJECTION_BEHIND', `${name} has not yet processed position ${minPosition}; retry shortly`, {
          retryAfter: 1,
          projection: name,
          checkpoint: await runner.storedCheckpoint(),
        });
      }
      const row = await this.db.read((m) => m.findOneBy(CheckpointRow, { processor: name }));
      const checkpoint = row?.position ?? START;
      if (row?.rebuildTarget && comparePositions(checkpoint, row.rebuildTarget) < 0) {
        throw new DomainError(503, 'PROJECTION_REBUILDING', `${name} is being rebuilt (at ${checkpoint} of ${row.rebuildTarget}); retry shortly`, {
          retryAfter: 5,
          projection: name,
          checkpoint,
          target: row.rebuildTarget,
        });
      }
      if (lowest === undefined || comparePositions(checkpoint, lowest) < 0) lowest = checkpoint;
    }
    return lowest ?? (await this.store.headPosition());
  }
}
