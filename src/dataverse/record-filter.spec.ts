import { RECORD_LOOKUP_FILTERS } from '../records/records.queries.js';
import { odataRefusal } from '../../test/support/dataverse.js';
import { RECORD_ENTITIES } from './record-attributes.js';
import { RECORD_FILTERS, recordFilter } from './record-filter.js';

const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const OTHER = '9b2f1c4e-0d3a-4f6b-8e7a-1c2d3e4f5a6b';

const refusal = odataRefusal;

describe('RECORD_FILTERS', () => {
  it.each(Object.values(RECORD_ENTITIES))(
    '$entitySet: each filterable attribute reads the field it filters, and every native lookup filter is reachable',
    (entity) => {
      const filters = RECORD_FILTERS[entity.kind];
      for (const [attribute, field] of Object.entries(filters)) expect({ attribute, reads: entity.attributes[attribute] }).toEqual({ attribute, reads: field });
      expect(Object.values(filters).sort()).toEqual(['originatingLeadId', ...Object.keys(RECORD_LOOKUP_FILTERS[entity.kind])].sort());
    },
  );
});

describe('recordFilter', () => {
  const { account, contact, opportunity } = RECORD_ENTITIES;

  it('maps each lookup to its native filter, GUIDs lower-cased, terms joined', () => {
    expect(recordFilter(account, [{ attribute: '_primarycontactid_value', value: ID.toUpperCase() }])).toEqual({ primaryContactId: ID });
    expect(recordFilter(contact, [{ attribute: '_parentcustomerid_value', value: ID }])).toEqual({ parentAccountId: ID });
    expect(
      recordFilter(opportunity, [
        { attribute: '_customerid_value', value: ID },
        { attribute: '_parentaccountid_value', value: ID },
        { attribute: '_parentcontactid_value', value: OTHER },
        { attribute: '_originatingleadid_value', value: OTHER },
      ]),
    ).toEqual({ customerId: ID, parentAccountId: ID, parentContactId: OTHER, originatingLeadId: OTHER });
    expect(recordFilter(contact, [])).toEqual({});
  });

  it('a lookup eq null is "not set"; the originating lead eq null is refused', () => {
    expect(recordFilter(opportunity, [{ attribute: '_parentcontactid_value', value: null }])).toEqual({ parentContactId: null });
    expect(refusal(() => recordFilter(account, [{ attribute: '_originatingleadid_value', value: null }]))).toMatchObject({ status: 400, code: '0x80040203' });
  });

  it('refuses another kind of value, an attribute named twice and an attribute it cannot filter on (400 0x80040203)', () => {
    expect(refusal(() => recordFilter(account, [{ attribute: '_primarycontactid_value', value: 'Jane' }]))).toMatchObject({
      status: 400,
      code: '0x80040203',
      message: '_primarycontactid_value is compared with a GUID or null.',
    });
    expect(refusal(() => recordFilter(contact, [{ attribute: '_originatingleadid_value', value: 42 }])).message).toBe(
      '_originatingleadid_value is compared with a GUID.',
    );
    expect(
      refusal(() =>
        recordFilter(opportunity, [
          { attribute: '_customerid_value', value: ID },
          { attribute: '_customerid_value', value: OTHER },
        ]),
      ).message,
    ).toBe('$filter names _customerid_value more than once.');
    // The contact's account lookup is not the account's.
    expect(refusal(() => recordFilter(account, [{ attribute: '_parentcustomerid_value', value: ID }])).message).toBe(
      '$filter on _parentcustomerid_value is not supported for accounts: filter on _primarycontactid_value, _originatingleadid_value.',
    );
    expect(refusal(() => recordFilter(account, [{ attribute: 'name', value: 'Acme' }]))).toMatchObject({ status: 400, code: '0x80040203' });
  });
});
