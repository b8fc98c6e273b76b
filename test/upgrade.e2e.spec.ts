import { randomUUID } from 'node:crypto';
import { QueryBus } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.js';
import { Database } from '../src/database/database.js';
import { EVENT_STORE, NO_STREAM } from '../src/event-store/event-store.port.js';
import { SqlEventStore } from '../src/event-store/sql/sql-event-store.js';
import { derivedRecordId } from '../src/shared/record-ids.js';
import { ListLeadsByAttributes } from '../src/dataverse/lead-filter.query.js';
import { CLAIMS_BACKFILL } from '../src/leads/claims-backfill.js';
import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseKinds, type TestDatabase, type TestDatabaseKind } from './support/databases.js';
import { eventually, newEvent } from './support/events.js';
import { RELEASES, restoreRelease } from './support/release-fixture.js';
import type { EventStore } from './support/untyped-events.js';

const LEAD = {
  A: '51975790-1ead-4000-8000-00000000000a',
  B: '51975790-1ead-4000-8000-00000000000b',
  C: '51975790-1ead-4000-8000-00000000000c',
  D: '51975790-1ead-4000-8000-00000000000d',
};
const PROCESSORS = ['customer-records', 'lead-conversion', 'lead-details', 'qualification-analytics', 'qualify-setting-history'];

const kinds = await testDatabaseKinds();
const sqlite = kinds.find((k) => k.name === 'sqlite-file')!;
const postgres = kinds.find((k) => k.name === 'postgres')!;

/** Starts the current code on `db`; closing it keeps the database (the suite drops it). */
const startOn = (db: TestDatabase) =>
  startTestApp({ name: db.name as TestDatabaseKind['name'], available: true, create: async () => ({ ...db, drop: async () => undefined }) });

interface Inventory {
  events: [position: string, id: string, type: string][];
  checkpoints: Record<string, string>;
  rows: Record<string, number>;
}
const COUNTED = [
  'lead_details',
  'accounts',
  'contacts',
  'opportunities',
  'qualify_setting_history',
  'qualification_stats_daily',
  'analytics_leads',
  'analytics_records',
  'dead_letters',
];

