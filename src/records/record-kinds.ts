import { accountNameKey, contactNameKey, emailKey as contactEmailKey, lastNameKey } from '../shared/normalised-keys.js';

/**
 * The three kinds of record a qualification creates. Each is an aggregate with one stream
 * (`account-<id>`, …) that its creation event (after the Planned event, for accounts and contacts
 * planned since uniqueness claims exist) makes a record; everything the generic decider, projection
 * and queries need to know about a kind is here.
 */
export type RecordKind = 'account' | 'contact' | 'opportunity';

/** The fields of a record's data that code reads by name (its keys); the others are copied to their columns as they are. */
export interface RecordKeyFields {
  name?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
}

export interface RecordKindInfo {
  kind: RecordKind;
  eventType: 'AccountCreated' | 'ContactCreated' | 'OpportunityCreated';
  /**
   * Opens the stream when a qualification plans the record, before the saga creates it, so that a
   * planned id can be linked (and checked) at once. Opportunities are never linked: none.
   */
  plannedEventType?: 'AccountPlanned' | 'ContactPlanned';
  table: 'accounts' | 'contacts' | 'opportunities';
  /** Event data field → column. */
  columns: Record<string, string>;
  /** Derived columns (uniqueness and search keys) computed from the event data. */
  keys?: (data: RecordKeyFields) => Record<string, unknown>;
  /**
   * Columns `?q=` matches by prefix, most telling first: a record matched by several is listed
   * once, under the first (searchable kinds only).
   */
  searchKeys?: readonly string[];
}

const common = { originatingLeadId: 'originating_lead_id', qualificationId: 'qualification_id' };
const address = { street: 'street', city: 'city', stateOrProvince: 'state_or_province', postalCode: 'postal_code', country: 'country' };

export const RECORD_KINDS: Record<RecordKind, RecordKindInfo> = {
  account: {
    kind: 'account',
    eventType: 'AccountCreated',
    plannedEventType: 'AccountPlanned',
    table: 'accounts',
    columns: { name: 'name', website: 'website', telephone: 'telephone', ...address, primaryContactId: 'primary_contact_id', ...common },
    keys: (d) => ({ name_key: accountNameKey(d.name) }),
    searchKeys: ['name_key'],
  },
  contact: {
    kind: 'contact',
    eventType: 'ContactCreated',
    plannedEventType: 'ContactPlanned',
    table: 'contacts',
    columns: {
      firstName: 'first_name',
      lastName: 'last_name',
      jobTitle: 'job_title',
      email: 'email',
      businessPhone: 'business_phone',
      mobilePhone: 'mobile_phone',
      ...address,
      parentAccountId: 'parent_account_id',
      ...common,
    },
    keys: (d) => ({ name_key: contactNameKey(d.firstName, d.lastName), last_name_key: lastNameKey(d.lastName), email_key: contactEmailKey(d.email) }),
    searchKeys: ['name_key', 'last_name_key', 'email_key'],
  },
  opportunity: {
    kind: 'opportunity',
    eventType: 'OpportunityCreated',
    table: 'opportunities',
    columns: {
      name: 'name',
      customerId: 'customer_id',
      customerType: 'customer_type',
      parentAccountId: 'parent_account_id',
      parentContactId: 'parent_contact_id',
      budgetAmount: 'budget_amount',
      estimatedValue: 'estimated_value',
      purchaseTimeframe: 'purchase_timeframe',
      description: 'description',
      currencyId: 'currency_id',
      sourceCampaignId: 'source_campaign_id',
      status: 'status',
      ...common,
    },
  },
};

export const RECORD_EVENT_TYPES = Object.values(RECORD_KINDS).map((k) => k.eventType);

export const recordStream = (kind: RecordKind, id: string) => `${kind}-${id}`;
