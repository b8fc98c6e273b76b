import { odataRefusal } from '../../test/support/dataverse.js';
import { qualifyOptions } from './qualify-lead.parameters.js';

const ID = '3F2504E0-4F89-41D3-9A0C-0305E82C3301';

const refusal = odataRefusal;

describe('qualifyOptions (QualifyLead parameters → the native qualify body)', () => {
  it('maps the booleans, the duplicate switch and the entity references (ids lower-cased)', () => {
    expect(
      qualifyOptions(
        {
          CreateAccount: true,
          CreateContact: false,
          CreateOpportunity: true,
          Status: 3,
          SuppressDuplicateDetection: true,
          OpportunityCustomerId: { '@odata.type': '#Microsoft.Dynamics.CRM.contact', contactid: ID },
          OpportunityCurrencyId: { transactioncurrencyid: ID },
          SourceCampaignId: { '@odata.type': 'Microsoft.Dynamics.CRM.campaign', campaignid: ID },
          ProcessInstanceId: null,
        },
        undefined,
      ),
    ).toEqual({
      createAccount: true,
      createContact: false,
      createOpportunity: true,
      ignoreDuplicates: true,
      opportunityCustomerId: ID.toLowerCase(),
      opportunityCustomerType: 'contact',
      opportunityCurrencyId: ID.toLowerCase(),
      sourceCampaignId: ID.toLowerCase(),
    });
  });

  it('SuppressDuplicateDetection wins over the MSCRM.SuppressDuplicateDetection header, which applies without it', () => {
    expect(qualifyOptions({ Status: -1 }, 'true')).toEqual({ ignoreDuplicates: true });
    expect(qualifyOptions({ Status: -1 }, ' FALSE ')).toEqual({ ignoreDuplicates: false });
    expect(qualifyOptions({ Status: -1, SuppressDuplicateDetection: false }, 'true')).toEqual({ ignoreDuplicates: false });
    expect(qualifyOptions({ Status: 3 }, undefined)).toEqual({});
  });

  it('refuses an unknown parameter (0x80060888), a Status other than 3 or -1, a process instance and a reference of the wrong type (0x80040203)', () => {
    expect(refusal(() => qualifyOptions({ Status: 3, CreateQuote: true }, undefined))).toEqual({
      status: 400,
      code: '0x80060888',
      message:
        "The property 'CreateQuote' does not exist on type 'Microsoft.Dynamics.CRM.QualifyLead'. Make sure to only use property names that are defined by the type.",
    });
    expect(refusal(() => qualifyOptions({}, undefined))).toMatchObject({ status: 400, code: '0x80040203' });
    expect(refusal(() => qualifyOptions({ Status: 4 }, undefined)).message).toMatch(/^Status must be 3/);
    expect(refusal(() => qualifyOptions({ Status: 3, ProcessInstanceId: ID }, undefined)).message).toMatch(/ProcessInstanceId is not supported/);
    expect(
      refusal(() => qualifyOptions({ Status: 3, OpportunityCustomerId: { '@odata.type': 'Microsoft.Dynamics.CRM.lead', leadid: ID } }, undefined)).message,
    ).toBe('OpportunityCustomerId must reference one of: Microsoft.Dynamics.CRM.account, Microsoft.Dynamics.CRM.contact.');
    expect(refusal(() => qualifyOptions({ Status: 3, OpportunityCustomerId: { accountid: ID, name: 'x' } }, undefined))).toMatchObject({ code: '0x80060888' });
    expect(refusal(() => qualifyOptions({ Status: 3, SourceCampaignId: 'campaigns(x)' }, undefined)).message).toMatch(/must be an entity reference/);
  });
});
