import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The CRUD baseline's tables, as a TypeORM migration: the baseline is held to the service's rule
 * that no schema comes from synchronize. The same SQL suits SQLite and PostgreSQL (`float` is
 * double precision on both); it matches the entities of crud-baseline.ts.
 */
const STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS leads (
     id varchar(36) PRIMARY KEY, topic varchar(200) NOT NULL, first_name varchar(100), last_name varchar(100) NOT NULL,
     job_title varchar(100), company_name varchar(160), email varchar(254), business_phone varchar(50), mobile_phone varchar(50),
     website varchar(200), street varchar(250), city varchar(80), state_or_province varchar(50), postal_code varchar(20),
     country varchar(80), lead_source varchar(30), rating varchar(10), budget_amount float, estimated_value float,
     purchase_timeframe varchar(20), description text, status varchar(15) NOT NULL, status_reason varchar(20) NOT NULL,
     version integer NOT NULL DEFAULT 0, created_at varchar(30) NOT NULL, updated_at varchar(30) NOT NULL,
     qualified_at varchar(30), qualified_by varchar(100), account_id varchar(36), contact_id varchar(36), opportunity_id varchar(36))`,
  'CREATE INDEX IF NOT EXISTS ix_leads_status_created ON leads (status, created_at, id)',
  'CREATE INDEX IF NOT EXISTS ix_leads_source_created ON leads (lead_source, created_at, id)',
  'CREATE INDEX IF NOT EXISTS ix_leads_email ON leads (email)',
  `CREATE TABLE IF NOT EXISTS accounts (
     id varchar(36) PRIMARY KEY, name varchar(160) NOT NULL, name_key varchar(160) NOT NULL, website varchar(200),
     telephone varchar(50), street varchar(250), city varchar(80), state_or_province varchar(50), postal_code varchar(20),
     country varchar(80), primary_contact_id varchar(36), originating_lead_id varchar(36) NOT NULL, created_at varchar(30) NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS ix_accounts_lead ON accounts (originating_lead_id)',
  'CREATE INDEX IF NOT EXISTS ix_accounts_name_key ON accounts (name_key)',
  `CREATE TABLE IF NOT EXISTS contacts (
     id varchar(36) PRIMARY KEY, first_name varchar(100), last_name varchar(100) NOT NULL, job_title varchar(100),
     email varchar(254), email_key varchar(254), business_phone varchar(50), mobile_phone varchar(50), street varchar(250),
     city varchar(80), state_or_province varchar(50), postal_code varchar(20), country varchar(80),
     parent_account_id varchar(36), originating_lead_id varchar(36) NOT NULL, created_at varchar(30) NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS ix_contacts_lead ON contacts (originating_lead_id)',
  'CREATE INDEX IF NOT EXISTS ix_contacts_email_key ON contacts (email_key)',
  `CREATE TABLE IF NOT EXISTS opportunities (
     id varchar(36) PRIMARY KEY, name varchar(200) NOT NULL, customer_id varchar(36), customer_type varchar(10),
     parent_account_id varchar(36), parent_contact_id varchar(36), budget_amount float, estimated_value float,
     purchase_timeframe varchar(20), description text, status varchar(10) NOT NULL, originating_lead_id varchar(36) NOT NULL,
     created_at varchar(30) NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS ix_opportunities_lead ON opportunities (originating_lead_id)',
];

export class CrudBaselineSchema1795996800000 implements MigrationInterface {
  name = 'CrudBaselineSchema1795996800000';

  async up(runner: QueryRunner): Promise<void> {
    for (const statement of STATEMENTS) await runner.query(statement);
  }

  async down(): Promise<void> {
    throw new Error('forward-only');
  }
}
