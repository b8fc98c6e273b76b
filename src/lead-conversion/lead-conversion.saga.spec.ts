import { randomUUID } from 'node:crypto';
import type { LeadFields, LeadQualified, PlannedRecord, QualificationPlan } from '../leads/lead.events.js';
import type { CreateRecord } from '../records/record.decider.js';
import { derivedRecordId } from '../shared/record-ids.js';
import { conversionSteps, type ConversionSteps } from './lead-conversion.saga.js';
import { adaLovelaceLead } from '../../test/support/fixtures.js';

// Same lead, but with spaces around the company name: the saga trims it.
const fullLead = (): LeadFields => ({ ...adaLovelaceLead(), companyName: '  Analytical Engines Ltd ' });

const ADDRESS = { street: '12 Babbage Row', city: 'London', stateOrProvince: 'Greater London', postalCode: 'N1 9GU', country: 'United Kingdom' };
const NO_ADDRESS = { street: null, city: null, stateOrProvince: null, postalCode: null, country: null };

type Kind = 'account' | 'contact' | 'opportunity';
const none: PlannedRecord = { action: 'none', id: null };
const existing = (id = randomUUID()): PlannedRecord => ({ action: 'existing', id });

/** A LeadQualified of a fresh lead; `plan` maps each kind to create (derived id), existing or none. */
function aQualification(plan: Partial<Record<Kind, 'create' | PlannedRecord>> = {}, lead: Partial<LeadFields> = {}) {
  const leadId = randomUUID();
  const qualificationId = randomUUID();
  const planned = (kind: Kind): PlannedRecord => {
    const chosen = plan[kind] ?? 'create';
    return chosen === 'create' ? { action: 'create', id: derivedRecordId(qualificationId, kind) } : chosen;
  };
  const fullPlan: QualificationPlan = { account: planned('account'), contact: planned('contact'), opportunity: planned('opportunity') };
  const data: LeadQualified['data'] = {
    leadId,
    qualificationId,
    plan: fullPlan,
    decidedBy: 'setting',
    settingVersion: 0,
    createRecordsByDefault: true,
    qualifiedBy: 'sally',
    qualifiedAt: '2026-11-27T10:00:00.000Z',
    lead: { ...fullLead(), ...lead },
  };
  return { leadId, qualificationId, plan: fullPlan, data, origin: { originatingLeadId: leadId, qualificationId } };
}

/** given(LeadQualified).when(the saga decides).then(…): the saga's decision is a pure function. */
function given(qualified: LeadQualified['data']) {
  const steps: ConversionSteps = conversionSteps(qualified);
  const created = (kind: Kind): CreateRecord | undefined => steps.creates.find((c) => c.kind === kind);
  return { steps, created };
}

