import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * accounts.name_key and contacts.email_key were indexed for duplicate detection on the read
 * models, which uniqueness claims in the log replaced. Each of these indexes is keyed by a
 * normalised name or address, so every record written dirtied a random page of each; nothing
 * reads them any more. The columns stay (analysts use them).
 */
export class DropDuplicateDetectionIndexes1796004000000 implements MigrationInterface {
  name = 'DropDuplicateDetectionIndexes1796004000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX IF EXISTS ix_accounts_name_key');
    await runner.query('DROP INDEX IF EXISTS ix_contacts_email_key');
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only: restore the backup taken before upgrading');
  }
}
