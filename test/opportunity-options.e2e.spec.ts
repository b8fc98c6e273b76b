import { randomUUID } from 'node:crypto';
import { EVENT_STORE, NO_STREAM } from '../src/event-store/event-store.port.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';
import { eventually, newEvent } from './support/events.js';
import type { EventStore } from './support/untyped-events.js';

/** docs/api.md, Qualify: opportunityCustomerId/-Type, opportunityCurrencyId, sourceCampaignId. */
const kinds = await testDatabaseKinds();
const allThree = { createAccount: true, createContact: true, createOpportunity: true };

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`qualify with options for the new opportunity on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    beforeAll(async () => {
      t = await startTestApp(kind);
      store = t.app.get(EVENT_STORE);
    });
    afterAll(async () => t?.close());

    async function createLead(): Promise<string> {
      const tag = randomUUID();
      const res = await t.request('POST', '/leads', {
        as: 'salesperson',
        body: { topic: `Options ${tag}`, lastName: 'Doe', companyName: `Options Co ${tag}`, email: `${tag}@options.example` },
      });
      expect(res.status).toBe(201);
      return res.body.id as string;
    }

    const qualify = (id: string, body: Record<string, unknown>, wait = true) =>
      t.request('POST', `/leads/${id}/qualify`, { as: 'salesperson', body, headers: wait ? { prefer: 'wait=10' } : {} });

    /** The account and contact of another lead's qualification, converted. */
    async function customers(): Promise<{ accountId: string; contactId: string }> {
      const res = await qualify(await createLead(), {});
      expect([res.status, res.body.conversion]).toEqual([200, 'completed']);
      return { accountId: res.body.accountId, contactId: res.body.contactId };
    }

    const opportunity = async (id: string) => {
      const res = await t.request('GET', `/opportunities/${id}`, { as: 'analyst' });
      expect(res.status).toBe(200);
      return res.body;
    };

    /** Events a request appended for the lead after `head`: a refused command appends none. */
    const appendedFor = async (leadId: string, head: string) =>
      (await store.readAll(head, 1000)).filter((e) => e.data.leadId === leadId || e.streamId === `lead-${leadId}`);

    it.each(['contact', 'account'] as const)(
      'the opportunity gets the %s given as customer, the currency and the campaign; account and contact are still created, parents unchanged',
      async (type) => {
        const { accountId, contactId } = await customers();
        const customerId = type === 'account' ? accountId : contactId;
        const [currencyId, sourceCampaignId] = [randomUUID(), randomUUID()];
        const id = await createLead();
        const res = await qualify(id, {
          // Capitals: ids are lower-cased like the other linked ids.
          opportunityCustomerId: customerId.toUpperCase(),
          opportunityCustomerType: type,
          opportunityCurrencyId: currencyId.toUpperCase(),
          sourceCampaignId,
        });
        expect([res.status, res.body.conversion]).toEqual([200, 'completed']);
        expect(res.body.plan.account.action).toBe('create');
        expect(res.body.plan.contact.action).toBe('create');
        expect(await opportunity(res.body.opportunityId)).toMatchObject({
          customerId,
          customerType: type,
          parentAccountId: res.body.accountId,
          parentContactId: res.body.contactId,
          currencyId,
          sourceCampaignId,
        });
        const qualified = (await store.readStream(`lead-${id}`)).find((e) => e.type === 'LeadQualified')!;
        expect(qualified.data).toMatchObject({
          opportunityCustomerId: customerId,
          opportunityCustomerType: type,
          opportunityCurrencyId: currencyId,
          sourceCampaignId,
        });
      },
    );

    it('a customer planned by an accepted qualification not yet converted is accepted; the opportunity names it once it exists', async () => {
      const other = await qualify(await createLead(), {}, false);
      expect(other.status).toBe(202);
      const id = await createLead();
      const res = await qualify(id, { opportunityCustomerId: other.body.plan.contact.id, opportunityCustomerType: 'contact' });
      expect([res.status, res.body.conversion]).toEqual([200, 'completed']);
      expect(await opportunity(res.body.opportunityId)).toMatchObject({ customerId: other.body.plan.contact.id, customerType: 'contact' });
    });

    it.each(['account', 'contact'] as const)('an unknown %s: 422 RECORD_NOT_FOUND naming opportunityCustomerId, nothing appended', async (type) => {
      const id = await createLead();
      const missing = randomUUID();
      const head = await store.headPosition();
      const res = await qualify(id, { opportunityCustomerId: missing, opportunityCustomerType: type, sourceCampaignId: randomUUID() });
      expect([res.status, res.body.code, res.body.field, res.body.id]).toEqual([422, 'RECORD_NOT_FOUND', 'opportunityCustomerId', missing]);
      expect(await appendedFor(id, head)).toEqual([]);
    });

    it('an account named as a contact is not found: the type says which record', async () => {
      const { accountId } = await customers();
      const res = await qualify(await createLead(), { opportunityCustomerId: accountId, opportunityCustomerType: 'contact' });
      expect([res.status, res.body.code, res.body.field]).toEqual([422, 'RECORD_NOT_FOUND', 'opportunityCustomerId']);
    });

    it.each([
      { body: { opportunityCustomerId: randomUUID() }, field: 'opportunityCustomerType' },
      { body: { opportunityCustomerType: 'account' }, field: 'opportunityCustomerId' },
      { body: { opportunityCustomerId: randomUUID(), opportunityCustomerType: 'lead' }, field: 'opportunityCustomerType' },
      { body: { opportunityCurrencyId: 'USD' }, field: 'opportunityCurrencyId' },
      { body: { sourceCampaignId: null }, field: 'sourceCampaignId' },
    ])('$body: 400 VALIDATION_FAILED naming $field, on single and bulk qualify, nothing appended', async ({ body, field }) => {
      const id = await createLead();
      const head = await store.headPosition();
      const expectInvalid = (res: Response) => {
        expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      };
      expectInvalid(await qualify(id, body));
      expectInvalid(await t.request('POST', '/leads/qualify', { as: 'salesperson', body: { leadIds: [id], ...body } }));
      expect(await appendedFor(id, head)).toEqual([]);
    });

    it('without an opportunity the options are accepted and ignored, even a customer that does not exist', async () => {
      const setting = await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault: false } });
      expect(setting.status).toBe(200);
      try {
        const id = await createLead();
        const res = await qualify(id, {
          ...allThree,
          createOpportunity: false,
          opportunityCustomerId: randomUUID(),
          opportunityCustomerType: 'account',
          opportunityCurrencyId: randomUUID(),
          sourceCampaignId: randomUUID(),
        });
        expect([res.status, res.body.conversion, res.body.opportunityId]).toEqual([200, 'completed', null]);
        const qualified = (await store.readStream(`lead-${id}`)).find((e) => e.type === 'LeadQualified')!;
        for (const key of ['opportunityCustomerId', 'opportunityCustomerType', 'opportunityCurrencyId', 'sourceCampaignId'])
          expect(Object.keys(qualified.data)).not.toContain(key);
      } finally {
        await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault: true } });
      }
    });

    it('bulk qualify gives every new opportunity the same options', async () => {
      const { accountId } = await customers();
      const ids = [await createLead(), await createLead()];
      const sourceCampaignId = randomUUID();
      const res = await t.request('POST', '/leads/qualify', {
        as: 'salesperson',
        headers: { prefer: 'wait=10' },
        body: { leadIds: ids, opportunityCustomerId: accountId, opportunityCustomerType: 'account', sourceCampaignId },
      });
      expect(res.status).toBe(200);
      expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([200, 200]);
      for (const r of res.body.results) {
        expect(await opportunity(r.opportunityId)).toMatchObject({ customerId: accountId, customerType: 'account', currencyId: null, sourceCampaignId });
      }
    });

    it('an opportunity created before these options reads them as null; a rebuild of the records gives the same rows', async () => {
      const { accountId } = await customers();
      const withOptions = await qualify(await createLead(), { opportunityCurrencyId: randomUUID(), sourceCampaignId: randomUUID() });
      expect(withOptions.status).toBe(200);
      // An OpportunityCreated of the shape events had before: no currencyId, no sourceCampaignId.
      const oldId = randomUUID();
      const old = {
        id: oldId,
        name: 'Before the options',
        customerId: accountId,
        customerType: 'account',
        parentAccountId: accountId,
        parentContactId: null,
        budgetAmount: null,
        estimatedValue: null,
        purchaseTimeframe: null,
        description: null,
        status: 'Open',
        originatingLeadId: randomUUID(),
        qualificationId: randomUUID(),
      };
      const { position } = await store.appendToStream(`opportunity-${oldId}`, [newEvent('OpportunityCreated', old)], { expectedRevision: NO_STREAM });
      const read = async (id: string, minPosition: string) => {
        const res = await eventually(async () => {
          const r = await t.request('GET', `/opportunities/${id}?minPosition=${minPosition}`, { as: 'analyst' });
          return r.status !== 503 && r;
        }, `opportunity ${id} at ${minPosition}`);
        expect(res.status).toBe(200);
        return res.body;
      };
      const before = { old: await read(oldId, position), withOptions: await read(withOptions.body.opportunityId, position) };
      expect(before.old).toMatchObject({ ...old, currencyId: null, sourceCampaignId: null });

      const rebuild = await t.request('POST', '/projections/customer-records/rebuild', { as: 'admin' });
      expect(rebuild.status).toBe(202);
      const target = rebuild.body.target as string;
      expect({ old: await read(oldId, target), withOptions: await read(withOptions.body.opportunityId, target) }).toEqual(before);
    });
  });
}
