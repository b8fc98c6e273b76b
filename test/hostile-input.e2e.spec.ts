import { randomUUID } from 'node:crypto';
import { EVENT_STORE, type EventStore } from '../src/event-store/event-store.port.js';
import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';

/**
 * Thousands of malformed requests across every command endpoint: bodies of every wrong shape,
 * truncated JSON, unknown and prototype-named keys, wrong types in every field, values over their
 * limits, deep nesting, oversized bodies, foreign content types, bad ids. Not one may be answered
 * 5xx or accepted, every refusal is problem+json with a code, and the event log does not move.
 */

const [kind] = await testDatabaseKinds();

interface Endpoint {
  name: string;
  method: string;
  path: (leadId: string) => string;
  /** A body the endpoint would accept: every mutation below breaks it. */
  valid: Record<string, unknown>;
}

const LEAD_FIELDS = {
  firstName: 'Jane',
  jobTitle: 'Buyer',
  companyName: 'Contoso',
  email: 'jane@contoso.example',
  businessPhone: '+1 555 0100',
  mobilePhone: '+1 555 0101',
  website: 'https://contoso.example',
  street: '1 Main St',
  city: 'Springfield',
  stateOrProvince: 'IL',
  postalCode: '62701',
  country: 'US',
  leadSource: 'Web',
  rating: 'Hot',
  budgetAmount: 1000.5,
  estimatedValue: 2000,
  purchaseTimeframe: 'ThisQuarter',
  description: 'Wants fifty engines',
};

const ENDPOINTS: Endpoint[] = [
  {
    name: 'create',
    method: 'POST',
    path: () => '/leads',
    valid: { id: randomUUID(), topic: 'Fleet', lastName: 'Doe', ignoreDuplicates: true, ...LEAD_FIELDS },
  },
  {
    name: 'update',
    method: 'PATCH',
    path: (id) => `/leads/${id}`,
    valid: { topic: 'Fleet 2', lastName: 'Roe', statusReason: 'Contacted', ignoreDuplicates: true, ...LEAD_FIELDS },
  },
  {
    name: 'qualify',
    method: 'POST',
    path: (id) => `/leads/${id}/qualify`,
    valid: { createAccount: true, createContact: true, createOpportunity: true, expectedSettingVersion: 0, ignoreDuplicates: true },
  },
  {
    name: 'bulk qualify',
    method: 'POST',
    path: () => '/leads/qualify',
    valid: { leadIds: [randomUUID()], createAccount: true, createContact: false, createOpportunity: true, ignoreDuplicates: false },
  },
  { name: 'disqualify', method: 'POST', path: (id) => `/leads/${id}/disqualify`, valid: { statusReason: 'Lost' } },
  { name: 'reactivate', method: 'POST', path: (id) => `/leads/${id}/reactivate`, valid: { ignoreDuplicates: true } },
  { name: 'setting', method: 'PUT', path: () => '/settings/qualify-lead', valid: { createRecordsByDefault: false } },
  { name: 'rebuild', method: 'POST', path: () => '/projections/lead-details/rebuild', valid: {} },
];

