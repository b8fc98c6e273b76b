import type { LeadFields } from '../../src/leads/lead.events.js';

/** A lead with every field of docs/api.md (Lead commands) filled in: tests override what they are about. */
export function aFullLead(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    topic: 'Fleet renewal',
    firstName: 'Jane',
    lastName: 'Doe',
    jobTitle: 'Buyer',
    companyName: 'Acme',
    email: 'jane@acme.example',
    businessPhone: '+33 1 23 45 67 89',
    mobilePhone: '+33 6 12 34 56 78',
    website: 'https://acme.example',
    street: '1 rue de la Paix',
    city: 'Paris',
    stateOrProvince: 'IDF',
    postalCode: '75002',
    country: 'France',
    leadSource: 'TradeShow',
    rating: 'Hot',
    budgetAmount: 12000.5,
    estimatedValue: 30000,
    purchaseTimeframe: 'ThisQuarter',
    description: 'Wants 40 vans',
    ...overrides,
  };
}

/** The lead of the domain specs: every field set, values the assertions name. */
export const adaLovelaceLead = (): LeadFields => ({
  topic: 'Espresso machines for 12 offices',
  firstName: 'Ada',
  lastName: 'Lovelace',
  jobTitle: 'Facilities manager',
  companyName: 'Analytical Engines Ltd',
  email: 'ada@engines.example',
  businessPhone: '+44 20 7946 0000',
  mobilePhone: '+44 7700 900000',
  website: 'https://engines.example',
  street: '12 Babbage Row',
  city: 'London',
  stateOrProvince: 'Greater London',
  postalCode: 'N1 9GU',
  country: 'United Kingdom',
  leadSource: 'TradeShow',
  rating: 'Hot',
  budgetAmount: 25000,
  estimatedValue: 18000,
  purchaseTimeframe: 'ThisQuarter',
  description: 'Met at the coffee expo',
});
