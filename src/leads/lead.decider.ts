import { DomainError, type DomainErrorCode } from '../shared/domain-error.js';
import { derivedRecordId } from '../shared/record-ids.js';
import type {
  DecidedBy,
  DisqualifyReason,
  LeadEvent,
  LeadFields,
  LeadQualified,
  OpportunityOptions,
  PlannedRecord,
  QualificationPlan,
  SettingInForce,
  StatusReason,
} from './lead.events.js';
import { OPEN_REASONS } from './lead.events.js';
import { noDuplicates, type DuplicateMatches } from '../uniqueness/unique-key.events.js';
import type { LeadState } from './lead.state.js';

// The decider's three parts: the state and its evolution are in lead.state.ts, the rules here.
export { evolveLead, initialLead, type LeadState } from './lead.state.js';

/** A linked id (existingAccountId, existingContactId, opportunityCustomerId) that names no record in the log. */
export interface MissingLink {
  field: 'existingAccountId' | 'existingContactId' | 'opportunityCustomerId';
  id: string;
  reason: string;
}

/**
 * What a command needs from outside the lead's stream, read from the log by the handler: claims
 * on the keys it would take (duplicates) and the linked records it names that do not exist.
 */
export interface CheckedOutside {
  ignoreDuplicates?: boolean;
  duplicates?: DuplicateMatches;
  missingLinks?: MissingLink[];
}

export type LeadCommand =
  | ({ type: 'CreateLead'; leadId: string; fields: LeadFields } & CheckedOutside)
  | ({ type: 'UpdateLead'; leadId: string; changes: Partial<LeadFields> & { statusReason?: StatusReason }; expectedVersion?: number } & CheckedOutside)
  | ({
      type: 'QualifyLead';
      leadId: string;
      qualificationId: string;
      setting: SettingInForce;
      createAccount?: boolean;
      createContact?: boolean;
      createOpportunity?: boolean;
      existingAccountId?: string;
      existingContactId?: string;
      expectedSettingVersion?: number;
    } & OpportunityOptions &
      CheckedOutside)
  | { type: 'DisqualifyLead'; leadId: string; statusReason: DisqualifyReason }
  | ({ type: 'ReactivateLead'; leadId: string } & CheckedOutside)
  | {
      type: 'RecordConversionCompleted';
      leadId: string;
      qualificationId: string;
      accountId: string | null;
      contactId: string | null;
      opportunityId: string | null;
    }
  | { type: 'RecordConversionFailed'; leadId: string; qualificationId: string; reason: string };

/** Every command's rules. Returns the events to append; throws DomainError when a rule says no. */
export function decideLead(command: LeadCommand, state: LeadState, ctx: { userId: string; now: Date }): LeadEvent[] {
  if (command.type === 'CreateLead') {
    if (state.status !== 'None') throw new DomainError('LEAD_EXISTS', `lead ${command.leadId} already exists`);
    requireLinks(command);
    const ignored = checkLeadDuplicates(command, 'an open lead with this e-mail exists; set ignoreDuplicates to create this one anyway');
    return [{ type: 'LeadCreated', data: { leadId: command.leadId, ...command.fields, ...ignored } }];
  }
  if (state.status === 'None') throw new DomainError('NOT_FOUND', `lead ${command.leadId} does not exist`);

  switch (command.type) {
    case 'UpdateLead': {
      if (command.expectedVersion !== undefined && command.expectedVersion !== state.revision) {
        throw new DomainError('VERSION_MISMATCH', `lead is at version ${state.revision}, not ${command.expectedVersion}`, { currentVersion: state.revision });
      }
      requireOpen(state);
      const reason = command.changes.statusReason;
      if (reason !== undefined && !(OPEN_REASONS as readonly string[]).includes(reason)) {
        throw new DomainError('VALIDATION_FAILED', `an open lead's status reason is New or Contacted, not ${reason}`, {
          errors: [{ field: 'statusReason', message: 'must be New or Contacted' }],
        });
      }
      const changed = changedFields(state, command.changes);
      if (!Object.keys(changed).length) return [];
      requireLinks(command);
      const ignored = changed.email ? checkLeadDuplicates(command, 'another open lead has this e-mail; set ignoreDuplicates to change it anyway') : {};
      return [{ type: 'LeadUpdated', data: { leadId: state.id, ...changed, ...ignored } }];
    }
    case 'QualifyLead':
      requireOpen(state);
      return [qualify(command, state, ctx)];
    case 'DisqualifyLead':
      requireOpen(state);
      return [{ type: 'LeadDisqualified', data: { leadId: state.id, statusReason: command.statusReason } }];
    case 'ReactivateLead':
      if (state.status === 'Open') throw new DomainError('LEAD_ALREADY_OPEN', `lead ${state.id} is already open`);
      return [
        {
          type: 'LeadReactivated',
          data: { leadId: state.id, ...checkLeadDuplicates(command, 'another open lead has this e-mail now; set ignoreDuplicates to reopen this one anyway') },
        },
      ];
    // The saga's outcomes: recorded once per qualification, whatever the lead's state meanwhile.
    case 'RecordConversionCompleted': {
      if (state.conversions[command.qualificationId]) return [];
      const { type: _t, ...data } = command;
      return [{ type: 'LeadConversionCompleted', data }];
    }
    case 'RecordConversionFailed':
      if (state.conversions[command.qualificationId]) return [];
      return [{ type: 'LeadConversionFailed', data: { leadId: state.id, qualificationId: command.qualificationId, reason: command.reason } }];
  }
}

