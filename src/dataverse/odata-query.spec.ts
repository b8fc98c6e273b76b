import { odataRefusal } from '../../test/support/dataverse.js';
import { nextLink, parseFilter, parsePrefer, parseQuery, parseTarget } from './odata-query.js';

const ATTRIBUTES = new Set(['subject', 'statecode', 'emailaddress1', 'companyname', '_originatingleadid_value']);
const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

const refusal = odataRefusal;

describe('parseTarget', () => {
  it('reads an entity set with or without a key (braces and capitals allowed)', () => {
    expect(parseTarget('leads')).toEqual({ entitySet: 'leads' });
    expect(parseTarget(`leads(${ID})`)).toEqual({ entitySet: 'leads', id: ID });
    expect(parseTarget(`leads({${ID.toUpperCase()}})`)).toEqual({ entitySet: 'leads', id: ID });
  });
  it('refuses a key that is not a GUID (400) and a segment that names nothing (404 0x8006088a)', () => {
    expect(refusal(() => parseTarget('leads(42)'))).toMatchObject({ status: 400, code: '0x80040203' });
    expect(refusal(() => parseTarget('le$ads'))).toMatchObject({ status: 404, code: '0x8006088a' });
  });
});

describe('parseQuery', () => {
  it('reads $select, $top, $filter and $skiptoken', () => {
    expect(parseQuery({ $select: 'subject,statecode', $top: '5', $filter: 'statecode eq 0', $skiptoken: 'abc' }, 'lead', ATTRIBUTES)).toEqual({
      select: ['subject', 'statecode'],
      top: 5,
      filter: [{ attribute: 'statecode', value: 0 }],
      skiptoken: 'abc',
    });
  });
  it('refuses unknown attributes (0x0), unsupported options and a bad $top (0x80040203)', () => {
    expect(refusal(() => parseQuery({ $select: 'Subject' }, 'lead', ATTRIBUTES))).toEqual({
      status: 400,
      code: '0x0',
      message: "Could not find a property named 'Subject' on type 'Microsoft.Dynamics.CRM.lead'.",
    });
    expect(refusal(() => parseQuery({ $expand: 'x' }, 'lead', ATTRIBUTES))).toMatchObject({ status: 400, code: '0x80040203' });
    expect(refusal(() => parseQuery({ $top: '-1' }, 'lead', ATTRIBUTES))).toMatchObject({ status: 400, code: '0x80040203' });
    expect(refusal(() => parseQuery({ $top: ['1', '2'] }, 'lead', ATTRIBUTES))).toMatchObject({ status: 400, code: '0x80040203' });
  });
});

describe('parseFilter', () => {
  it('reads eq terms joined by and: strings (with doubled quotes), numbers, GUIDs, null, parentheses', () => {
    expect(
      parseFilter(`(companyname eq 'O''Brien & Co') and statecode eq 1 and _originatingleadid_value eq ${ID} and emailaddress1 eq null`, 'lead', ATTRIBUTES),
    ).toEqual([
      { attribute: 'companyname', value: "O'Brien & Co" },
      { attribute: 'statecode', value: 1 },
      { attribute: '_originatingleadid_value', value: ID },
      { attribute: 'emailaddress1', value: null },
    ]);
  });
  it('refuses other operators, or, functions and unknown attributes', () => {
    expect(refusal(() => parseFilter('statecode ne 0', 'lead', ATTRIBUTES)).code).toBe('0x80040203');
    expect(refusal(() => parseFilter('statecode eq 0 or statecode eq 1', 'lead', ATTRIBUTES)).code).toBe('0x80040203');
    expect(refusal(() => parseFilter("contains(subject,'x')", 'lead', ATTRIBUTES)).code).toBe('0x80040203');
    expect(refusal(() => parseFilter('revenue eq 3', 'lead', ATTRIBUTES)).code).toBe('0x0');
  });
});

describe('parsePrefer', () => {
  it('reads odata.maxpagesize (at most 5000) and return=representation among other preferences', () => {
    expect(parsePrefer('odata.include-annotations="*", odata.maxpagesize=3')).toEqual({ maxPageSize: 3, returnRepresentation: false });
    expect(parsePrefer('odata.maxpagesize=99999,return=representation')).toEqual({ maxPageSize: 5000, returnRepresentation: true });
    expect(parsePrefer(undefined)).toEqual({ returnRepresentation: false });
  });
});

describe('nextLink', () => {
  it('keeps the query, replaces $skiptoken and carries what is left of $top', () => {
    const link = nextLink('http://h/api/data/v9.2/', 'leads', { $select: 'subject', $top: '5', $skiptoken: 'old' }, 'new', 2);
    expect(link).toBe('http://h/api/data/v9.2/leads?$select=subject&$top=2&$skiptoken=new');
  });
});