describe('given a lead qualified with account, contact and opportunity to create', () => {
  it('then the saga creates the account, then the contact, then the opportunity, under the planned ids', () => {
    const q = aQualification();
    const { steps } = given(q.data);
    expect(steps.creates.map((c) => [c.kind, c.id])).toEqual([
      ['account', q.plan.account.id],
      ['contact', q.plan.contact.id],
      ['opportunity', q.plan.opportunity.id],
    ]);
  });

  it('then the account is named after the company (trimmed), with website, business phone as telephone, address, primary contact and origin (docs/events.md, Record events)', () => {
    const q = aQualification();
    expect(given(q.data).created('account')).toEqual({
      kind: 'account',
      id: q.plan.account.id,
      data: {
        name: 'Analytical Engines Ltd',
        website: 'https://engines.example',
        telephone: '+44 20 7946 0000',
        ...ADDRESS,
        primaryContactId: q.plan.contact.id,
        ...q.origin,
      },
    });
  });

  it('then the contact carries the person, phones, address, its parent account and origin (docs/events.md, Record events)', () => {
    const q = aQualification();
    expect(given(q.data).created('contact')).toEqual({
      kind: 'contact',
      id: q.plan.contact.id,
      data: {
        firstName: 'Ada',
        lastName: 'Lovelace',
        jobTitle: 'Facilities manager',
        email: 'ada@engines.example',
        businessPhone: '+44 20 7946 0000',
        mobilePhone: '+44 7700 900000',
        ...ADDRESS,
        parentAccountId: q.plan.account.id,
        ...q.origin,
      },
    });
  });

  it('then the opportunity is named after the topic, its customer is the account, status Open, with the money fields and origin (docs/events.md, Record events)', () => {
    const q = aQualification();
    expect(given(q.data).created('opportunity')).toEqual({
      kind: 'opportunity',
      id: q.plan.opportunity.id,
      data: {
        name: 'Espresso machines for 12 offices',
        customerId: q.plan.account.id,
        customerType: 'account',
        parentAccountId: q.plan.account.id,
        parentContactId: q.plan.contact.id,
        budgetAmount: 25000,
        estimatedValue: 18000,
        purchaseTimeframe: 'ThisQuarter',
        description: 'Met at the coffee expo',
        currencyId: null,
        sourceCampaignId: null,
        status: 'Open',
        ...q.origin,
      },
    });
  });

  it('then LeadConversionCompleted names the three records', () => {
    const q = aQualification();
    expect(given(q.data).steps.completed).toEqual({
      leadId: q.leadId,
      qualificationId: q.qualificationId,
      accountId: q.plan.account.id,
      contactId: q.plan.contact.id,
      opportunityId: q.plan.opportunity.id,
    });
  });

  it('then optional lead fields that are absent or null become null, never undefined', () => {
    const sparse = {
      firstName: undefined,
      jobTitle: null,
      email: undefined,
      website: undefined,
      businessPhone: null,
      mobilePhone: undefined,
      street: undefined,
      city: null,
    };
    const q = aQualification(
      {},
      {
        ...sparse,
        stateOrProvince: undefined,
        postalCode: undefined,
        country: undefined,
        budgetAmount: undefined,
        estimatedValue: null,
        purchaseTimeframe: undefined,
        description: undefined,
      },
    );
    const { created } = given(q.data);
    expect(created('account')!.data).toMatchObject({ website: null, telephone: null, ...NO_ADDRESS });
    expect(created('contact')!.data).toMatchObject({ firstName: null, jobTitle: null, email: null, businessPhone: null, mobilePhone: null, ...NO_ADDRESS });
    expect(created('opportunity')!.data).toMatchObject({ budgetAmount: null, estimatedValue: null, purchaseTimeframe: null, description: null });
    for (const c of given(q.data).steps.creates) expect(Object.values(c.data)).not.toContain(undefined);
  });

  it('then the same qualification always yields the same steps (a redelivery repeats them exactly)', () => {
    const q = aQualification();
    expect(conversionSteps(q.data)).toEqual(conversionSteps(structuredClone(q.data)));
  });
});

