import { randomUUID } from 'node:crypto';
import { comparePositions, EVENT_STORE } from '../src/event-store/event-store.port.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';
import { aFullLead } from './support/fixtures.js';
import type { EventStore, RecordedEvent } from './support/untyped-events.js';

const kinds = await testDatabaseKinds();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const POSITION = /^\d+$/;
const allThree = { createAccount: true, createContact: true, createOpportunity: true };
const SAGA_OUTCOMES = ['LeadConversionCompleted', 'LeadConversionFailed'];

function expectProblem(res: Response, status: number, code: string): void {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
}

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`lead commands over HTTP on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    beforeAll(async () => {
      t = await startTestApp(kind);
      store = t.app.get(EVENT_STORE);
    });
    afterAll(async () => t?.close());

    const stream = (id: string): Promise<RecordedEvent[]> => store.readStream(`lead-${id}`);
    /** The types the lead's commands appended; the conversion saga records its outcome on its own schedule. */
    const types = async (id: string) => (await stream(id)).map((e) => e.type).filter((type) => !SAGA_OUTCOMES.includes(type));
    const qualifiedEvent = async (id: string) => (await stream(id)).find((e) => e.type === 'LeadQualified')!;

    /** A command on a just-qualified lead can race the saga's append; like any client, retry a CONCURRENCY_CONFLICT. */
    async function retryingConflicts(send: () => Promise<Response>): Promise<Response> {
      for (let attempt = 1; ; attempt++) {
        const res = await send();
        if (attempt === 5 || res.status !== 409 || res.body.code !== 'CONCURRENCY_CONFLICT') return res;
      }
    }
    const reactivate = (id: string) => retryingConflicts(() => t.request('POST', `/leads/${id}/reactivate`, { as: 'salesperson' }));

    async function createLead(fields: Record<string, unknown> = {}): Promise<string> {
      const id = randomUUID();
      // A company of its own: duplicate detection (another issue's rule) must not meet an earlier test's account.
      const companyName = `Acme ${id}`;
      const res = await t.request('POST', '/leads', { as: 'salesperson', body: { id, topic: 'Fleet renewal', lastName: 'Doe', companyName, ...fields } });
      expect(res.status).toBe(201);
      return id;
    }

    /**
     * An account and a contact to link: planned by an accepted qualification of a lead of their own
     * (they count as existing at once; the saga creates them).
     */
    async function recordsToLink(): Promise<{ accountId: string; contactId: string }> {
      const res = await qualify(await createLead({ email: `${randomUUID()}@link.example` }), allThree);
      expect(res.status).toBe(202);
      return { accountId: res.body.plan.account.id, contactId: res.body.plan.contact.id };
    }

    /** Puts the setting to the value a test needs (as admin) and returns its version. */
    async function useSetting(createRecordsByDefault: boolean): Promise<number> {
      const res = await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault } });
      expect(res.status).toBe(200);
      return res.body.version;
    }

    const qualify = (id: string, body: Record<string, unknown> = {}, as = 'salesperson') => t.request('POST', `/leads/${id}/qualify`, { as, body });

    describe('POST /leads', () => {
      it('creates a lead under the client-chosen id: 201 {id, version: 0, position}, LeadCreated with every field', async () => {
        const id = randomUUID();
        const { accountId, contactId } = await recordsToLink();
        const fields = aFullLead({ email: `${id}@acme.example`, existingAccountId: accountId, existingContactId: contactId });
        const res = await t.request('POST', '/leads', { as: 'salesperson', body: { id, ...fields } });
        expect(res.status).toBe(201);
        expect(res.body).toEqual({ id, version: 0, position: expect.stringMatching(POSITION) });
        const events = await stream(id);
        expect(events.map((e) => ({ type: e.type, data: e.data }))).toEqual([{ type: 'LeadCreated', data: { leadId: id, ...fields } }]);
        expect(events[0].position).toBe(res.body.position);
      });

      it('generates a UUID when no id is given', async () => {
        const res = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'No id', lastName: 'Doe' } });
        expect(res.status).toBe(201);
        expect(res.body.id).toMatch(UUID);
        expect(await types(res.body.id)).toEqual(['LeadCreated']);
      });

      it('gives later events later positions', async () => {
        const first = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'First', lastName: 'Doe' } });
        const second = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'Second', lastName: 'Doe' } });
        expect(comparePositions(second.body.position, first.body.position)).toBe(1);
      });

      it('refuses an existing id with 409 LEAD_EXISTS and keeps the first lead', async () => {
        const id = await createLead({ topic: 'Original' });
        const res = await t.request('POST', '/leads', { as: 'salesperson', body: { id, topic: 'Impostor', lastName: 'Roe' } });
        expectProblem(res, 409, 'LEAD_EXISTS');
        const events = await stream(id);
        expect(events.map((e) => [e.type, e.data.topic])).toEqual([['LeadCreated', 'Original']]);
      });

      it('treats an upper-case id as the same lead', async () => {
        const id = await createLead();
        expectProblem(
          await t.request('POST', '/leads', { as: 'salesperson', body: { id: id.toUpperCase(), topic: 'Shout', lastName: 'Doe' } }),
          409,
          'LEAD_EXISTS',
        );
      });
    });

    describe('PATCH /leads/:id', () => {
      it('records only the fields that changed', async () => {
        const id = await createLead({ topic: 'Same', city: 'Paris', rating: 'Hot' });
        const res = await t.request('PATCH', `/leads/${id}`, {
          as: 'salesperson',
          body: { topic: 'Same', rating: 'Hot', city: 'Lyon', email: 'new@acme.example' },
        });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ id, version: 1, position: expect.stringMatching(POSITION) });
        const [, updated] = await stream(id);
        expect({ type: updated.type, data: updated.data }).toEqual({ type: 'LeadUpdated', data: { leadId: id, city: 'Lyon', email: 'new@acme.example' } });
        expect(updated.position).toBe(res.body.position);
      });

      it('appends nothing when nothing changed and answers the current version', async () => {
        const id = await createLead({ topic: 'Same' });
        const res = await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', body: { topic: 'Same' } });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ id, version: 0, position: (await stream(id))[0].position });
        expect(await types(id)).toEqual(['LeadCreated']);
      });

      it('clears an optional field with null', async () => {
        const id = await createLead({ city: 'Paris' });
        expect((await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', body: { city: null } })).status).toBe(200);
        expect((await stream(id))[1].data).toEqual({ leadId: id, city: null });
      });

      it('moves an open lead from New to Contacted', async () => {
        const id = await createLead();
        expect((await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', body: { statusReason: 'Contacted' } })).status).toBe(200);
        expect((await stream(id))[1].data).toEqual({ leadId: id, statusReason: 'Contacted' });
      });

      it.each(['0', '"0"', 'W/"0"'])('accepts If-Match: %s when it is the current version', async (ifMatch) => {
        const id = await createLead();
        const res = await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', headers: { 'if-match': ifMatch }, body: { city: 'Nantes' } });
        expect(res.status).toBe(200);
        expect(res.body.version).toBe(1);
      });

      it('refuses a stale If-Match with 412 VERSION_MISMATCH and appends nothing', async () => {
        const id = await createLead();
        await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', body: { city: 'Lille' } });
        const res = await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', headers: { 'if-match': '0' }, body: { city: 'Brest' } });
        expectProblem(res, 412, 'VERSION_MISMATCH');
        expect(await types(id)).toEqual(['LeadCreated', 'LeadUpdated']);
      });

      it.each(['abc', '-1', '1.5', '*'])('refuses If-Match: %s with 400 VALIDATION_FAILED naming the header', async (ifMatch) => {
        const id = await createLead();
        const res = await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', headers: { 'if-match': ifMatch }, body: { city: 'Brest' } });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors).toEqual([expect.objectContaining({ field: 'If-Match' })]);
        expect(await types(id)).toEqual(['LeadCreated']);
      });

      it('refuses to edit a disqualified lead: 409 LEAD_NOT_OPEN', async () => {
        const id = await createLead();
        await t.request('POST', `/leads/${id}/disqualify`, { as: 'salesperson', body: { statusReason: 'Lost' } });
        expectProblem(await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', body: { city: 'Metz' } }), 409, 'LEAD_NOT_OPEN');
        expect(await types(id)).toEqual(['LeadCreated', 'LeadDisqualified']);
      });

      it('refuses to edit a qualified lead: 409 LEAD_NOT_OPEN', async () => {
        const id = await createLead();
        expect((await qualify(id, allThree)).status).toBe(202);
        expectProblem(await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', body: { city: 'Metz' } }), 409, 'LEAD_NOT_OPEN');
        expect(await types(id)).toEqual(['LeadCreated', 'LeadQualified']);
      });
    });

    describe('disqualify and reactivate', () => {
      it('disqualifies an open lead: 200 {id, version, position}, LeadDisqualified with the reason', async () => {
        const id = await createLead();
        const res = await t.request('POST', `/leads/${id}/disqualify`, { as: 'salesperson', body: { statusReason: 'NoLongerInterested' } });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ id, version: 1, position: expect.stringMatching(POSITION) });
        expect((await stream(id))[1]).toEqual(expect.objectContaining({ type: 'LeadDisqualified', data: { leadId: id, statusReason: 'NoLongerInterested' } }));
      });

      it('refuses to disqualify a disqualified lead: 409 LEAD_NOT_OPEN', async () => {
        const id = await createLead();
        await t.request('POST', `/leads/${id}/disqualify`, { as: 'salesperson', body: { statusReason: 'Lost' } });
        expectProblem(await t.request('POST', `/leads/${id}/disqualify`, { as: 'salesperson', body: { statusReason: 'Canceled' } }), 409, 'LEAD_NOT_OPEN');
        expect(await types(id)).toEqual(['LeadCreated', 'LeadDisqualified']);
      });

      it('refuses to disqualify a qualified lead: 409 LEAD_NOT_OPEN', async () => {
        const id = await createLead();
        await qualify(id, allThree);
        expectProblem(await t.request('POST', `/leads/${id}/disqualify`, { as: 'salesperson', body: { statusReason: 'Lost' } }), 409, 'LEAD_NOT_OPEN');
      });

      it('refuses to qualify a disqualified lead: 409 LEAD_NOT_OPEN', async () => {
        const id = await createLead();
        await t.request('POST', `/leads/${id}/disqualify`, { as: 'salesperson', body: { statusReason: 'CannotContact' } });
        expectProblem(await qualify(id, allThree), 409, 'LEAD_NOT_OPEN');
        expect(await types(id)).toEqual(['LeadCreated', 'LeadDisqualified']);
      });

      it('refuses to qualify a qualified lead: 409 LEAD_NOT_OPEN', async () => {
        const id = await createLead();
        await qualify(id, allThree);
        expectProblem(await qualify(id, allThree), 409, 'LEAD_NOT_OPEN');
        expect(await types(id)).toEqual(['LeadCreated', 'LeadQualified']);
      });

      it('reactivates a disqualified lead, which can then be edited again', async () => {
        const id = await createLead();
        await t.request('POST', `/leads/${id}/disqualify`, { as: 'salesperson', body: { statusReason: 'Lost' } });
        const res = await t.request('POST', `/leads/${id}/reactivate`, { as: 'salesperson' });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ id, version: 2, position: expect.stringMatching(POSITION) });
        expect((await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', body: { city: 'Rennes' } })).status).toBe(200);
        expect(await types(id)).toEqual(['LeadCreated', 'LeadDisqualified', 'LeadReactivated', 'LeadUpdated']);
      });

      it('reactivates a qualified lead', async () => {
        const id = await createLead();
        await qualify(id, allThree);
        expect((await reactivate(id)).status).toBe(200);
        expect(await types(id)).toEqual(['LeadCreated', 'LeadQualified', 'LeadReactivated']);
      });

      it('refuses to reactivate an open lead: 409 LEAD_ALREADY_OPEN', async () => {
        const id = await createLead();
        expectProblem(await t.request('POST', `/leads/${id}/reactivate`, { as: 'salesperson' }), 409, 'LEAD_ALREADY_OPEN');
        expect(await types(id)).toEqual(['LeadCreated']);
      });
    });

    describe('unknown leads', () => {
      const commands: [string, string, (id: string) => [string, string, Record<string, unknown>?]][] = [
        ['PATCH', '', (id) => ['PATCH', `/leads/${id}`, { topic: 'x' }]],
        ['POST', '/qualify', (id) => ['POST', `/leads/${id}/qualify`, allThree]],
        ['POST', '/disqualify', (id) => ['POST', `/leads/${id}/disqualify`, { statusReason: 'Lost' }]],
        ['POST', '/reactivate', (id) => ['POST', `/leads/${id}/reactivate`]],
      ];

      it.each(commands)('%s /leads/<unknown uuid>%s: 404 NOT_FOUND, nothing appended', async (_m, _p, build) => {
        const id = randomUUID();
        const [method, url, body] = build(id);
        expectProblem(await t.request(method, url, { as: 'salesperson', body }), 404, 'NOT_FOUND');
        expect(await stream(id)).toEqual([]);
      });

      it.each(commands)('%s /leads/<not a uuid>%s: 404 NOT_FOUND, nothing appended', async (_m, _p, build) => {
        const head = await store.headPosition();
        const correlationId = `not-a-uuid-${randomUUID()}`;
        const [method, url, body] = build('not-a-uuid');
        expectProblem(await t.request(method, url, { as: 'salesperson', body, headers: { 'x-correlation-id': correlationId } }), 404, 'NOT_FOUND');
        // By correlation id, not head position: the conversion saga may append for earlier qualifications meanwhile.
        expect((await store.readAll(head, 10_000)).filter((e) => e.metadata.correlationId === correlationId)).toEqual([]);
      });
    });

    describe('qualify under setting Yes', () => {
      it('plans all three records, decided by the setting: 202 {leadId, qualificationId, plan, decidedBy, settingVersion, position}', async () => {
        const version = await useSetting(true);
        const id = await createLead();
        const res = await qualify(id);
        expect(res.status).toBe(202);
        const created = { action: 'create', id: expect.stringMatching(UUID) };
        expect(res.body).toEqual({
          leadId: id,
          qualificationId: expect.stringMatching(UUID),
          plan: { account: created, contact: created, opportunity: created },
          decidedBy: 'setting',
          settingVersion: version,
          position: expect.stringMatching(POSITION),
        });
        const ids = Object.values(res.body.plan).map((r: any) => r.id);
        expect(new Set(ids).size).toBe(3);
      });

      it('stamps LeadQualified with the setting in force, who qualified and when', async () => {
        const version = await useSetting(true);
        const id = await createLead();
        const sub = `sally-${randomUUID()}`;
        const before = Date.now();
        const res = await t.request('POST', `/leads/${id}/qualify`, { token: t.token('salesperson', sub), body: {} });
        const after = Date.now();
        expect(res.status).toBe(202);
        const qualified = (await stream(id)).find((e) => e.type === 'LeadQualified')!;
        expect(qualified.position).toBe(res.body.position);
        expect(qualified.data).toEqual(
          expect.objectContaining({
            leadId: id,
            qualificationId: res.body.qualificationId,
            plan: res.body.plan,
            decidedBy: 'setting',
            settingVersion: version,
            createRecordsByDefault: true,
            qualifiedBy: sub,
            qualifiedAt: expect.any(String),
          }),
        );
        const at = Date.parse(qualified.data.qualifiedAt);
        expect(new Date(at).toISOString()).toBe(qualified.data.qualifiedAt);
        expect(at).toBeGreaterThanOrEqual(before - 1000);
        expect(at).toBeLessThanOrEqual(after + 1000);
      });

      it('accepts a body that selects all three', async () => {
        await useSetting(true);
        const res = await qualify(await createLead(), allThree);
        expect(res.status).toBe(202);
        expect(res.body.decidedBy).toBe('setting');
      });

      it.each([
        { createAccount: false },
        { createContact: false },
        { createOpportunity: false },
        { createAccount: true, createContact: true, createOpportunity: false },
      ])('refuses the narrower selection %j with 409 QUALIFY_SETTING_CHANGED carrying the setting', async (selection) => {
        const version = await useSetting(true);
        const id = await createLead();
        const res = await qualify(id, selection);
        expectProblem(res, 409, 'QUALIFY_SETTING_CHANGED');
        expect(res.body.setting).toEqual({ createRecordsByDefault: true, version });
        expect(await types(id)).toEqual(['LeadCreated']);
      });

      it('plans no account for a lead without a company name', async () => {
        await useSetting(true);
        const res = await qualify(await createLead({ companyName: null }));
        expect(res.status).toBe(202);
        expect(res.body.plan).toEqual({
          account: { action: 'none', id: null },
          contact: { action: 'create', id: expect.stringMatching(UUID) },
          opportunity: { action: 'create', id: expect.stringMatching(UUID) },
        });
      });
    });

    describe('qualify under setting No', () => {
      it.each([{}, { createAccount: true }, { createAccount: true, createContact: true }, { createContact: false, createOpportunity: false }])(
        'requires all three booleans: %j is 400 RECORD_SELECTION_REQUIRED carrying the setting',
        async (selection) => {
          const version = await useSetting(false);
          const id = await createLead();
          const res = await qualify(id, selection);
          expectProblem(res, 400, 'RECORD_SELECTION_REQUIRED');
          expect(res.body.setting).toEqual({ createRecordsByDefault: false, version });
          expect(await types(id)).toEqual(['LeadCreated']);
        },
      );

      const combinations = [true, false].flatMap((a) =>
        [true, false].flatMap((c) => [true, false].map((o) => ({ createAccount: a, createContact: c, createOpportunity: o }))),
      );

      it.each(combinations)('accepts %j, decided by the salesperson', async (selection) => {
        const version = await useSetting(false);
        const id = await createLead();
        const res = await qualify(id, selection);
        expect(res.status).toBe(202);
        const planned = (chosen: boolean) => (chosen ? { action: 'create', id: expect.stringMatching(UUID) } : { action: 'none', id: null });
        expect(res.body).toEqual(
          expect.objectContaining({
            decidedBy: 'salesperson',
            settingVersion: version,
            plan: { account: planned(selection.createAccount), contact: planned(selection.createContact), opportunity: planned(selection.createOpportunity) },
          }),
        );
        const qualified = await qualifiedEvent(id);
        expect(qualified.data).toEqual(
          expect.objectContaining({ plan: res.body.plan, decidedBy: 'salesperson', settingVersion: version, createRecordsByDefault: false }),
        );
      });

      it('refuses an account for a lead without a company name: 422 COMPANY_NAME_REQUIRED, nothing appended', async () => {
        await useSetting(false);
        const id = await createLead({ companyName: null });
        expectProblem(await qualify(id, allThree), 422, 'COMPANY_NAME_REQUIRED');
        expect(await types(id)).toEqual(['LeadCreated']);
      });

      it('refuses an account for a lead whose company name is blank: 422 COMPANY_NAME_REQUIRED', async () => {
        await useSetting(false);
        expectProblem(await qualify(await createLead({ companyName: '   ' }), allThree), 422, 'COMPANY_NAME_REQUIRED');
      });

      it('links an existing account instead, even without a company name', async () => {
        await useSetting(false);
        const { accountId } = await recordsToLink();
        const res = await qualify(await createLead({ companyName: null }), { ...allThree, existingAccountId: accountId });
        expect(res.status).toBe(202);
        expect(res.body.plan.account).toEqual({ action: 'existing', id: accountId });
      });
    });

    describe('expectedSettingVersion', () => {
      it('qualifies when it is the current version', async () => {
        const version = await useSetting(true);
        const res = await qualify(await createLead(), { expectedSettingVersion: version });
        expect(res.status).toBe(202);
        expect(res.body.settingVersion).toBe(version);
      });

      it('refuses a stale version with 409 QUALIFY_SETTING_CHANGED carrying the current setting', async () => {
        const stale = await useSetting(true);
        const current = await useSetting(false);
        const id = await createLead();
        const res = await qualify(id, { ...allThree, expectedSettingVersion: stale });
        expectProblem(res, 409, 'QUALIFY_SETTING_CHANGED');
        expect(res.body.setting).toEqual({ createRecordsByDefault: false, version: current });
        expect(await types(id)).toEqual(['LeadCreated']);
      });
    });

    describe('existing account and contact', () => {
      it.each([true, false])('uses the ones given on the lead (setting Yes: %s)', async (yes) => {
        await useSetting(yes);
        const { accountId: existingAccountId, contactId: existingContactId } = await recordsToLink();
        const res = await qualify(await createLead({ existingAccountId, existingContactId }), allThree);
        expect(res.status).toBe(202);
        expect(res.body.plan).toEqual({
          account: { action: 'existing', id: existingAccountId },
          contact: { action: 'existing', id: existingContactId },
          opportunity: { action: 'create', id: expect.stringMatching(UUID) },
        });
      });

      it('uses the ones given in the body, over the lead’s', async () => {
        await useSetting(true);
        const onLead = await recordsToLink();
        const inBody = await recordsToLink();
        const body = { existingAccountId: inBody.accountId, existingContactId: inBody.contactId };
        const res = await qualify(await createLead({ existingAccountId: onLead.accountId, existingContactId: onLead.contactId }), body);
        expect(res.status).toBe(202);
        expect(res.body.plan.account).toEqual({ action: 'existing', id: body.existingAccountId });
        expect(res.body.plan.contact).toEqual({ action: 'existing', id: body.existingContactId });
      });

      it('reuses the account and contact of the earlier qualification after reactivation', async () => {
        await useSetting(true);
        const id = await createLead();
        const first = await qualify(id);
        expect((await reactivate(id)).status).toBe(200);
        const second = await retryingConflicts(() => qualify(id));
        expect(second.status).toBe(202);
        expect(second.body.plan.account).toEqual({ action: 'existing', id: first.body.plan.account.id });
        expect(second.body.plan.contact).toEqual({ action: 'existing', id: first.body.plan.contact.id });
        expect(second.body.plan.opportunity.id).not.toBe(first.body.plan.opportunity.id);
      });
    });

    describe('a setting change after qualification', () => {
      it('does not alter the recorded LeadQualified; leads qualified afterwards get the new setting', async () => {
        const yesVersion = await useSetting(true);
        const earlier = await createLead();
        expect((await qualify(earlier)).status).toBe(202);
        const recorded = await qualifiedEvent(earlier);

        const noVersion = await useSetting(false);
        expect(noVersion).toBe(yesVersion + 1);
        expect(await qualifiedEvent(earlier)).toEqual(recorded);
        expect(recorded.data).toEqual(expect.objectContaining({ settingVersion: yesVersion, createRecordsByDefault: true, decidedBy: 'setting' }));

        const later = await createLead();
        const res = await qualify(later, { createAccount: false, createContact: true, createOpportunity: false });
        expect(res.status).toBe(202);
        expect((await qualifiedEvent(later)).data).toEqual(
          expect.objectContaining({ settingVersion: noVersion, createRecordsByDefault: false, decidedBy: 'salesperson' }),
        );
      });
    });

    describe('concurrency', () => {
      it('10 parallel qualifications of one lead: exactly one 202, the others 409, one LeadQualified', async () => {
        await useSetting(true);
        const id = await createLead();
        const responses = await Promise.all(Array.from({ length: 10 }, () => qualify(id)));
        const statuses = responses.map((r) => r.status).sort();
        expect(statuses).toEqual([202, ...Array(9).fill(409)]);
        for (const refused of responses.filter((r) => r.status === 409)) {
          expect(['CONCURRENCY_CONFLICT', 'LEAD_NOT_OPEN']).toContain(refused.body.code);
        }
        expect(await types(id)).toEqual(['LeadCreated', 'LeadQualified']);
        const winner = responses.find((r) => r.status === 202)!;
        expect((await qualifiedEvent(id)).data.qualificationId).toBe(winner.body.qualificationId);
      });

      it('two parallel PATCHes with the same If-Match: one 200, the other 412 or 409, no lost update', async () => {
        const id = await createLead();
        const [a, b] = await Promise.all(
          ['Lyon', 'Nice'].map((city) => t.request('PATCH', `/leads/${id}`, { as: 'salesperson', headers: { 'if-match': '0' }, body: { city } })),
        );
        const [ok, refused] = a.status === 200 ? [a, b] : [b, a];
        expect(ok.status).toBe(200);
        expect([409, 412]).toContain(refused.status);
        expect(refused.body.code).toBe(refused.status === 412 ? 'VERSION_MISMATCH' : 'CONCURRENCY_CONFLICT');
        const updates = (await stream(id)).filter((e) => e.type === 'LeadUpdated');
        expect(updates).toHaveLength(1);
        expect(updates[0].position).toBe(ok.body.position);
      });

      it('20 parallel creates all succeed, each its own lead at its own position', async () => {
        const ids = Array.from({ length: 20 }, () => randomUUID());
        const responses = await Promise.all(ids.map((id) => t.request('POST', '/leads', { as: 'salesperson', body: { id, topic: 'Rush', lastName: 'Doe' } })));
        expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
        expect(new Set(responses.map((r) => r.body.position)).size).toBe(20);
        for (const id of ids) expect(await types(id)).toEqual(['LeadCreated']);
      });
    });

    describe('GET /leads/:id ETag', () => {
      it('is the version of the body as a strong ETag, moves with each change and is accepted back as If-Match', async () => {
        const id = randomUUID();
        const created = await t.request('POST', '/leads', { as: 'salesperson', body: { id, topic: 'Tagged', lastName: 'Doe' } });
        expect(created.status).toBe(201);
        const first = await t.request('GET', `/leads/${id}?minPosition=${created.body.position}`, { as: 'analyst' });
        expect(first.status).toBe(200);
        expect(first.body.version).toBe(0);
        expect(first.headers.etag).toBe('"0"');

        const updated = await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', headers: { 'if-match': first.headers.etag }, body: { city: 'Rennes' } });
        expect(updated.status).toBe(200);
        const second = await t.request('GET', `/leads/${id}?minPosition=${updated.body.position}`, { as: 'analyst' });
        expect(second.body.version).toBe(1);
        expect(second.headers.etag).toBe('"1"');

        // The first ETag is now stale.
        const stale = await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', headers: { 'if-match': first.headers.etag }, body: { city: 'Vannes' } });
        expectProblem(stale, 412, 'VERSION_MISMATCH');
      });

      it('is not sent with a 404', async () => {
        const res = await t.request('GET', `/leads/${randomUUID()}`, { as: 'analyst' });
        expectProblem(res, 404, 'NOT_FOUND');
        expect(res.headers.etag).toBeUndefined();
      });
    });
  });
}
