import { DISQUALIFY_REASONS, LEAD_SOURCES, PURCHASE_TIMEFRAMES, RATINGS } from '../leads/lead.events.js';
import type { LeadView } from '../leads/lead-details/lead-view.js';
import { invalidArgument, unknownBodyProperty } from './odata-errors.js';

/**
 * The lead as Dataverse names it (docs/dataverse.md, Lead attributes), both ways: the service's
 * lead field ↔ the Dataverse attribute, and the option sets as Dataverse integers.
 */

/** An option set: our value ↔ the Dataverse integer. */
export class OptionSet<T extends string> {
  private readonly byValue: Map<T, number>;
  private readonly byNumber: Map<number, T>;
  constructor(
    readonly name: string,
    entries: readonly (readonly [T, number])[],
  ) {
    this.byValue = new Map(entries);
    this.byNumber = new Map(entries.map(([v, n]) => [n, v]));
  }
  toNumber(value: string | null | undefined): number | null {
    return value == null ? null : (this.byValue.get(value as T) ?? null);
  }
  fromNumber(value: unknown): T | null {
    if (value === null) return null;
    const found = typeof value === 'number' ? this.byNumber.get(value) : undefined;
    if (found === undefined)
      throw invalidArgument(`${value === undefined ? 'undefined' : JSON.stringify(value)} is not a valid value of the option set ${this.name}.`);
    return found;
  }
  entries(): [T, number][] {
    return [...this.byValue.entries()];
  }
}

/** leadsourcecode 1..10 in the order of LEAD_SOURCES. */
export const LEAD_SOURCE_CODES = new OptionSet(
  'leadsourcecode',
  LEAD_SOURCES.map((s, i) => [s, i + 1] as const),
);
/** leadqualitycode: 1 Hot, 2 Warm, 3 Cold. */
export const LEAD_QUALITY_CODES = new OptionSet(
  'leadqualitycode',
  RATINGS.map((r, i) => [r, i + 1] as const),
);
/** purchasetimeframe: 0 Immediate … 4 Unknown. */
export const PURCHASE_TIMEFRAME_CODES = new OptionSet(
  'purchasetimeframe',
  PURCHASE_TIMEFRAMES.map((p, i) => [p, i] as const),
);
/** statecode of a lead. */
export const LEAD_STATE_CODES = new OptionSet('statecode', [
  ['Open', 0],
  ['Qualified', 1],
  ['Disqualified', 2],
] as const);
/** statuscode of a lead: Dataverse's lead status reasons. */
export const LEAD_STATUS_CODES = new OptionSet('statuscode', [
  ['New', 1],
  ['Contacted', 2],
  ['Qualified', 3],
  ...DISQUALIFY_REASONS.map((r, i) => [r, i + 4] as const),
] as const);

type Convert = { toDataverse(value: unknown): unknown; fromDataverse(value: unknown): unknown };
const same: Convert = { toDataverse: (v) => v ?? null, fromDataverse: (v) => v };
const option = (set: OptionSet<string>): Convert => ({ toDataverse: (v) => set.toNumber(v as string | null), fromDataverse: (v) => set.fromNumber(v) });

/** A writable lead field: Dataverse attribute → our field and conversion. */
export const LEAD_FIELD_ATTRIBUTES: Readonly<Record<string, { field: string; convert: Convert }>> = {
  subject: { field: 'topic', convert: same },
  firstname: { field: 'firstName', convert: same },
  lastname: { field: 'lastName', convert: same },
  jobtitle: { field: 'jobTitle', convert: same },
  companyname: { field: 'companyName', convert: same },
  emailaddress1: { field: 'email', convert: same },
  telephone1: { field: 'businessPhone', convert: same },
  mobilephone: { field: 'mobilePhone', convert: same },
  websiteurl: { field: 'website', convert: same },
  address1_line1: { field: 'street', convert: same },
  address1_city: { field: 'city', convert: same },
  address1_stateorprovince: { field: 'stateOrProvince', convert: same },
  address1_postalcode: { field: 'postalCode', convert: same },
  address1_country: { field: 'country', convert: same },
  leadsourcecode: { field: 'leadSource', convert: option(LEAD_SOURCE_CODES) },
  leadqualitycode: { field: 'rating', convert: option(LEAD_QUALITY_CODES) },
  budgetamount: { field: 'budgetAmount', convert: same },
  estimatedvalue: { field: 'estimatedValue', convert: same },
  purchasetimeframe: { field: 'purchaseTimeframe', convert: option(PURCHASE_TIMEFRAME_CODES) },
  description: { field: 'description', convert: same },
};

/** Lookups: the `@odata.bind` name written, the `_…_value` read, the entity set bound to, our field. */
export const LEAD_LOOKUPS = [
  { bind: 'parentaccountid@odata.bind', value: '_parentaccountid_value', entitySet: 'accounts', field: 'existingAccountId' },
  { bind: 'parentcontactid@odata.bind', value: '_parentcontactid_value', entitySet: 'contacts', field: 'existingContactId' },
] as const;