describe('given a plan that links existing records', () => {
  it('when the account exists, then nothing creates it, and the contact and opportunity point at it', () => {
    const account = existing();
    const q = aQualification({ account });
    const { steps, created } = given(q.data);
    expect(steps.creates.map((c) => c.kind)).toEqual(['contact', 'opportunity']);
    expect(created('contact')!.data.parentAccountId).toBe(account.id);
    expect(created('opportunity')!.data).toMatchObject({
      customerId: account.id,
      customerType: 'account',
      parentAccountId: account.id,
      parentContactId: q.plan.contact.id,
    });
    expect(steps.completed).toMatchObject({ accountId: account.id, contactId: q.plan.contact.id, opportunityId: q.plan.opportunity.id });
  });

  it('when the contact exists, then nothing creates it, and the new account names it as primary contact', () => {
    const contact = existing();
    const q = aQualification({ contact });
    const { steps, created } = given(q.data);
    expect(steps.creates.map((c) => c.kind)).toEqual(['account', 'opportunity']);
    expect(created('account')!.data.primaryContactId).toBe(contact.id);
    expect(created('opportunity')!.data).toMatchObject({ customerId: q.plan.account.id, customerType: 'account', parentContactId: contact.id });
    expect(steps.completed.contactId).toBe(contact.id);
  });

  it('when both exist (re-qualification after reactivation), then only the opportunity is created, for the existing account', () => {
    const account = existing();
    const contact = existing();
    const q = aQualification({ account, contact });
    const { steps } = given(q.data);
    expect(steps.creates).toHaveLength(1);
    expect(steps.creates[0]).toMatchObject({
      kind: 'opportunity',
      id: q.plan.opportunity.id,
      data: { customerId: account.id, customerType: 'account', parentAccountId: account.id, parentContactId: contact.id, status: 'Open' },
    });
    expect(steps.completed).toEqual({
      leadId: q.leadId,
      qualificationId: q.qualificationId,
      accountId: account.id,
      contactId: contact.id,
      opportunityId: q.plan.opportunity.id,
    });
  });

  it('when everything exists or is not wanted, then the saga creates nothing and completes with the linked ids', () => {
    const account = existing();
    const contact = existing();
    const q = aQualification({ account, contact, opportunity: none });
    const { steps } = given(q.data);
    expect(steps.creates).toEqual([]);
    expect(steps.completed).toEqual({
      leadId: q.leadId,
      qualificationId: q.qualificationId,
      accountId: account.id,
      contactId: contact.id,
      opportunityId: null,
    });
  });
});

describe('given a selection without some records (setting No)', () => {
  it('without an account, then the opportunity’s customer is the contact and nothing has a parent account', () => {
    const q = aQualification({ account: none });
    const { steps, created } = given(q.data);
    expect(steps.creates.map((c) => c.kind)).toEqual(['contact', 'opportunity']);
    expect(created('contact')!.data.parentAccountId).toBeNull();
    expect(created('opportunity')!.data).toMatchObject({
      customerId: q.plan.contact.id,
      customerType: 'contact',
      parentAccountId: null,
      parentContactId: q.plan.contact.id,
    });
    expect(steps.completed.accountId).toBeNull();
  });

  it('without a contact, then the account has no primary contact and the opportunity no parent contact', () => {
    const q = aQualification({ contact: none });
    const { created } = given(q.data);
    expect(created('account')!.data.primaryContactId).toBeNull();
    expect(created('opportunity')!.data).toMatchObject({ customerId: q.plan.account.id, customerType: 'account', parentContactId: null });
  });

  it('with an opportunity only, then it has no customer', () => {
    const q = aQualification({ account: none, contact: none });
    const { steps, created } = given(q.data);
    expect(steps.creates.map((c) => c.kind)).toEqual(['opportunity']);
    expect(created('opportunity')!.data).toMatchObject({ customerId: null, customerType: null, parentAccountId: null, parentContactId: null, status: 'Open' });
  });

  it('without an opportunity, then account and contact still name each other', () => {
    const q = aQualification({ opportunity: none });
    const { steps, created } = given(q.data);
    expect(steps.creates.map((c) => c.kind)).toEqual(['account', 'contact']);
    expect(created('account')!.data.primaryContactId).toBe(q.plan.contact.id);
    expect(created('contact')!.data.parentAccountId).toBe(q.plan.account.id);
    expect(steps.completed.opportunityId).toBeNull();
  });

  it('with nothing selected, then the saga creates nothing and completes with no ids', () => {
    const q = aQualification({ account: none, contact: none, opportunity: none });
    const { steps } = given(q.data);
    expect(steps.creates).toEqual([]);
    expect(steps.completed).toEqual({ leadId: q.leadId, qualificationId: q.qualificationId, accountId: null, contactId: null, opportunityId: null });
  });

  const combinations = [true, false].flatMap((account) =>
    [true, false].flatMap((contact) => [true, false].map((opportunity) => ({ account, contact, opportunity }))),
  );
  it.each(combinations)(
    'account $account, contact $contact, opportunity $opportunity: exactly the selected records, each once, under its planned id',
    (select) => {
      const q = aQualification({
        account: select.account ? 'create' : none,
        contact: select.contact ? 'create' : none,
        opportunity: select.opportunity ? 'create' : none,
      });
      const { steps } = given(q.data);
      const expected = (['account', 'contact', 'opportunity'] as const).filter((k) => select[k]).map((k) => [k, derivedRecordId(q.qualificationId, k)]);
      expect(steps.creates.map((c) => [c.kind, c.id])).toEqual(expected);
      for (const c of steps.creates) expect(c.data).toMatchObject(q.origin);
    },
  );
});

