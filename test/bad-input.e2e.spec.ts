import { randomUUID } from 'node:crypto';
import { EVENT_STORE, type EventStore } from '../src/event-store/event-store.port.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';

const kinds = await testDatabaseKinds();
const valid = { topic: 'Fleet renewal', lastName: 'Doe' };

type Request = { method: string; url: (leadId: string) => string; body?: unknown; rawBody?: string; headers?: Record<string, string> };
interface Case {
  name: string;
  request: Request;
  /** The field the per-field errors must name. */
  field: string;
}

const create = (body: unknown): Request => ({ method: 'POST', url: () => '/leads', body });
const update = (body: unknown): Request => ({ method: 'PATCH', url: (id) => `/leads/${id}`, body });
const qualify = (body: unknown): Request => ({ method: 'POST', url: (id) => `/leads/${id}/qualify`, body });
const disqualify = (body: unknown): Request => ({ method: 'POST', url: (id) => `/leads/${id}/disqualify`, body });

const VALIDATION_CASES: Case[] = [
  { name: 'an unknown field on create', request: create({ ...valid, favouriteColour: 'blue' }), field: 'favouriteColour' },
  { name: 'an unknown field on update', request: update({ city: 'Paris', status: 'Qualified' }), field: 'status' },
  { name: 'an id in an update body', request: update({ id: randomUUID() }), field: 'id' },
  { name: 'an unknown field on qualify', request: qualify({ createAccount: true, createEverything: true }), field: 'createEverything' },
  { name: 'an unknown field on disqualify', request: disqualify({ statusReason: 'Lost', note: 'x' }), field: 'note' },
  { name: 'a missing topic', request: create({ lastName: 'Doe' }), field: 'topic' },
  { name: 'a missing lastName', request: create({ topic: 'x' }), field: 'lastName' },
  { name: 'an empty topic', request: create({ ...valid, topic: '' }), field: 'topic' },
  { name: 'a null topic on update', request: update({ topic: null }), field: 'topic' },
  { name: 'a null lastName on update', request: update({ lastName: null }), field: 'lastName' },
  { name: 'an empty lastName on update', request: update({ lastName: '' }), field: 'lastName' },
  { name: 'a null statusReason on update', request: update({ statusReason: null }), field: 'statusReason' },
  { name: 'a null client id', request: create({ ...valid, id: null }), field: 'id' },
  { name: 'a null createAccount on qualify', request: qualify({ createAccount: null }), field: 'createAccount' },
  { name: 'a null expectedSettingVersion on qualify', request: qualify({ expectedSettingVersion: null }), field: 'expectedSettingVersion' },
  { name: '"12" as budgetAmount', request: create({ ...valid, budgetAmount: '12' }), field: 'budgetAmount' },
  { name: 'a number as topic', request: create({ ...valid, topic: 42 }), field: 'topic' },
  { name: 'an object as city', request: create({ ...valid, city: { name: 'Paris' } }), field: 'city' },
  { name: 'an array as companyName', request: update({ companyName: ['Acme'] }), field: 'companyName' },
  { name: 'a boolean as estimatedValue', request: create({ ...valid, estimatedValue: true }), field: 'estimatedValue' },
  { name: 'a bad leadSource', request: create({ ...valid, leadSource: 'Billboard' }), field: 'leadSource' },
  { name: 'a bad rating', request: create({ ...valid, rating: 'Lukewarm' }), field: 'rating' },
  { name: 'a lower-case rating', request: update({ rating: 'hot' }), field: 'rating' },
  { name: 'a bad purchaseTimeframe', request: create({ ...valid, purchaseTimeframe: 'Someday' }), field: 'purchaseTimeframe' },
  { name: 'a closed statusReason on update', request: update({ statusReason: 'Lost' }), field: 'statusReason' },
  { name: 'a bad disqualify statusReason', request: disqualify({ statusReason: 'Qualified' }), field: 'statusReason' },
  { name: 'a missing disqualify statusReason', request: disqualify({}), field: 'statusReason' },
  { name: 'a 201-character topic', request: create({ ...valid, topic: 't'.repeat(201) }), field: 'topic' },
  { name: 'a 101-character lastName', request: create({ ...valid, lastName: 'l'.repeat(101) }), field: 'lastName' },
  { name: 'a 161-character companyName', request: update({ companyName: 'c'.repeat(161) }), field: 'companyName' },
  { name: 'a 2001-character description', request: create({ ...valid, description: 'd'.repeat(2001) }), field: 'description' },
  { name: 'an invalid email', request: create({ ...valid, email: 'not-an-email' }), field: 'email' },
  { name: 'an email without a domain', request: update({ email: 'jane@' }), field: 'email' },
  { name: 'an invalid website', request: create({ ...valid, website: 'not a url' }), field: 'website' },
  { name: 'a javascript: website', request: create({ ...valid, website: 'javascript:alert(1)' }), field: 'website' },
  { name: 'a negative budgetAmount', request: create({ ...valid, budgetAmount: -1 }), field: 'budgetAmount' },
  { name: 'a negative estimatedValue', request: update({ estimatedValue: -0.01 }), field: 'estimatedValue' },
  { name: 'a non-UUID client id', request: create({ ...valid, id: 'lead-42' }), field: 'id' },
  { name: 'a non-UUID existingAccountId', request: create({ ...valid, existingAccountId: 'acme' }), field: 'existingAccountId' },
  { name: 'a string createAccount on qualify', request: qualify({ createAccount: 'yes' }), field: 'createAccount' },
  { name: 'a negative expectedSettingVersion', request: qualify({ expectedSettingVersion: -1 }), field: 'expectedSettingVersion' },
  { name: 'a fractional expectedSettingVersion', request: qualify({ expectedSettingVersion: 1.5 }), field: 'expectedSettingVersion' },
  { name: 'a string expectedSettingVersion', request: qualify({ expectedSettingVersion: '0' }), field: 'expectedSettingVersion' },
  { name: 'a non-UUID existingContactId on qualify', request: qualify({ existingContactId: 'jane' }), field: 'existingContactId' },
  {
    name: 'an unknown field on the setting',
    request: { method: 'PUT', url: () => '/settings/qualify-lead', body: { createRecordsByDefault: true, scope: 'all' } },
    field: 'scope',
  },
];

