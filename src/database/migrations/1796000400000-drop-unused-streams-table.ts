import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Databases created before a stream's revision was read from `events` itself kept a `streams`
 * table that nothing reads or writes any more.
 */
export class DropUnusedStreamsTable1796000400000 implements MigrationInterface {
  name = 'DropUnusedStreamsTable1796000400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS streams');
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only: restore the backup taken before upgrading');
  }
}