/** What the database holds, read with a plain connection (no migrations run). */
async function inventory(db: TestDatabase): Promise<Inventory> {
  const source = await new DataSource(dataSourceOptions(db.config, [])).initialize();
  try {
    const events: { global_position: string | number; event_id: string; type: string }[] = await source.query(
      'SELECT global_position, event_id, type FROM events ORDER BY global_position',
    );
    const checkpoints: { processor: string; position: string }[] = await source.query('SELECT processor, position FROM checkpoints');
    const rows: Record<string, number> = {};
    for (const table of COUNTED) rows[table] = Number((await source.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
    return {
      events: events.map((e) => [String(e.global_position), String(e.event_id), e.type]),
      checkpoints: Object.fromEntries(checkpoints.map((c) => [c.processor, String(c.position)])),
      rows,
    };
  } finally {
    await source.destroy();
  }
}

const CASES = [sqlite, postgres].filter((k) => k.available).flatMap((kind) => RELEASES.map((release) => ({ kind, release, name: kind.name })));

describe.each(CASES)('upgrade of a database written by release $release ($name)', ({ kind, release }) => {
  let db: TestDatabase;
  let t: TestApp;
  let store: EventStore;
  let before: Inventory;
  let checkpointsAtStart: { processor: string; position: string }[];
  beforeAll(async () => {
    db = await restoreRelease(kind, release);
    before = await inventory(db);
    t = await startOn(db);
    store = t.app.get(EVENT_STORE);
    checkpointsAtStart = await t.app.get(Database).query(`SELECT processor, position FROM checkpoints ORDER BY processor`);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('keeps every event, checkpoint, dead letter and read-model row; processors resume from their checkpoints', async () => {
    const started = Object.fromEntries(checkpointsAtStart.map((c) => [c.processor, Number(c.position)]));
    for (const [name, position] of Object.entries(before.checkpoints)) expect(started[name]).toBeGreaterThanOrEqual(Number(position));
    for (const name of PROCESSORS) expect(started[name]).toBeGreaterThanOrEqual(10);
    const kept = await store.readAll('0', before.events.length);
    expect(kept.map((e) => [e.position, e.id, e.type])).toEqual(before.events);
    const after = await inventory(db);
    expect(after.rows).toEqual(before.rows);
    expect((await store.readStream(`lead-${LEAD.B}`)).map((e) => e.type)).toEqual(['LeadCreated', 'LeadQualified', 'LeadConversionCompleted']);
    const rows = await t.app
      .get(Database)
      .query(`SELECT (SELECT COUNT(*) FROM lead_details) AS leads, (SELECT COUNT(*) FROM accounts) AS accounts, (SELECT COUNT(*) FROM dead_letters) AS dead`);
    expect(rows.map((r: Record<string, unknown>) => [Number(r.leads), Number(r.accounts), Number(r.dead)])).toEqual([[4, 1, 0]]);
  });

  // Only the release before claims has records without them.
  (release === '5197579' ? it : () => undefined)(
    "backfills claims for the existing account and contact and the open leads' e-mails, not for closed leads",
    async () => {
      const claims = (await store.readAll('10', 1000)).filter((e) => e.type === 'UniqueKeyClaimed');
      const accountId = (await store.readAll('0', 10)).find((e) => e.type === 'AccountCreated')!.data.id;
      const contactId = (await store.readAll('0', 10)).find((e) => e.type === 'ContactCreated')!.data.id;
      expect(claims.map((e) => [e.data.kind, e.data.key, e.data.recordId, e.data.backfilled]).sort()).toEqual(
        [
          ['account-name', 'legacy customer co', accountId, true],
          ['contact-email', 'carl@legacy.example', contactId, true],
          ['lead-email', 'dora@legacy.example', LEAD.D, true],
          ['lead-email', 'olive@legacy.example', LEAD.A, true],
        ].sort(),
      );
      const marker = await t.app.get(Database).query(`SELECT position FROM checkpoints WHERE processor = '${CLAIMS_BACKFILL}'`);
      expect(marker.map((r: { position: string }) => String(r.position))).toEqual(['10']);
    },
  );

  it('the old records and open leads now stop duplicates; closed leads do not', async () => {
    const accountId = (await store.readAll('0', 10)).find((e) => e.type === 'AccountCreated')!.data.id;
    const sameEmail = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'x', lastName: 'y', email: 'OLIVE@legacy.example' } });
    expect([sameEmail.status, sameEmail.body.code, sameEmail.body.duplicates?.leads?.map((l: { id: string }) => l.id)]).toEqual([
      409,
      'DUPLICATES_FOUND',
      [LEAD.A],
    ]);
    // D's company differs from B's account only by case and spaces, which the old check missed.
    const lookalike = await t.request('POST', `/leads/${LEAD.D}/qualify`, { as: 'salesperson', body: {} });
    expect([lookalike.status, lookalike.body.code, lookalike.body.duplicates?.accounts]).toEqual([
      409,
      'DUPLICATES_FOUND',
      [{ id: accountId, name: 'Legacy Customer Co', pending: false }],
    ]);
    const closedLeadsEmail = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'x', lastName: 'y', email: 'gina@legacy.example' } });
    expect(closedLeadsEmail.status).toBe(201);
  });

  it('the old account and contact are found by ?q= (keys the release never wrote)', async () => {
    const found = async (path: string) => (await t.request('GET', path, { as: 'salesperson' })).body.items?.map((r: { id: string }) => r.id);
    const old = await store.readAll('0', 100);
    const accountId = old.find((e) => e.type === 'AccountCreated')!.data.id;
    const contact = old.find((e) => e.type === 'ContactCreated')!.data;
    expect(await found('/accounts?q=LEGACY%20%20cust')).toEqual([accountId]);
    expect(await found(`/contacts?q=${encodeURIComponent(contact.lastName.toUpperCase())}`)).toEqual([contact.id]);
    expect(await found(`/contacts?q=${encodeURIComponent(`${contact.firstName} ${contact.lastName.slice(0, 2)}`)}`)).toEqual([contact.id]);
    expect(await found('/contacts?q=CARL%40legacy')).toEqual([contact.id]);
  });

  it('the old opportunity reads currencyId and sourceCampaignId as null (columns the release never had)', async () => {
    const created = (await store.readAll('0', 100)).find((e) => e.type === 'OpportunityCreated')!.data;
    const res = await t.request('GET', `/opportunities/${created.id}`, { as: 'analyst' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...created, currencyId: null, sourceCampaignId: null, createdAt: expect.any(String) });
  });

  it('the old leads are found by e-mail and company key, the old records by their lookups (keys and indexes the release never had)', async () => {
    const leads = async (filter: { email?: string | null; companyName?: string | null }) =>
      (await t.app.get(QueryBus).execute(new ListLeadsByAttributes({ ...filter, limit: 50 }))).items.map((l) => l.id);
    expect(await leads({ email: 'OLIVE@legacy.example' })).toEqual([LEAD.A]);
    // D's "  legacy   CUSTOMER co " has the key of B's company: case and white space ignored.
    expect(await leads({ companyName: 'Legacy Customer Co' })).toEqual([LEAD.B, LEAD.D]);
    const old = await store.readAll('0', 100);
    const account = old.find((e) => e.type === 'AccountCreated')!.data;
    const contact = old.find((e) => e.type === 'ContactCreated')!.data;
    const opportunity = old.find((e) => e.type === 'OpportunityCreated')!.data;
    const found = async (path: string) => (await t.request('GET', path, { as: 'salesperson' })).body.items?.map((r: { id: string }) => r.id);
    expect(await found(`/accounts?primaryContactId=${contact.id}`)).toEqual([account.id]);
    expect(await found(`/contacts?parentAccountId=${account.id}`)).toEqual([contact.id]);
    expect(await found(`/opportunities?customerId=${opportunity.customerId}`)).toEqual([opportunity.id]);
  });

  it('a lead qualified after the upgrade is converted exactly once', async () => {
    const tag = randomUUID();
    const created = await t.request('POST', '/leads', {
      as: 'salesperson',
      body: { topic: 'After the upgrade', lastName: 'New', companyName: `New Co ${tag}`, email: `${tag}@new.example` },
    });
    expect(created.status).toBe(201);
    const qualified = await t.request('POST', `/leads/${created.body.id}/qualify`, { as: 'salesperson', body: {} });
    expect(qualified.status).toBe(202);
    const { plan } = qualified.body;
    const lead = await eventually(async () => {
      const res = await t.request('GET', `/leads/${created.body.id}`, { as: 'analyst' });
      return res.body?.qualification?.conversion === 'completed' ? res.body : undefined;
    }, 'the conversion');
    expect(lead.qualification).toMatchObject({ accountId: plan.account.id, contactId: plan.contact.id, opportunityId: plan.opportunity.id });
    for (const kind of ['account', 'contact', 'opportunity']) {
      expect((await store.readStream(`${kind}-${plan[kind].id}`)).filter((e) => e.type.endsWith('Created'))).toHaveLength(1);
    }
    expect((await store.readStream(`lead-${created.body.id}`)).filter((e) => e.type === 'LeadConversionCompleted')).toHaveLength(1);
  });

  it('runs once: a restart appends nothing and the processors keep going', async () => {
    await eventually(async () => {
      const res = await t.request('GET', '/projections', { as: 'analyst' });
      return res.body.items?.every((p: { lag: string }) => p.lag === '0');
    }, 'every processor to catch up');
    const head = await store.headPosition();
    await t.close();
    t = await startOn(db);
    store = t.app.get(EVENT_STORE);
    expect(await store.headPosition()).toBe(head);
  });
});

