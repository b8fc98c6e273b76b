import { adaLovelaceLead } from '../../test/support/fixtures.js';
import { randomUUID } from 'node:crypto';
import { deciderSpec } from '../../test/support/given-when-then.js';
import { derivedRecordId } from '../shared/record-ids.js';
import { decideLead, evolveLead, initialLead, type LeadCommand } from './lead.decider.js';
import {
  DISQUALIFY_REASONS,
  type DisqualifyReason,
  type LeadCreated,
  type LeadEvent,
  type LeadFields,
  type LeadQualified,
  type QualificationPlan,
  type SettingInForce,
} from './lead.events.js';

const spec = deciderSpec({ decide: decideLead, evolve: evolveLead, initialState: initialLead });
const { given } = spec;

const YES: SettingInForce = { createRecordsByDefault: true, version: 3 };
const NO: SettingInForce = { createRecordsByDefault: false, version: 4 };
const AT = '2026-11-27T10:00:00.000Z';

const fullFields = adaLovelaceLead;

/** A fresh lead id and the events/commands that concern it. */
function aLead(fields: Partial<LeadFields> = {}) {
  const leadId = randomUUID();
  const leadFields: LeadFields = { ...fullFields(), ...fields };
  const created: LeadCreated = { type: 'LeadCreated', data: { leadId, ...leadFields } };
  const qualify = (setting: SettingInForce, options: Partial<Extract<LeadCommand, { type: 'QualifyLead' }>> = {}) =>
    ({ type: 'QualifyLead', leadId, qualificationId: randomUUID(), setting, ...options }) satisfies LeadCommand;
  const qualified = (qualificationId = randomUUID(), plan: QualificationPlan = planFor(qualificationId)): LeadQualified => ({
    type: 'LeadQualified',
    data: {
      leadId,
      qualificationId,
      plan,
      decidedBy: 'setting',
      settingVersion: 0,
      createRecordsByDefault: true,
      qualifiedBy: 'sam',
      qualifiedAt: AT,
      lead: leadFields,
    },
  });
  const completed = (qualificationId: string, ids: { accountId: string | null; contactId: string | null; opportunityId: string | null }): LeadEvent => ({
    type: 'LeadConversionCompleted',
    data: { leadId, qualificationId, ...ids },
  });
  const disqualified = (statusReason: DisqualifyReason = 'Lost'): LeadEvent => ({ type: 'LeadDisqualified', data: { leadId, statusReason } });
  const reactivated: LeadEvent = { type: 'LeadReactivated', data: { leadId } };
  return { leadId, fields: leadFields, created, qualify, qualified, completed, disqualified, reactivated };
}

const created = (id: string) => ({ action: 'create' as const, id });
const existing = (id: string) => ({ action: 'existing' as const, id });
const none = { action: 'none' as const, id: null };

function planFor(qualificationId: string, select = { account: true, contact: true, opportunity: true }): QualificationPlan {
  const pick = (on: boolean, kind: 'account' | 'contact' | 'opportunity') => (on ? created(derivedRecordId(qualificationId, kind)) : none);
  return { account: pick(select.account, 'account'), contact: pick(select.contact, 'contact'), opportunity: pick(select.opportunity, 'opportunity') };
}

/** The LeadQualified the decider should produce for `command` on `lead`, as decided under the default context. */
function expectedQualified(
  lead: ReturnType<typeof aLead>,
  command: ReturnType<ReturnType<typeof aLead>['qualify']>,
  plan: QualificationPlan,
  decidedBy: 'setting' | 'salesperson',
  snapshot: LeadFields = lead.fields,
): LeadQualified {
  return {
    type: 'LeadQualified',
    data: {
      leadId: lead.leadId,
      qualificationId: command.qualificationId,
      plan,
      decidedBy,
      settingVersion: command.setting.version,
      createRecordsByDefault: command.setting.createRecordsByDefault,
      qualifiedBy: 'sally',
      qualifiedAt: AT,
      lead: snapshot,
    },
  };
}

