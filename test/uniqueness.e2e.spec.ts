import { randomUUID } from 'node:crypto';
import { Processors } from '../src/event-store/event-store.module.js';
import { CommandBus } from '@nestjs/cqrs';
import { LEAD_CONVERSION } from '../src/lead-conversion/lead-conversion.processor.js';
import { conversionSteps } from '../src/lead-conversion/lead-conversion.saga.js';
import { CreateConversionRecords } from '../src/lead-conversion/lead-conversion.commands.js';
import { EVENT_STORE, type StreamAppend } from '../src/event-store/event-store.port.js';
import { accountNameKey } from '../src/shared/normalised-keys.js';
import { startInstances, startTestApp, type Response, type TestApp } from './support/app.js';
import { eventStoreDbEnv, testDatabaseKinds, type TestDatabaseKind } from './support/databases.js';
import { eventually } from './support/events.js';
import { FaultyStore } from './support/faulty-store.js';
import type { EventStore } from './support/untyped-events.js';

const kinds = await testDatabaseKinds();
const sqlite = kinds.find((k) => k.name === 'sqlite-file')!;
const postgres = kinds.find((k) => k.name === 'postgres')!;

interface Setup {
  name: string;
  kind: TestDatabaseKind;
  instances: number;
  atomic: boolean;
  env?: Record<string, string>;
}
const SETUPS: Setup[] = [
  { name: 'sqlite-file', kind: sqlite, instances: 1, atomic: true },
  { name: 'postgres', kind: postgres, instances: 1, atomic: true },
  { name: 'postgres, two service instances', kind: postgres, instances: 2, atomic: true },
  { name: 'sqlite-file, a store that appends stream by stream', kind: sqlite, instances: 1, atomic: false },
  ...esdbSetups(),
];

/** With EVENTSTORE_URL, the same suite on EventStoreDB (read models on SQLite). */
function esdbSetups(): Setup[] {
  const env = eventStoreDbEnv('uniqueness suite');
  return env ? [{ name: 'EventStoreDB', kind: sqlite, instances: 1, atomic: false, env }] : [];
}
const allThree = { createAccount: true, createContact: true, createOpportunity: true };
/** A failing conversion gives up quickly here. */
const ENV = { PROCESSOR_MAX_ATTEMPTS: '3', PROCESSOR_RETRY_DELAY_MS: '10' };

function expectProblem(res: Response, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code, type: res.headers['content-type'] }).toEqual({
    status,
    code,
    type: expect.stringContaining('application/problem+json'),
  });
}

