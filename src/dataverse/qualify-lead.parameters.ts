import type { QualifyLeadDto } from '../leads/dto/lead-commands.dto.js';
import { invalidArgument, unknownBodyProperty } from './odata-errors.js';

/**
 * QualifyLead's parameters (docs/dataverse.md, QualifyLead) → the native qualify body, which
 * QualifyLeadDto then validates by the native rules.
 */

/** The action's names in the path: bound with or without the namespace. */
export const QUALIFY_ACTIONS: ReadonlySet<string> = new Set(['Microsoft.Dynamics.CRM.QualifyLead', 'QualifyLead']);

const QUALIFY_PARAMETERS = new Set([
  'CreateAccount',
  'CreateContact',
  'CreateOpportunity',
  'Status',
  'SuppressDuplicateDetection',
  'OpportunityCurrencyId',
  'OpportunityCustomerId',
  'SourceCampaignId',
  'ProcessInstanceId',
]);

/** The native qualify options a QualifyLead maps to. */
export type QualifyOptions = Pick<
  QualifyLeadDto,
  | 'createAccount'
  | 'createContact'
  | 'createOpportunity'
  | 'ignoreDuplicates'
  | 'opportunityCustomerId'
  | 'opportunityCustomerType'
  | 'opportunityCurrencyId'
  | 'sourceCampaignId'
>;

/** Native field → the parameter that sets it, for naming it in validation errors. */
export const QUALIFY_PARAMETER_OF_FIELD: Readonly<Record<string, string>> = {
  createAccount: 'CreateAccount',
  createContact: 'CreateContact',
  createOpportunity: 'CreateOpportunity',
  ignoreDuplicates: 'SuppressDuplicateDetection',
  opportunityCustomerId: 'OpportunityCustomerId',
  opportunityCustomerType: 'OpportunityCustomerId',
  opportunityCurrencyId: 'OpportunityCurrencyId',
  sourceCampaignId: 'SourceCampaignId',
};

/** QualifyLead's parameters → the native qualify body (validated afterwards by QualifyLeadDto). */
export function qualifyOptions(body: Record<string, unknown>, suppressHeader: string | undefined): Record<string, unknown> {
  for (const name of Object.keys(body)) if (!QUALIFY_PARAMETERS.has(name)) throw unknownBodyProperty(name, 'QualifyLead');
  if (body.Status !== 3 && body.Status !== -1)
    throw invalidArgument(`Status must be 3 (Qualified) or -1 (the default status); got ${JSON.stringify(body.Status ?? null)}.`);
  if (body.ProcessInstanceId !== undefined && body.ProcessInstanceId !== null)
    throw invalidArgument('ProcessInstanceId is not supported: this service runs no business process flows.');
  const options: Record<string, unknown> = {
    createAccount: body.CreateAccount,
    createContact: body.CreateContact,
    createOpportunity: body.CreateOpportunity,
  };
  const header = suppressHeader?.trim().toLowerCase();
  const suppress = body.SuppressDuplicateDetection ?? (header === 'true' ? true : header === 'false' ? false : undefined);
  if (suppress !== undefined && suppress !== null) options.ignoreDuplicates = suppress;
  const customer = reference('OpportunityCustomerId', body.OpportunityCustomerId, ['account', 'contact']);
  if (customer) {
    options.opportunityCustomerId = customer.id;
    options.opportunityCustomerType = customer.type;
  }
  const currency = reference('OpportunityCurrencyId', body.OpportunityCurrencyId, ['transactioncurrency']);
  if (currency) options.opportunityCurrencyId = currency.id;
  const campaign = reference('SourceCampaignId', body.SourceCampaignId, ['campaign']);
  if (campaign) options.sourceCampaignId = campaign.id;
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  return options;
}

/** An entity reference parameter: `{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": "…"}`. */
function reference(parameter: string, value: unknown, types: string[]): { type: string; id: unknown } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidArgument(`${parameter} must be an entity reference: {"@odata.type": "Microsoft.Dynamics.CRM.${types[0]}", "${types[0]}id": "<guid>"}.`);
  const record = value as Record<string, unknown>;
  const declared = typeof record['@odata.type'] === 'string' ? record['@odata.type'].replace(/^#/, '').replace(/^Microsoft\.Dynamics\.CRM\./, '') : undefined;
  const type = declared ?? types.find((t) => record[`${t}id`] !== undefined);
  if (!type || !types.includes(type))
    throw invalidArgument(`${parameter} must reference one of: ${types.map((t) => `Microsoft.Dynamics.CRM.${t}`).join(', ')}.`);
  for (const key of Object.keys(record)) if (key !== '@odata.type' && key !== `${type}id`) throw unknownBodyProperty(key, type);
  const id = record[`${type}id`];
  if (typeof id !== 'string') throw invalidArgument(`${parameter} needs ${type}id.`);
  return { type, id: id.toLowerCase() };
}