describe('CreateLead', () => {
  it('records LeadCreated with every field and the lead id', () => {
    const lead = aLead();
    given([]).when({ type: 'CreateLead', leadId: lead.leadId, fields: lead.fields }).then([lead.created]);
  });

  it('refuses an id that already exists: 409 LEAD_EXISTS', () => {
    const lead = aLead();
    given([lead.created]).when({ type: 'CreateLead', leadId: lead.leadId, fields: fullFields() }).thenThrows({ code: 'LEAD_EXISTS' });
  });

  it('opens the lead as Open/New', () => {
    const lead = aLead();
    expect([lead.created].reduce(evolveLead, initialLead)).toMatchObject({ status: 'Open', statusReason: 'New', id: lead.leadId });
    given([lead.created])
      .when({ type: 'UpdateLead', leadId: lead.leadId, changes: { statusReason: 'New' } })
      .then([]);
  });
});

describe('commands on a lead that does not exist', () => {
  const leadId = randomUUID();
  it.each<LeadCommand>([
    { type: 'UpdateLead', leadId, changes: { topic: 'x' } },
    { type: 'QualifyLead', leadId, qualificationId: randomUUID(), setting: YES },
    { type: 'DisqualifyLead', leadId, statusReason: 'Lost' },
    { type: 'ReactivateLead', leadId },
  ])('$type: 404 NOT_FOUND', (command) => {
    given([]).when(command).thenThrows({ code: 'NOT_FOUND' });
  });
});

describe('UpdateLead', () => {
  it('records only the fields that changed', () => {
    const lead = aLead();
    given([lead.created])
      .when({ type: 'UpdateLead', leadId: lead.leadId, changes: { topic: lead.fields.topic, rating: 'Warm', city: 'London', jobTitle: null } })
      .then([{ type: 'LeadUpdated', data: { leadId: lead.leadId, rating: 'Warm', jobTitle: null } }]);
  });

  it('records nothing when nothing changed', () => {
    const lead = aLead({ website: null });
    given([lead.created])
      .when({ type: 'UpdateLead', leadId: lead.leadId, changes: { topic: lead.fields.topic, budgetAmount: 25000, website: null } })
      .then([]);
  });

  it('compares with the lead as earlier updates left it', () => {
    const lead = aLead();
    const updated: LeadEvent = { type: 'LeadUpdated', data: { leadId: lead.leadId, rating: 'Cold' } };
    given([lead.created, updated])
      .when({ type: 'UpdateLead', leadId: lead.leadId, changes: { rating: 'Cold' } })
      .then([]);
  });

  it('moves an open lead to status reason Contacted', () => {
    const lead = aLead();
    given([lead.created])
      .when({ type: 'UpdateLead', leadId: lead.leadId, changes: { statusReason: 'Contacted' } })
      .then([{ type: 'LeadUpdated', data: { leadId: lead.leadId, statusReason: 'Contacted' } }]);
  });

  it.each(['Qualified', ...DISQUALIFY_REASONS] as const)(
    'refuses status reason %s on an open lead (docs/api.md, Lead commands: Open is New or Contacted): 400',
    (statusReason) => {
      const lead = aLead();
      given([lead.created]).when({ type: 'UpdateLead', leadId: lead.leadId, changes: { statusReason } }).thenThrows({ code: 'VALIDATION_FAILED' });
    },
  );

  it('accepts the current version as expectedVersion', () => {
    const lead = aLead();
    const updated: LeadEvent = { type: 'LeadUpdated', data: { leadId: lead.leadId, rating: 'Cold' } };
    given([lead.created, updated])
      .when({ type: 'UpdateLead', leadId: lead.leadId, changes: { rating: 'Warm' }, expectedVersion: 1 })
      .then([{ type: 'LeadUpdated', data: { leadId: lead.leadId, rating: 'Warm' } }]);
  });

  it('refuses a stale expectedVersion: 412 VERSION_MISMATCH', () => {
    const lead = aLead();
    const updated: LeadEvent = { type: 'LeadUpdated', data: { leadId: lead.leadId, rating: 'Cold' } };
    given([lead.created, updated])
      .when({ type: 'UpdateLead', leadId: lead.leadId, changes: { rating: 'Warm' }, expectedVersion: 0 })
      .thenThrows({ code: 'VERSION_MISMATCH' });
  });

  it.each([
    ['qualified', (l: ReturnType<typeof aLead>) => [l.created, l.qualified()]],
    ['disqualified', (l: ReturnType<typeof aLead>) => [l.created, l.disqualified()]],
  ])('refuses to edit a %s lead: 409 LEAD_NOT_OPEN', (_, history) => {
    const lead = aLead();
    given(history(lead))
      .when({ type: 'UpdateLead', leadId: lead.leadId, changes: { rating: 'Warm' } })
      .thenThrows({ code: 'LEAD_NOT_OPEN' });
  });
});

