/**
 * Raw ceiling: bare Fastify and the bare database driver (better-sqlite3 or pg) doing the same
 * writes as the CRUD baseline, in one transaction per request: read the lead (locked on
 * PostgreSQL), insert account, contact and opportunity, update the lead. No framework, no ORM,
 * no auth: the most this machine does for one qualification over HTTP.
 *
 * Run: DATABASE_URL=sqlite:/tmp/x.sqlite PORT=3002 node --import tsx bench/raw-ceiling.ts
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';
import { errorText } from '../src/shared/error-text.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'sqlite:/tmp/raw-ceiling.sqlite';
const SQLITE = DATABASE_URL.startsWith('sqlite:');

const LEAD_COLUMNS = [
  'id',
  'topic',
  'first_name',
  'last_name',
  'job_title',
  'company_name',
  'email',
  'business_phone',
  'mobile_phone',
  'website',
  'street',
  'city',
  'state_or_province',
  'postal_code',
  'country',
  'lead_source',
  'rating',
  'budget_amount',
  'estimated_value',
  'purchase_timeframe',
  'description',
  'status',
  'status_reason',
  'version',
  'created_at',
  'updated_at',
];
const FIELD_OF: Record<string, string> = {
  first_name: 'firstName',
  last_name: 'lastName',
  job_title: 'jobTitle',
  company_name: 'companyName',
  business_phone: 'businessPhone',
  mobile_phone: 'mobilePhone',
  state_or_province: 'stateOrProvince',
  postal_code: 'postalCode',
  lead_source: 'leadSource',
  budget_amount: 'budgetAmount',
  estimated_value: 'estimatedValue',
  purchase_timeframe: 'purchaseTimeframe',
};

/** The same four tables and indexes as the CRUD baseline's entities. */
const SCHEMA = (real: string) => [
  `CREATE TABLE IF NOT EXISTS leads (id varchar(36) PRIMARY KEY, topic varchar(200) NOT NULL, first_name varchar(100), last_name varchar(100) NOT NULL,
     job_title varchar(100), company_name varchar(160), email varchar(254), business_phone varchar(50), mobile_phone varchar(50), website varchar(200),
     street varchar(250), city varchar(80), state_or_province varchar(50), postal_code varchar(20), country varchar(80), lead_source varchar(30),
     rating varchar(10), budget_amount ${real}, estimated_value ${real}, purchase_timeframe varchar(20), description text, status varchar(15) NOT NULL,
     status_reason varchar(20) NOT NULL, version integer NOT NULL DEFAULT 0, created_at varchar(30) NOT NULL, updated_at varchar(30) NOT NULL,
     qualified_at varchar(30), qualified_by varchar(100), account_id varchar(36), contact_id varchar(36), opportunity_id varchar(36))`,
  `CREATE INDEX IF NOT EXISTS ix_leads_status_created ON leads (status, created_at, id)`,
  `CREATE INDEX IF NOT EXISTS ix_leads_source_created ON leads (lead_source, created_at, id)`,
  `CREATE INDEX IF NOT EXISTS ix_leads_email ON leads (email)`,
  `CREATE TABLE IF NOT EXISTS accounts (id varchar(36) PRIMARY KEY, name varchar(160) NOT NULL, name_key varchar(160) NOT NULL, website varchar(200),
     telephone varchar(50), street varchar(250), city varchar(80), state_or_province varchar(50), postal_code varchar(20), country varchar(80),
     primary_contact_id varchar(36), originating_lead_id varchar(36) NOT NULL, created_at varchar(30) NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS ix_accounts_lead ON accounts (originating_lead_id)`,
  `CREATE INDEX IF NOT EXISTS ix_accounts_name_key ON accounts (name_key)`,
  `CREATE TABLE IF NOT EXISTS contacts (id varchar(36) PRIMARY KEY, first_name varchar(100), last_name varchar(100) NOT NULL, job_title varchar(100),
     email varchar(254), email_key varchar(254), business_phone varchar(50), mobile_phone varchar(50), street varchar(250), city varchar(80),
     state_or_province varchar(50), postal_code varchar(20), country varchar(80), parent_account_id varchar(36), originating_lead_id varchar(36) NOT NULL,
     created_at varchar(30) NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS ix_contacts_lead ON contacts (originating_lead_id)`,
  `CREATE INDEX IF NOT EXISTS ix_contacts_email_key ON contacts (email_key)`,
  `CREATE TABLE IF NOT EXISTS opportunities (id varchar(36) PRIMARY KEY, name varchar(200) NOT NULL, customer_id varchar(36), customer_type varchar(10),
     parent_account_id varchar(36), parent_contact_id varchar(36), budget_amount ${real}, estimated_value ${real}, purchase_timeframe varchar(20),
     description text, status varchar(10) NOT NULL, originating_lead_id varchar(36) NOT NULL, created_at varchar(30) NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS ix_opportunities_lead ON opportunities (originating_lead_id)`,
];

