import { randomUUID } from 'node:crypto';
import { Database } from '../src/database/database.js';
import { Processors } from '../src/event-store/event-store.module.js';
import { EVENT_STORE, NO_STREAM } from '../src/event-store/event-store.port.js';
import { derivedRecordId } from '../src/shared/record-ids.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { auditConversions } from './support/conversion-audit.js';
import { testDatabaseKinds } from './support/databases.js';
import { eventually, newEvent } from './support/events.js';
import { aFullLead } from './support/fixtures.js';
import type { EventStore } from './support/untyped-events.js';

const kinds = await testDatabaseKinds();
const KINDS = ['account', 'contact', 'opportunity'] as const;
type Kind = (typeof KINDS)[number];
const COLLECTION: Record<Kind, string> = { account: 'accounts', contact: 'contacts', opportunity: 'opportunities' };
const allThree = { createAccount: true, createContact: true, createOpportunity: true };
const combinations = [true, false].flatMap((account) =>
  [true, false].flatMap((contact) => [true, false].map((opportunity) => ({ account, contact, opportunity }))),
);

function expectProblem(res: Response, status: number, code: string): void {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
}

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`lead conversion saga over HTTP on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    beforeAll(async () => {
      // Short retries: the always-failing conversion below gives up in tens of milliseconds.
      t = await startTestApp(kind, { PROCESSOR_MAX_ATTEMPTS: '3', PROCESSOR_RETRY_DELAY_MS: '20' });
      store = t.app.get(EVENT_STORE);
    });
    afterAll(async () => t?.close());

    const saga = () => t.app.get(Processors).get('lead-conversion')!;
    /** Records a test created on purpose outside any qualification plan. */
    const unplanned: string[] = [];

    /** A lead whose company name and email no other test uses, so duplicate detection stays out of the way. */
    async function createLead(fields: Record<string, unknown> = {}): Promise<string> {
      const id = randomUUID();
      const tag = id.slice(0, 8);
      // No leadSource/rating unless the test gives them: the saga does not map them.
      const {
        leadSource: _s,
        rating: _r,
        ...lead
      } = aFullLead({ topic: `Fleet renewal ${tag}`, companyName: `Acme ${tag}`, email: `jane.${tag}@acme.example` });
      const body = { id, ...lead, ...fields };
      const res = await t.request('POST', '/leads', { as: 'salesperson', body });
      expect(res.status).toBe(201);
      return id;
    }

    async function useSetting(createRecordsByDefault: boolean): Promise<void> {
      expect((await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault } })).status).toBe(200);
    }

    const qualify = (id: string, body: Record<string, unknown> = {}) => t.request('POST', `/leads/${id}/qualify`, { as: 'salesperson', body });

    async function qualified(id: string, body: Record<string, unknown> = {}) {
      const res = await qualify(id, body);
      expect(res.status).toBe(202);
      return res.body as { qualificationId: string; plan: Record<Kind, { action: string; id: string | null }> };
    }

    /** The lead's qualification once the saga recorded its outcome (read through GET /leads/:id). */
    async function conversionOf(leadId: string, qualificationId: string, timeoutMs = 10_000) {
      return eventually(
        async () => {
          const res = await t.request('GET', `/leads/${leadId}`, { as: 'analyst' });
          const q = res.body.qualification;
          return q?.qualificationId === qualificationId && q.conversion !== 'pending' ? q : undefined;
        },
        `the conversion of qualification ${qualificationId}`,
        timeoutMs,
      );
    }

    /** The lead's records, read once the records projection has caught up with the whole log. */
    async function recordsOf(leadId: string): Promise<Record<Kind, any[]>> {
      const minPosition = await store.headPosition();
      const out = {} as Record<Kind, any[]>;
      for (const k of KINDS) {
        const res = await t.request('GET', `/${COLLECTION[k]}?originatingLeadId=${leadId}&minPosition=${minPosition}`, { as: 'analyst' });
        expect(res.status).toBe(200);
        out[k] = res.body.items;
      }
      return out;
    }

    const idsOf = (records: Record<Kind, any[]>) => Object.fromEntries(KINDS.map((k) => [k, records[k].map((r) => r.id)]));
    const createdIds = (plan: Record<Kind, { action: string; id: string | null }>) =>
      Object.fromEntries(KINDS.map((k) => [k, plan[k].action === 'create' ? [plan[k].id] : []]));

    async function creationEvents(k: Kind, id: string): Promise<number> {
      return (await store.readStream(`${k}-${id}`)).filter((e) => e.type.endsWith('Created')).length;
    }

    /** Another client's command on a lead the saga is appending to may lose the race: retry it, as any client would. */
    async function retryingConflicts(send: () => Promise<Response>): Promise<Response> {
      for (let attempt = 1; ; attempt++) {
        const res = await send();
        if (attempt === 5 || res.status !== 409 || res.body.code !== 'CONCURRENCY_CONFLICT') return res;
      }
    }

    describe('under setting Yes', () => {
      beforeAll(() => useSetting(true));

      it('creates exactly the planned account, contact and opportunity, linked and mapped (docs/api.md, Qualify; docs/events.md, Record events), and completes the lead with their ids', async () => {
        const leadId = await createLead();
        const started = Date.now();
        const { qualificationId, plan } = await qualified(leadId);
        expect(KINDS.map((k) => plan[k])).toEqual(KINDS.map((k) => ({ action: 'create', id: derivedRecordId(qualificationId, k) })));

        const conversion = await conversionOf(leadId, qualificationId);
        console.log(`qualification → conversion completed visible on GET /leads/:id in ${Date.now() - started} ms`);
        expect(conversion).toMatchObject({
          conversion: 'completed',
          failureReason: null,
          accountId: plan.account.id,
          contactId: plan.contact.id,
          opportunityId: plan.opportunity.id,
        });

        const records = await recordsOf(leadId);
        expect(idsOf(records)).toEqual(createdIds(plan));
        const [account, contact, opportunity] = [records.account[0], records.contact[0], records.opportunity[0]];
        const address = { street: '1 rue de la Paix', city: 'Paris', stateOrProvince: 'IDF', postalCode: '75002', country: 'France' };
        const origin = { originatingLeadId: leadId, qualificationId };
        expect(account).toMatchObject({
          name: `Acme ${leadId.slice(0, 8)}`,
          website: 'https://acme.example',
          telephone: '+33 1 23 45 67 89',
          ...address,
          primaryContactId: contact.id,
          ...origin,
        });
        expect(contact).toMatchObject({
          firstName: 'Jane',
          lastName: 'Doe',
          jobTitle: 'Buyer',
          email: `jane.${leadId.slice(0, 8)}@acme.example`,
          businessPhone: '+33 1 23 45 67 89',
          mobilePhone: '+33 6 12 34 56 78',
          ...address,
          parentAccountId: account.id,
          ...origin,
        });
        expect(opportunity).toMatchObject({
          name: `Fleet renewal ${leadId.slice(0, 8)}`,
          customerId: account.id,
          customerType: 'account',
          parentAccountId: account.id,
          parentContactId: contact.id,
          budgetAmount: 12000.5,
          estimatedValue: 30000,
          purchaseTimeframe: 'ThisQuarter',
          description: 'Wants 40 vans',
          status: 'Open',
          ...origin,
        });
        for (const k of KINDS) {
          expect((await t.request('GET', `/${COLLECTION[k]}/${plan[k].id}`, { as: 'analyst' })).body).toEqual(records[k][0]);
          expect(await creationEvents(k, plan[k].id!)).toBe(1);
        }
        const outcomes = (await store.readStream(`lead-${leadId}`)).filter((e) => e.type.startsWith('LeadConversion'));
        expect(outcomes.map((e) => [e.type, e.data])).toEqual([
          ['LeadConversionCompleted', { leadId, qualificationId, accountId: plan.account.id, contactId: plan.contact.id, opportunityId: plan.opportunity.id }],
        ]);
      });

      it('creates no account for a lead without a company name; the opportunity’s customer is the contact', async () => {
        const leadId = await createLead({ companyName: null });
        const { qualificationId, plan } = await qualified(leadId);
        expect(plan.account).toEqual({ action: 'none', id: null });
        expect(await conversionOf(leadId, qualificationId)).toMatchObject({ conversion: 'completed', accountId: null, contactId: plan.contact.id });
        const records = await recordsOf(leadId);
        expect(idsOf(records)).toEqual(createdIds(plan));
        expect(records.opportunity[0]).toMatchObject({ customerId: plan.contact.id, customerType: 'contact', parentAccountId: null });
        expect(records.contact[0].parentAccountId).toBeNull();
      });
    });

    describe('under setting No', () => {
      beforeAll(() => useSetting(false));
      afterAll(() => useSetting(true));

      it.each(combinations)('account $account, contact $contact, opportunity $opportunity: exactly that selection is created', async (select) => {
        const leadId = await createLead();
        const { qualificationId, plan } = await qualified(leadId, {
          createAccount: select.account,
          createContact: select.contact,
          createOpportunity: select.opportunity,
        });
        for (const k of KINDS) expect(plan[k].action).toBe(select[k] ? 'create' : 'none');
        const conversion = await conversionOf(leadId, qualificationId);
        expect(conversion).toMatchObject({
          conversion: 'completed',
          accountId: plan.account.id,
          contactId: plan.contact.id,
          opportunityId: plan.opportunity.id,
        });
        const records = await recordsOf(leadId);
        expect(idsOf(records)).toEqual(createdIds(plan));
        if (select.opportunity) {
          const customer = select.account
            ? { customerId: plan.account.id, customerType: 'account' }
            : select.contact
              ? { customerId: plan.contact.id, customerType: 'contact' }
              : { customerId: null, customerType: null };
          expect(records.opportunity[0]).toMatchObject({ ...customer, parentAccountId: plan.account.id, parentContactId: plan.contact.id });
        }
        if (select.account) expect(records.account[0].primaryContactId).toBe(plan.contact.id);
        if (select.contact) expect(records.contact[0].parentAccountId).toBe(plan.account.id);
      });
    });

    describe('the setting flipped after a qualification, before the saga runs', () => {
      afterAll(async () => {
        saga().start();
        await useSetting(true);
      });

      it('records follow the plan recorded on LeadQualified, not the setting in force when the saga runs', async () => {
        await saga().stop();
        await useSetting(true);
        const underYes = await createLead();
        const yes = await qualified(underYes);
        await useSetting(false);
        const underNo = await createLead();
        const no = await qualified(underNo, { createAccount: false, createContact: true, createOpportunity: false });
        await useSetting(true);

        // Nothing was created while the saga was stopped.
        for (const leadId of [underYes, underNo]) expect(idsOf(await recordsOf(leadId))).toEqual({ account: [], contact: [], opportunity: [] });
        const settingNow = (await t.request('GET', '/settings/qualify-lead', { as: 'analyst' })).body;
        expect(settingNow.createRecordsByDefault).toBe(true);

        saga().start();
        expect(await conversionOf(underYes, yes.qualificationId)).toMatchObject({
          conversion: 'completed',
          decidedBy: 'setting',
          createRecordsByDefault: true,
        });
        expect(await conversionOf(underNo, no.qualificationId)).toMatchObject({
          conversion: 'completed',
          decidedBy: 'salesperson',
          createRecordsByDefault: false,
          accountId: null,
          contactId: no.plan.contact.id,
          opportunityId: null,
        });
        expect(idsOf(await recordsOf(underYes))).toEqual(createdIds(yes.plan));
        expect(idsOf(await recordsOf(underNo))).toEqual({ account: [], contact: [no.plan.contact.id], opportunity: [] });
      });
    });

    describe('duplicate detection', () => {
      /** A converted lead whose account and contact later leads will look like. */
      async function anExistingCustomer() {
        const tag = randomUUID().slice(0, 8);
        const leadId = await createLead({ companyName: `Dup Co ${tag}`, email: `dup.${tag}@dup.example` });
        const { qualificationId, plan } = await qualified(leadId);
        await conversionOf(leadId, qualificationId);
        await recordsOf(leadId);
        return {
          tag,
          accountId: plan.account.id!,
          contactId: plan.contact.id!,
          lookalike: { companyName: `  dup co ${tag.toUpperCase()} `, email: `DUP.${tag}@Dup.example` },
        };
      }

      it('refuses 409 DUPLICATES_FOUND listing the matching account (name, case and spaces ignored) and contact (email), and creates nothing', async () => {
        const existing = await anExistingCustomer();
        const leadId = await createLead(existing.lookalike);
        const res = await qualify(leadId);
        expectProblem(res, 409, 'DUPLICATES_FOUND');
        expect(res.body.duplicates).toEqual({
          accounts: [{ id: existing.accountId, name: `Dup Co ${existing.tag}`, pending: false }],
          contacts: [{ id: existing.contactId, firstName: 'Jane', lastName: 'Doe', email: `dup.${existing.tag}@dup.example`, pending: false }],
          leads: [],
        });
        const events = await store.readStream(`lead-${leadId}`);
        expect(events.map((e) => e.type)).toEqual(['LeadCreated']);
        // Read at the lead's own position: the projection may not have reached it yet on a busy machine.
        expect((await t.request('GET', `/leads/${leadId}?minPosition=${events[0].position}`, { as: 'analyst' })).body).toMatchObject({
          status: 'Open',
          qualification: null,
        });
      });

      it('lists only the contact when the request links the existing account but would create a lookalike contact', async () => {
        const existing = await anExistingCustomer();
        const leadId = await createLead(existing.lookalike);
        const res = await qualify(leadId, { existingAccountId: existing.accountId });
        expectProblem(res, 409, 'DUPLICATES_FOUND');
        expect(res.body.duplicates.accounts).toEqual([]);
        expect(res.body.duplicates.contacts.map((c: any) => c.id)).toEqual([existing.contactId]);
      });

      it('ignoreDuplicates: qualifies and creates new lookalike records', async () => {
        const existing = await anExistingCustomer();
        const leadId = await createLead(existing.lookalike);
        const { qualificationId, plan } = await qualified(leadId, { ignoreDuplicates: true });
        expect(await conversionOf(leadId, qualificationId)).toMatchObject({ conversion: 'completed' });
        const records = await recordsOf(leadId);
        expect(idsOf(records)).toEqual(createdIds(plan));
        expect(records.account[0].id).not.toBe(existing.accountId);
      });

      it('linking existingAccountId and existingContactId: qualifies, creates only the opportunity, for the existing customer', async () => {
        const existing = await anExistingCustomer();
        const leadId = await createLead(existing.lookalike);
        const { qualificationId, plan } = await qualified(leadId, { existingAccountId: existing.accountId, existingContactId: existing.contactId });
        expect(plan.account).toEqual({ action: 'existing', id: existing.accountId });
        expect(plan.contact).toEqual({ action: 'existing', id: existing.contactId });
        expect(await conversionOf(leadId, qualificationId)).toMatchObject({
          conversion: 'completed',
          accountId: existing.accountId,
          contactId: existing.contactId,
        });
        const records = await recordsOf(leadId);
        expect(idsOf(records)).toEqual({ account: [], contact: [], opportunity: [plan.opportunity.id] });
        expect(records.opportunity[0]).toMatchObject({ customerId: existing.accountId, customerType: 'account', parentContactId: existing.contactId });
      });

      it('links existing records named on the lead itself (existingAccountId/existingContactId fields)', async () => {
        const existing = await anExistingCustomer();
        const leadId = await createLead({ ...existing.lookalike, existingAccountId: existing.accountId, existingContactId: existing.contactId });
        const { qualificationId, plan } = await qualified(leadId);
        expect([plan.account.action, plan.contact.action]).toEqual(['existing', 'existing']);
        await conversionOf(leadId, qualificationId);
        expect(idsOf(await recordsOf(leadId))).toEqual({ account: [], contact: [], opportunity: [plan.opportunity.id] });
      });
    });

    describe('POST /leads/qualify (bulk)', () => {
      it('answers one outcome per lead, in request order, with partial success; duplicates are detected per lead', async () => {
        const existing = { tag: randomUUID().slice(0, 8) };
        const customer = await createLead({ companyName: `Bulk Dup ${existing.tag}` });
        const first = await qualified(customer);
        await conversionOf(customer, first.qualificationId);
        await recordsOf(customer);

        const fine = [await createLead(), await createLead({ companyName: null })];
        const lookalike = await createLead({ companyName: `BULK DUP ${existing.tag}` });
        const unknown = randomUUID();
        const leadIds = [fine[0], customer, lookalike, unknown, fine[1]];
        const res = await t.request('POST', '/leads/qualify', { as: 'salesperson', body: { leadIds } });
        expect(res.status).toBe(200);
        const results = res.body.results;
        expect(results.map((r: any) => [r.leadId, r.status, r.code])).toEqual([
          [fine[0], 202, undefined],
          [customer, 409, 'LEAD_NOT_OPEN'],
          [lookalike, 409, 'DUPLICATES_FOUND'],
          [unknown, 404, 'NOT_FOUND'],
          [fine[1], 202, undefined],
        ]);
        expect(results[2].duplicates.accounts.map((a: any) => a.id)).toEqual([first.plan.account.id]);
        for (const r of [results[0], results[4]]) {
          expect(r).toMatchObject({ qualificationId: expect.any(String), decidedBy: 'setting', position: expect.stringMatching(/^\d+$/) });
          expect(await conversionOf(r.leadId, r.qualificationId)).toMatchObject({ conversion: 'completed' });
          expect(idsOf(await recordsOf(r.leadId))).toEqual(createdIds(r.plan));
        }
        expect(idsOf(await recordsOf(lookalike))).toEqual({ account: [], contact: [], opportunity: [] });
      });

      it('takes 100 ids in one request: 100 outcomes in order, each accepted lead converted once', async () => {
        const leads = await Promise.all(Array.from({ length: 12 }, () => createLead()));
        const unknown = Array.from({ length: 88 }, () => randomUUID());
        const leadIds = [...unknown.slice(0, 44), ...leads, ...unknown.slice(44)];
        const res = await t.request('POST', '/leads/qualify', { as: 'salesperson', body: { leadIds } });
        expect(res.status).toBe(200);
        expect(res.body.results.map((r: any) => [r.leadId, r.status])).toEqual(leadIds.map((id) => [id, leads.includes(id) ? 202 : 404]));
        for (const r of res.body.results.filter((x: any) => x.status === 202)) {
          expect(await conversionOf(r.leadId, r.qualificationId)).toMatchObject({ conversion: 'completed' });
          expect(idsOf(await recordsOf(r.leadId))).toEqual(createdIds(r.plan));
        }
      });

      it('refuses 101 ids: 400 VALIDATION_FAILED, nothing qualified', async () => {
        const leadId = await createLead();
        const leadIds = [leadId, ...Array.from({ length: 100 }, () => randomUUID())];
        expectProblem(await t.request('POST', '/leads/qualify', { as: 'salesperson', body: { leadIds } }), 400, 'VALIDATION_FAILED');
        expect((await store.readStream(`lead-${leadId}`)).map((e) => e.type)).toEqual(['LeadCreated']);
      });
    });

    describe('re-qualification after reactivation', () => {
      const reactivate = (id: string) => retryingConflicts(() => t.request('POST', `/leads/${id}/reactivate`, { as: 'salesperson' }));

      it('reuses the earlier account and contact (no second row) and creates a new opportunity', async () => {
        const leadId = await createLead();
        const first = await qualified(leadId);
        await conversionOf(leadId, first.qualificationId);
        expect((await reactivate(leadId)).status).toBe(200);
        const second = await qualified(leadId);
        expect(second.plan.account).toEqual({ action: 'existing', id: first.plan.account.id });
        expect(second.plan.contact).toEqual({ action: 'existing', id: first.plan.contact.id });
        expect(second.plan.opportunity).toEqual({ action: 'create', id: derivedRecordId(second.qualificationId, 'opportunity') });
        expect(await conversionOf(leadId, second.qualificationId)).toMatchObject({
          conversion: 'completed',
          accountId: first.plan.account.id,
          contactId: first.plan.contact.id,
          opportunityId: second.plan.opportunity.id,
        });
        const records = await recordsOf(leadId);
        expect(idsOf(records)).toEqual({
          account: [first.plan.account.id],
          contact: [first.plan.contact.id],
          opportunity: [first.plan.opportunity.id, second.plan.opportunity.id],
        });
        expect(records.opportunity[1]).toMatchObject({ customerId: first.plan.account.id, qualificationId: second.qualificationId });
      });

      it('reuses them too when the lead is reactivated and qualified again before the first conversion ran', async () => {
        await saga().stop();
        type Accepted = Awaited<ReturnType<typeof qualified>>;
        let first: Accepted | undefined;
        let second: Accepted | undefined;
        const leadId = await createLead();
        try {
          first = await qualified(leadId);
          expect((await reactivate(leadId)).status).toBe(200);
          second = await qualified(leadId);
        } finally {
          saga().start();
        }
        if (!first || !second) throw new Error('both qualifications must have been accepted');
        expect([second.plan.account.id, second.plan.contact.id]).toEqual([first.plan.account.id, first.plan.contact.id]);
        await conversionOf(leadId, second.qualificationId);
        const outcomes = await eventually(async () => {
          const events = (await store.readStream(`lead-${leadId}`)).filter((e) => e.type === 'LeadConversionCompleted');
          return events.length === 2 && events;
        }, 'both conversions');
        expect(outcomes.map((e) => e.data.qualificationId).sort()).toEqual([first.qualificationId, second.qualificationId].sort());
        const records = idsOf(await recordsOf(leadId));
        expect({ ...records, opportunity: records.opportunity.sort() }).toEqual({
          account: [first.plan.account.id],
          contact: [first.plan.contact.id],
          opportunity: [first.plan.opportunity.id, second.plan.opportunity.id].sort(),
        });
      });
    });

    describe('a lead busy with other commands while the saga converts it', () => {
      it('still ends in LeadConversionCompleted: losing the race for the lead stream is re-decided, not counted as a failed attempt', async () => {
        for (let round = 0; round < 3; round++) {
          await saga().stop();
          const leadId = await createLead();
          const { qualificationId } = await qualified(leadId);
          // Six clients reactivate and disqualify the lead as fast as they can while the saga appends its outcome.
          let busy = true;
          const client = async () => {
            for (let i = 0; i < 300 && busy; i++) {
              await t.request('POST', `/leads/${leadId}/reactivate`, { as: 'salesperson' });
              await t.request('POST', `/leads/${leadId}/disqualify`, { as: 'salesperson', body: { statusReason: 'Lost' } });
            }
          };
          const clients = Promise.all(Array.from({ length: 6 }, client));
          saga().start();
          try {
            const outcome = await eventually(
              async () => (await store.readStream(`lead-${leadId}`)).find((e) => e.type.startsWith('LeadConversion')),
              'the conversion outcome',
            );
            expect([outcome.type, outcome.data.qualificationId]).toEqual(['LeadConversionCompleted', qualificationId]);
          } finally {
            busy = false;
            await clients;
          }
          expect(await conversionOf(leadId, qualificationId)).toMatchObject({ conversion: 'completed' });
        }
      });
    });

    describe('a record creation that always fails', () => {
      it('ends in LeadConversionFailed, visible on the lead with its reason and as a dead letter, while other leads complete', async () => {
        const deadLettersBefore = await sagaDeadLetters();
        // Account X already exists, created by another qualification: creating it again can never succeed.
        const accountId = randomUUID();
        const squatter = { id: accountId, name: 'Squatter Ltd', originatingLeadId: randomUUID(), qualificationId: randomUUID() };
        unplanned.push(accountId);
        await store.appendToStream(`account-${accountId}`, [newEvent('AccountCreated', squatter)], { expectedRevision: NO_STREAM });
        const leadId = randomUUID();
        const qualificationId = randomUUID();
        const lead = { topic: 'Doomed', lastName: 'Doe', companyName: 'Doomed Co' };
        const plan = {
          account: { action: 'create', id: accountId },
          contact: { action: 'create', id: derivedRecordId(qualificationId, 'contact') },
          opportunity: { action: 'create', id: derivedRecordId(qualificationId, 'opportunity') },
        };
        const others = await Promise.all([createLead(), createLead()]);
        await store.appendToStream(`lead-${leadId}`, [newEvent('LeadCreated', { leadId, ...lead })], { expectedRevision: NO_STREAM });
        await store.appendToStream(
          `lead-${leadId}`,
          [
            newEvent('LeadQualified', {
              leadId,
              qualificationId,
              plan,
              decidedBy: 'setting',
              settingVersion: 0,
              createRecordsByDefault: true,
              qualifiedBy: 'user-salesperson',
              qualifiedAt: new Date().toISOString(),
              lead,
            }),
          ],
          { expectedRevision: 0 },
        );
        const otherQualifications = await Promise.all(others.map((id) => qualified(id)));

        const failed = await conversionOf(leadId, qualificationId);
        expect(failed).toMatchObject({ conversion: 'failed', accountId: null, contactId: null, opportunityId: null });
        expect(failed.failureReason).toMatch(new RegExp(`account ${accountId} was created by qualification ${squatter.qualificationId}`));
        for (const [i, id] of others.entries())
          expect(await conversionOf(id, otherQualifications[i].qualificationId)).toMatchObject({ conversion: 'completed' });

        const outcomes = (await store.readStream(`lead-${leadId}`)).filter((e) => e.type.startsWith('LeadConversion'));
        expect(outcomes.map((e) => [e.type, e.data.qualificationId])).toEqual([['LeadConversionFailed', qualificationId]]);
        expect(await creationEvents('account', accountId)).toBe(1);
        await eventually(async () => (await sagaDeadLetters()) === deadLettersBefore + 1 || undefined, 'the dead letter in GET /projections');
        const letters = await t.app.get(Database).query(`SELECT event_type, stream_id, attempts FROM dead_letters WHERE processor = 'lead-conversion'`);
        expect(letters).toContainEqual({ event_type: 'LeadQualified', stream_id: `lead-${leadId}`, attempts: 3 });

        // The saga moved on: a lead qualified after the failure completes too.
        const later = await createLead();
        const after = await qualified(later);
        expect(await conversionOf(later, after.qualificationId)).toMatchObject({ conversion: 'completed' });
        const audit = await auditConversions((sql) => t.app.get(Database).query(sql), { tolerate: unplanned });
        expect(audit.problems).toEqual([]);
        expect(audit.failed).toBe(1);
      });

      async function sagaDeadLetters(): Promise<number> {
        const res = await t.request('GET', '/projections', { as: 'analyst' });
        return res.body.items.find((p: any) => p.name === 'lead-conversion').deadLetters;
      }
    });

    it('end of suite: every qualification of this suite was realised exactly as planned, once', async () => {
      const sql = (q: string) => t.app.get(Database).query(q);
      await eventually(async () => (await auditConversions(sql)).pending === 0, 'every conversion');
      const { problems, ...figures } = await auditConversions(sql, { tolerate: unplanned });
      expect(problems).toEqual([]);
      console.log(`saga e2e on ${kind.name}: ${JSON.stringify(figures)}`);
    });
  });
}