describe('QualifyLead under setting Yes', () => {
  it('plans account, contact and opportunity with ids derived from the qualification', () => {
    const lead = aLead();
    const command = lead.qualify(YES);
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, planFor(command.qualificationId), 'setting')]);
  });

  it('stamps who qualified and when from the context', () => {
    const lead = aLead();
    const command = lead.qualify(YES);
    const expected = expectedQualified(lead, command, planFor(command.qualificationId), 'setting');
    given([lead.created])
      .when(command, { userId: 'sam', now: new Date('2027-01-02T03:04:05Z') })
      .then([{ ...expected, data: { ...expected.data, qualifiedBy: 'sam', qualifiedAt: '2027-01-02T03:04:05.000Z' } }]);
  });

  it('snapshots the lead as updated before qualifying', () => {
    const lead = aLead();
    const command = lead.qualify(YES);
    const updated: LeadEvent = { type: 'LeadUpdated', data: { leadId: lead.leadId, companyName: 'Difference Engines plc', mobilePhone: null } };
    given([lead.created, updated])
      .when(command)
      .then([
        expectedQualified(lead, command, planFor(command.qualificationId), 'setting', {
          ...lead.fields,
          companyName: 'Difference Engines plc',
          mobilePhone: null,
        }),
      ]);
  });

  it('derives the same record ids from the same qualification id, and others from another', () => {
    const lead = aLead();
    const state = [lead.created].reduce(evolveLead, initialLead);
    const command = lead.qualify(YES);
    const ctx = { userId: 'sally', now: new Date(AT) };
    expect(decideLead(command, state, ctx)).toEqual(decideLead(command, state, ctx));
    const [again] = decideLead({ ...command, qualificationId: randomUUID() }, state, ctx) as LeadQualified[];
    expect(again.data.plan.account.id).not.toBe(derivedRecordId(command.qualificationId, 'account'));
  });

  it('accepts an explicit selection of all three', () => {
    const lead = aLead();
    const command = lead.qualify(YES, { createAccount: true, createContact: true, createOpportunity: true });
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, planFor(command.qualificationId), 'setting')]);
  });

  it.each([
    { createAccount: false },
    { createContact: false },
    { createOpportunity: false },
    { createAccount: true, createContact: true, createOpportunity: false },
    { createAccount: false, createContact: false, createOpportunity: false },
  ])('refuses a narrower selection %o: 409 QUALIFY_SETTING_CHANGED with the setting', (selection) => {
    const lead = aLead();
    given([lead.created])
      .when(lead.qualify(YES, selection))
      .thenThrows({ code: 'QUALIFY_SETTING_CHANGED', extra: { setting: { createRecordsByDefault: true, version: 3 } } });
  });

  it.each([undefined, null, '', '   '])('plans no account for a lead without a company name (%p)', (companyName) => {
    const lead = aLead({ companyName });
    const command = lead.qualify(YES);
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, { ...planFor(command.qualificationId), account: none }, 'setting')]);
  });
});

