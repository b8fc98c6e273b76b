import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The schema as release 5197579 left it: the log (created by hand, see below) and the tables
 * TypeORM's synchronize made from the entities of that release, statement for statement as it
 * made them (taken from the fixtures test/fixtures/release-5197579), so that a database written by
 * that release and a fresh one end up the same. Everything is IF NOT EXISTS: on such a database
 * this migration finds its tables and only records itself.
 *
 * The log's position column is a 64-bit identity on PostgreSQL and SQLite's INTEGER PRIMARY KEY
 * AUTOINCREMENT (never reused), which no single entity definition yields on both. A stream's
 * revision is MAX(stream_revision) through the (stream_id, stream_revision) index.
 */
const SQLITE = [
  `CREATE TABLE IF NOT EXISTS events (
     global_position INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id TEXT NOT NULL UNIQUE,
     stream_id TEXT NOT NULL,
     stream_revision INTEGER NOT NULL,
     type TEXT NOT NULL,
     data TEXT NOT NULL,
     metadata TEXT NOT NULL,
     created_at TEXT NOT NULL,
     UNIQUE (stream_id, stream_revision))`,
  'CREATE INDEX IF NOT EXISTS ix_events_type ON events (type, global_position)',
  'CREATE TABLE IF NOT EXISTS "checkpoints" ("processor" varchar(100) PRIMARY KEY NOT NULL, "position" varchar(40) NOT NULL, "owner" varchar(100), "lease_until" bigint NOT NULL DEFAULT (0), "updated_at" varchar(30) NOT NULL, "rebuild_target" varchar(40))',
  'CREATE TABLE IF NOT EXISTS "dead_letters" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "processor" varchar(100) NOT NULL, "position" varchar(40) NOT NULL, "event_id" varchar(36) NOT NULL, "event_type" varchar(100) NOT NULL, "stream_id" varchar(200) NOT NULL, "error" text NOT NULL, "attempts" integer NOT NULL, "created_at" varchar(30) NOT NULL)',
  'CREATE INDEX IF NOT EXISTS "ix_dead_letters_processor" ON "dead_letters" ("processor")',
  'CREATE TABLE IF NOT EXISTS "qualification_stats_daily" ("day" varchar(10) NOT NULL, "lead_source" varchar(30) NOT NULL, "setting_version" integer NOT NULL, "decided_by" varchar(12) NOT NULL, "leads_created" integer NOT NULL DEFAULT (0), "qualified" integer NOT NULL DEFAULT (0), "disqualified" integer NOT NULL DEFAULT (0), "accounts_created" integer NOT NULL DEFAULT (0), "contacts_created" integer NOT NULL DEFAULT (0), "opportunities_created" integer NOT NULL DEFAULT (0), PRIMARY KEY ("day", "lead_source", "setting_version", "decided_by"))',
  'CREATE TABLE IF NOT EXISTS "analytics_leads" ("lead_id" varchar(36) PRIMARY KEY NOT NULL, "lead_source" varchar(30) NOT NULL, "revision" integer NOT NULL, "setting_version" integer, "decided_by" varchar(12))',
  'CREATE TABLE IF NOT EXISTS "analytics_records" ("record_id" varchar(36) PRIMARY KEY NOT NULL)',
  'CREATE TABLE IF NOT EXISTS "lead_details" ("id" varchar(36) PRIMARY KEY NOT NULL, "topic" varchar(200) NOT NULL, "first_name" varchar(100), "last_name" varchar(100) NOT NULL, "job_title" varchar(100), "company_name" varchar(160), "email" varchar(254), "business_phone" varchar(50), "mobile_phone" varchar(50), "website" varchar(200), "street" varchar(250), "city" varchar(80), "state_or_province" varchar(50), "postal_code" varchar(20), "country" varchar(80), "lead_source" varchar(30), "rating" varchar(10), "budget_amount" float, "estimated_value" float, "purchase_timeframe" varchar(20), "description" text, "existing_account_id" varchar(36), "existing_contact_id" varchar(36), "search_text" varchar(600) NOT NULL, "status" varchar(15) NOT NULL, "status_reason" varchar(20) NOT NULL, "version" integer NOT NULL, "position" varchar(40) NOT NULL, "created_at" varchar(30) NOT NULL, "created_by" varchar(100) NOT NULL, "updated_at" varchar(30) NOT NULL, "qualification_id" varchar(36), "plan" text, "decided_by" varchar(12), "setting_version" integer, "create_records_by_default" boolean, "qualified_by" varchar(100), "qualified_at" varchar(30), "disqualified_at" varchar(30), "conversion" varchar(10), "conversion_failure_reason" text, "account_id" varchar(36), "contact_id" varchar(36), "opportunity_id" varchar(36))',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_updated" ON "lead_details" ("updated_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_topic" ON "lead_details" ("topic", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_last_name" ON "lead_details" ("last_name", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_qualified" ON "lead_details" ("qualified_at")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_rating_created" ON "lead_details" ("rating", "created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_status_source_created" ON "lead_details" ("status", "lead_source", "created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_source_created" ON "lead_details" ("lead_source", "created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_status_created" ON "lead_details" ("status", "created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_created" ON "lead_details" ("created_at", "id")',
  'CREATE TABLE IF NOT EXISTS "qualify_setting_history" ("version" integer PRIMARY KEY NOT NULL, "create_records_by_default" boolean NOT NULL, "previous_value" boolean NOT NULL, "changed_by" varchar(100) NOT NULL, "changed_at" varchar(30) NOT NULL, "position" varchar(40) NOT NULL)',
  'CREATE INDEX IF NOT EXISTS "ix_qualify_setting_history_changed" ON "qualify_setting_history" ("changed_at")',
  'CREATE TABLE IF NOT EXISTS "accounts" ("id" varchar(36) PRIMARY KEY NOT NULL, "name" varchar(160) NOT NULL, "name_key" varchar(160) NOT NULL, "website" varchar(200), "telephone" varchar(50), "street" varchar(250), "city" varchar(80), "state_or_province" varchar(50), "postal_code" varchar(20), "country" varchar(80), "primary_contact_id" varchar(36), "originating_lead_id" varchar(36) NOT NULL, "qualification_id" varchar(36) NOT NULL, "created_at" varchar(30) NOT NULL, "position" varchar(40) NOT NULL)',
  'CREATE INDEX IF NOT EXISTS "ix_accounts_created" ON "accounts" ("created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_accounts_name_key" ON "accounts" ("name_key")',
  'CREATE INDEX IF NOT EXISTS "ix_accounts_lead" ON "accounts" ("originating_lead_id")',
  'CREATE TABLE IF NOT EXISTS "contacts" ("id" varchar(36) PRIMARY KEY NOT NULL, "first_name" varchar(100), "last_name" varchar(100) NOT NULL, "job_title" varchar(100), "email" varchar(254), "email_key" varchar(254), "business_phone" varchar(50), "mobile_phone" varchar(50), "street" varchar(250), "city" varchar(80), "state_or_province" varchar(50), "postal_code" varchar(20), "country" varchar(80), "parent_account_id" varchar(36), "originating_lead_id" varchar(36) NOT NULL, "qualification_id" varchar(36) NOT NULL, "created_at" varchar(30) NOT NULL, "position" varchar(40) NOT NULL)',
  'CREATE INDEX IF NOT EXISTS "ix_contacts_created" ON "contacts" ("created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_contacts_email_key" ON "contacts" ("email_key")',
  'CREATE INDEX IF NOT EXISTS "ix_contacts_lead" ON "contacts" ("originating_lead_id")',
  'CREATE TABLE IF NOT EXISTS "opportunities" ("id" varchar(36) PRIMARY KEY NOT NULL, "name" varchar(200) NOT NULL, "customer_id" varchar(36), "customer_type" varchar(10), "parent_account_id" varchar(36), "parent_contact_id" varchar(36), "budget_amount" float, "estimated_value" float, "purchase_timeframe" varchar(20), "description" text, "status" varchar(10) NOT NULL, "originating_lead_id" varchar(36) NOT NULL, "qualification_id" varchar(36) NOT NULL, "created_at" varchar(30) NOT NULL, "position" varchar(40) NOT NULL)',
  'CREATE INDEX IF NOT EXISTS "ix_opportunities_created" ON "opportunities" ("created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_opportunities_lead" ON "opportunities" ("originating_lead_id")',
];

const POSTGRES = [
  `CREATE TABLE IF NOT EXISTS events (
     global_position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     event_id UUID NOT NULL,
     stream_id VARCHAR(200) NOT NULL,
     stream_revision INTEGER NOT NULL,
     type VARCHAR(100) NOT NULL,
     data JSONB NOT NULL,
     metadata JSONB NOT NULL,
     created_at TIMESTAMPTZ NOT NULL,
     CONSTRAINT uq_events_event_id UNIQUE (event_id),
     CONSTRAINT uq_events_stream_revision UNIQUE (stream_id, stream_revision))`,
  'CREATE INDEX IF NOT EXISTS ix_events_type ON events (type, global_position)',
  'CREATE TABLE IF NOT EXISTS "accounts" ("id" character varying(36) NOT NULL, "name" character varying(160) NOT NULL, "name_key" character varying(160) NOT NULL, "website" character varying(200), "telephone" character varying(50), "street" character varying(250), "city" character varying(80), "state_or_province" character varying(50), "postal_code" character varying(20), "country" character varying(80), "primary_contact_id" character varying(36), "originating_lead_id" character varying(36) NOT NULL, "qualification_id" character varying(36) NOT NULL, "created_at" character varying(30) NOT NULL, "position" character varying(40) NOT NULL, CONSTRAINT "PK_5a7a02c20412299d198e097a8fe" PRIMARY KEY ("id"))',
  'CREATE INDEX IF NOT EXISTS "ix_accounts_created" ON "accounts" ("created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_accounts_lead" ON "accounts" ("originating_lead_id")',
  'CREATE INDEX IF NOT EXISTS "ix_accounts_name_key" ON "accounts" ("name_key")',
  'CREATE TABLE IF NOT EXISTS "analytics_leads" ("lead_id" character varying(36) NOT NULL, "lead_source" character varying(30) NOT NULL, "revision" integer NOT NULL, "setting_version" integer, "decided_by" character varying(12), CONSTRAINT "PK_7803ec79cf0751f2d9222161cc2" PRIMARY KEY ("lead_id"))',
  'CREATE TABLE IF NOT EXISTS "analytics_records" ("record_id" character varying(36) NOT NULL, CONSTRAINT "PK_f431c96aead167c0162cf4d999f" PRIMARY KEY ("record_id"))',
  'CREATE TABLE IF NOT EXISTS "checkpoints" ("processor" character varying(100) NOT NULL, "position" character varying(40) NOT NULL, "owner" character varying(100), "lease_until" bigint NOT NULL DEFAULT \'0\', "updated_at" character varying(30) NOT NULL, "rebuild_target" character varying(40), CONSTRAINT "PK_5f872d981c2b8cc1fa799f43d08" PRIMARY KEY ("processor"))',
  'CREATE TABLE IF NOT EXISTS "contacts" ("id" character varying(36) NOT NULL, "first_name" character varying(100), "last_name" character varying(100) NOT NULL, "job_title" character varying(100), "email" character varying(254), "email_key" character varying(254), "business_phone" character varying(50), "mobile_phone" character varying(50), "street" character varying(250), "city" character varying(80), "state_or_province" character varying(50), "postal_code" character varying(20), "country" character varying(80), "parent_account_id" character varying(36), "originating_lead_id" character varying(36) NOT NULL, "qualification_id" character varying(36) NOT NULL, "created_at" character varying(30) NOT NULL, "position" character varying(40) NOT NULL, CONSTRAINT "PK_b99cd40cfd66a99f1571f4f72e6" PRIMARY KEY ("id"))',
  'CREATE INDEX IF NOT EXISTS "ix_contacts_created" ON "contacts" ("created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_contacts_email_key" ON "contacts" ("email_key")',
  'CREATE INDEX IF NOT EXISTS "ix_contacts_lead" ON "contacts" ("originating_lead_id")',
  'CREATE TABLE IF NOT EXISTS "dead_letters" ("id" SERIAL NOT NULL, "processor" character varying(100) NOT NULL, "position" character varying(40) NOT NULL, "event_id" character varying(36) NOT NULL, "event_type" character varying(100) NOT NULL, "stream_id" character varying(200) NOT NULL, "error" text NOT NULL, "attempts" integer NOT NULL, "created_at" character varying(30) NOT NULL, CONSTRAINT "PK_084e63809483fb0a9c48aae607f" PRIMARY KEY ("id"))',
  'CREATE INDEX IF NOT EXISTS "ix_dead_letters_processor" ON "dead_letters" ("processor")',
  'CREATE TABLE IF NOT EXISTS "lead_details" ("id" character varying(36) NOT NULL, "topic" character varying(200) NOT NULL, "first_name" character varying(100), "last_name" character varying(100) NOT NULL, "job_title" character varying(100), "company_name" character varying(160), "email" character varying(254), "business_phone" character varying(50), "mobile_phone" character varying(50), "website" character varying(200), "street" character varying(250), "city" character varying(80), "state_or_province" character varying(50), "postal_code" character varying(20), "country" character varying(80), "lead_source" character varying(30), "rating" character varying(10), "budget_amount" double precision, "estimated_value" double precision, "purchase_timeframe" character varying(20), "description" text, "existing_account_id" character varying(36), "existing_contact_id" character varying(36), "search_text" character varying(600) NOT NULL, "status" character varying(15) NOT NULL, "status_reason" character varying(20) NOT NULL, "version" integer NOT NULL, "position" character varying(40) NOT NULL, "created_at" character varying(30) NOT NULL, "created_by" character varying(100) NOT NULL, "updated_at" character varying(30) NOT NULL, "qualification_id" character varying(36), "plan" text, "decided_by" character varying(12), "setting_version" integer, "create_records_by_default" boolean, "qualified_by" character varying(100), "qualified_at" character varying(30), "disqualified_at" character varying(30), "conversion" character varying(10), "conversion_failure_reason" text, "account_id" character varying(36), "contact_id" character varying(36), "opportunity_id" character varying(36), CONSTRAINT "PK_34453c2ef99323678e3a071006f" PRIMARY KEY ("id"))',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_created" ON "lead_details" ("created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_last_name" ON "lead_details" ("last_name", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_qualified" ON "lead_details" ("qualified_at")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_rating_created" ON "lead_details" ("rating", "created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_source_created" ON "lead_details" ("lead_source", "created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_status_created" ON "lead_details" ("status", "created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_status_source_created" ON "lead_details" ("status", "lead_source", "created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_topic" ON "lead_details" ("topic", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_lead_details_updated" ON "lead_details" ("updated_at", "id")',
  'CREATE TABLE IF NOT EXISTS "opportunities" ("id" character varying(36) NOT NULL, "name" character varying(200) NOT NULL, "customer_id" character varying(36), "customer_type" character varying(10), "parent_account_id" character varying(36), "parent_contact_id" character varying(36), "budget_amount" double precision, "estimated_value" double precision, "purchase_timeframe" character varying(20), "description" text, "status" character varying(10) NOT NULL, "originating_lead_id" character varying(36) NOT NULL, "qualification_id" character varying(36) NOT NULL, "created_at" character varying(30) NOT NULL, "position" character varying(40) NOT NULL, CONSTRAINT "PK_4bd9cd12ddc0ff48a5a97ddebce" PRIMARY KEY ("id"))',
  'CREATE INDEX IF NOT EXISTS "ix_opportunities_created" ON "opportunities" ("created_at", "id")',
  'CREATE INDEX IF NOT EXISTS "ix_opportunities_lead" ON "opportunities" ("originating_lead_id")',
  'CREATE TABLE IF NOT EXISTS "qualification_stats_daily" ("day" character varying(10) NOT NULL, "lead_source" character varying(30) NOT NULL, "setting_version" integer NOT NULL, "decided_by" character varying(12) NOT NULL, "leads_created" integer NOT NULL DEFAULT \'0\', "qualified" integer NOT NULL DEFAULT \'0\', "disqualified" integer NOT NULL DEFAULT \'0\', "accounts_created" integer NOT NULL DEFAULT \'0\', "contacts_created" integer NOT NULL DEFAULT \'0\', "opportunities_created" integer NOT NULL DEFAULT \'0\', CONSTRAINT "PK_ce6d9a529fee4dbe49c51d13d03" PRIMARY KEY ("day", "lead_source", "setting_version", "decided_by"))',
  'CREATE TABLE IF NOT EXISTS "qualify_setting_history" ("version" integer NOT NULL, "create_records_by_default" boolean NOT NULL, "previous_value" boolean NOT NULL, "changed_by" character varying(100) NOT NULL, "changed_at" character varying(30) NOT NULL, "position" character varying(40) NOT NULL, CONSTRAINT "PK_d8b0be03a5e9cda1a43c04e2be4" PRIMARY KEY ("version"))',
  'CREATE INDEX IF NOT EXISTS "ix_qualify_setting_history_changed" ON "qualify_setting_history" ("changed_at")',
];

export class Baseline1795996800000 implements MigrationInterface {
  name = 'Baseline1795996800000';

  async up(runner: QueryRunner): Promise<void> {
    for (const statement of runner.connection.options.type === 'postgres' ? POSTGRES : SQLITE) await runner.query(statement);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only: restore the backup taken before upgrading');
  }
}