describe('given the lead changed or the setting flipped after the qualification', () => {
  it('then the saga maps the lead as it was when qualified (the snapshot on the event), not as it is now', () => {
    const q = aQualification({}, { companyName: 'Difference Engines plc', topic: 'Tea urns' });
    const { created } = given(q.data);
    expect(created('account')!.data.name).toBe('Difference Engines plc');
    expect(created('opportunity')!.data.name).toBe('Tea urns');
  });

  it('then the recorded plan decides, whatever createRecordsByDefault now is: a No-plan without an opportunity stays without one', () => {
    const q = aQualification({ opportunity: none });
    const decidedUnderNo = { ...q.data, decidedBy: 'salesperson' as const, createRecordsByDefault: false, settingVersion: 7 };
    expect(given(decidedUnderNo).steps.creates.map((c) => c.kind)).toEqual(['account', 'contact']);
  });
});

describe('given a qualification with options for the new opportunity (docs/api.md, Qualify)', () => {
  const options = (type: 'account' | 'contact') => ({
    opportunityCustomerId: randomUUID(),
    opportunityCustomerType: type,
    opportunityCurrencyId: randomUUID(),
    sourceCampaignId: randomUUID(),
  });

  it.each(['account', 'contact'] as const)(
    'then the opportunity’s customer is the %s given, with its currency and source campaign; its parents and the other records stay the plan’s',
    (type) => {
      const q = aQualification();
      const asked = options(type);
      const { steps, created } = given({ ...q.data, ...asked });
      expect(created('opportunity')!.data).toMatchObject({
        customerId: asked.opportunityCustomerId,
        customerType: type,
        parentAccountId: q.plan.account.id,
        parentContactId: q.plan.contact.id,
        currencyId: asked.opportunityCurrencyId,
        sourceCampaignId: asked.sourceCampaignId,
      });
      expect(steps.creates.map((c) => [c.kind, c.id])).toEqual(given(q.data).steps.creates.map((c) => [c.kind, c.id]));
      expect(created('account')!.data).toEqual(given(q.data).created('account')!.data);
      expect(created('contact')!.data).toEqual(given(q.data).created('contact')!.data);
    },
  );

  it('then the customer given replaces the linked account too', () => {
    const q = aQualification({ account: existing() });
    const asked = options('contact');
    expect(given({ ...q.data, ...asked }).created('opportunity')!.data).toMatchObject({
      customerId: asked.opportunityCustomerId,
      customerType: 'contact',
      parentAccountId: q.plan.account.id,
    });
  });

  it('then a currency or campaign alone leaves the customer to the plan', () => {
    const q = aQualification();
    const currency = randomUUID();
    expect(given({ ...q.data, opportunityCurrencyId: currency }).created('opportunity')!.data).toMatchObject({
      customerId: q.plan.account.id,
      customerType: 'account',
      currencyId: currency,
      sourceCampaignId: null,
    });
  });

  it('then the same qualification always yields the same steps (a redelivery repeats them exactly)', () => {
    const q = aQualification();
    const data = { ...q.data, ...options('account') };
    expect(conversionSteps(data)).toEqual(conversionSteps(structuredClone(data)));
  });
});
