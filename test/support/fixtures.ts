/** A lead with every field of SPEC §6.1 filled in: tests override what they are about. */
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