const INSERT_ACCOUNT = `INSERT INTO accounts (id, name, name_key, website, telephone, street, city, state_or_province, postal_code, country, primary_contact_id, originating_lead_id, created_at)`;
const INSERT_CONTACT = `INSERT INTO contacts (id, first_name, last_name, job_title, email, email_key, business_phone, mobile_phone, street, city, state_or_province, postal_code, country, parent_account_id, originating_lead_id, created_at)`;
const INSERT_OPPORTUNITY = `INSERT INTO opportunities (id, name, customer_id, customer_type, parent_account_id, parent_contact_id, budget_amount, estimated_value, purchase_timeframe, description, status, originating_lead_id, created_at)`;
const UPDATE_LEAD = `UPDATE leads SET status = 'Qualified', status_reason = 'Qualified', version = version + 1, updated_at = ?, qualified_at = ?, qualified_by = ?, account_id = ?, contact_id = ?, opportunity_id = ? WHERE id = ?`;

/** A leads row as the driver returns it; the columns copied into the records are read by name. */
interface LeadRow {
  [column: string]: unknown;
  status: string;
  last_name: string;
  company_name: string | null;
  email: string | null;
}

/** Parameters of the four writes, from the lead row. */
function writes(lead: LeadRow, id: string) {
  const now = new Date().toISOString();
  const accountId = randomUUID();
  const contactId = randomUUID();
  const opportunityId = randomUUID();
  const address = [lead.street, lead.city, lead.state_or_province, lead.postal_code, lead.country];
  const name = String(lead.company_name ?? lead.last_name).trim();
  return {
    result: { leadId: id, accountId, contactId, opportunityId },
    account: [accountId, name, name.toLowerCase(), lead.website, lead.business_phone, ...address, contactId, id, now],
    contact: [
      contactId,
      lead.first_name,
      lead.last_name,
      lead.job_title,
      lead.email,
      lead.email?.toLowerCase() ?? null,
      lead.business_phone,
      lead.mobile_phone,
      ...address,
      accountId,
      id,
      now,
    ],
    opportunity: [
      opportunityId,
      lead.topic,
      accountId,
      'account',
      accountId,
      contactId,
      lead.budget_amount,
      lead.estimated_value,
      lead.purchase_timeframe,
      lead.description,
      'Open',
      id,
      now,
    ],
    update: [now, now, 'bench', accountId, contactId, opportunityId, id],
  };
}

const values = (n: number, pg: boolean, offset = 0) => `VALUES (${Array.from({ length: n }, (_, i) => (pg ? `$${offset + i + 1}` : '?')).join(', ')})`;
const numbered = (sql: string) => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

class NotFound extends Error {}
class Conflict extends Error {}

interface Store {
  qualify(id: string): Promise<unknown>;
  seed(leads: Record<string, unknown>[]): Promise<number>;
  close(): Promise<void>;
}

