import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Qualification may give the new opportunity a currency and a source campaign (Dynamics 365's
 * QualifyLead parameters). Nullable: opportunities created before have neither, and their events
 * never carry them, so a rebuild leaves them null too.
 */
export class OpportunityCurrencyAndCampaign1796011200000 implements MigrationInterface {
  name = 'OpportunityCurrencyAndCampaign1796011200000';

  async up(runner: QueryRunner): Promise<void> {
    const varchar = runner.connection.options.type === 'postgres' ? 'character varying' : 'varchar';
    await runner.query(`ALTER TABLE "opportunities" ADD "currency_id" ${varchar}(36)`);
    await runner.query(`ALTER TABLE "opportunities" ADD "source_campaign_id" ${varchar}(36)`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only: restore the backup taken before upgrading');
  }
}
