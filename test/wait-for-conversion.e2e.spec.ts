import { randomUUID } from 'node:crypto';
import { Processors } from '../src/event-store/event-store.module.js';
import { LEAD_CONVERSION } from '../src/lead-conversion/lead-conversion.processor.js';
import { preferredWait } from '../src/leads/leads.controller.js';
import { startTestApp, type TestApp } from './support/app.js';
import { FaultyStore } from './support/faulty-store.js';
import { testDatabaseKinds } from './support/databases.js';

const kinds = await testDatabaseKinds();

describe('preferredWait', () => {
  it.each([
    [undefined, 0],
    ['wait=5', 5],
    ['WAIT = 7', 7],
    ['respond-async, wait=10', 10],
    ['wait="3"', 3],
    ['wait=31', 30],
    ['wait=100000', 30],
    ['wait=-1', 0],
    ['wait=soon', 0],
    ['waitress=5', 0],
    ['handling=strict', 0],
  ])('Prefer: %s → %s s', (header, seconds) => {
    expect(preferredWait(header)).toBe(seconds);
  });
});

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`Prefer: wait on qualify on ${kind.name}`, () => {
    let t: TestApp;
    /** Leads whose conversion fails: the saga's appends for them crash, every attempt. */
    const doomed = new Set<string>();
    beforeAll(async () => {
      t = await startTestApp(
        kind,
        { PROCESSOR_MAX_ATTEMPTS: '2', PROCESSOR_RETRY_DELAY_MS: '10' },
        {
          wrapEventStore: (inner) =>
            new FaultyStore(inner, inner.atomicMultiStreamAppends, (_i, appends) => {
              const owner = appends.find((a) => a.streamId.startsWith('lead-'))?.events[0];
              return owner?.type === 'LeadConversionCompleted' && doomed.has(owner.data.leadId as string);
            }),
        },
      );
    });
    afterAll(async () => t?.close());

    const createLead = async () => {
      const res = await t.request('POST', '/leads', {
        as: 'salesperson',
        body: { topic: 'Wait', lastName: 'Doe', firstName: 'Jo', companyName: `Waiting ${randomUUID()}`, email: `${randomUUID()}@example.com` },
      });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };

    it('setting Yes, Prefer: wait=5: 200 with the three record ids, each readable at once, Preference-Applied and Location', async () => {
      const id = await createLead();
      const res = await t.request('POST', `/leads/${id}/qualify`, { as: 'salesperson', headers: { prefer: 'wait=5' } });
      expect(res.status).toBe(200);
      expect(res.headers['preference-applied']).toBe('wait=5');
      expect(res.headers.location).toBe(`/leads/${id}`);
      expect(res.body).toEqual(
        expect.objectContaining({
          leadId: id,
          conversion: 'completed',
          failureReason: null,
          accountId: expect.any(String),
          contactId: expect.any(String),
          opportunityId: expect.any(String),
          decidedBy: 'setting',
        }),
      );
      expect([res.body.accountId, res.body.contactId, res.body.opportunityId]).toEqual([
        res.body.plan.account.id,
        res.body.plan.contact.id,
        res.body.plan.opportunity.id,
      ]);
      // At once: no minPosition, no retry.
      for (const [path, recordId] of [
        ['accounts', res.body.accountId],
        ['contacts', res.body.contactId],
        ['opportunities', res.body.opportunityId],
      ]) {
        const record = await t.request('GET', `/${path}/${recordId}`, { as: 'analyst' });
        expect({ path, status: record.status, id: record.body.id }).toEqual({ path, status: 200, id: recordId });
      }
      const lead = await t.request('GET', `/leads/${id}`, { as: 'analyst' });
      expect(lead.body.qualification).toMatchObject({ conversion: 'completed', accountId: res.body.accountId });
    });

    it('without Prefer: the usual 202 with Location, at once', async () => {
      const id = await createLead();
      const res = await t.request('POST', `/leads/${id}/qualify`, { as: 'salesperson' });
      expect(res.status).toBe(202);
      expect(res.headers.location).toBe(`/leads/${id}`);
      expect(res.headers['preference-applied']).toBeUndefined();
      expect(res.body.conversion).toBeUndefined();
    });

    it('with the saga stopped, Prefer: wait=1 answers 202 after about a second', async () => {
      const saga = t.app.get(Processors).get(LEAD_CONVERSION)!;
      await saga.stop();
      try {
        const id = await createLead();
        const started = performance.now();
        const res = await t.request('POST', `/leads/${id}/qualify`, { as: 'salesperson', headers: { prefer: 'wait=1' } });
        const elapsed = performance.now() - started;
        expect(res.status).toBe(202);
        expect(res.headers['preference-applied']).toBeUndefined();
        expect(res.headers.location).toBe(`/leads/${id}`);
        expect(elapsed).toBeGreaterThanOrEqual(950);
      } finally {
        saga.start();
      }
    });

    it('bulk qualify with Prefer: wait=5: each converted item 200 with its record ids, a refused one keeps its status', async () => {
      const [a, b] = [await createLead(), await createLead()];
      const missing = randomUUID();
      const res = await t.request('POST', '/leads/qualify', { as: 'salesperson', headers: { prefer: 'wait=5' }, body: { leadIds: [a, missing, b] } });
      expect(res.status).toBe(200);
      expect(res.headers['preference-applied']).toBe('wait=5');
      expect(res.body.results.map((r: { leadId: string; status: number }) => [r.leadId, r.status])).toEqual([
        [a, 200],
        [missing, 404],
        [b, 200],
      ]);
      for (const item of [res.body.results[0], res.body.results[2]]) {
        expect(item).toMatchObject({
          conversion: 'completed',
          accountId: expect.any(String),
          contactId: expect.any(String),
          opportunityId: expect.any(String),
        });
        expect((await t.request('GET', `/opportunities/${item.opportunityId}`, { as: 'analyst' })).status).toBe(200);
      }
    });

    it('bulk qualify with the saga stopped and Prefer: wait=1: the items stay 202 and the call ends after about a second', async () => {
      const saga = t.app.get(Processors).get(LEAD_CONVERSION)!;
      await saga.stop();
      try {
        const ids = [await createLead(), await createLead(), await createLead()];
        const started = performance.now();
        const res = await t.request('POST', '/leads/qualify', { as: 'salesperson', headers: { prefer: 'wait=1' }, body: { leadIds: ids } });
        expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([202, 202, 202]);
        const elapsed = performance.now() - started;
        // One second for the whole call: items waited one after the other would take three.
        expect(elapsed).toBeGreaterThanOrEqual(950);
        expect(elapsed).toBeLessThan(2_900);
      } finally {
        saga.start();
      }
    });

    it('a failed conversion within the wait: 200 with conversion failed and its reason', async () => {
      const id = await createLead();
      doomed.add(id);
      const res = await t.request('POST', `/leads/${id}/qualify`, { as: 'salesperson', headers: { prefer: 'respond-async, wait=10' } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(
        expect.objectContaining({
          leadId: id,
          conversion: 'failed',
          failureReason: expect.stringContaining('injected crash'),
          accountId: null,
          contactId: null,
          opportunityId: null,
        }),
      );
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'accountId',
          'contactId',
          'conversion',
          'decidedBy',
          'failureReason',
          'leadId',
          'opportunityId',
          'plan',
          'position',
          'qualificationId',
          'settingVersion',
        ].sort(),
      );
    });
  });
}
