import type { QualifyLeadSetting } from '../qualify-setting/qualify-lead-setting.decider.js';
import type { PurchaseTimeframe } from '../shared/purchase-timeframes.js';

// A lead field's vocabulary like the others here, though defined in shared/ for the opportunity.
export { PURCHASE_TIMEFRAMES, type PurchaseTimeframe } from '../shared/purchase-timeframes.js';

export const LEAD_SOURCES = [
  'Advertisement',
  'EmployeeReferral',
  'ExternalReferral',
  'Partner',
  'PublicRelations',
  'Seminar',
  'TradeShow',
  'Web',
  'WordOfMouth',
  'Other',
] as const;
export const RATINGS = ['Hot', 'Warm', 'Cold'] as const;
export const OPEN_REASONS = ['New', 'Contacted'] as const;
export const DISQUALIFY_REASONS = ['Lost', 'CannotContact', 'NoLongerInterested', 'Canceled'] as const;

export type LeadSource = (typeof LEAD_SOURCES)[number];
export type Rating = (typeof RATINGS)[number];
export type DisqualifyReason = (typeof DISQUALIFY_REASONS)[number];
export type LeadStatus = 'Open' | 'Qualified' | 'Disqualified';
export type StatusReason = (typeof OPEN_REASONS)[number] | 'Qualified' | DisqualifyReason;

/**
 * The lead's fields (docs/events.md, Lead fields). Optional fields may be absent or null (cleared).
 * A type, not an interface: event data is a JSON object (DomainEvent).
 */
export type LeadFields = {
  topic: string;
  firstName?: string | null;
  lastName: string;
  jobTitle?: string | null;
  companyName?: string | null;
  email?: string | null;
  businessPhone?: string | null;
  mobilePhone?: string | null;
  website?: string | null;
  street?: string | null;
  city?: string | null;
  stateOrProvince?: string | null;
  postalCode?: string | null;
  country?: string | null;
  leadSource?: LeadSource | null;
  rating?: Rating | null;
  budgetAmount?: number | null;
  estimatedValue?: number | null;
  purchaseTimeframe?: PurchaseTimeframe | null;
  description?: string | null;
  existingAccountId?: string | null;
  existingContactId?: string | null;
};

/**
 * What a qualification does about one kind of record: create it under a new id, link an existing
 * one, or neither. `id: null` stays in the `none` case because LeadQualified events in the log
 * carry it: this type only says which combinations occur, the JSON keeps its shape.
 */
export type PlannedRecord = { action: 'create'; id: string } | { action: 'existing'; id: string } | { action: 'none'; id: null };
export type RecordAction = PlannedRecord['action'];
export interface QualificationPlan {
  account: PlannedRecord;
  contact: PlannedRecord;
  opportunity: PlannedRecord;
}

export type DecidedBy = 'setting' | 'salesperson';

export const OPPORTUNITY_CUSTOMER_TYPES = ['account', 'contact'] as const;
export type OpportunityCustomerType = (typeof OPPORTUNITY_CUSTOMER_TYPES)[number];

/**
 * What a qualification may ask of the opportunity it creates beyond the lead's fields (Dynamics
 * 365's QualifyLead parameters). Optional on LeadQualified: events from before them lack them, and
 * a qualification that creates no opportunity does not record them.
 */
export type OpportunityOptions = {
  /** The opportunity's customer instead of the plan's account, else contact; always with its type. */
  opportunityCustomerId?: string;
  opportunityCustomerType?: OpportunityCustomerType;
  /** Ids of records this service does not keep: stored on the opportunity unchecked. */
  opportunityCurrencyId?: string;
  sourceCampaignId?: string;
};

/** Ids of the records or leads that held a key when the user chose to ignore duplicates. */
type Overrode = { ignoredDuplicates?: string[] };

export type LeadCreated = { type: 'LeadCreated'; data: { leadId: string } & LeadFields & Overrode };
export type LeadUpdated = { type: 'LeadUpdated'; data: { leadId: string; statusReason?: StatusReason } & Partial<LeadFields> & Overrode };
export type LeadQualified = {
  type: 'LeadQualified';
  data: {
    leadId: string;
    qualificationId: string;
    plan: QualificationPlan;
    decidedBy: DecidedBy;
    settingVersion: number;
    createRecordsByDefault: boolean;
    qualifiedBy: string;
    qualifiedAt: string;
    /** The lead as it was when qualified: what the saga maps onto the new records. */
    lead: LeadFields;
  } & OpportunityOptions &
    Overrode;
};
export type LeadConversionCompleted = {
  type: 'LeadConversionCompleted';
  data: { leadId: string; qualificationId: string; accountId: string | null; contactId: string | null; opportunityId: string | null };
};
export type LeadConversionFailed = { type: 'LeadConversionFailed'; data: { leadId: string; qualificationId: string; reason: string } };
export type LeadDisqualified = { type: 'LeadDisqualified'; data: { leadId: string; statusReason: DisqualifyReason } };
export type LeadReactivated = { type: 'LeadReactivated'; data: { leadId: string } & Overrode };

export type LeadEvent = LeadCreated | LeadUpdated | LeadQualified | LeadConversionCompleted | LeadConversionFailed | LeadDisqualified | LeadReactivated;

/** Every type of a lead's stream: the lead-details projection reads them, the history endpoint lists them. */
export const LEAD_EVENT_TYPES: readonly LeadEvent['type'][] = [
  'LeadCreated',
  'LeadUpdated',
  'LeadQualified',
  'LeadConversionCompleted',
  'LeadConversionFailed',
  'LeadDisqualified',
  'LeadReactivated',
];

export const leadStream = (id: string) => `lead-${id}`;

/** What qualification needs to know of the setting; read from the event store, never a read model. */
export type SettingInForce = Pick<QualifyLeadSetting, 'createRecordsByDefault' | 'version'>;