describe.each(SETUPS.filter((s) => s.kind.available))('uniqueness and linked records on $name', (setup) => {
  let apps: TestApp[];
  let store: EventStore;
  /** Leads whose conversion must fail: the saga's record appends crash (after the account, where not atomic). */
  const doomed = new Set<string>();
  /** Qualifications that crash after their claims, before LeadQualified (only where not atomic). */
  const crashAfterClaims = new Set<string>();

  const crashBefore = (index: number, appends: StreamAppend[]): boolean => {
    const next = appends[index].events[0];
    const owner = appends.find((a) => a.streamId.startsWith('lead-'))?.events[0];
    if (owner?.type === 'LeadConversionCompleted' && doomed.has(owner.data.leadId as string)) return setup.atomic || next.type !== 'AccountCreated';
    return next.type === 'LeadQualified' && crashAfterClaims.has(next.data.leadId as string);
  };

  beforeAll(async () => {
    const wrapEventStore = (inner: EventStore) => new FaultyStore(inner, setup.atomic, crashBefore);
    const env = { ...ENV, ...setup.env };
    apps =
      setup.instances > 1
        ? await startInstances(setup.kind, setup.instances, env, { wrapEventStore })
        : [await startTestApp(setup.kind, env, { wrapEventStore })];
    store = apps[0].app.get(EVENT_STORE);
  });
  afterAll(async () => {
    for (const app of apps ?? []) await app.close();
  });

  /** Requests go round the instances, as a load balancer sends them. */
  let turn = 0;
  const send = (method: string, url: string, body?: unknown, as = 'salesperson') => apps[turn++ % apps.length].request(method, url, { as, body });

  async function createLead(fields: Record<string, unknown> = {}): Promise<string> {
    const id = randomUUID();
    const res = await send('POST', '/leads', { id, topic: 'Vans', lastName: 'Doe', ...fields });
    expect(res.status).toBe(201);
    return id;
  }
  const unique = (what: string) => `${what} ${randomUUID().slice(0, 8)}`;
  const email = () => `${randomUUID()}@example.com`;
  const head = () => store.headPosition();
  /** The events a request appended (its correlation id is on each), after `before`: other work may append meanwhile. */
  async function appendedBy(res: Response, before: string) {
    const correlationId = res.headers['x-correlation-id'];
    expect(correlationId).toBeTruthy();
    return (await store.readAll(before, 100_000)).filter((e) => e.metadata.correlationId === correlationId);
  }

  async function conversion(leadId: string): Promise<any> {
    return eventually(
      async () => {
        const res = await send('GET', `/leads/${leadId}`, undefined, 'analyst');
        const q = res.body?.qualification;
        return q && q.conversion !== 'pending' ? q : undefined;
      },
      `the conversion of lead ${leadId}`,
      20_000,
    );
  }

  async function accountsNamed(name: string): Promise<number> {
    const events = [];
    for (let after = '0'; ;) {
      const page = await store.readAll(after, 5000);
      if (!page.length) break;
      events.push(...page);
      after = page[page.length - 1].position;
    }
    return events.filter((e) => e.type === 'AccountCreated' && accountNameKey(e.data.name) === accountNameKey(name)).length;
  }

  it('50 leads of one company qualified at once (setting Yes): 1 accepted, 49 DUPLICATES_FOUND naming its account, 1 account', async () => {
    const company = unique('Fifty Co');
    const leads = await Promise.all(Array.from({ length: 50 }, () => createLead({ companyName: company, email: email() })));
    const responses = await Promise.all(leads.map((id) => send('POST', `/leads/${id}/qualify`, {})));
    const accepted = responses.filter((r) => r.status === 202);
    expect(accepted).toHaveLength(1);
    const accountId = accepted[0].body.plan.account.id;
    const refused = responses.filter((r) => r.status !== 202);
    expect(refused).toHaveLength(49);
    for (const res of refused) {
      expectProblem(res, 409, 'DUPLICATES_FOUND');
      expect(res.body.duplicates.accounts.map((a: { id: string }) => a.id)).toEqual([accountId]);
      expect(res.body.duplicates.contacts).toEqual([]);
    }
    expect(await conversion(accepted[0].body.leadId)).toMatchObject({ conversion: 'completed', accountId });
    expect(await accountsNamed(company)).toBe(1);
  }, 60_000);

  it('one bulk call with "Same Co" and "same  co ": the first 202, the second 409 DUPLICATES_FOUND in its result', async () => {
    const name = unique('Same Co');
    const first = await createLead({ companyName: name, email: email() });
    const second = await createLead({ companyName: `  ${name.toLowerCase().replace(' ', '   ')} `, email: email() });
    const res = await send('POST', '/leads/qualify', { leadIds: [first, second] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => [r.leadId, r.status, r.code])).toEqual([
      [first, 202, undefined],
      [second, 409, 'DUPLICATES_FOUND'],
    ]);
    expect(res.body.results[1].duplicates.accounts).toEqual([{ id: res.body.results[0].plan.account.id, name, pending: expect.any(Boolean) }]);
    await conversion(first);
    expect(await accountsNamed(name)).toBe(1);
  });

  it('a pending account is named with pending: true; linking it instead qualifies, and the conversion waits and links the created account', async () => {
    const name = unique('Pending Co');
    const first = await createLead({ companyName: name, email: email() });
    // With the saga stopped the first conversion stays pending for as long as the test needs.
    const sagas = apps.map((a) => a.app.get(Processors).get(LEAD_CONVERSION)!);
    await Promise.all(sagas.map((saga) => saga.stop()));
    const accepted = await send('POST', `/leads/${first}/qualify`, {});
    const accountId = accepted.body.plan.account.id;
    const lookalike = await createLead({ companyName: name.toUpperCase(), email: email() });
    const refused = await send('POST', `/leads/${lookalike}/qualify`, {});
    expectProblem(refused, 409, 'DUPLICATES_FOUND');
    expect(refused.body.duplicates.accounts).toEqual([{ id: accountId, name, pending: true }]);
    const linked = await send('POST', `/leads/${lookalike}/qualify`, { existingAccountId: accountId });
    expect(linked.status).toBe(202);
    expect(linked.body.plan.account).toEqual({ action: 'existing', id: accountId });
    for (const saga of sagas) saga.start();
    const done = await conversion(lookalike);
    expect(done).toMatchObject({ conversion: 'completed', accountId });
    const contact = await eventually(
      async () =>
        (await send('GET', `/contacts/${done.contactId}`, undefined, 'analyst')).body?.id &&
        (await send('GET', `/contacts/${done.contactId}`, undefined, 'analyst')).body,
      'the contact',
    );
    expect(contact.parentAccountId).toBe(accountId);
    expect((await store.readStream(`account-${accountId}`)).map((e) => e.type)).toEqual(['AccountPlanned', 'AccountCreated']);
  });

  describe('open leads by e-mail', () => {
    it('POST /leads with the e-mail of an open lead: 409 naming it; ignoreDuplicates creates it and LeadCreated records the override', async () => {
      const shared = email();
      const holder = await createLead({ email: shared, firstName: 'Ann', companyName: 'Holder Co' });
      const before = await head();
      const res = await send('POST', '/leads', { topic: 'Again', lastName: 'Doe', email: shared.toUpperCase() });
      expectProblem(res, 409, 'DUPLICATES_FOUND');
      expect(await appendedBy(res, before)).toEqual([]);
      expect(res.body.duplicates).toEqual({
        accounts: [],
        contacts: [],
        leads: [{ id: holder, firstName: 'Ann', lastName: 'Doe', email: shared, companyName: 'Holder Co', pending: false }],
      });
      const forced = await send('POST', '/leads', { topic: 'Again', lastName: 'Doe', email: shared.toUpperCase(), ignoreDuplicates: true });
      expect(forced.status).toBe(201);
      // The same check sees what a request did append: the claim, then the lead.
      expect((await appendedBy(forced, before)).map((e) => e.type)).toEqual(['UniqueKeyClaimed', 'LeadCreated']);
      const [created] = await store.readStream(`lead-${forced.body.id}`);
      expect(created.data).toEqual({ leadId: forced.body.id, topic: 'Again', lastName: 'Doe', email: shared.toUpperCase(), ignoredDuplicates: [holder] });
    });

    it('PATCH to a held e-mail: 409; once the holder is qualified or disqualified the e-mail is free', async () => {
      const [qualifiedHolder, disqualifiedHolder] = [email(), email()];
      const a = await createLead({ email: qualifiedHolder, companyName: unique('Patch Co') });
      const b = await createLead({ email: disqualifiedHolder });
      const mover = await createLead({ email: email() });
      expectProblem(await send('PATCH', `/leads/${mover}`, { email: qualifiedHolder }), 409, 'DUPLICATES_FOUND');
      expect((await send('POST', `/leads/${a}/qualify`, {})).status).toBe(202);
      expect((await send('POST', `/leads/${b}/disqualify`, { statusReason: 'Lost' })).status).toBe(200);
      expect((await send('PATCH', `/leads/${mover}`, { email: disqualifiedHolder })).status).toBe(200);
      expect((await send('POST', '/leads', { topic: 'x', lastName: 'y', email: qualifiedHolder.toUpperCase() })).status).toBe(201);
    });

    it('reactivating a lead whose e-mail another open lead took meanwhile: 409 DUPLICATES_FOUND; with ignoreDuplicates it reopens', async () => {
      const shared = email();
      const first = await createLead({ email: shared });
      expect((await send('POST', `/leads/${first}/disqualify`, { statusReason: 'Lost' })).status).toBe(200);
      const second = await createLead({ email: shared });
      const before = await head();
      const refused = await send('POST', `/leads/${first}/reactivate`);
      expectProblem(refused, 409, 'DUPLICATES_FOUND');
      expect(refused.body.duplicates.leads.map((l: { id: string }) => l.id)).toEqual([second]);
      expect(await appendedBy(refused, before)).toEqual([]);
      expectProblem(await send('POST', `/leads/${first}/reactivate`, { ignoreDuplicates: 'yes' }), 400, 'VALIDATION_FAILED');
      expectProblem(await send('POST', `/leads/${first}/reactivate`, { ignoreDuplicates: true, force: true }), 400, 'VALIDATION_FAILED');
      expect((await send('POST', `/leads/${first}/reactivate`, { ignoreDuplicates: true })).status).toBe(200);
      const events = await store.readStream(`lead-${first}`);
      expect(events.at(-1)!.data).toEqual({ leadId: first, ignoredDuplicates: [second] });
    });
  });

  describe('linked records', () => {
    const madeUp = '7d3f8b52-35c4-4a53-9b2e-3c1b0e6e5a11';

    it.each([
      ['POST /leads', async () => send('POST', '/leads', { topic: 'x', lastName: 'y', existingAccountId: madeUp }), 'existingAccountId'],
      ['PATCH /leads/:id', async (lead: string) => send('PATCH', `/leads/${lead}`, { existingContactId: madeUp }), 'existingContactId'],
      ['POST /leads/:id/qualify', async (lead: string) => send('POST', `/leads/${lead}/qualify`, { existingAccountId: madeUp }), 'existingAccountId'],
    ] as const)('%s naming a record that does not exist: 422 RECORD_NOT_FOUND with field, nothing appended', async (_what, request, field) => {
      const lead = await createLead({ email: email() });
      const before = await head();
      const res = await request(lead);
      expectProblem(res, 422, 'RECORD_NOT_FOUND');
      expect(res.body).toMatchObject({ field, id: madeUp });
      expect(await appendedBy(res, before)).toEqual([]);
    });

    it('a bulk qualify naming a contact that does not exist: 422 in each result, nothing appended', async () => {
      const leads = [await createLead(), await createLead()];
      const before = await head();
      const res = await send('POST', '/leads/qualify', { leadIds: leads, existingContactId: madeUp });
      expect(res.body.results.map((r: any) => [r.status, r.code, r.field])).toEqual([
        [422, 'RECORD_NOT_FOUND', 'existingContactId'],
        [422, 'RECORD_NOT_FOUND', 'existingContactId'],
      ]);
      expect(await appendedBy(res, before)).toEqual([]);
    });

    it('an account id of another kind (a contact id) is not an account', async () => {
      const source = await createLead({ email: email(), companyName: unique('Kind Co') });
      const contactId = (await send('POST', `/leads/${source}/qualify`, {})).body.plan.contact.id;
      const res = await send('POST', `/leads/${await createLead()}/qualify`, { existingAccountId: contactId });
      expectProblem(res, 422, 'RECORD_NOT_FOUND');
    });
  });

  it('a failed conversion frees the keys of the records it did not create; a created one keeps its key', async () => {
    const company = unique('Doomed Co');
    const shared = email();
    const lead = await createLead({ companyName: company, email: shared });
    doomed.add(lead);
    const { plan } = (await send('POST', `/leads/${lead}/qualify`, {})).body;
    expect(await conversion(lead)).toMatchObject({ conversion: 'failed' });
    const contactKey = (await store.readAll('0', 100_000)).filter((e) => e.type === 'UniqueKeyReleased' && e.data.recordId === plan.contact.id);
    expect(contactKey.map((e) => e.data.reason)).toEqual(['conversion-failed']);

    // The planned contact is gone for good: linking it is refused.
    expectProblem(await send('POST', `/leads/${await createLead()}/qualify`, { existingContactId: plan.contact.id }), 422, 'RECORD_NOT_FOUND');
    // A redelivery of the LeadQualified (a crash before the saga's checkpoint moved) creates nothing now.
    doomed.delete(lead);
    const [qualified] = (await store.readStream(`lead-${lead}`)).filter((e) => e.type === 'LeadQualified');
    const steps = conversionSteps(qualified.data);
    const ctx = { userId: 'test', correlationId: 'redelivery', causationId: qualified.id, now: new Date() };
    expect(
      await apps[0].app.get(CommandBus).execute(new CreateConversionRecords(steps.creates, { type: 'RecordConversionCompleted', ...steps.completed }, ctx)),
    ).toEqual({ created: 0 });
    expect((await store.readStream(`contact-${plan.contact.id}`)).map((e) => e.type)).toEqual(['ContactPlanned']);
    if (!setup.atomic) {
      // The lead's own account, created before the failure, holds its name against the lead itself.
      expect((await send('POST', `/leads/${lead}/reactivate`, { ignoreDuplicates: true })).status).toBe(200);
      const requalified = await send('POST', `/leads/${lead}/qualify`, {});
      expectProblem(requalified, 409, 'DUPLICATES_FOUND');
      expect(requalified.body.duplicates.accounts).toEqual([expect.objectContaining({ id: plan.account.id, pending: false })]);
      expect((await send('POST', `/leads/${lead}/disqualify`, { statusReason: 'Lost' })).status).toBe(200);
    }
    const again = await createLead({ companyName: company, email: shared });
    const res = await send('POST', `/leads/${again}/qualify`, {});
    if (setup.atomic) {
      // Nothing was created: both keys are free.
      expect(res.status).toBe(202);
    } else {
      // The account was created before the crash: it keeps its name; the contact's e-mail is free.
      expectProblem(res, 409, 'DUPLICATES_FOUND');
      expect(res.body.duplicates).toMatchObject({ accounts: [{ id: plan.account.id, pending: false }], contacts: [] });
    }
  });

  // Only a store that appends stream by stream can crash between a claim and its owner.
  const whereNotAtomic = setup.atomic ? () => undefined : it;
  whereNotAtomic('a crash between the claims and LeadQualified: nothing qualified; the young claim still refuses lookalikes (pending)', async () => {
    const company = unique('Crash Co');
    const lead = await createLead({ companyName: company, email: email() });
    crashAfterClaims.add(lead);
    expect((await send('POST', `/leads/${lead}/qualify`, {})).status).toBe(500);
    expect((await store.readStream(`lead-${lead}`)).map((e) => e.type)).toEqual(['LeadCreated']);
    const lookalike = await createLead({ companyName: company, email: email() });
    const res = await send('POST', `/leads/${lookalike}/qualify`, {});
    expectProblem(res, 409, 'DUPLICATES_FOUND');
    expect(res.body.duplicates.accounts).toEqual([expect.objectContaining({ pending: true })]);
    // Its Planned record was never accepted: it cannot be linked.
    expectProblem(await send('POST', `/leads/${lookalike}/qualify`, { existingAccountId: res.body.duplicates.accounts[0].id }), 422, 'RECORD_NOT_FOUND');
  });
});
