/**
 * Realistic, deterministic lead data. Company names and emails are unique per lead (they carry
 * part of the lead id), so duplicate detection on qualify finds nothing and every qualification
 * creates its three records, as in the benchmark's premise.
 */
import { LEAD_SOURCES, PURCHASE_TIMEFRAMES, RATINGS, type LeadFields } from '../src/leads/lead.events.js';

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Radia', 'Tim', 'Frances', 'John'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Perlman', 'Berners-Lee', 'Allen', 'Backus'];
const SUFFIX = ['Ltd', 'GmbH', 'SAS', 'Inc', 'plc', 'BV', 'AB', 'Oy'];
const PRODUCTS = ['Espresso machines', 'Standing desks', 'Fleet telematics', 'Payroll software', 'Solar panels', 'Cloud backup', 'Forklifts', 'Office chairs'];
const TITLES = ['Facilities manager', 'CTO', 'Head of procurement', 'Operations director', 'Office manager', 'CFO'];
const CITIES: [string, string, string, string][] = [
  ['London', 'Greater London', 'N1 9GU', 'United Kingdom'],
  ['Berlin', 'Berlin', '10115', 'Germany'],
  ['Lyon', 'Auvergne-Rhône-Alpes', '69002', 'France'],
  ['Austin', 'Texas', '78701', 'United States'],
  ['Utrecht', 'Utrecht', '3511', 'Netherlands'],
  ['Espoo', 'Uusimaa', '02150', 'Finland'],
];

/** Lead fields number i, made unique by the lead id. */
export function leadFields(i: number, id: string): LeadFields {
  const tag = id.slice(0, 8);
  const first = FIRST[i % FIRST.length];
  const last = LAST[(i * 7) % LAST.length];
  const [city, state, postalCode, country] = CITIES[i % CITIES.length];
  const company = `${LAST[(i * 5) % LAST.length]} ${SUFFIX[i % SUFFIX.length]} ${tag}`;
  return {
    topic: `${PRODUCTS[i % PRODUCTS.length]} for ${10 + (i % 90)} seats`,
    firstName: first,
    lastName: last,
    jobTitle: TITLES[i % TITLES.length],
    companyName: company,
    email: `${first}.${last}.${tag}@example.com`.toLowerCase(),
    businessPhone: `+44 20 7946 ${String(i % 10_000).padStart(4, '0')}`,
    mobilePhone: `+44 7700 9${String(i % 100_000).padStart(5, '0')}`,
    website: `https://${tag}.example.com`,
    street: `${1 + (i % 200)} Babbage Row`,
    city,
    stateOrProvince: state,
    postalCode,
    country,
    leadSource: LEAD_SOURCES[i % LEAD_SOURCES.length],
    rating: RATINGS[i % RATINGS.length],
    budgetAmount: 1000 * (1 + (i % 50)),
    estimatedValue: 800 * (1 + (i % 50)),
    purchaseTimeframe: PURCHASE_TIMEFRAMES[i % PURCHASE_TIMEFRAMES.length],
    description: 'Met at the coffee expo; wants a quote before the end of the quarter.',
  };
}