describe('QualifyLead under setting No', () => {
  it.each([
    {},
    { createAccount: true, createContact: true },
    { createAccount: true, createOpportunity: false },
    { createContact: false, createOpportunity: false },
  ])('requires all three booleans, %o: 400 RECORD_SELECTION_REQUIRED with the setting', (selection) => {
    const lead = aLead();
    given([lead.created])
      .when(lead.qualify(NO, selection))
      .thenThrows({ code: 'RECORD_SELECTION_REQUIRED', extra: { setting: { createRecordsByDefault: false, version: 4 } } });
  });

  const combinations = [true, false].flatMap((account) =>
    [true, false].flatMap((contact) => [true, false].map((opportunity) => ({ account, contact, opportunity }))),
  );

  it.each(combinations)('plans what the salesperson chose: account $account, contact $contact, opportunity $opportunity', (select) => {
    const lead = aLead();
    const command = lead.qualify(NO, { createAccount: select.account, createContact: select.contact, createOpportunity: select.opportunity });
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, planFor(command.qualificationId, select), 'salesperson')]);
  });

  it('refuses an account for a lead without a company name: 422 COMPANY_NAME_REQUIRED', () => {
    const lead = aLead({ companyName: null });
    given([lead.created])
      .when(lead.qualify(NO, { createAccount: true, createContact: true, createOpportunity: true }))
      .thenThrows({ code: 'COMPANY_NAME_REQUIRED' });
  });

  it('qualifies a lead without a company name when no account is chosen', () => {
    const lead = aLead({ companyName: null });
    const command = lead.qualify(NO, { createAccount: false, createContact: true, createOpportunity: true });
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, planFor(command.qualificationId, { account: false, contact: true, opportunity: true }), 'salesperson')]);
  });
});

describe('QualifyLead and the setting version', () => {
  it.each([
    [YES, 2],
    [NO, 5],
  ])('refuses expectedSettingVersion that is not the current one: 409 QUALIFY_SETTING_CHANGED with the setting', (setting, expectedSettingVersion) => {
    const lead = aLead();
    given([lead.created])
      .when(lead.qualify(setting, { createAccount: true, createContact: true, createOpportunity: true, expectedSettingVersion }))
      .thenThrows({ code: 'QUALIFY_SETTING_CHANGED', extra: { setting } });
  });

  it('accepts expectedSettingVersion equal to the current one', () => {
    const lead = aLead();
    const command = lead.qualify(YES, { expectedSettingVersion: 3 });
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, planFor(command.qualificationId), 'setting')]);
  });
});

describe('QualifyLead with existing customer records', () => {
  it('uses the account and contact linked on the lead instead of creating them', () => {
    const [accountId, contactId] = [randomUUID(), randomUUID()];
    const lead = aLead({ existingAccountId: accountId, existingContactId: contactId });
    const command = lead.qualify(YES);
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, { ...planFor(command.qualificationId), account: existing(accountId), contact: existing(contactId) }, 'setting')]);
  });

  it('plans linked ids lower-case, as record streams are named, even when a lead stored them otherwise (before 7aabfe0)', () => {
    const [accountId, contactId] = [randomUUID(), randomUUID()];
    const lead = aLead({ existingAccountId: accountId.toUpperCase(), existingContactId: contactId.toUpperCase() });
    const command = lead.qualify(YES);
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, { ...planFor(command.qualificationId), account: existing(accountId), contact: existing(contactId) }, 'setting')]);
  });

  it('uses the account and contact given in the command, over those on the lead', () => {
    const [accountId, contactId] = [randomUUID(), randomUUID()];
    const lead = aLead({ existingAccountId: randomUUID(), existingContactId: randomUUID() });
    const command = lead.qualify(NO, {
      createAccount: true,
      createContact: true,
      createOpportunity: false,
      existingAccountId: accountId,
      existingContactId: contactId,
    });
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, { account: existing(accountId), contact: existing(contactId), opportunity: none }, 'salesperson')]);
  });

  it('links an existing account to a lead without a company name', () => {
    const accountId = randomUUID();
    const lead = aLead({ companyName: null });
    const command = lead.qualify(NO, { createAccount: true, createContact: true, createOpportunity: true, existingAccountId: accountId });
    given([lead.created])
      .when(command)
      .then([expectedQualified(lead, command, { ...planFor(command.qualificationId), account: existing(accountId) }, 'salesperson')]);
  });
});