/** Our field → Dataverse attribute, for naming fields in error messages. */
export const LEAD_ATTRIBUTE_OF_FIELD: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(LEAD_FIELD_ATTRIBUTES).map(([attribute, { field }]) => [field, attribute])),
  ...Object.fromEntries(LEAD_LOOKUPS.map((l) => [l.field, l.bind])),
  id: 'leadid',
  statusReason: 'statuscode',
};

/** Every attribute a lead read has (what $select and $filter may name). */
export const LEAD_READ_ATTRIBUTES: ReadonlySet<string> = new Set([
  'leadid',
  ...Object.keys(LEAD_FIELD_ATTRIBUTES),
  ...LEAD_LOOKUPS.map((l) => l.value),
  'fullname',
  'statecode',
  'statuscode',
  'createdon',
  'modifiedon',
  'versionnumber',
  '_qualifyingopportunityid_value',
  '_lq_qualifiedaccountid_value',
  '_lq_qualifiedcontactid_value',
]);

/** A lookup value `accounts(<id>)`, `/accounts(<id>)` or an absolute URL ending so → the id; null clears. */
export function boundId(attribute: string, value: unknown, entitySet: string): string | null {
  if (value === null) return null;
  const match = typeof value === 'string' ? new RegExp(`(?:^|/)${entitySet}\\(\\{?([0-9a-fA-F-]{36})\\}?\\)$`).exec(value.trim()) : null;
  if (!match) throw invalidArgument(`The value of '${attribute}' must be a reference like /${entitySet}(<guid>).`);
  return match[1].toLowerCase();
}

/**
 * A lead body (POST or PATCH) → our lead fields. `leadid` is the client-chosen id; `statuscode`
 * (1 New, 2 Contacted) is allowed on PATCH only. Unknown attributes are refused by name.
 */
export function leadFieldsFromBody(body: Record<string, unknown>, mode: 'create' | 'update'): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [attribute, value] of Object.entries(body)) {
    if (attribute === '@odata.type') continue;
    const mapped = LEAD_FIELD_ATTRIBUTES[attribute];
    if (mapped) {
      fields[mapped.field] = mapped.convert.fromDataverse(value);
      continue;
    }
    const lookup = LEAD_LOOKUPS.find((l) => l.bind === attribute);
    if (lookup) {
      fields[lookup.field] = boundId(attribute, value, lookup.entitySet);
      continue;
    }
    if (attribute === 'leadid' && mode === 'create') {
      fields.id = value;
      continue;
    }
    if (attribute === 'statuscode' && mode === 'update') {
      const reason = LEAD_STATUS_CODES.fromNumber(value);
      if (reason !== 'New' && reason !== 'Contacted')
        throw invalidArgument('statuscode of an open lead can only be set to 1 (New) or 2 (Contacted); qualify with QualifyLead.');
      fields.statusReason = reason;
      continue;
    }
    throw unknownBodyProperty(attribute, 'lead');
  }
  return fields;
}

/** A lead view → the Dataverse lead (every attribute, or those of $select), with its ETag. */
export function leadToDataverse(lead: LeadView, select?: string[]): Record<string, unknown> {
  const view = lead as unknown as Record<string, unknown>;
  const all: Record<string, unknown> = { leadid: lead.id };
  for (const [attribute, { field, convert }] of Object.entries(LEAD_FIELD_ATTRIBUTES)) all[attribute] = convert.toDataverse(view[field]);
  for (const lookup of LEAD_LOOKUPS) all[lookup.value] = view[lookup.field] ?? null;
  all.fullname = [view.firstName, view.lastName].filter((s) => typeof s === 'string' && s).join(' ');
  all.statecode = LEAD_STATE_CODES.toNumber(lead.status);
  all.statuscode = LEAD_STATUS_CODES.toNumber(lead.statusReason);
  all.createdon = lead.createdAt;
  all.modifiedon = lead.updatedAt;
  all.versionnumber = lead.version;
  const q = lead.qualification;
  const done = q?.conversion === 'completed';
  all._qualifyingopportunityid_value = done ? (q?.opportunityId ?? null) : null;
  all._lq_qualifiedaccountid_value = done ? (q?.accountId ?? null) : null;
  all._lq_qualifiedcontactid_value = done ? (q?.contactId ?? null) : null;
  const picked = select ? Object.fromEntries(select.map((a) => [a, all[a]])) : all;
  if (select && !select.includes('leadid')) picked.leadid = lead.id;
  return { '@odata.etag': leadETag(lead.version), ...picked };
}

/** Dataverse's ETag form: W/"<version>" (If-Match reads it back). */
export const leadETag = (version: number) => `W/"${version}"`;
