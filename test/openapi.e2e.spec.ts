import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';
import { eventually } from './support/events.js';
import { aFullLead } from './support/fixtures.js';
import { operations, ResponseValidator } from './support/openapi.js';

/**
 * The OpenAPI document (/docs-json) against the service: it passes Redocly's recommended rules,
 * TypeScript types generated from it type-check a small client that then runs against the
 * service, and the real answers of every read (and of the commands that make the data) match
 * their schemas, checked by ajv in strict mode with closed objects.
 */
const kinds = await testDatabaseKinds();
const ROOT = resolve('.');

type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

function eachOperation(document: Json): [string, Json][] {
  return Object.entries(document.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as [string, Json]),
  );
}

/** Every schema object in a document (components and inline), with where it is. */
function eachSchema(node: unknown, at: string, found: [string, Json][] = []): [string, Json][] {
  if (Array.isArray(node)) node.forEach((n, i) => eachSchema(n, `${at}/${i}`, found));
  else if (node && typeof node === 'object') {
    const object = node as Json;
    if (typeof object.type === 'string' || object.$ref || object.allOf || object.oneOf) found.push([at, object]);
    for (const [key, value] of Object.entries(object)) if (key !== 'example' && key !== 'examples') eachSchema(value, `${at}/${key}`, found);
  }
  return found;
}

