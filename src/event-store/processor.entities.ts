import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One row per processor (projection or saga): how far it has processed the log, and which
 * service instance holds its lease. The row is updated in the same transaction as the
 * processor's own writes, with a compare-and-set on (owner, position): a writer that lost its
 * lease, or raced another instance, rolls back instead of applying an event twice.
 */
@Entity('checkpoints')
export class CheckpointRow {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  processor: string;

  @Column({ type: 'varchar', length: 40 })
  position: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  owner: string | null;

  /** Epoch milliseconds after which another instance may take the lease over. */
  @Column({ name: 'lease_until', type: 'bigint', default: 0 })
  leaseUntil: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 30 })
  updatedAt: string;

  /**
   * Set while a rebuild replays the log: the head position when it started. Queries of the
   * projection answer 503 PROJECTION_REBUILDING until the checkpoint reaches it, so nobody reads
   * a half-built model.
   */
  @Column({ name: 'rebuild_target', type: 'varchar', length: 40, nullable: true })
  rebuildTarget: string | null;
}

/** Events a processor gave up on after its retries; the processor moved on past them. */
@Entity('dead_letters')
@Index('ix_dead_letters_processor', ['processor'])
export class DeadLetterRow {
  @PrimaryGeneratedColumn('increment')
  id: number;

  @Column({ type: 'varchar', length: 100 })
  processor: string;

  @Column({ type: 'varchar', length: 40 })
  position: string;

  @Column({ name: 'event_id', type: 'varchar', length: 36 })
  eventId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 100 })
  eventType: string;

  @Column({ name: 'stream_id', type: 'varchar', length: 200 })
  streamId: string;

  @Column({ type: 'text' })
  error: string;

  @Column({ type: 'integer' })
  attempts: number;

  @Column({ name: 'created_at', type: 'varchar', length: 30 })
  createdAt: string;
}