describe('QualifyLead on a lead that is not open', () => {
  it.each([
    ['qualified', (l: ReturnType<typeof aLead>) => [l.created, l.qualified()]],
    [
      'qualified and converted',
      (l: ReturnType<typeof aLead>) => {
        const q = randomUUID();
        return [l.created, l.qualified(q), l.completed(q, { accountId: randomUUID(), contactId: randomUUID(), opportunityId: randomUUID() })];
      },
    ],
    ['disqualified', (l: ReturnType<typeof aLead>) => [l.created, l.disqualified()]],
  ])('refuses a %s lead: 409 LEAD_NOT_OPEN', (_, history) => {
    const lead = aLead();
    given(history(lead)).when(lead.qualify(YES)).thenThrows({ code: 'LEAD_NOT_OPEN' });
  });
});

describe('DisqualifyLead', () => {
  it.each(DISQUALIFY_REASONS)('records LeadDisqualified with status reason %s', (statusReason) => {
    const lead = aLead();
    given([lead.created])
      .when({ type: 'DisqualifyLead', leadId: lead.leadId, statusReason })
      .then([{ type: 'LeadDisqualified', data: { leadId: lead.leadId, statusReason } }]);
  });

  it('disqualifies a lead that was contacted', () => {
    const lead = aLead();
    const contacted: LeadEvent = { type: 'LeadUpdated', data: { leadId: lead.leadId, statusReason: 'Contacted' } };
    given([lead.created, contacted])
      .when({ type: 'DisqualifyLead', leadId: lead.leadId, statusReason: 'CannotContact' })
      .then([{ type: 'LeadDisqualified', data: { leadId: lead.leadId, statusReason: 'CannotContact' } }]);
  });

  it.each([
    ['qualified', (l: ReturnType<typeof aLead>) => [l.created, l.qualified()]],
    ['disqualified', (l: ReturnType<typeof aLead>) => [l.created, l.disqualified()]],
  ])('refuses a %s lead: 409 LEAD_NOT_OPEN', (_, history) => {
    const lead = aLead();
    given(history(lead)).when({ type: 'DisqualifyLead', leadId: lead.leadId, statusReason: 'Canceled' }).thenThrows({ code: 'LEAD_NOT_OPEN' });
  });
});

describe('ReactivateLead', () => {
  it.each([
    ['Qualified', (l: ReturnType<typeof aLead>) => [l.created, l.qualified()]],
    ['Disqualified', (l: ReturnType<typeof aLead>) => [l.created, l.disqualified('NoLongerInterested')]],
  ])('reactivates a %s lead back to Open/New', (_, history) => {
    const lead = aLead();
    given(history(lead)).when({ type: 'ReactivateLead', leadId: lead.leadId }).then([lead.reactivated]);
    const state = [...history(lead), lead.reactivated].reduce(evolveLead, initialLead);
    expect(state).toMatchObject({ status: 'Open', statusReason: 'New' });
  });

  it('lets a reactivated lead be edited and disqualified again', () => {
    const lead = aLead();
    const history = [lead.created, lead.disqualified(), lead.reactivated];
    given(history)
      .when({ type: 'UpdateLead', leadId: lead.leadId, changes: { statusReason: 'New' } })
      .then([]);
    given(history)
      .when({ type: 'DisqualifyLead', leadId: lead.leadId, statusReason: 'Lost' })
      .then([{ type: 'LeadDisqualified', data: { leadId: lead.leadId, statusReason: 'Lost' } }]);
  });

  it('refuses an open lead: 409 LEAD_ALREADY_OPEN', () => {
    const lead = aLead();
    given([lead.created]).when({ type: 'ReactivateLead', leadId: lead.leadId }).thenThrows({ code: 'LEAD_ALREADY_OPEN' });
    given([lead.created, lead.qualified(), lead.reactivated]).when({ type: 'ReactivateLead', leadId: lead.leadId }).thenThrows({ code: 'LEAD_ALREADY_OPEN' });
  });
});