describe('the OpenAPI document', () => {
  let t: TestApp;
  let document: Json;
  beforeAll(async () => {
    t = await startTestApp(kinds[0]);
    document = (await t.request('GET', '/docs-json')).body;
  });
  afterAll(async () => t?.close());

  it('gives every operation a success answer with a schema, and problem+json answers with ProblemDetails', () => {
    const missing: string[] = [];
    for (const [name, operation] of eachOperation(document)) {
      const successes = Object.entries(operation.responses as Json).filter(([status]) => status.startsWith('2'));
      if (
        !successes.length ||
        successes.some(([, r]) => !Object.values((r as Json).content ?? {}).length || Object.values((r as Json).content).some((m: any) => !m.schema))
      ) {
        missing.push(`${name}: success`);
      }
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        if (/^[45]/.test(status) && (response as Json).content?.['application/problem+json']?.schema?.$ref !== '#/components/schemas/ProblemDetails') {
          missing.push(`${name}: ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(document.components.schemas.ProblemDetails.required).toEqual(['type', 'title', 'status', 'detail', 'code']);
  });

  it('names the answers', () => {
    const json = (path: string, method: string, status: number) =>
      document.paths[path][method].responses[status].content['application/json'].schema.$ref?.replace('#/components/schemas/', '');
    expect({
      lead: json('/leads/{id}', 'get', 200),
      history: json('/leads/{id}/history', 'get', 200),
      account: json('/accounts/{id}', 'get', 200),
      contact: json('/contacts/{id}', 'get', 200),
      opportunity: json('/opportunities/{id}', 'get', 200),
      setting: json('/settings/qualify-lead', 'get', 200),
      bulk: json('/leads/qualify', 'post', 200),
    }).toEqual({
      lead: 'Lead',
      history: 'LeadHistory',
      account: 'Account',
      contact: 'Contact',
      opportunity: 'Opportunity',
      setting: 'Setting',
      bulk: 'BulkResult',
    });
    const items = (schema: string) => document.components.schemas[schema].properties.items.items.$ref;
    expect([items('SettingHistory'), items('AnalyticsReport'), items('ProjectionList'), items('LeadPage')]).toEqual(
      ['SettingChange', 'AnalyticsRow', 'Projection', 'Lead'].map((name) => `#/components/schemas/${name}`),
    );
    for (const path of ['/leads', '/accounts', '/contacts', '/opportunities', '/analytics/qualifications']) {
      expect(Object.keys(document.paths[path].get.responses['200'].content)).toEqual(['application/json', 'text/csv']);
    }
  });

  it('documents response headers as response headers, not as request parameters', () => {
    const headerParameters = eachOperation(document).flatMap(([name, op]) =>
      ((op.parameters ?? []) as Json[]).filter((p) => p.in === 'header').map((p) => `${name}: ${p.name}`),
    );
    expect(headerParameters.filter((p) => !/: (If-Match|Prefer|accept)$/.test(p))).toEqual([]);
    const headers = (path: string, method: string, status: number | string) => Object.keys(document.paths[path][method].responses[status].headers ?? {}).sort();
    expect(headers('/leads/{id}', 'get', 200)).toEqual(['ETag', 'X-Projection-Position']);
    expect(headers('/leads', 'get', 200)).toEqual(['Content-Disposition', 'X-Projection-Position']);
    expect(headers('/leads/{id}/qualify', 'post', 202)).toEqual(['Location', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
    expect(headers('/settings/qualify-lead', 'put', 200)).toEqual(['ETag', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
    expect(headers('/leads', 'post', 429)).toEqual(['Retry-After', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
    expect(headers('/accounts', 'get', 503)).toEqual(['Retry-After']);
  });

  it('closes every object schema and lists its required members', () => {
    const open = eachSchema(document, '#')
      // Closed, or a map whose values have a schema (the processors' states).
      .filter(([, s]) => s.type === 'object' && s.properties && (s.additionalProperties === undefined || s.additionalProperties === true))
      .map(([at]) => at);
    expect(open).toEqual([]);
    for (const [name, schema] of Object.entries(document.components.schemas as Json)) {
      if (!Object.keys(schema.properties ?? {}).length) continue;
      // A member every answer has is listed; bodies whose members are all optional list none.
      if (!['QualifyLeadDto', 'ReactivateLeadDto', 'UpdateLeadDto', 'ReadinessChecks'].includes(name))
        expect({ name, required: Array.isArray(schema.required) }).toEqual({ name, required: true });
    }
    // Nullable members say what they are when not null (OpenAPI 3.0: nullable beside a type).
    const untyped = eachSchema(document, '#')
      .filter(([, s]) => s.nullable && !s.type)
      .map(([at]) => at);
    expect(untyped).toEqual([]);
  });

  it('gives the command bodies examples', () => {
    const example = (schema: string) =>
      Object.fromEntries(
        Object.entries(document.components.schemas[schema].properties as Json)
          .filter(([, p]) => p.example !== undefined)
          .map(([k, p]) => [k, p.example]),
      );
    expect(example('CreateLeadDto')).toMatchObject({ topic: expect.any(String), lastName: expect.any(String), email: expect.any(String) });
    expect(example('QualifyLeadDto')).toMatchObject({ createAccount: true, expectedSettingVersion: 0 });
    expect(example('BulkQualifyLeadsDto').leadIds).toHaveLength(2);
    expect(Object.keys(example('DisqualifyLeadDto'))).toEqual(['statusReason']);
    expect(Object.keys(example('UpdateSettingDto'))).toEqual(['createRecordsByDefault']);
  });

  it("passes Redocly's recommended rules (redocly.yaml) without an error", () => {
    const dir = mkdtempSync(join(ROOT, '.test-dist-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(document));
      const run = spawnSync(
        process.execPath,
        [join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format=json'],
        {
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NODE_OPTIONS: '' },
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
      const problems = (report.problems as Json[]).map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location?.[0]?.pointer})`);
      expect({ errors: report.totals.errors, problems }).toEqual({ errors: 0, problems: [] });
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('generates TypeScript types that type-check a client, which then runs against the service: create → qualify → read the records', async () => {
    const dir = mkdtempSync(join(ROOT, '.test-dist-openapi-'));
    try {
      writeFileSync(join(dir, 'openapi.d.ts'), astToString(await openapiTS(document as any, { silent: true })));
      writeFileSync(join(dir, 'client.ts'), TYPED_CLIENT);
      const program = ts.createProgram([join(dir, 'client.ts')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
        types: [],
        skipLibCheck: true,
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((d) => `${d.file?.fileName.slice(dir.length + 1) ?? ''} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      expect(diagnostics).toEqual([]);

      const js = ts.transpileModule(TYPED_CLIENT, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
      writeFileSync(join(dir, 'client.mjs'), js);
      const client = await import(pathToFileURL(join(dir, 'client.mjs')).href);
      const result = await client.convert(t.baseUrl, t.token('salesperson'));
      expect(result.lead.qualification).toMatchObject({ conversion: 'completed', decidedBy: 'setting' });
      expect(result.account).toMatchObject({ id: result.lead.qualification.accountId, name: 'Typed Engines Ltd', originatingLeadId: result.lead.id });
      expect(result.contact).toMatchObject({ id: result.lead.qualification.contactId, lastName: 'Hopper', parentAccountId: result.account.id });
      expect(result.opportunity).toMatchObject({ id: result.lead.qualification.opportunityId, name: 'Typed client', customerId: result.account.id });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the rate limit as documented', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kinds[0], { RATE_LIMIT_PER_MINUTE: '1' });
  });
  afterAll(async () => t?.close());

  it('answers a command past the limit 429 with the documented problem and headers', async () => {
    const v = new ResponseValidator((await t.request('GET', '/docs-json')).body);
    const body = { topic: 'Limited', lastName: 'L' };
    // One token for both: the limit is keyed by it, and a token minted per request changes when
    // the two straddle a second (its iat), which made this pass as 201 now and then.
    const token = t.token('salesperson');
    v.check('POST', '/leads', await t.request('POST', '/leads', { token, body }));
    const refused = await t.request('POST', '/leads', { token, body });
    expect(refused.status).toBe(429);
    v.check('POST', '/leads', refused);
  });
});

/**
 * A client typed by the generated `paths` (openapi-fetch): every path, parameter, body and answer
 * it uses must exist in the document with the types it assumes.
 */
const TYPED_CLIENT = `
import createClient from 'openapi-fetch';
import type { components, paths } from './openapi.js';

type Lead = components['schemas']['Lead'];
type Account = components['schemas']['Account'];
type Contact = components['schemas']['Contact'];
type Opportunity = components['schemas']['Opportunity'];

function must<T>(answer: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (answer.data === undefined) throw new Error(what + ': ' + answer.response.status + ' ' + JSON.stringify(answer.error));
  return answer.data;
}

export async function convert(baseUrl: string, token: string): Promise<{ lead: Lead; account: Account; contact: Contact; opportunity: Opportunity }> {
  const api = createClient<paths, 'application/json'>({ baseUrl, headers: { authorization: 'Bearer ' + token } });
  const setting = must(await api.GET('/settings/qualify-lead'), 'setting');
  if (!setting.createRecordsByDefault) throw new Error('the setting should create the records');
  const created = must(
    await api.POST('/leads', { body: { topic: 'Typed client', firstName: 'Grace', lastName: 'Hopper', companyName: 'Typed Engines Ltd', email: 'grace@typed.example', budgetAmount: 1000 } }),
    'create',
  );
  const id: string = created.id;
  const version: number = created.version;
  const qualified = must(await api.POST('/leads/{id}/qualify', { params: { path: { id } }, body: { expectedSettingVersion: setting.version } }), 'qualify');
  const planned: 'create' | 'existing' | 'none' = qualified.plan.account.action;
  let lead: Lead | undefined;
  for (let i = 0; i < 400 && lead?.qualification?.conversion !== 'completed'; i++) {
    if (i) await new Promise((r) => setTimeout(r, 25));
    lead = must(await api.GET('/leads/{id}', { params: { path: { id }, query: { minPosition: qualified.position } } }), 'read the lead');
  }
  if (!lead?.qualification || lead.qualification.conversion !== 'completed' || lead.version <= version || planned !== 'create') throw new Error('the conversion did not complete');
  // @ts-expect-error: a lead has no such member, and the types know it (they are not any).
  void lead.noSuchMember;
  const records = { query: { originatingLeadId: id } };
  const [accounts, contacts, opportunities] = await Promise.all([api.GET('/accounts', { params: records }), api.GET('/contacts', { params: records }), api.GET('/opportunities', { params: records })]);
  const account = must(accounts, 'accounts').items[0];
  const contact = must(contacts, 'contacts').items[0];
  const opportunity = must(opportunities, 'opportunities').items[0];
  const one = must(await api.GET('/accounts/{id}', { params: { path: { id: account.id } } }), 'account');
  const name: string = one.name;
  const budget: number | null = opportunity.budgetAmount;
  if (name !== account.name || budget !== 1000) throw new Error('the records do not read back');
  return { lead, account, contact, opportunity };
}
`;

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`real answers match the OpenAPI schemas on ${kind.name}`, () => {
    let t: TestApp;
    let v: ResponseValidator;
    beforeAll(async () => {
      t = await startTestApp(kind);
      v = new ResponseValidator((await t.request('GET', '/docs-json')).body);
    });
    afterAll(async () => t?.close());

    /** Sends a request to `template` (with `{id}`/`{name}` filled in) and checks the answer against the document. */
    async function call(
      method: string,
      template: string,
      options: { as?: string; body?: unknown; path?: string; query?: string; headers?: Record<string, string>; optionalHeaders?: string[] } = {},
    ): Promise<Response> {
      const url = template.replace(/\{(id|name)\}/, options.path ?? '') + (options.query ? `?${options.query}` : '');
      const res = await t.request(method, url, { as: options.as ?? 'salesperson', body: options.body, headers: options.headers });
      v.check(method, template, res, options.optionalHeaders);
      return res;
    }
    const json = { optionalHeaders: ['Content-Disposition'] };

    it('for every read, the commands that make the data, and problems', async () => {
      // The setting, changed twice: No to qualify with the salesperson's choice, then Yes again.
      expect((await call('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault: false } })).status).toBe(200);
      const full = await call('POST', '/leads', { body: aFullLead({ email: `jane-${randomUUID()}@acme.example`, companyName: `Acme ${randomUUID()}` }) });
      const bare = await call('POST', '/leads', { body: { topic: 'Bare', lastName: 'Minimal' } });
      const dropped = await call('POST', '/leads', { body: { topic: 'Dropped', lastName: 'Gone', companyName: 'Gone Ltd' } });
      const email = `waiting-${randomUUID()}@example.com`;
      const open = await call('POST', '/leads', { body: { topic: 'Open', lastName: 'Waiting', email } });
      expect([full, bare, dropped, open].map((r) => r.status)).toEqual([201, 201, 201, 201]);
      expect(
        (await call('PATCH', '/leads/{id}', { path: open.body.id, body: { jobTitle: 'Buyer', statusReason: 'Contacted' }, headers: { 'if-match': '0' } }))
          .status,
      ).toBe(200);
      const chosen = await call('POST', '/leads/{id}/qualify', {
        path: full.body.id,
        body: { createAccount: true, createContact: true, createOpportunity: true },
      });
      expect(chosen.body.decidedBy).toBe('salesperson');
      expect((await call('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault: true } })).status).toBe(200);
      const bulk = await call('POST', '/leads/qualify', { body: { leadIds: [bare.body.id, full.body.id] }, optionalHeaders: ['Preference-Applied'] });
      expect(bulk.body.results.map((r: Json) => [r.status, r.code])).toEqual([
        [202, undefined],
        [409, 'LEAD_NOT_OPEN'],
      ]);
      expect((await call('POST', '/leads/{id}/disqualify', { path: dropped.body.id, body: { statusReason: 'Lost' } })).status).toBe(200);
      // Qualify and wait for the conversion (Prefer: wait): 200 with its outcome, or 202 if it takes longer.
      const waited = await call('POST', '/leads', { body: { topic: 'Waited', lastName: 'Patient', companyName: `Patient ${randomUUID()}` } });
      expect([200, 202]).toContain((await call('POST', '/leads/{id}/qualify', { path: waited.body.id, headers: { prefer: 'wait=10' } })).status);
      const bulkWaited = await call('POST', '/leads', { body: { topic: 'Bulk waited', lastName: 'Patient' } });
      const bulkOutcome = await call('POST', '/leads/qualify', { body: { leadIds: [bulkWaited.body.id] }, headers: { prefer: 'wait=10' } });
      expect([200, 202]).toContain(bulkOutcome.body.results[0].status);
      // Problems, each with its extras.
      expect((await call('POST', '/leads/{id}/qualify', { path: full.body.id })).body).toMatchObject({ code: 'LEAD_NOT_OPEN', leadStatus: 'Qualified' });
      expect((await call('POST', '/leads', { body: { topic: 'Twin', lastName: 'Waiting', email } })).body).toMatchObject({ code: 'DUPLICATES_FOUND' });
      expect((await call('PATCH', '/leads/{id}', { path: open.body.id, body: { city: 'Lyon' }, headers: { 'if-match': '0' } })).body).toMatchObject({
        code: 'VERSION_MISMATCH',
        currentVersion: 1,
      });
      expect((await call('POST', '/leads', { body: { topic: 'Linked', lastName: 'L', existingAccountId: randomUUID() } })).body).toMatchObject({
        code: 'RECORD_NOT_FOUND',
        field: 'existingAccountId',
      });
      expect((await call('POST', '/leads/{id}/reactivate', { path: open.body.id })).body).toMatchObject({ code: 'LEAD_ALREADY_OPEN' });
      expect((await call('GET', '/leads', { query: 'limit=0' })).body.errors).toHaveLength(1);
      expect((await call('GET', '/leads/{id}', { path: randomUUID() })).status).toBe(404);
      expect((await call('GET', '/accounts', { as: 'nobody' })).status).toBe(403);
      expect((await call('GET', '/settings/qualify-lead/as-of', { query: 'at=yesterday' })).status).toBe(400);

      // The conversions complete (the saga), so every read has records to show.
      const last = bulk.body.results[0].position;
      for (const id of [full.body.id, bare.body.id]) {
        await eventually(
          async () => (await t.request('GET', `/leads/${id}?minPosition=${last}`, { as: 'analyst' })).body.qualification?.conversion === 'completed',
          'conversion',
        );
      }

      // Every read.
      const leads = await call('GET', '/leads', { ...json, query: `minPosition=${last}` });
      expect(leads.body.items.length).toBeGreaterThanOrEqual(4);
      expect((await call('GET', '/leads', { ...json, query: 'status=Qualified&limit=1' })).body.nextCursor).toEqual(expect.any(String));
      expect((await call('GET', '/leads', { query: 'format=csv' })).headers['content-type']).toMatch(/^text\/csv/);
      for (const lead of [full, bare, dropped, open]) await call('GET', '/leads/{id}', { path: lead.body.id });
      await call('GET', '/leads/{id}/history', { path: full.body.id });
      await call('GET', '/settings/qualify-lead');
      await call('GET', '/settings/qualify-lead/history', { query: `minPosition=${last}` });
      await call('GET', '/settings/qualify-lead/as-of', { query: `at=${new Date().toISOString()}` });
      await call('GET', '/settings/qualify-lead/as-of', { query: 'at=2000-01-01T00:00:00Z' });
      for (const table of ['accounts', 'contacts', 'opportunities']) {
        const list = await call('GET', `/${table}`, { ...json, query: `minPosition=${last}` });
        expect(list.body.items.length).toBeGreaterThan(0);
        await call('GET', `/${table}`, { ...json, query: `originatingLeadId=${full.body.id}` });
        await call('GET', `/${table}`, { query: 'format=csv' });
        for (const item of list.body.items) await call('GET', `/${table}/{id}`, { path: item.id });
      }
      for (const groupBy of ['day', 'week', 'month', 'leadSource', 'settingVersion', 'decidedBy']) {
        await call('GET', '/analytics/qualifications', { ...json, query: `groupBy=${groupBy}&minPosition=${last}` });
      }
      await call('GET', '/analytics/qualifications', { query: 'format=csv' });
      await call('GET', '/projections');
      await call('GET', '/health/live');
      await eventually(async () => (await t.request('GET', '/health/ready')).status === 200, 'readiness');
      await call('GET', '/health/ready');

      // A rebuild, and a read while it may still run (200 or 503 PROJECTION_REBUILDING: both documented).
      expect((await call('POST', '/projections/{name}/rebuild', { as: 'admin', path: 'qualification-analytics' })).status).toBe(202);
      expect((await call('POST', '/projections/{name}/rebuild', { as: 'admin', path: 'lead-conversion' })).body.code).toBe('NOT_REBUILDABLE');
      await call('GET', '/analytics/qualifications', json);

      // Every read of the document was answered with success at least once.
      const unchecked = operations(v.document).filter((op) => op.startsWith('GET ') && ![...(v.checked.get(op) ?? [])].some((s) => s < 300));
      expect(unchecked).toEqual([]);
    }, 60_000);
  });
}