type OpenLead = Exclude<LeadState, { status: 'None' }>;

function requireLinks({ missingLinks }: CheckedOutside): void {
  const [missing] = missingLinks ?? [];
  if (missing) {
    throw new DomainError('RECORD_NOT_FOUND', `${missing.field} ${missing.id} names no record: ${missing.reason}`, { field: missing.field, id: missing.id });
  }
}

function duplicatesFound(detail: string, duplicates: DuplicateMatches): DomainError {
  return new DomainError('DUPLICATES_FOUND', detail, { duplicates });
}

/** Open leads holding the e-mail: refused unless the user overrides, and then the event says so. */
function checkLeadDuplicates(command: CheckedOutside, detail: string): { ignoredDuplicates?: string[] } {
  const leads = command.duplicates?.leads ?? [];
  if (!leads.length) return {};
  if (!command.ignoreDuplicates) throw duplicatesFound(detail, { ...noDuplicates(), leads });
  return { ignoredDuplicates: leads.map((l) => l.id) };
}

function requireOpen(state: OpenLead): void {
  if (state.status !== 'Open') {
    throw new DomainError('LEAD_NOT_OPEN', `lead ${state.id} is ${state.status}; only open leads can be changed`, { leadStatus: state.status });
  }
}

function changedFields(state: OpenLead, changes: Partial<LeadFields> & { statusReason?: StatusReason }) {
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const current = key === 'statusReason' ? state.statusReason : (state.fields as Record<string, unknown>)[key];
    if ((current ?? null) !== value) changed[key] = value;
  }
  return changed as Partial<LeadFields> & { statusReason?: StatusReason };
}

type QualifyLead = Extract<LeadCommand, { type: 'QualifyLead' }>;
type Selection = { account: boolean; contact: boolean; opportunity: boolean };
type LinkedIds = { account: string | undefined; contact: string | undefined };

/**
 * The rules of qualification, in the order their refusals take precedence: the setting is the one
 * the client saw; the setting, or else the salesperson, selects the records; linked records exist;
 * the plan says what becomes of each record; what it creates duplicates nothing unless the user
 * overrides.
 */
function qualify(command: QualifyLead, state: OpenLead, ctx: { userId: string; now: Date }): LeadQualified {
  const { setting } = command;
  requireCustomerPair(command);
  checkSettingVersion(command);
  const { selection, decidedBy } = decideSelection(command);
  // The opportunity's customer matters only to a new opportunity: without one it goes unchecked.
  requireLinks({ missingLinks: command.missingLinks?.filter((m) => selection.opportunity || m.field !== 'opportunityCustomerId') });
  const plan = planRecords(command.qualificationId, selection, decidedBy, linkedIds(command, state), state.fields);
  const ignored = checkRecordDuplicates(command, plan);
  return {
    type: 'LeadQualified',
    data: {
      leadId: state.id,
      qualificationId: command.qualificationId,
      plan,
      decidedBy,
      settingVersion: setting.version,
      createRecordsByDefault: setting.createRecordsByDefault,
      qualifiedBy: ctx.userId,
      qualifiedAt: ctx.now.toISOString(),
      lead: state.fields,
      ...opportunityOptions(command, plan),
      ...ignored,
    },
  };
}

/** A customer is a record of a kind: an id without its type (or the reverse) names nothing. */
function requireCustomerPair({ opportunityCustomerId, opportunityCustomerType }: QualifyLead): void {
  if (!opportunityCustomerId === !opportunityCustomerType) return;
  const [given, missing] = opportunityCustomerId ? ['opportunityCustomerId', 'opportunityCustomerType'] : ['opportunityCustomerType', 'opportunityCustomerId'];
  throw new DomainError('VALIDATION_FAILED', `${missing} is required with ${given}`, {
    errors: [{ field: missing, message: `${missing} is required with ${given}` }],
  });
}

/**
 * The options recorded for the saga, lower-cased as record ids are. Clients may send them with
 * every qualification (Dynamics' action takes them whatever it creates): without a new opportunity
 * they shape nothing, so nothing records them.
 */
function opportunityOptions(command: QualifyLead, plan: QualificationPlan): OpportunityOptions {
  if (plan.opportunity.action !== 'create') return {};
  const { opportunityCustomerId, opportunityCustomerType, opportunityCurrencyId, sourceCampaignId } = command;
  return {
    ...(opportunityCustomerId && opportunityCustomerType ? { opportunityCustomerId: opportunityCustomerId.toLowerCase(), opportunityCustomerType } : {}),
    ...(opportunityCurrencyId ? { opportunityCurrencyId: opportunityCurrencyId.toLowerCase() } : {}),
    ...(sourceCampaignId ? { sourceCampaignId: sourceCampaignId.toLowerCase() } : {}),
  };
}

