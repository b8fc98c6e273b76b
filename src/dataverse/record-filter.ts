import type { RecordKind } from '../records/record-kinds.js';
import type { RecordListFilter, RecordLookupField } from '../records/records.queries.js';
import { invalidArgument } from './odata-errors.js';
import { UUID, type FilterTerm } from './odata-query.js';
import type { RecordEntity } from './record-attributes.js';

/** The native ListRecords filters that `$filter` reaches: the originating lead and the lookups. */
export type RecordFilterField = 'originatingLeadId' | RecordLookupField;
export type RecordFilter = Pick<RecordListFilter, RecordFilterField>;

/**
 * The record attributes `$filter` takes (docs/dataverse.md, Query options) → the native list
 * filter of that kind (src/records/records.queries.ts, each backed by an index).
 */
export const RECORD_FILTERS: Readonly<Record<RecordKind, Readonly<Record<string, RecordFilterField>>>> = {
  account: { _primarycontactid_value: 'primaryContactId', _originatingleadid_value: 'originatingLeadId' },
  contact: { _parentcustomerid_value: 'parentAccountId', _originatingleadid_value: 'originatingLeadId' },
  opportunity: {
    _customerid_value: 'customerId',
    _parentaccountid_value: 'parentAccountId',
    _parentcontactid_value: 'parentContactId',
    _originatingleadid_value: 'originatingLeadId',
  },
};

/**
 * `$filter` on a record collection → the native filter: `eq` a GUID, joined by `and`, each
 * attribute once. A lookup `eq null` is the records where it is not set; every record has an
 * originating lead, so `_originatingleadid_value eq null` is refused rather than answered empty.
 */
export function recordFilter(entity: RecordEntity, terms: FilterTerm[]): RecordFilter {
  const fields = RECORD_FILTERS[entity.kind];
  const result: RecordFilter = {};
  const seen = new Set<string>();
  for (const { attribute, value } of terms) {
    const field = fields[attribute];
    if (!field) throw invalidArgument(`$filter on ${attribute} is not supported for ${entity.entitySet}: filter on ${Object.keys(fields).join(', ')}.`);
    if (seen.has(attribute)) throw invalidArgument(`$filter names ${attribute} more than once.`);
    seen.add(attribute);
    if (value === null) {
      if (field === 'originatingLeadId') throw invalidArgument(`${attribute} eq null is not supported: every record has an originating lead.`);
      result[field] = null;
    } else if (typeof value === 'string' && UUID.test(value)) {
      result[field] = value.toLowerCase();
    } else {
      throw invalidArgument(`${attribute} is compared with a GUID${field === 'originatingLeadId' ? '' : ' or null'}.`);
    }
  }
  return result;
}
