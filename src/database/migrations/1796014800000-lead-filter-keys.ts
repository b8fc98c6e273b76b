import type { MigrationInterface, QueryRunner } from 'typeorm';
import { companyNameKey, emailKey } from '../../shared/normalised-keys.js';

/**
 * Leads are filtered by e-mail and by company name without regard to case (Dataverse's `$filter`
 * on emailaddress1 and companyname): lead_details gets a key for each, as the projection computes
 * them (email_key: trimmed, lower-cased; company_key: also inner white space collapsed), and an
 * index on each. Records are filtered by their lookups (accounts by primary contact, contacts by
 * account, opportunities by customer, account and contact): one (lookup, created_at, id) index
 * each, so that a filtered page is one range scan in list order.
 *
 * The keys of existing leads are computed here by the functions the projection uses (emailKey,
 * companyNameKey), in pages, not by SQL: lower() differs from JavaScript's beyond ASCII (SQLite's
 * lowers ASCII only), and trim() and white space differ too. The indexes are made after the
 * keys are filled, which is cheaper than maintaining them row by row.
 */
export class LeadFilterKeys1796014800000 implements MigrationInterface {
  name = 'LeadFilterKeys1796014800000';

  async up(runner: QueryRunner): Promise<void> {
    const postgres = runner.connection.options.type === 'postgres';
    const p = (n: number) => (postgres ? `$${n}` : '?');
    const varchar = postgres ? 'character varying' : 'varchar';
    await runner.query(`ALTER TABLE "lead_details" ADD "email_key" ${varchar}(508)`);
    await runner.query(`ALTER TABLE "lead_details" ADD "company_key" ${varchar}(320)`);

    const PAGE = 1000;
    for (let after = ''; ;) {
      // TypeORM's query() answers `any`: these are the rows selected.
      const rows = (await runner.query(`SELECT id, email, company_name FROM lead_details WHERE id > ${p(1)} ORDER BY id LIMIT ${PAGE}`, [after])) as {
        id: string;
        email: string | null;
        company_name: string | null;
      }[];
      if (!rows.length) break;
      after = rows[rows.length - 1].id;
      const keyed = rows
        .map((r) => ({ id: r.id, email: emailKey(r.email), company: companyNameKey(r.company_name) }))
        .filter((r) => r.email !== null || r.company !== null);
      if (!keyed.length) continue;
      const values = keyed.map((_, i) => `(${p(3 * i + 1)}, ${p(3 * i + 2)}, ${p(3 * i + 3)})`).join(', ');
      // VALUES names its columns column1..3 on both databases.
      await runner.query(
        `UPDATE lead_details SET email_key = v.column2, company_key = v.column3 FROM (VALUES ${values}) AS v WHERE lead_details.id = v.column1`,
        keyed.flatMap((r) => [r.id, r.email, r.company]),
      );
    }

    await runner.query('CREATE INDEX IF NOT EXISTS "ix_lead_details_email_key" ON "lead_details" ("email_key")');
    await runner.query('CREATE INDEX IF NOT EXISTS "ix_lead_details_company_key" ON "lead_details" ("company_key")');
    await runner.query('CREATE INDEX IF NOT EXISTS "ix_accounts_primary_contact" ON "accounts" ("primary_contact_id", "created_at", "id")');
    await runner.query('CREATE INDEX IF NOT EXISTS "ix_contacts_parent_account" ON "contacts" ("parent_account_id", "created_at", "id")');
    await runner.query('CREATE INDEX IF NOT EXISTS "ix_opportunities_customer" ON "opportunities" ("customer_id", "created_at", "id")');
    await runner.query('CREATE INDEX IF NOT EXISTS "ix_opportunities_parent_account" ON "opportunities" ("parent_account_id", "created_at", "id")');
    await runner.query('CREATE INDEX IF NOT EXISTS "ix_opportunities_parent_contact" ON "opportunities" ("parent_contact_id", "created_at", "id")');
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only: restore the backup taken before upgrading');
  }
}