describe.each([sqlite, postgres].filter((k) => k.available))('upgrade while release 5197579 has a qualification not yet converted ($name)', (kind) => {
  it('the backfill claims the names and e-mails its plan will create: a lookalike qualified after the upgrade is refused', async () => {
    const db = await restoreRelease(kind, '5197579');
    // What the old release leaves when it stops between a 202 and its saga: LeadQualified, no records.
    const leadId = randomUUID();
    const qualificationId = randomUUID();
    const lead = { topic: 'In flight', lastName: 'Pending', companyName: 'Pending Co', email: 'penny@pending.example' };
    const plan = {
      account: { action: 'create', id: derivedRecordId(qualificationId, 'account') },
      contact: { action: 'create', id: derivedRecordId(qualificationId, 'contact') },
      opportunity: { action: 'create', id: derivedRecordId(qualificationId, 'opportunity') },
    };
    const source = await new DataSource(dataSourceOptions(db.config, [])).initialize();
    const legacy = new SqlEventStore(new Database(source, db.config.kind));
    await legacy.appendToStream(`lead-${leadId}`, [newEvent('LeadCreated', { leadId, ...lead })], { expectedRevision: NO_STREAM });
    const qualified = {
      leadId,
      qualificationId,
      plan,
      decidedBy: 'setting',
      settingVersion: 0,
      createRecordsByDefault: true,
      qualifiedBy: 'old',
      qualifiedAt: new Date().toISOString(),
      lead,
    };
    await legacy.appendToStream(`lead-${leadId}`, [newEvent('LeadQualified', qualified)], { expectedRevision: 0 });
    await source.destroy();

    const t = await startOn(db);
    try {
      const store = t.app.get(EVENT_STORE) as EventStore;
      const claimed = (await store.readAll('0', 1000)).filter((e) => e.type === 'UniqueKeyClaimed' && e.data.qualificationId === qualificationId);
      expect(claimed.map((e) => [e.data.kind, e.data.recordId]).sort()).toEqual(
        [
          ['account-name', plan.account.id],
          ['contact-email', plan.contact.id],
        ].sort(),
      );
      const lookalike = await t.request('POST', '/leads', {
        as: 'salesperson',
        body: { topic: 'x', lastName: 'y', companyName: 'pending  CO', email: 'PENNY@pending.example' },
      });
      expect(lookalike.status).toBe(201);
      const res = await t.request('POST', `/leads/${lookalike.body.id}/qualify`, { as: 'salesperson', body: {} });
      expect([res.status, res.body.code]).toEqual([409, 'DUPLICATES_FOUND']);
      expect(res.body.duplicates.accounts.map((a: { id: string }) => a.id)).toEqual([plan.account.id]);
      expect(res.body.duplicates.contacts.map((c: { id: string }) => c.id)).toEqual([plan.contact.id]);
    } finally {
      await t.close();
      await db.drop();
    }
  });
});