function sqliteStore(path: string): Store {
  const db = new Database(path, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const sql of SCHEMA('real')) db.exec(sql);
  const select = db.prepare('SELECT * FROM leads WHERE id = ?');
  const account = db.prepare(`${INSERT_ACCOUNT} ${values(13, false)}`);
  const contact = db.prepare(`${INSERT_CONTACT} ${values(16, false)}`);
  const opportunity = db.prepare(`${INSERT_OPPORTUNITY} ${values(13, false)}`);
  const update = db.prepare(UPDATE_LEAD);
  const insertLead = db.prepare(`INSERT INTO leads (${LEAD_COLUMNS.join(', ')}) ${values(LEAD_COLUMNS.length, false)}`);
  const qualify = db.transaction((id: string) => {
    const lead = select.get(id) as LeadRow | undefined;
    if (!lead) throw new NotFound();
    if (lead.status !== 'Open') throw new Conflict();
    const w = writes(lead, id);
    account.run(w.account);
    contact.run(w.contact);
    opportunity.run(w.opportunity);
    update.run(w.update);
    return w.result;
  });
  const seed = db.transaction((leads: Record<string, unknown>[]) => {
    for (const lead of leads) insertLead.run(leadRow(lead));
  });
  return {
    qualify: async (id) => qualify.immediate(id),
    seed: async (leads) => {
      seed(leads);
      return leads.length;
    },
    close: async () => void db.close(),
  };
}

async function postgresStore(url: string): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: 16 });
  for (const sql of SCHEMA('double precision')) await pool.query(sql);
  const account = `${INSERT_ACCOUNT} ${values(13, true)}`;
  const contact = `${INSERT_CONTACT} ${values(16, true)}`;
  const opportunity = `${INSERT_OPPORTUNITY} ${values(13, true)}`;
  const update = numbered(UPDATE_LEAD);
  return {
    async qualify(id) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<LeadRow>('SELECT * FROM leads WHERE id = $1 FOR UPDATE', [id]);
        if (!rows.length) throw new NotFound();
        if (rows[0].status !== 'Open') throw new Conflict();
        const w = writes(rows[0], id);
        await client.query(account, w.account);
        await client.query(contact, w.contact);
        await client.query(opportunity, w.opportunity);
        await client.query(update, w.update);
        await client.query('COMMIT');
        return w.result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async seed(leads) {
      for (let i = 0; i < leads.length; i += 500) {
        const chunk = leads.slice(i, i + 500);
        const params: unknown[] = [];
        const rows = chunk.map((lead) => {
          const row = leadRow(lead);
          const list = values(row.length, true, params.length).slice('VALUES '.length);
          params.push(...row);
          return list;
        });
        await pool.query(`INSERT INTO leads (${LEAD_COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`, params);
      }
      return leads.length;
    },
    close: () => pool.end(),
  };
}

function leadRow(lead: Record<string, unknown>): unknown[] {
  const now = new Date().toISOString();
  const defaults: Record<string, unknown> = { status: 'Open', status_reason: 'New', version: 0, created_at: now, updated_at: now };
  return LEAD_COLUMNS.map((c) => lead[FIELD_OF[c] ?? c] ?? defaults[c] ?? null);
}

async function main(): Promise<void> {
  const store = SQLITE ? sqliteStore(DATABASE_URL.slice('sqlite:'.length)) : await postgresStore(DATABASE_URL);
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
  app.get('/raw/health', async () => ({ ok: true }));
  // Calibration: what bare Fastify serves on this machine right now (docs/performance.md: ~15,600/s idle).
  app.get('/raw/hello', async () => ({ hello: 'world' }));
  app.post('/raw/seed', async (request, reply) => {
    const inserted = await store.seed((request.body as { leads: Record<string, unknown>[] }).leads);
    reply.code(201);
    return { inserted };
  });
  app.post('/raw/leads/:id/qualify', async (request, reply) => {
    try {
      const result = await store.qualify((request.params as { id: string }).id);
      reply.code(202);
      return result;
    } catch (error) {
      if (error instanceof NotFound) return reply.code(404).send({ code: 'NOT_FOUND' });
      if (error instanceof Conflict) return reply.code(409).send({ code: 'LEAD_NOT_OPEN' });
      throw error;
    }
  });
  const shutdown = async () => {
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  await app.listen({ port: Number(process.env.PORT ?? 3002), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`raw ceiling listening (${SQLITE ? 'sqlite' : 'postgres'})`);
}

main().catch((error: unknown) => {
  console.error(`raw ceiling failed: ${errorText(error, 'stack')}`);
  process.exit(1);
});