/** The client's choice was made under the setting it saw: under another one it must ask again. */
function checkSettingVersion({ setting, expectedSettingVersion }: QualifyLead): void {
  if (expectedSettingVersion !== undefined && expectedSettingVersion !== setting.version) {
    throw settingError(setting, 'QUALIFY_SETTING_CHANGED', `the qualify-lead setting is at version ${setting.version}, not ${expectedSettingVersion}`);
  }
}

/**
 * Under Yes the setting creates all three records, and a narrower choice means the client believes
 * the setting is No; under No the salesperson must choose each of the three.
 */
function decideSelection({ setting, createAccount, createContact, createOpportunity }: QualifyLead): { selection: Selection; decidedBy: DecidedBy } {
  if (setting.createRecordsByDefault) {
    if ([createAccount, createContact, createOpportunity].some((c) => c === false)) {
      throw settingError(
        setting,
        'QUALIFY_SETTING_CHANGED',
        'the setting creates account, contact and opportunity by default; a narrower selection is not allowed',
      );
    }
    return { selection: { account: true, contact: true, opportunity: true }, decidedBy: 'setting' };
  }
  if (typeof createAccount !== 'boolean' || typeof createContact !== 'boolean' || typeof createOpportunity !== 'boolean') {
    throw settingError(
      setting,
      'RECORD_SELECTION_REQUIRED',
      'the setting asks the salesperson to choose: give createAccount, createContact and createOpportunity',
    );
  }
  return { selection: { account: createAccount, contact: createContact, opportunity: createOpportunity }, decidedBy: 'salesperson' };
}

/** The client shows the setting in force with the refusal, so that the salesperson can choose again. */
function settingError(setting: SettingInForce, code: DomainErrorCode, message: string): DomainError {
  return new DomainError(code, message, { setting: { createRecordsByDefault: setting.createRecordsByDefault, version: setting.version } });
}

/**
 * The account and contact to link instead of creating: given with the command, else on the lead,
 * else those of the last qualification (LeadState says why they are reused).
 */
function linkedIds(command: QualifyLead, state: OpenLead): LinkedIds {
  const { fields } = state;
  // Record ids are lower-case stream names; links stored before they were normalised may not be.
  return {
    account: (command.existingAccountId ?? fields.existingAccountId ?? state.convertedAccountId)?.toLowerCase(),
    contact: (command.existingContactId ?? fields.existingContactId ?? state.convertedContactId)?.toLowerCase(),
  };
}

/**
 * A linked record is reused, whatever the selection; a selected one is created under an id derived
 * from the qualification, so that a repeated decision plans the same records.
 */
function planRecords(qualificationId: string, selection: Selection, decidedBy: DecidedBy, linked: LinkedIds, fields: LeadFields): QualificationPlan {
  return {
    account: linked.account ? linkedRecord(linked.account) : selection.account ? planNewAccount(qualificationId, decidedBy, fields) : noRecord(),
    contact: linked.contact ? linkedRecord(linked.contact) : selection.contact ? newRecord(qualificationId, 'contact') : noRecord(),
    opportunity: selection.opportunity ? newRecord(qualificationId, 'opportunity') : noRecord(),
  };
}

/**
 * An account is named after the lead's company. Without one, the setting's default creates none;
 * a salesperson who asked for one is told why not.
 */
function planNewAccount(qualificationId: string, decidedBy: DecidedBy, fields: LeadFields): PlannedRecord {
  if (fields.companyName?.trim()) return newRecord(qualificationId, 'account');
  if (decidedBy === 'salesperson') throw new DomainError('COMPANY_NAME_REQUIRED', 'an account can only be created from a lead with a company name');
  return noRecord();
}

const newRecord = (qualificationId: string, kind: 'account' | 'contact' | 'opportunity'): PlannedRecord => ({
  action: 'create',
  id: derivedRecordId(qualificationId, kind),
});
const linkedRecord = (id: string): PlannedRecord => ({ action: 'existing', id });
const noRecord = (): PlannedRecord => ({ action: 'none', id: null });

/**
 * Records like the ones the plan creates, found on their keys' claims: refused unless the user
 * overrides, and then the event names them. Linking creates nothing, so it can duplicate nothing.
 */
function checkRecordDuplicates(command: QualifyLead, plan: QualificationPlan): { ignoredDuplicates?: string[] } {
  const accounts = plan.account.action === 'create' ? (command.duplicates?.accounts ?? []) : [];
  const contacts = plan.contact.action === 'create' ? (command.duplicates?.contacts ?? []) : [];
  if ((accounts.length || contacts.length) && !command.ignoreDuplicates) {
    throw duplicatesFound(
      'records like the ones this qualification would create exist or are being created; link them (existingAccountId, existingContactId) or set ignoreDuplicates',
      { ...noDuplicates(), accounts, contacts },
    );
  }
  const ignored = [...accounts, ...contacts].map((r) => r.id);
  return ignored.length ? { ignoredDuplicates: ignored } : {};
}
