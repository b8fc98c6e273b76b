import { randomUUID } from 'node:crypto';
import { Processors } from '../src/event-store/event-store.module.js';
import { EVENT_STORE } from '../src/event-store/event-store.port.js';
import { LEAD_CONVERSION } from '../src/lead-conversion/lead-conversion.processor.js';
import { startTestApp, type TestApp } from './support/app.js';
import { aDataverseLead, dataverseClient, failureWithHeaders } from './support/dataverse.js';
import { testDatabaseKinds } from './support/databases.js';
import { FaultyStore } from './support/faulty-store.js';
import type { EventStore } from './support/untyped-events.js';

const kinds = await testDatabaseKinds();
/** DATAVERSE_QUALIFY_WAIT_MS here: long enough for a conversion, short enough to wait out. */
const WAIT_MS = 3000;

/**
 * QualifyLead's bounded wait (docs/dataverse.md, QualifyLead): the 503 when the records are not
 * created in time, the repeat that answers them once they are, and a failed conversion.
 */
for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`Dataverse QualifyLead waits at most DATAVERSE_QUALIFY_WAIT_MS on ${kind.name}`, () => {
    let t: TestApp;
    let client: ReturnType<typeof dataverseClient>;
    let store: EventStore;
    /** Leads whose conversion fails: the saga's appends for them crash, every attempt. */
    const doomed = new Set<string>();
    beforeAll(async () => {
      t = await startTestApp(
        kind,
        { DATAVERSE_QUALIFY_WAIT_MS: String(WAIT_MS), PROCESSOR_MAX_ATTEMPTS: '2', PROCESSOR_RETRY_DELAY_MS: '10' },
        {
          wrapEventStore: (inner) =>
            new FaultyStore(inner, inner.atomicMultiStreamAppends, (_i, appends) => {
              const owner = appends.find((a) => a.streamId.startsWith('lead-'))?.events[0];
              return owner?.type === 'LeadConversionCompleted' && doomed.has(owner.data.leadId as string);
            }),
        },
      );
      client = dataverseClient(t);
      store = t.app.get(EVENT_STORE);
      const setting = await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault: false } });
      expect(setting.status).toBe(200);
    });
    afterAll(async () => t?.close());

    const createLead = async () => {
      const tag = randomUUID();
      return (await client.create({
        collection: 'leads',
        data: aDataverseLead({ companyname: `Acme ${tag}`, emailaddress1: `${tag}@acme.example` }),
      })) as string;
    };
    const selection = { CreateAccount: true, CreateContact: true, CreateOpportunity: true };
    const qualify = (leadId: string) =>
      client.callAction({
        collection: 'leads',
        key: leadId,
        actionName: 'Microsoft.Dynamics.CRM.QualifyLead',
        action: { Status: 3, ...selection },
      }) as Promise<{
        value: Record<string, string>[];
      }>;
    const eventsOf = async (leadId: string) => store.readStream(`lead-${leadId}`);
    const typesOf = async (leadId: string) => (await eventsOf(leadId)).map((e) => e.type);

    it('the conversion stalled: 503 0x80044151 with Retry-After after the configured wait; the same QualifyLead once it ran: 200 with its records, nothing appended again', async () => {
      const saga = t.app.get(Processors).get(LEAD_CONVERSION)!;
      await saga.stop();
      let leadId: string;
      try {
        leadId = await createLead();
        const started = performance.now();
        const timedOut = await failureWithHeaders(qualify(leadId));
        const elapsed = performance.now() - started;
        expect({ status: timedOut.status, code: timedOut.code, retryAfter: timedOut.headers['retry-after'] }).toEqual({
          status: 503,
          code: '0x80044151',
          retryAfter: '1',
        });
        expect(timedOut.message).toMatch(/records were not created within 3 seconds\. Send the same QualifyLead again/);
        // The configured bound, not the default 30 s.
        expect(elapsed).toBeGreaterThanOrEqual(WAIT_MS - 50);
        expect(elapsed).toBeLessThan(WAIT_MS + 5_000);
        // The qualification stands, unconverted.
        expect(await typesOf(leadId)).toEqual(['LeadCreated', 'LeadQualified']);
      } finally {
        saga.start();
      }
      const qualified = (await eventsOf(leadId)).find((e) => e.type === 'LeadQualified')!;
      expect(await saga.waitFor(qualified.position, 10_000)).toBe(true);

      const answer = await qualify(leadId);
      const plan = (qualified.data as { plan: Record<string, { id: string }> }).plan;
      expect(answer.value).toEqual([
        { '@odata.type': '#Microsoft.Dynamics.CRM.account', accountid: plan.account.id },
        { '@odata.type': '#Microsoft.Dynamics.CRM.contact', contactid: plan.contact.id },
        { '@odata.type': '#Microsoft.Dynamics.CRM.opportunity', opportunityid: plan.opportunity.id },
      ]);
      const opportunity = (await client.retrieve({ collection: 'opportunities', key: plan.opportunity.id })) as Record<string, unknown>;
      expect(opportunity._originatingleadid_value).toBe(leadId);
      // One qualification: the repeat appended nothing.
      expect(await typesOf(leadId)).toEqual(['LeadCreated', 'LeadQualified', 'LeadConversionCompleted']);
    });

    it('the conversion failed: 500 0x80040216 with its reason, and again when repeated (no second qualification)', async () => {
      const leadId = await createLead();
      doomed.add(leadId);
      const failed = await failureWithHeaders(qualify(leadId));
      expect({ status: failed.status, code: failed.code }).toEqual({ status: 500, code: '0x80040216' });
      expect(failed.message).toMatch(/^The lead was qualified \(qualification [0-9a-f-]{36}\), but creating its records failed: .*injected crash/);
      const again = await failureWithHeaders(qualify(leadId));
      expect({ status: again.status, code: again.code, message: again.message }).toEqual({ status: 500, code: '0x80040216', message: failed.message });
      expect(await typesOf(leadId)).toEqual(['LeadCreated', 'LeadQualified', 'LeadConversionFailed']);
      const lead = (await client.retrieve({ collection: 'leads', key: leadId, select: ['statecode', '_qualifyingopportunityid_value'] })) as Record<
        string,
        unknown
      >;
      expect(lead).toMatchObject({ statecode: 1, _qualifyingopportunityid_value: null });
    });
  });
}