interface Attempt {
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const nested = (depth: number) => '['.repeat(depth) + '0' + ']'.repeat(depth);

/** A JSON value of another type than `value`: always wrong for a field strictly validated. */
function wrongTypes(value: unknown): unknown[] {
  const all: unknown[] = [12345, -1.5, 'a string', true, [], ['x'], {}, { nested: { deeper: 1 } }];
  const type = (v: unknown) => (Array.isArray(v) ? 'array' : typeof v);
  // A string of digits is not a number here, nor "true" a boolean: no implicit conversion.
  return [
    ...all.filter((v) => type(v) !== type(value)),
    ...(typeof value === 'number' ? [String(value)] : []),
    ...(typeof value === 'boolean' ? [String(value)] : []),
  ];
}

/** Values of the right type that break the field's rule (length, format, enum, range). */
function brokenValues(field: string, value: unknown): unknown[] {
  if (typeof value === 'string')
    return [
      'x'.repeat(2_001),
      ...(field === 'statusReason' || field === 'leadSource' || field === 'rating' || field === 'purchaseTimeframe' ? ['Nope', value.toLowerCase()] : []),
      ...(field === 'email' ? ['not-an-email', 'a@'] : []),
      ...(field === 'website' ? ['javascript:alert(1)', 'ftp://x.example'] : []),
      ...(field === 'id' ? ['lead-1', `${value}0`] : []),
    ];
  if (typeof value === 'number')
    return [-1, 1e309 /* JSON Infinity is written null */, 0.001, ...(field === 'expectedSettingVersion' ? [1.5] : [])].filter((v) => Number.isFinite(v));
  if (Array.isArray(value)) return [[], ['not-a-uuid'], Array.from({ length: 101 }, () => randomUUID()), [null], [1]];
  return [];
}

const PROTOTYPE_KEYS = [
  'toString',
  'valueOf',
  'constructor',
  'hasOwnProperty',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
];
const UNKNOWN_KEYS = [...PROTOTYPE_KEYS, 'status', 'Topic', 'TOPIC', ' topic', 'topic ', 'extra', '', '0', 'id\u0000', 'createdBy', 'version'];

function attemptsFor(endpoint: Endpoint, leadId: string): Attempt[] {
  const path = endpoint.path(leadId);
  const at = (what: string, body: string | undefined, headers: Record<string, string> = JSON_TYPE, url = path): Attempt => ({
    what: `${endpoint.name}: ${what}`,
    method: endpoint.method,
    path: url,
    headers,
    body,
  });
  const text = JSON.stringify(endpoint.valid);
  const attempts: Attempt[] = [];

  const jsonTypes = [JSON_TYPE, { 'content-type': 'application/json; charset=utf-8' }, { 'content-type': 'Application/JSON' }];
  for (const raw of [
    'null',
    '"a string"',
    '42',
    '-0',
    'true',
    'false',
    '[]',
    '[{}]',
    `[${text}]`,
    '""',
    '{}{}',
    `${text}${text}`,
    `${text},`,
    ' ',
    '\u0000',
    '\ufeff',
    'NaN',
    'undefined',
    "{'a':1}",
    '{"a":1,}',
    '{"a":01}',
  ]) {
    for (const headers of jsonTypes) attempts.push(at(`body ${JSON.stringify(raw)} as ${headers['content-type']}`, raw, headers));
  }
  // Every proper prefix of a JSON object is malformed.
  const step = Math.max(1, Math.floor(text.length / 150));
  for (let cut = 1; cut < text.length; cut += step) attempts.push(at(`truncated at ${cut}`, text.slice(0, cut)));
  for (const key of UNKNOWN_KEYS) attempts.push(at(`unknown key ${JSON.stringify(key)}`, JSON.stringify({ ...endpoint.valid, [key]: 1 })));
  attempts.push(at('a __proto__ key', text.replace(/^\{/, '{"__proto__":{"admin":true},')));
  attempts.push(at('a constructor.prototype key', text.replace(/^\{/, '{"constructor":{"prototype":{"admin":true}},')));
  for (const [field, value] of Object.entries(endpoint.valid)) {
    for (const wrong of [...wrongTypes(value), ...brokenValues(field, value)]) {
      attempts.push(at(`${field} = ${JSON.stringify(wrong).slice(0, 40)}`, JSON.stringify({ ...endpoint.valid, [field]: wrong })));
    }
    attempts.push(at(`${field} nested 65 deep`, JSON.stringify({ ...endpoint.valid, [field]: 0 }).replace(`"${field}":0`, `"${field}":${nested(65)}`)));
  }
  for (const depth of [65, 200, 5_000, 40_000]) attempts.push(at(`a body ${depth} levels deep`, nested(depth)));
  attempts.push(at('a body over 100 kB', JSON.stringify({ ...endpoint.valid, padding: 'p'.repeat(110 * 1024) })));
  for (const type of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/problem+json',
    'application/jsonp',
    'json',
    '*/*',
  ]) {
    attempts.push(at(`content type ${type}`, text, { 'content-type': type }));
  }
  attempts.push(at('an empty JSON body', '', JSON_TYPE));
  if (path.includes(leadId)) {
    for (const bad of ['not-a-uuid', '123', 'null', `${leadId}x`, '%00', '..', randomUUID()])
      attempts.push(at(`lead id ${bad}`, text, JSON_TYPE, path.replace(leadId, bad)));
  }
  return attempts;
}

(kind.available ? describe : describe.skip)(`hostile input on ${kind.name}`, () => {
  let t: TestApp;
  let store: EventStore;
  beforeAll(async () => {
    t = await startTestApp(kind, { RATE_LIMIT_PER_MINUTE: '0' });
    store = t.app.get(EVENT_STORE);
  });
  afterAll(async () => t?.close());

  it('refuses ≥ 2,000 malformed requests on every command endpoint: no 5xx, none accepted, each problem+json with a code, the log unchanged', async () => {
    const created = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'Target', lastName: 'Doe' } });
    expect(created.status).toBe(201);
    const attempts = ENDPOINTS.flatMap((endpoint) => attemptsFor(endpoint, created.body.id));
    expect(attempts.length).toBeGreaterThanOrEqual(2_000);
    for (const endpoint of ENDPOINTS)
      expect({ endpoint: endpoint.name, many: attempts.filter((a) => a.what.startsWith(`${endpoint.name}: `)).length >= 100 }).toEqual({
        endpoint: endpoint.name,
        many: true,
      });
    const token = t.token('admin');
    const head = await store.headPosition();

    const wrong: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < attempts.length) {
        const attempt = attempts[next++];
        const res = await fetch(t.baseUrl + attempt.path, {
          method: attempt.method,
          headers: { ...attempt.headers, authorization: `Bearer ${token}` },
          body: attempt.body,
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        let code: unknown;
        try {
          code = (JSON.parse(text) as { code?: unknown }).code;
        } catch {
          code = undefined;
        }
        const problemJson = (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
        if (res.status < 400 || res.status >= 500 || !problemJson || typeof code !== 'string' || !code) {
          wrong.push(`${attempt.what} → ${res.status} ${res.headers.get('content-type')} ${text.slice(0, 160)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    expect(wrong).toEqual([]);
    expect(await store.headPosition()).toBe(head);
    // Each kind of refusal was reached, so the mutations test more than one gate.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400, 404, 413, 415]));
  }, 180_000);
});
