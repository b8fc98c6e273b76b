import { DynamicsWebApi } from 'dynamics-web-api';
import { ODataError } from '../../src/dataverse/odata-errors.js';
import type { TestApp } from './app.js';

/**
 * The npm `dynamics-web-api` client, unchanged, pointed at the test server: the Dataverse surface
 * must serve it as Dataverse would. Its token comes from onTokenRefresh, minted for `role`.
 */
export function dataverseClient(t: TestApp, role: string | string[] = 'salesperson'): DynamicsWebApi {
  return new DynamicsWebApi({ serverUrl: t.baseUrl, dataApi: { version: '9.2' }, onTokenRefresh: async () => t.token(role) });
}

/** What the client throws for an error answer: the OData error's code and message, and the HTTP status. */
export interface DataverseClientError {
  status: number;
  code: string;
  message: string;
}

/** The error a client call fails with (fails the test when it succeeds). */
export async function failure(call: Promise<unknown>): Promise<DataverseClientError> {
  const { headers: _headers, ...error } = await failureWithHeaders(call);
  return error;
}

/** The error a client call fails with, and the answer's headers (fails the test when it succeeds). */
export async function failureWithHeaders(call: Promise<unknown>): Promise<DataverseClientError & { headers: Record<string, string> }> {
  try {
    await call;
  } catch (error) {
    const e = error as DataverseClientError & { headers?: Record<string, string> };
    return { status: e.status, code: e.code, message: e.message, headers: e.headers ?? {} };
  }
  throw new Error('the call succeeded');
}

/** A lead as Dataverse attributes, every field set; `overrides` replace attributes. */
export function aDataverseLead(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subject: 'Fleet renewal',
    firstname: 'Jane',
    lastname: 'Doe',
    jobtitle: 'Buyer',
    companyname: 'Acme',
    emailaddress1: 'jane@acme.example',
    telephone1: '+33 1 23 45 67 89',
    mobilephone: '+33 6 12 34 56 78',
    websiteurl: 'https://acme.example',
    address1_line1: '1 rue de la Paix',
    address1_city: 'Paris',
    address1_stateorprovince: 'IDF',
    address1_postalcode: '75002',
    address1_country: 'France',
    leadsourcecode: 7,
    leadqualitycode: 1,
    budgetamount: 12000.5,
    estimatedvalue: 30000,
    purchasetimeframe: 1,
    description: 'Wants 40 vans',
    ...overrides,
  };
}

/** The ODataError a call of the surface's own functions throws (fails the test when there is none). */
export function odataRefusal(run: () => unknown): { status: number; code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ODataError) return { status: error.status, code: error.odataCode, message: error.message };
    throw error;
  }
  throw new Error('no refusal');
}
