import { randomUUID } from 'node:crypto';
import { Database } from '../src/database/database.js';
import { placeholder } from '../src/database/sql.js';
import { EVENT_STORE } from '../src/event-store/event-store.port.js';
import { startTestApp, type TestApp } from './support/app.js';
import { aDataverseLead, dataverseClient, failure } from './support/dataverse.js';
import { testDatabaseKinds } from './support/databases.js';
import { aFullLead } from './support/fixtures.js';
import type { EventStore } from './support/untyped-events.js';

const kinds = await testDatabaseKinds();
const ODATA_CONTEXT_COLLECTION = '$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)';

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`Dataverse Web API through dynamics-web-api on ${kind.name}`, () => {
    let t: TestApp;
    let client: ReturnType<typeof dataverseClient>;
    beforeAll(async () => {
      t = await startTestApp(kind);
      client = dataverseClient(t);
    });
    afterAll(async () => t?.close());

    async function useSetting(createRecordsByDefault: boolean): Promise<void> {
      const res = await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault } });
      expect(res.status).toBe(200);
    }

    /** A lead of its own company and e-mail (duplicate detection must not meet another test's). */
    async function createLead(overrides: Record<string, unknown> = {}): Promise<string> {
      const tag = randomUUID();
      return (await client.create({
        collection: 'leads',
        data: aDataverseLead({ companyname: `Acme ${tag}`, emailaddress1: `${tag}@acme.example`, ...overrides }),
      })) as string;
    }

    async function createLeadUnder(createRecordsByDefault: boolean): Promise<string> {
      await useSetting(createRecordsByDefault);
      return createLead();
    }

    const qualify = (leadId: string, parameters: Record<string, unknown>, actionName = 'Microsoft.Dynamics.CRM.QualifyLead') =>
      client.callAction({ collection: 'leads', key: leadId, actionName, action: { Status: 3, SuppressDuplicateDetection: false, ...parameters } }) as Promise<{
        value: Record<string, string>[];
        oDataContext: string;
      }>;

    describe('leads', () => {
      it('creates a lead (204 + OData-EntityId: the client returns its id) and reads it back with every attribute and option set', async () => {
        const tag = randomUUID();
        const id = await createLead({ companyname: `Acme ${tag}`, emailaddress1: `${tag}@acme.example` });
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        const lead = (await client.retrieve({ collection: 'leads', key: id })) as Record<string, unknown>;
        expect(lead).toMatchObject({
          ...aDataverseLead({ companyname: `Acme ${tag}`, emailaddress1: `${tag}@acme.example` }),
          leadid: id,
          fullname: 'Jane Doe',
          statecode: 0,
          statuscode: 1,
          versionnumber: 0,
          '@odata.etag': 'W/"0"',
          _parentaccountid_value: null,
          _parentcontactid_value: null,
        });
        // The native API sees the same lead.
        const native = await t.request('GET', `/leads/${id}`, { as: 'analyst' });
        expect(native.body).toMatchObject(aFullLead({ companyName: `Acme ${tag}`, email: `${tag}@acme.example` }));
      });

      it('answers the lead with Prefer: return=representation (201) and honours $select', async () => {
        const created = (await client.create({
          collection: 'leads',
          data: aDataverseLead({ companyname: `Acme ${randomUUID()}`, emailaddress1: null }),
          returnRepresentation: true,
        })) as Record<string, unknown>;
        expect(created).toMatchObject({ subject: 'Fleet renewal', statecode: 0 });
        const picked = (await client.retrieve({ collection: 'leads', key: created.leadid as string, select: ['subject', 'leadsourcecode'] })) as Record<
          string,
          unknown
        >;
        expect(Object.keys(picked).filter((k) => !k.startsWith('@') && !k.startsWith('oData'))).toEqual(['subject', 'leadsourcecode', 'leadid']);
      });

      it('PATCH with If-Match: the current ETag updates, a stale one is 412 (the client answers false)', async () => {
        const id = await createLead();
        expect(await client.update({ collection: 'leads', key: id, data: { jobtitle: 'CTO', statuscode: 2 }, ifmatch: 'W/"0"' })).toBe(true);
        const lead = (await client.retrieve({ collection: 'leads', key: id })) as Record<string, unknown>;
        expect(lead).toMatchObject({ jobtitle: 'CTO', statuscode: 2, '@odata.etag': 'W/"1"' });
        expect(await client.update({ collection: 'leads', key: id, data: { jobtitle: 'CEO' }, ifmatch: 'W/"0"' })).toBe(false);
        // No If-Match (Dataverse: upsert): a lead that does not exist is not created.
        const missing = randomUUID();
        const error = await failure(client.upsert({ collection: 'leads', key: missing, data: { subject: 'x', lastname: 'y' } }));
        expect(error).toMatchObject({ status: 404, code: '0x80040217' });
      });

      it('a lead that does not exist: 404 0x80040217', async () => {
        const id = randomUUID();
        expect(await failure(client.retrieve({ collection: 'leads', key: id }))).toEqual({
          status: 404,
          code: '0x80040217',
          message: `lead With Id = ${id} Does Not Exist`,
        });
      });

      it('refuses an attribute the lead does not have: in a body 400 0x80060888, in $select 400 0x0 (as Dataverse words each)', async () => {
        const error = await failure(client.create({ collection: 'leads', data: { subject: 'x', lastname: 'y', revenue: 3 } }));
        expect(error).toEqual({
          status: 400,
          code: '0x80060888',
          message:
            "The property 'revenue' does not exist on type 'Microsoft.Dynamics.CRM.lead'. Make sure to only use property names that are defined by the type.",
        });
        const selected = await failure(client.retrieveMultiple({ collection: 'leads', select: ['revenue'] }));
        expect(selected).toEqual({ status: 400, code: '0x0', message: "Could not find a property named 'revenue' on type 'Microsoft.Dynamics.CRM.lead'." });
      });

      it('validates with the native limits, naming the Dataverse attribute: 400 0x80040203', async () => {
        const error = await failure(client.create({ collection: 'leads', data: { subject: 'x'.repeat(201), lastname: 'y', leadsourcecode: 99 } }));
        expect(error.status).toBe(400);
        expect(error.code).toBe('0x80040203');
        expect(error.message).toMatch(/leadsourcecode/);
      });

      it('checks duplicates on create only with MSCRM.SuppressDuplicateDetection: false (0x80040333, 409)', async () => {
        const email = `${randomUUID()}@dup.example`;
        await createLead({ emailaddress1: email });
        const error = await failure(client.create({ collection: 'leads', data: aDataverseLead({ emailaddress1: email }), duplicateDetection: true }));
        expect(error).toMatchObject({ status: 409, code: '0x80040333' });
        // Without the header, Dataverse creates it anyway.
        expect(await createLead({ emailaddress1: email })).toMatch(/^[0-9a-f-]{36}$/);
      });

      it('a leadid that exists: 409 0x80040237 (LEAD_EXISTS), and the lead is unchanged', async () => {
        const id = await createLead({ jobtitle: 'Buyer' });
        const error = await failure(client.create({ collection: 'leads', data: aDataverseLead({ leadid: id, jobtitle: 'CEO', emailaddress1: null }) }));
        expect({ status: error.status, code: error.code }).toEqual({ status: 409, code: '0x80040237' });
        expect(error.message).toContain(id);
        const lead = (await client.retrieve({ collection: 'leads', key: id, select: ['jobtitle', 'versionnumber'] })) as Record<string, unknown>;
        expect(lead).toMatchObject({ jobtitle: 'Buyer', versionnumber: 0 });
      });

      it('pages with Prefer: odata.maxpagesize (nextLink, retrieveAll) and caps the total with $top', async () => {
        const company = `Paged ${randomUUID()}`;
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push(await createLead({ companyname: company, emailaddress1: null }));
        const filter = `companyname eq '${company}' and statecode eq 0`;
        const first = (await client.retrieveMultiple({ collection: 'leads', select: ['subject'], filter, maxPageSize: 3 })) as {
          value: Record<string, unknown>[];
          oDataNextLink?: string;
        };
        expect(first.value.map((l) => l.leadid)).toEqual(ids.slice(0, 3));
        expect(first.oDataNextLink).toMatch(new RegExp(`^${t.baseUrl}/api/data/v9.2/leads\\?.*\\$skiptoken=`));
        const all = (await client.retrieveAll({ collection: 'leads', select: ['subject'], filter, maxPageSize: 3 })) as { value: Record<string, unknown>[] };
        expect(all.value.map((l) => l.leadid)).toEqual(ids);
        const capped = (await client.retrieveAll({ collection: 'leads', select: ['subject'], filter, maxPageSize: 3, top: 5 })) as {
          value: Record<string, unknown>[];
        };
        expect(capped.value.map((l) => l.leadid)).toEqual(ids.slice(0, 5));
        // The raw answer: Preference-Applied and an absolute nextLink to this server.
        const raw = await t.request('GET', `/api/data/v9.2/leads?$select=subject&$filter=${encodeURIComponent(filter)}`, {
          as: 'analyst',
          headers: { prefer: 'odata.maxpagesize=4' },
        });
        expect(raw.headers['preference-applied']).toBe('odata.maxpagesize=4');
        expect(raw.body.value).toHaveLength(4);
        expect(raw.body['@odata.nextLink']).toContain(`${t.baseUrl}/api/data/v9.2/leads?`);
        // On the last page, no nextLink.
        const next = await t.request('GET', raw.body['@odata.nextLink'].replace(t.baseUrl, ''), { as: 'analyst', headers: { prefer: 'odata.maxpagesize=4' } });
        expect(next.body.value).toHaveLength(3);
        expect(next.body['@odata.nextLink']).toBeUndefined();
      });
    });

    describe('QualifyLead', () => {
      it('under Yes: creates account, contact and opportunity and lists them as Dataverse does; the records carry their links', async () => {
        await useSetting(true);
        const leadId = await createLead();
        const answer = await qualify(leadId, { CreateAccount: true, CreateContact: true, CreateOpportunity: true });
        expect(answer.oDataContext).toBe(`${t.baseUrl}/api/data/v9.2/${ODATA_CONTEXT_COLLECTION}`);
        expect(answer.value.map((r) => r['@odata.type'])).toEqual([
          '#Microsoft.Dynamics.CRM.account',
          '#Microsoft.Dynamics.CRM.contact',
          '#Microsoft.Dynamics.CRM.opportunity',
        ]);
        const [{ accountid }, { contactid }, { opportunityid }] = answer.value;
        const account = (await client.retrieve({ collection: 'accounts', key: accountid })) as Record<string, unknown>;
        const contact = (await client.retrieve({ collection: 'contacts', key: contactid })) as Record<string, unknown>;
        const opportunity = (await client.retrieve({ collection: 'opportunities', key: opportunityid })) as Record<string, unknown>;
        expect(account).toMatchObject({ accountid, _primarycontactid_value: contactid, _originatingleadid_value: leadId, websiteurl: 'https://acme.example' });
        expect(contact).toMatchObject({ contactid, _parentcustomerid_value: accountid, _originatingleadid_value: leadId, fullname: 'Jane Doe' });
        expect(opportunity).toMatchObject({
          opportunityid,
          name: 'Fleet renewal',
          _customerid_value: accountid,
          _parentaccountid_value: accountid,
          _parentcontactid_value: contactid,
          _originatingleadid_value: leadId,
          purchasetimeframe: 1,
          statecode: 0,
        });
        const lead = (await client.retrieve({
          collection: 'leads',
          key: leadId,
          select: ['statecode', 'statuscode', '_qualifyingopportunityid_value'],
        })) as Record<string, unknown>;
        expect(lead).toMatchObject({ statecode: 1, statuscode: 3, _qualifyingopportunityid_value: opportunityid });
        // The collections, filtered by the originating lead.
        const contacts = (await client.retrieveMultiple({ collection: 'contacts', filter: `_originatingleadid_value eq ${leadId}`, select: ['lastname'] })) as {
          value: Record<string, unknown>[];
        };
        expect(contacts.value).toEqual([expect.objectContaining({ contactid, lastname: 'Doe' })]);
      });

      it('under Yes: also bound without the Microsoft.Dynamics.CRM. prefix', async () => {
        await useSetting(true);
        const answer = await qualify(await createLead(), { CreateAccount: true, CreateContact: true, CreateOpportunity: true }, 'QualifyLead');
        expect(answer.value).toHaveLength(3);
      });

      it('under Yes: a body asking for fewer than all three is refused (400 0x80040203, the organization creates all three)', async () => {
        await useSetting(true);
        const error = await failure(qualify(await createLead(), { CreateAccount: false, CreateContact: true, CreateOpportunity: true }));
        expect(error).toMatchObject({ status: 400, code: '0x80040203' });
        expect(error.message).toMatch(/organization creates an account, a contact and an opportunity/);
      });

      it('Status other than 3 or -1: 400 0x80040203', async () => {
        const error = await failure(qualify(await createLead(), { CreateAccount: true, CreateContact: true, CreateOpportunity: true, Status: 4 }));
        expect(error).toMatchObject({ status: 400, code: '0x80040203' });
      });

      const combinations = [false, true].flatMap((a) => [false, true].flatMap((c) => [false, true].map((o) => [a, c, o] as const)));
      it.each(combinations)('under No: CreateAccount %s, CreateContact %s, CreateOpportunity %s creates exactly those records', async (a, c, o) => {
        await useSetting(false);
        const leadId = await createLead();
        const answer = await qualify(leadId, { CreateAccount: a, CreateContact: c, CreateOpportunity: o });
        const expected = [a && 'account', c && 'contact', o && 'opportunity'].filter(Boolean);
        expect(answer.value.map((r) => r['@odata.type'].replace('#Microsoft.Dynamics.CRM.', ''))).toEqual(expected);
        for (const record of answer.value) {
          const type = record['@odata.type'].replace('#Microsoft.Dynamics.CRM.', '');
          const collection = { account: 'accounts', contact: 'contacts', opportunity: 'opportunities' }[type]!;
          const read = (await client.retrieve({ collection, key: record[`${type}id`] })) as Record<string, unknown>;
          expect(read._originatingleadid_value).toBe(leadId);
        }
        const opportunity = answer.value.find((r) => r.opportunityid);
        if (opportunity) {
          const read = (await client.retrieve({ collection: 'opportunities', key: opportunity.opportunityid })) as Record<string, unknown>;
          const account = answer.value.find((r) => r.accountid)?.accountid;
          const contact = answer.value.find((r) => r.contactid)?.contactid;
          expect(read._customerid_value).toBe(account ?? contact ?? null);
        }
      });

      it('a duplicate account is refused (409 0x80040333) and goes through with SuppressDuplicateDetection', async () => {
        await useSetting(false);
        const company = `Twin ${randomUUID()}`;
        const selection = { CreateAccount: true, CreateContact: false, CreateOpportunity: false };
        await qualify(await createLead({ companyname: company }), selection);
        const second = await createLead({ companyname: company });
        expect(await failure(qualify(second, selection))).toMatchObject({ status: 409, code: '0x80040333' });
        const answer = await qualify(second, { ...selection, SuppressDuplicateDetection: true });
        expect(answer.value).toHaveLength(1);
      });

      it('repeating the same QualifyLead answers the records of the first; another selection is refused (409 0x80040203), nothing appended', async () => {
        await useSetting(false);
        const store: EventStore = t.app.get(EVENT_STORE);
        const leadId = await createLead();
        const selection = { CreateAccount: true, CreateContact: true, CreateOpportunity: false };
        const first = await qualify(leadId, selection);
        expect(first.value).toHaveLength(2);
        expect(await qualify(leadId, selection)).toEqual(first);
        for (const other of [
          { ...selection, CreateOpportunity: true },
          { ...selection, CreateContact: false },
          { CreateAccount: false, CreateContact: false, CreateOpportunity: false },
        ]) {
          const error = await failure(qualify(leadId, other));
          expect({ other, status: error.status, code: error.code }).toEqual({ other, status: 409, code: '0x80040203' });
        }
        const types = (await store.readStream(`lead-${leadId}`)).map((e) => e.type);
        expect(types).toEqual(['LeadCreated', 'LeadQualified', 'LeadConversionCompleted']);
      });

      it('a repeat must shape the new opportunity the same way: another OpportunityCurrencyId or SourceCampaignId is refused', async () => {
        await useSetting(false);
        const leadId = await createLead();
        const currency = { '@odata.type': 'Microsoft.Dynamics.CRM.transactioncurrency', transactioncurrencyid: randomUUID() };
        const selection = { CreateAccount: false, CreateContact: false, CreateOpportunity: true, OpportunityCurrencyId: currency };
        const first = await qualify(leadId, selection);
        expect(
          await qualify(leadId, { ...selection, OpportunityCurrencyId: { ...currency, transactioncurrencyid: currency.transactioncurrencyid.toUpperCase() } }),
        ).toEqual(first);
        const otherCurrency = { ...currency, transactioncurrencyid: randomUUID() };
        expect(await failure(qualify(leadId, { ...selection, OpportunityCurrencyId: otherCurrency }))).toMatchObject({ status: 409, code: '0x80040203' });
        expect(await failure(qualify(leadId, { ...selection, OpportunityCurrencyId: null }))).toMatchObject({ status: 409, code: '0x80040203' });
        const campaign = { '@odata.type': 'Microsoft.Dynamics.CRM.campaign', campaignid: randomUUID() };
        expect(await failure(qualify(leadId, { ...selection, SourceCampaignId: campaign }))).toMatchObject({ status: 409, code: '0x80040203' });
      });

      it('OpportunityCustomerId sets only the opportunity customer; OpportunityCurrencyId and SourceCampaignId are stored on it', async () => {
        await useSetting(true);
        const other = await qualify(await createLead(), { CreateAccount: true, CreateContact: true, CreateOpportunity: true });
        const customer = other.value.find((r) => r.contactid)!.contactid;
        const currency = randomUUID();
        const campaign = randomUUID();
        const answer = await qualify(await createLead(), {
          CreateAccount: true,
          CreateContact: true,
          CreateOpportunity: true,
          OpportunityCustomerId: { '@odata.type': 'Microsoft.Dynamics.CRM.contact', contactid: customer },
          OpportunityCurrencyId: { '@odata.type': 'Microsoft.Dynamics.CRM.transactioncurrency', transactioncurrencyid: currency },
          SourceCampaignId: { '@odata.type': 'Microsoft.Dynamics.CRM.campaign', campaignid: campaign },
        });
        // The account is still created.
        expect(answer.value.map((r) => r['@odata.type'])).toHaveLength(3);
        const opportunity = (await client.retrieve({ collection: 'opportunities', key: answer.value[2].opportunityid })) as Record<string, unknown>;
        expect(opportunity).toMatchObject({
          _customerid_value: customer,
          '_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'contact',
          _transactioncurrencyid_value: currency,
          _campaignid_value: campaign,
          _parentaccountid_value: answer.value[0].accountid,
        });
      });

      it('an unknown action or entity set: 404 0x8006088a', async () => {
        const res = await t.request('POST', `/api/data/v9.2/leads(${randomUUID()})/Microsoft.Dynamics.CRM.WinOpportunity`, { as: 'salesperson', body: {} });
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('0x8006088a');
        const set = await t.request('GET', '/api/data/v9.2/Account', { as: 'salesperson' });
        expect({ status: set.status, code: set.body.error.code, message: set.body.error.message }).toEqual({
          status: 404,
          code: '0x8006088a',
          message: "Resource not found for the segment 'Account'.",
        });
      });
    });

    describe('records', () => {
      type Collection = { value: Record<string, unknown>[] };
      const list = async (collection: string, filter: string) =>
        ((await client.retrieveMultiple({ collection, filter, select: ['createdon'] })) as Collection).value.map((r) => r[`${RECORD_KEY[collection]}`]);
      const RECORD_KEY: Record<string, string> = { accounts: 'accountid', contacts: 'contactid', opportunities: 'opportunityid' };

      it('are read-only: POST and PATCH on them are 405 (Allow: GET), as are POST leads(<id>) and PATCH leads', async () => {
        const account = (await qualify(await createLeadUnder(true), { CreateAccount: true, CreateContact: true, CreateOpportunity: true })).value[0].accountid;
        for (const collection of ['accounts', 'contacts', 'opportunities']) {
          expect(await failure(client.create({ collection, data: { name: 'x' } }))).toMatchObject({ status: 405, code: '0x80040203' });
        }
        expect(await failure(client.update({ collection: 'accounts', key: account, data: { name: 'Renamed' } }))).toMatchObject({
          status: 405,
          code: '0x80040203',
        });
        const patch = await t.request('PATCH', `/api/data/v9.2/accounts(${account})`, { as: 'salesperson', body: { name: 'Renamed' } });
        expect({ ...odata(patch), allow: patch.headers.allow }).toEqual({ status: 405, json: true, code: '0x80040203', allow: 'GET' });
        expect(((await client.retrieve({ collection: 'accounts', key: account, select: ['name'] })) as Record<string, unknown>).name).not.toBe('Renamed');
        const collectionPatch = await t.request('PATCH', '/api/data/v9.2/leads', { as: 'salesperson', body: { jobtitle: 'CTO' } });
        expect({ ...odata(collectionPatch), allow: collectionPatch.headers.allow }).toEqual({
          status: 405,
          json: true,
          code: '0x80040203',
          allow: 'GET, POST',
        });
        const leadPost = await t.request('POST', `/api/data/v9.2/leads(${await createLead()})`, { as: 'salesperson', body: { jobtitle: 'CTO' } });
        expect({ ...odata(leadPost), allow: leadPost.headers.allow }).toEqual({ status: 405, json: true, code: '0x80040203', allow: 'GET, PATCH' });
      });

      it('$filter on their lookups finds the records a qualification linked, each filter by its own link', async () => {
        const leadId = await createLeadUnder(true);
        const [{ accountid }, { contactid }, { opportunityid }] = (await qualify(leadId, { CreateAccount: true, CreateContact: true, CreateOpportunity: true }))
          .value;
        expect(await list('accounts', `_primarycontactid_value eq ${contactid}`)).toEqual([accountid]);
        expect(await list('contacts', `_parentcustomerid_value eq ${accountid}`)).toEqual([contactid]);
        expect(await list('opportunities', `_customerid_value eq ${accountid}`)).toEqual([opportunityid]);
        expect(await list('opportunities', `_parentaccountid_value eq ${accountid}`)).toEqual([opportunityid]);
        expect(await list('opportunities', `_parentcontactid_value eq ${contactid.toUpperCase()}`)).toEqual([opportunityid]);
        expect(
          await list(
            'opportunities',
            `_originatingleadid_value eq ${leadId} and (_parentaccountid_value eq ${accountid}) and _parentcontactid_value eq ${contactid}`,
          ),
        ).toEqual([opportunityid]);
        // Each filter narrows: one that does not hold empties the answer.
        expect(await list('opportunities', `_parentaccountid_value eq ${accountid} and _parentcontactid_value eq ${randomUUID()}`)).toEqual([]);
        expect(await list('contacts', `_parentcustomerid_value eq ${accountid} and _originatingleadid_value eq ${randomUUID()}`)).toEqual([]);
        expect(await list('accounts', `_primarycontactid_value eq ${accountid}`)).toEqual([]);
      });

      it('a lookup eq null finds the records where it is not set', async () => {
        await useSetting(false);
        const leadId = await createLead();
        const [{ accountid }, { opportunityid }] = (await qualify(leadId, { CreateAccount: true, CreateContact: false, CreateOpportunity: true })).value;
        const mine = `_originatingleadid_value eq ${leadId}`;
        expect(await list('opportunities', `${mine} and _parentcontactid_value eq null`)).toEqual([opportunityid]);
        expect(await list('opportunities', `${mine} and _parentaccountid_value eq null`)).toEqual([]);
        expect(await list('accounts', `${mine} and _primarycontactid_value eq null`)).toEqual([accountid]);
      });

      it('refuses what the list cannot filter on: 400', async () => {
        const refused = async (collection: string, filter: string) => failure(client.retrieveMultiple({ collection, filter }));
        const leadId = randomUUID();
        expect(await refused('accounts', '_originatingleadid_value eq null')).toMatchObject({ status: 400, code: '0x80040203' });
        expect(await refused('accounts', "_primarycontactid_value eq 'Jane'")).toMatchObject({ status: 400, code: '0x80040203' });
        expect(await refused('contacts', `_originatingleadid_value eq ${leadId} and _originatingleadid_value eq ${leadId}`)).toMatchObject({
          status: 400,
          code: '0x80040203',
          message: '$filter names _originatingleadid_value more than once.',
        });
        expect(await refused('accounts', "name eq 'Acme'")).toMatchObject({ status: 400, code: '0x80040203' });
        // Not an attribute of the table at all.
        expect(await refused('accounts', `_parentcustomerid_value eq ${leadId}`)).toMatchObject({ status: 400, code: '0x0' });
      });
    });

    const odata = (res: { status: number; headers: Record<string, string>; body: { error?: { code?: string } } }) => ({
      status: res.status,
      json: res.headers['content-type']?.startsWith('application/json'),
      code: res.body?.error?.code,
    });

    describe('errors of the HTTP layer are OData-shaped on /api/data/', () => {
      it('401, 403, unknown route, bad JSON, 415, 413', async () => {
        expect(odata(await t.request('GET', '/api/data/v9.2/leads'))).toEqual({ status: 401, json: true, code: '0x8005F101' });
        expect(odata(await t.request('POST', '/api/data/v9.2/leads', { as: 'analyst', body: {} }))).toEqual({ status: 403, json: true, code: '0x80040220' });
        expect(odata(await t.request('GET', '/api/data/v9.1/leads', { as: 'analyst' }))).toEqual({ status: 404, json: true, code: '' });
        expect(
          odata(
            await t.request('POST', '/api/data/v9.2/leads', { as: 'salesperson', rawBody: '{"subject":', headers: { 'content-type': 'application/json' } }),
          ),
        ).toEqual({
          status: 400,
          json: true,
          code: '0x80040203',
        });
        expect(
          odata(await t.request('POST', '/api/data/v9.2/leads', { as: 'salesperson', rawBody: 'subject=x', headers: { 'content-type': 'text/plain' } })),
        ).toEqual({
          status: 415,
          json: true,
          code: '0x80040203',
        });
        expect(
          odata(
            await t.request('POST', '/api/data/v9.2/leads', {
              as: 'salesperson',
              rawBody: JSON.stringify({ description: 'x'.repeat(200_000) }),
              headers: { 'content-type': 'application/json' },
            }),
          ),
        ).toEqual({ status: 413, json: true, code: '0x80040203' });
        expect(odata(await t.request('GET', `/api/data/v9.2/${'x'.repeat(120)}`, { as: 'analyst' }))).toEqual({ status: 414, json: true, code: '0x80040203' });
        // The rest of the API keeps problem+json.
        const native = await t.request('GET', '/leads');
        expect(native.headers['content-type']).toMatch(/^application\/problem\+json/);
      });
    });

    it('429 of the rate limiter: 0x80072322 with Retry-After', async () => {
      const limited = await startTestApp(kind, { RATE_LIMIT_PER_MINUTE: '1' });
      try {
        const token = limited.token('salesperson');
        await limited.request('POST', '/api/data/v9.2/leads', { token, body: { subject: 'x', lastname: 'y' } });
        const res = await limited.request('POST', '/api/data/v9.2/leads', { token, body: { subject: 'x', lastname: 'y' } });
        expect(odata(res)).toEqual({ status: 429, json: true, code: '0x80072322' });
        expect(res.headers['retry-after']).toBeDefined();
      } finally {
        await limited.close();
      }
    });

    describe('the same records as the native API', () => {
      it('qualifying the same way through both appends the same events and builds the same read-model rows', async () => {
        await useSetting(false);
        const store: EventStore = t.app.get(EVENT_STORE);
        const db = t.app.get(Database);
        const tags = [randomUUID(), randomUUID()];
        // Through the native API…
        const nativeId = randomUUID();
        const created = await t.request('POST', '/leads', {
          as: 'salesperson',
          body: { id: nativeId, ...aFullLead({ companyName: `Same ${tags[0]}`, email: `${tags[0]}@same.example` }) },
        });
        expect(created.status).toBe(201);
        const qualified = await t.request('POST', `/leads/${nativeId}/qualify`, {
          as: 'salesperson',
          body: { createAccount: true, createContact: true, createOpportunity: true },
          headers: { prefer: 'wait=30' },
        });
        expect(qualified.status).toBe(200);
        // …and through Dataverse.
        const dataverseId = await createLead({ companyname: `Same ${tags[1]}`, emailaddress1: `${tags[1]}@same.example` });
        await qualify(dataverseId, { CreateAccount: true, CreateContact: true, CreateOpportunity: true });

        const normalise = (value: unknown, tag: string): unknown =>
          JSON.parse(
            JSON.stringify(value)
              .replaceAll(tag, 'TAG')
              .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID')
              .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, 'TIME'),
          );
        const events = async (id: string, tag: string) =>
          normalise(
            (await store.readStream(`lead-${id}`)).map((e) => ({ type: e.type, data: e.data })),
            tag,
          );
        expect(await events(dataverseId, tags[1])).toEqual(await events(nativeId, tags[0]));

        const p = placeholder(db.kind, 1);
        const rows = async (id: string, tag: string) => {
          const result: Record<string, unknown> = {};
          for (const [table, column] of [
            ['lead_details', 'id'],
            ['accounts', 'originating_lead_id'],
            ['contacts', 'originating_lead_id'],
            ['opportunities', 'originating_lead_id'],
          ]) {
            const found = await db.query<Record<string, unknown>>(`SELECT * FROM ${table} WHERE ${column} = ${p}`, [id]);
            result[table] = found.map(({ position: _p, created_at: _c, updated_at: _u, created_by: _b, qualified_by: _q, qualified_at: _a, ...row }) => row);
          }
          return normalise(result, tag);
        };
        expect(await rows(dataverseId, tags[1])).toEqual(await rows(nativeId, tags[0]));
      });
    });
  });
}