describe('QualifyLead again after reactivation', () => {
  it('reuses the account and contact of the earlier conversion and creates a new opportunity', () => {
    const lead = aLead();
    const [q1, accountId, contactId] = [randomUUID(), randomUUID(), randomUUID()];
    const history = [lead.created, lead.qualified(q1), lead.completed(q1, { accountId, contactId, opportunityId: randomUUID() }), lead.reactivated];
    const command = lead.qualify(YES);
    given(history)
      .when(command)
      .then([
        expectedQualified(
          lead,
          command,
          { account: existing(accountId), contact: existing(contactId), opportunity: created(derivedRecordId(command.qualificationId, 'opportunity')) },
          'setting',
        ),
      ]);
  });

  it('reuses them also after a disqualification in between, under setting No', () => {
    const lead = aLead();
    const [q1, accountId, contactId] = [randomUUID(), randomUUID(), randomUUID()];
    const history = [
      lead.created,
      lead.qualified(q1),
      lead.completed(q1, { accountId, contactId, opportunityId: null }),
      lead.reactivated,
      lead.disqualified(),
      lead.reactivated,
    ];
    const command = lead.qualify(NO, { createAccount: true, createContact: true, createOpportunity: true });
    given(history)
      .when(command)
      .then([
        expectedQualified(
          lead,
          command,
          { account: existing(accountId), contact: existing(contactId), opportunity: created(derivedRecordId(command.qualificationId, 'opportunity')) },
          'salesperson',
        ),
      ]);
  });

  it('plans new records after a failed conversion, whose planned records may not exist', () => {
    const lead = aLead();
    const q1 = randomUUID();
    const failed: LeadEvent = { type: 'LeadConversionFailed', data: { leadId: lead.leadId, qualificationId: q1, reason: 'account could not be created' } };
    const command = lead.qualify(YES);
    given([lead.created, lead.qualified(q1), failed, lead.reactivated])
      .when(command)
      .then([expectedQualified(lead, command, planFor(command.qualificationId), 'setting')]);
  });

  it('creates the account that the earlier conversion did not have', () => {
    const lead = aLead();
    const [q1, contactId] = [randomUUID(), randomUUID()];
    const firstPlan = { account: { action: 'none' as const, id: null }, contact: existing(contactId), opportunity: { action: 'none' as const, id: null } };
    const history = [lead.created, lead.qualified(q1, firstPlan), lead.completed(q1, { accountId: null, contactId, opportunityId: null }), lead.reactivated];
    const command = lead.qualify(YES);
    given(history)
      .when(command)
      .then([expectedQualified(lead, command, { ...planFor(command.qualificationId), contact: existing(contactId) }, 'setting')]);
  });

  it('reuses the records the earlier qualification planned while its conversion is still pending (docs/api.md, Qualify)', () => {
    const lead = aLead();
    const q1 = randomUUID();
    const history = [lead.created, lead.qualified(q1), lead.reactivated];
    const command = lead.qualify(YES);
    given(history)
      .when(command)
      .then([
        expectedQualified(
          lead,
          command,
          {
            account: existing(derivedRecordId(q1, 'account')),
            contact: existing(derivedRecordId(q1, 'contact')),
            opportunity: created(derivedRecordId(command.qualificationId, 'opportunity')),
          },
          'setting',
        ),
      ]);
  });
});
