import type { QualificationPlan } from '../leads/lead.events.js';
import { asksForWhatItDid } from './repeated-qualification.js';

const created = (id: string) => ({ action: 'create' as const, id });
const existing = (id: string) => ({ action: 'existing' as const, id });
const none = { action: 'none' as const, id: null };
const plan = (account: QualificationPlan['account'], contact: QualificationPlan['contact'], opportunity: QualificationPlan['opportunity']) => ({
  account,
  contact,
  opportunity,
});
const all = { createAccount: true, createContact: true, createOpportunity: true };

describe('asksForWhatItDid (a QualifyLead sent again)', () => {
  it('the same selection: yes; asking for less than it created or more than it did: no', () => {
    const q = { plan: plan(created('a'), created('c'), none), decidedBy: 'salesperson' as const };
    expect(asksForWhatItDid(q, { createAccount: true, createContact: true, createOpportunity: false })).toBe(true);
    expect(asksForWhatItDid(q, { createAccount: true, createContact: false, createOpportunity: false })).toBe(false);
    expect(asksForWhatItDid(q, all)).toBe(false);
  });

  it('a linked record counts as done whether or not it was asked for; an account needs a company name', () => {
    expect(
      asksForWhatItDid(
        { plan: plan(existing('a'), created('c'), none), decidedBy: 'salesperson' },
        { createAccount: false, createContact: true, createOpportunity: false },
      ),
    ).toBe(true);
    expect(asksForWhatItDid({ plan: plan(none, created('c'), created('o')), decidedBy: 'setting' }, all)).toBe(true);
    expect(asksForWhatItDid({ plan: plan(created('a'), none, created('o')), decidedBy: 'setting' }, all)).toBe(false);
  });

  it('booleans left out count as what the setting decided', () => {
    const q = { plan: plan(created('a'), created('c'), created('o')), decidedBy: 'setting' as const };
    expect(asksForWhatItDid(q, {})).toBe(true);
    expect(asksForWhatItDid({ ...q, decidedBy: 'salesperson' }, {})).toBe(false);
  });

  it('a new opportunity: the same customer, currency and campaign, or none of them', () => {
    const q = {
      plan: plan(none, none, created('o')),
      decidedBy: 'salesperson' as const,
      opportunityCustomerId: 'c1',
      opportunityCustomerType: 'contact' as const,
      opportunityCurrencyId: 'eur',
    };
    const asked = {
      createAccount: false,
      createContact: false,
      createOpportunity: true,
      opportunityCustomerId: 'c1',
      opportunityCustomerType: 'contact' as const,
    };
    expect(asksForWhatItDid(q, { ...asked, opportunityCurrencyId: 'eur' })).toBe(true);
    expect(asksForWhatItDid(q, { ...asked, opportunityCurrencyId: 'usd' })).toBe(false);
    expect(asksForWhatItDid(q, asked)).toBe(false);
    expect(asksForWhatItDid(q, { ...asked, opportunityCurrencyId: 'eur', sourceCampaignId: 'spring' })).toBe(false);
    expect(asksForWhatItDid(q, { ...asked, opportunityCurrencyId: 'eur', opportunityCustomerType: 'account' })).toBe(false);
    // Without a new opportunity its parameters shape nothing (and were not recorded).
    expect(
      asksForWhatItDid(
        { plan: plan(created('a'), none, none), decidedBy: 'salesperson' },
        { createAccount: true, createContact: false, createOpportunity: false, opportunityCurrencyId: 'usd' },
      ),
    ).toBe(true);
  });
});