const json = { 'content-type': 'application/json' };
const MALFORMED: { name: string; request: Request }[] = [
  { name: 'malformed JSON on create', request: { method: 'POST', url: () => '/leads', rawBody: '{"topic": "x", "lastName": ', headers: json } },
  { name: 'malformed JSON on update', request: { method: 'PATCH', url: (id) => `/leads/${id}`, rawBody: "{'city': 'Paris'}", headers: json } },
  { name: 'malformed JSON on qualify', request: { method: 'POST', url: (id) => `/leads/${id}/qualify`, rawBody: '{createAccount: true}', headers: json } },
  {
    name: 'malformed JSON on the setting',
    request: { method: 'PUT', url: () => '/settings/qualify-lead', rawBody: '{"createRecordsByDefault": tru}', headers: json },
  },
  { name: 'a JSON array instead of an object', request: create([valid]) },
  { name: 'a JSON string instead of an object', request: create('Fleet renewal') },
  { name: 'a JSON null body', request: { method: 'POST', url: () => '/leads', rawBody: 'null', headers: json } },
  {
    name: 'a __proto__ key',
    request: { method: 'POST', url: () => '/leads', rawBody: '{"topic": "x", "lastName": "Doe", "__proto__": {"admin": true}}', headers: json },
  },
];

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`bad input on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    let leadId: string;
    beforeAll(async () => {
      t = await startTestApp(kind);
      store = t.app.get(EVENT_STORE);
      leadId = randomUUID();
      const created = await t.request('POST', '/leads', { as: 'admin', body: { id: leadId, ...valid, companyName: 'Acme', city: 'Paris' } });
      expect(created.status).toBe(201);
    });
    afterAll(async () => t?.close());

    /** Sends a request that must be refused, and checks that it appended nothing. */
    async function refused(request: Request): Promise<Response> {
      const head = await store.headPosition();
      const res = await t.request(request.method, request.url(leadId), { as: 'admin', body: request.body, rawBody: request.rawBody, headers: request.headers });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toEqual(
        expect.objectContaining({
          type: expect.any(String),
          title: expect.any(String),
          status: res.status,
          detail: expect.any(String),
          code: expect.any(String),
        }),
      );
      expect(await store.headPosition()).toBe(head);
      return res;
    }

    it.each(VALIDATION_CASES)('$name: 400 VALIDATION_FAILED naming the field, nothing appended', async ({ request, field }) => {
      const res = await refused(request);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.errors).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
    });

    it('names every bad field of one request', async () => {
      const res = await refused(create({ topic: 7, lastName: 'Doe', email: 'nope', rating: 'Tepid', extra: 1 }));
      expect(res.status).toBe(400);
      expect(new Set(res.body.errors.map((e: { field: string }) => e.field))).toEqual(new Set(['topic', 'email', 'rating', 'extra']));
    });

    it.each(MALFORMED)('$name: 400 VALIDATION_FAILED with per-field errors, nothing appended', async ({ request }) => {
      const res = await refused(request);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.errors).toEqual(expect.arrayContaining([{ field: expect.any(String), message: expect.any(String) }]));
    });

    it('malformed JSON names the body as the field at fault', async () => {
      const res = await refused({ method: 'POST', url: () => '/leads', rawBody: '{"topic": ', headers: json });
      expect(res.body.errors).toEqual([{ field: 'body', message: expect.any(String) }]);
    });

    it('a body of an unsupported media type: 415, nothing appended', async () => {
      const res = await refused({
        method: 'POST',
        url: () => '/leads',
        rawBody: '<lead><topic>x</topic></lead>',
        headers: { 'content-type': 'application/xml' },
      });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    });

    it.each([
      ['create', create({ ...valid, description: 'x'.repeat(110 * 1024) })],
      ['update', update({ description: 'x'.repeat(110 * 1024) })],
      [
        'the setting',
        { method: 'PUT', url: () => '/settings/qualify-lead', body: { createRecordsByDefault: true, padding: 'x'.repeat(200 * 1024) } } as Request,
      ],
    ])('a body over 100 kB on %s: 413, nothing appended', async (_name, request) => {
      const res = await refused(request);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    });

    it('accepts a body just under 100 kB', async () => {
      const res = await t.request('POST', '/leads', { as: 'admin', body: { ...valid, description: 'x'.repeat(2000), street: 's'.repeat(250) } });
      expect(res.status).toBe(201);
    });

    it('leaves the lead as it was after every refused update', async () => {
      const events = await store.readStream(`lead-${leadId}`);
      expect(events.map((e) => e.type)).toEqual(['LeadCreated']);
      expect(events[0].data).toEqual({ leadId, ...valid, companyName: 'Acme', city: 'Paris' });
    });

    it('keeps serving afterwards', async () => {
      expect((await t.request('GET', '/health/live')).status).toBe(200);
      const id = randomUUID();
      expect((await t.request('POST', '/leads', { as: 'salesperson', body: { id, ...valid } })).status).toBe(201);
      expect((await t.request('PATCH', `/leads/${leadId}`, { as: 'salesperson', body: { city: 'Lyon' } })).status).toBe(200);
    });
  });
}
