import type { RecordKind } from '../records/record-kinds.js';
import { PURCHASE_TIMEFRAME_CODES } from './lead-attributes.js';

/**
 * Accounts, contacts and opportunities as Dataverse names them (docs/dataverse.md, Record
 * attributes): Dataverse attribute → the field of the record view (records.queries.ts), or a
 * function of the view for computed and option-set attributes.
 */
type View = Record<string, unknown>;
type Attribute = string | ((view: View) => unknown);

const address: Record<string, Attribute> = {
  address1_line1: 'street',
  address1_city: 'city',
  address1_stateorprovince: 'stateOrProvince',
  address1_postalcode: 'postalCode',
  address1_country: 'country',
};
const origin: Record<string, Attribute> = {
  _originatingleadid_value: 'originatingLeadId',
  lq_qualificationid: 'qualificationId',
  createdon: 'createdAt',
};

/** statecode of an opportunity: 0 Open, 1 Won, 2 Lost (records are created Open). */
const OPPORTUNITY_STATES: Record<string, number> = { Open: 0, Won: 1, Lost: 2 };

export interface RecordEntity {
  kind: RecordKind;
  /** The entity set (URL segment). */
  entitySet: string;
  /** The entity's logical name: `Microsoft.Dynamics.CRM.<type>`. */
  type: string;
  /** Its primary key attribute. */
  key: string;
  attributes: Record<string, Attribute>;
}

export const RECORD_ENTITIES: Record<RecordKind, RecordEntity> = {
  account: {
    kind: 'account',
    entitySet: 'accounts',
    type: 'account',
    key: 'accountid',
    attributes: {
      accountid: 'id',
      name: 'name',
      websiteurl: 'website',
      telephone1: 'telephone',
      ...address,
      _primarycontactid_value: 'primaryContactId',
      ...origin,
      statecode: () => 0,
    },
  },
  contact: {
    kind: 'contact',
    entitySet: 'contacts',
    type: 'contact',
    key: 'contactid',
    attributes: {
      contactid: 'id',
      firstname: 'firstName',
      lastname: 'lastName',
      fullname: (v) => [v.firstName, v.lastName].filter((s) => typeof s === 'string' && s).join(' '),
      jobtitle: 'jobTitle',
      emailaddress1: 'email',
      telephone1: 'businessPhone',
      mobilephone: 'mobilePhone',
      ...address,
      _parentcustomerid_value: 'parentAccountId',
      ...origin,
      statecode: () => 0,
    },
  },
  opportunity: {
    kind: 'opportunity',
    entitySet: 'opportunities',
    type: 'opportunity',
    key: 'opportunityid',
    attributes: {
      opportunityid: 'id',
      name: 'name',
      _customerid_value: 'customerId',
      _parentaccountid_value: 'parentAccountId',
      _parentcontactid_value: 'parentContactId',
      budgetamount: 'budgetAmount',
      estimatedvalue: 'estimatedValue',
      purchasetimeframe: (v) => PURCHASE_TIMEFRAME_CODES.toNumber(v.purchaseTimeframe as string | null),
      description: 'description',
      statecode: (v) => OPPORTUNITY_STATES[v.status as string] ?? null,
      _transactioncurrencyid_value: 'currencyId',
      _campaignid_value: 'sourceCampaignId',
      ...origin,
    },
  },
};

export const ENTITY_OF_SET: Record<string, RecordEntity> = Object.fromEntries(Object.values(RECORD_ENTITIES).map((e) => [e.entitySet, e]));

/** Lookup attributes that carry the logical name of the record they point to. */
const LOOKUP_TYPES: Record<string, (view: View) => string | null> = {
  _customerid_value: (v) => (v.customerType as string | null) ?? null,
  _primarycontactid_value: () => 'contact',
  _parentcustomerid_value: () => 'account',
  _parentaccountid_value: () => 'account',
  _parentcontactid_value: () => 'contact',
  _originatingleadid_value: () => 'lead',
  _transactioncurrencyid_value: () => 'transactioncurrency',
  _campaignid_value: () => 'campaign',
};

/** A record view → the Dataverse entity (every attribute, or those of $select; the key always). */
export function recordToDataverse(entity: RecordEntity, view: View, select?: string[]): Record<string, unknown> {
  const names = select ?? Object.keys(entity.attributes);
  const result: Record<string, unknown> = {};
  if (!names.includes(entity.key)) result[entity.key] = view.id;
  for (const name of names) {
    const source = entity.attributes[name];
    const value = typeof source === 'function' ? source(view) : (view[source] ?? null);
    result[name] = value;
    const lookupType = LOOKUP_TYPES[name];
    if (lookupType && value !== null) result[`${name}@Microsoft.Dynamics.CRM.lookuplogicalname`] = lookupType(view);
  }
  return result;
}
