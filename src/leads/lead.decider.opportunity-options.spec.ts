import { randomUUID } from 'node:crypto';
import { adaLovelaceLead } from '../../test/support/fixtures.js';
import { deciderSpec } from '../../test/support/given-when-then.js';
import { derivedRecordId } from '../shared/record-ids.js';
import { decideLead, evolveLead, initialLead, type LeadCommand } from './lead.decider.js';
import type { LeadCreated, LeadEvent, LeadQualified, OpportunityOptions, QualificationPlan, SettingInForce } from './lead.events.js';

// The options of docs/api.md (Qualify) that shape the new opportunity, and only it.
const { given } = deciderSpec({ decide: decideLead, evolve: evolveLead, initialState: initialLead });

const YES: SettingInForce = { createRecordsByDefault: true, version: 3 };
const NO: SettingInForce = { createRecordsByDefault: false, version: 4 };
type QualifyLead = Extract<LeadCommand, { type: 'QualifyLead' }>;

function aLead() {
  const leadId = randomUUID();
  const fields = adaLovelaceLead();
  const created: LeadCreated = { type: 'LeadCreated', data: { leadId, ...fields } };
  const qualify = (setting: SettingInForce, options: Partial<QualifyLead> = {}): QualifyLead => ({
    type: 'QualifyLead',
    leadId,
    qualificationId: randomUUID(),
    setting,
    ...options,
  });
  /** What the decider records for `command` under the default context, with these options. */
  const qualified = (command: QualifyLead, plan: QualificationPlan, options: OpportunityOptions): LeadQualified => ({
    type: 'LeadQualified',
    data: {
      leadId,
      qualificationId: command.qualificationId,
      plan,
      decidedBy: command.setting.createRecordsByDefault ? 'setting' : 'salesperson',
      settingVersion: command.setting.version,
      createRecordsByDefault: command.setting.createRecordsByDefault,
      qualifiedBy: 'sally',
      qualifiedAt: '2026-11-27T10:00:00.000Z',
      lead: fields,
      ...options,
    },
  });
  return { created, qualify, qualified };
}

const create = (qualificationId: string, kind: 'account' | 'contact' | 'opportunity') => ({
  action: 'create' as const,
  id: derivedRecordId(qualificationId, kind),
});
const none = { action: 'none' as const, id: null };
const allThree = (qualificationId: string): QualificationPlan => ({
  account: create(qualificationId, 'account'),
  contact: create(qualificationId, 'contact'),
  opportunity: create(qualificationId, 'opportunity'),
});

const reused = (plan: QualificationPlan) => ({
  account: { action: 'existing' as const, id: plan.account.id! },
  contact: { action: 'existing' as const, id: plan.contact.id! },
});

const options = () => ({
  opportunityCustomerId: randomUUID(),
  opportunityCustomerType: 'contact' as const,
  opportunityCurrencyId: randomUUID(),
  sourceCampaignId: randomUUID(),
});

describe('QualifyLead with options for the new opportunity', () => {
  it('records the customer, currency and source campaign on LeadQualified; the plan still creates account and contact', () => {
    const lead = aLead();
    const asked = options();
    const command = lead.qualify(YES, asked);
    given([lead.created])
      .when(command)
      .then([lead.qualified(command, allThree(command.qualificationId), asked)]);
  });

  it('records only the options given', () => {
    const lead = aLead();
    const currency = randomUUID();
    const command = lead.qualify(YES, { opportunityCurrencyId: currency });
    given([lead.created])
      .when(command)
      .then([lead.qualified(command, allThree(command.qualificationId), { opportunityCurrencyId: currency })]);
  });

  it('records the ids lower-case, as record ids are', () => {
    const lead = aLead();
    const asked = options();
    const upper = {
      ...asked,
      opportunityCustomerId: asked.opportunityCustomerId.toUpperCase(),
      opportunityCurrencyId: asked.opportunityCurrencyId.toUpperCase(),
      sourceCampaignId: asked.sourceCampaignId.toUpperCase(),
    };
    const command = lead.qualify(YES, upper);
    given([lead.created])
      .when(command)
      .then([lead.qualified(command, allThree(command.qualificationId), asked)]);
  });

  it('refuses a customer that names no record when an opportunity is created: 422 RECORD_NOT_FOUND with field and id', () => {
    const lead = aLead();
    const asked = options();
    const command = lead.qualify(YES, {
      ...asked,
      missingLinks: [{ field: 'opportunityCustomerId', id: asked.opportunityCustomerId, reason: 'no contact' }],
    });
    given([lead.created])
      .when(command)
      .thenThrows({ code: 'RECORD_NOT_FOUND', extra: { field: 'opportunityCustomerId', id: asked.opportunityCustomerId } });
  });

  it('without an opportunity: accepts the options and records none of them, even a customer that names no record', () => {
    const lead = aLead();
    const asked = options();
    const command = lead.qualify(NO, {
      createAccount: true,
      createContact: true,
      createOpportunity: false,
      ...asked,
      missingLinks: [{ field: 'opportunityCustomerId', id: asked.opportunityCustomerId, reason: 'no contact' }],
    });
    const plan = { ...allThree(command.qualificationId), opportunity: none };
    given([lead.created])
      .when(command)
      .then([lead.qualified(command, plan, {})]);
  });

  it('still refuses a missing linked account when an opportunity is not created', () => {
    const lead = aLead();
    const accountId = randomUUID();
    const command = lead.qualify(NO, {
      createAccount: true,
      createContact: true,
      createOpportunity: false,
      existingAccountId: accountId,
      missingLinks: [{ field: 'existingAccountId', id: accountId, reason: 'no account' }],
    });
    given([lead.created])
      .when(command)
      .thenThrows({ code: 'RECORD_NOT_FOUND', extra: { field: 'existingAccountId' } });
  });

  it.each([
    { given: { opportunityCustomerId: randomUUID() }, field: 'opportunityCustomerType' },
    { given: { opportunityCustomerType: 'account' as const }, field: 'opportunityCustomerId' },
  ])('refuses one customer field without the other: 400 VALIDATION_FAILED naming $field, with or without an opportunity', ({ given: half, field }) => {
    const lead = aLead();
    const refusal = { code: 'VALIDATION_FAILED' as const, extra: { errors: [expect.objectContaining({ field })] } };
    given([lead.created]).when(lead.qualify(YES, half)).thenThrows(refusal);
    given([lead.created])
      .when(lead.qualify(NO, { createAccount: false, createContact: true, createOpportunity: false, ...half }))
      .thenThrows(refusal);
  });

  it('a LeadQualified without them (recorded before they existed) still folds: the lead is qualified again after reactivation, with options', () => {
    const lead = aLead();
    const first = lead.qualify(YES);
    const old = lead.qualified(first, allThree(first.qualificationId), {});
    const reactivated: LeadEvent = { type: 'LeadReactivated', data: { leadId: old.data.leadId } };
    const again = lead.qualify(YES, { sourceCampaignId: randomUUID() });
    const plan = { ...reused(old.data.plan), opportunity: create(again.qualificationId, 'opportunity') };
    given([lead.created, old, reactivated])
      .when(again)
      .then([lead.qualified(again, plan, { sourceCampaignId: again.sourceCampaignId })]);
  });
});
