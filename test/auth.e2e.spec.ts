import { createHmac, randomUUID } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { EVENT_STORE, type EventStore } from '../src/event-store/event-store.port.js';
import { startTestApp, TEST_JWT_SECRET, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';
import { eventually } from './support/events.js';

const kinds = await testDatabaseKinds();
const signer = new JwtService({ secret: TEST_JWT_SECRET });
/** Signs like a real issuer: with an expiry, unless the payload sets its own exp. */
const jwt = {
  sign: (payload: Record<string, unknown>, options: Record<string, unknown> = {}) =>
    signer.sign({ exp: Math.floor(Date.now() / 1000) + 3600, ...payload }, options as any),
};
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Signs a payload given as JSON text, so it can hold what JSON.stringify cannot write (1e309). */
function signRawPayload(payloadJson: string): string {
  const head = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from(payloadJson).toString('base64url')}`;
  return `${head}.${createHmac('sha256', TEST_JWT_SECRET).update(head).digest('base64url')}`;
}

function expectProblem(res: Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toEqual(expect.objectContaining({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String), code }));
}

async function retryingConflicts(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await send();
    if (attempt === 5 || res.status !== 409 || res.body.code !== 'CONCURRENCY_CONFLICT') return res;
  }
}

type Role = 'admin' | 'salesperson' | 'analyst';
type Send = (t: TestApp, auth: { as?: Role; token?: string; headers?: Record<string, string> }) => Promise<Response>;

interface Endpoint {
  name: string;
  /** The roles that may use it (docs/api.md, Authentication and roles); every other role gets 403. */
  allowed: Role[];
  success: number;
  /** Makes what the request needs (a lead in the right state) and returns how to send it. */
  prepare(t: TestApp): Promise<Send>;
}

async function createLead(t: TestApp, fields: Record<string, unknown> = {}): Promise<string> {
  const id = randomUUID();
  // A company of its own, so that duplicate detection never meets an earlier test's account.
  const res = await t.request('POST', '/leads', {
    as: 'salesperson',
    body: { id, topic: 'Auth matrix', lastName: 'Doe', companyName: `Acme ${id}`, ...fields },
  });
  expect(res.status).toBe(201);
  return id;
}

const allThree = { createAccount: true, createContact: true, createOpportunity: true };

const ENDPOINTS: Endpoint[] = [
  {
    name: 'POST /leads',
    allowed: ['admin', 'salesperson'],
    success: 201,
    prepare: async () => (t, auth) => t.request('POST', '/leads', { ...auth, body: { id: randomUUID(), topic: 'Auth matrix', lastName: 'Doe' } }),
  },
  {
    name: 'PATCH /leads/:id',
    allowed: ['admin', 'salesperson'],
    success: 200,
    prepare: async (t) => {
      const id = await createLead(t);
      return (t, auth) => t.request('PATCH', `/leads/${id}`, { ...auth, body: { topic: `Changed ${randomUUID()}` } });
    },
  },
  {
    name: 'POST /leads/:id/qualify',
    allowed: ['admin', 'salesperson'],
    success: 202,
    prepare: async (t) => {
      const id = await createLead(t);
      // All three records: valid under either value of the setting.
      return (t, auth) => t.request('POST', `/leads/${id}/qualify`, { ...auth, body: allThree });
    },
  },
  {
    name: 'POST /leads/:id/disqualify',
    allowed: ['admin', 'salesperson'],
    success: 200,
    prepare: async (t) => {
      const id = await createLead(t);
      return (t, auth) => t.request('POST', `/leads/${id}/disqualify`, { ...auth, body: { statusReason: 'Lost' } });
    },
  },
  {
    name: 'POST /leads/:id/reactivate',
    allowed: ['admin', 'salesperson'],
    success: 200,
    prepare: async (t) => {
      const id = await createLead(t);
      expect((await t.request('POST', `/leads/${id}/disqualify`, { as: 'salesperson', body: { statusReason: 'Lost' } })).status).toBe(200);
      return (t, auth) => t.request('POST', `/leads/${id}/reactivate`, auth);
    },
  },
  {
    name: 'GET /settings/qualify-lead',
    allowed: ['admin', 'salesperson', 'analyst'],
    success: 200,
    prepare: async () => (t, auth) => t.request('GET', '/settings/qualify-lead', auth),
  },
  {
    name: 'PUT /settings/qualify-lead',
    allowed: ['admin'],
    success: 200,
    prepare: async () => (t, auth) => t.request('PUT', '/settings/qualify-lead', { ...auth, body: { createRecordsByDefault: true } }),
  },
];

const MATRIX = ENDPOINTS.flatMap((endpoint) =>
  (['admin', 'salesperson', 'analyst'] as const).map((role) => ({ endpoint, role, allowed: endpoint.allowed.includes(role) })),
);

/** Tokens the service must refuse with 401, each for a different reason. */
const REFUSED_TOKENS: { reason: string; header: () => string }[] = [
  { reason: 'a scheme other than Bearer', header: () => `Basic ${Buffer.from('admin:admin').toString('base64')}` },
  { reason: 'Bearer without a token', header: () => 'Bearer ' },
  { reason: 'a token that is not a JWT', header: () => 'Bearer not-a-jwt' },
  { reason: 'a malformed header with two tokens', header: () => `Bearer ${jwt.sign({ sub: 'a', roles: ['admin'] })} extra` },
  { reason: 'an expired token', header: () => `Bearer ${jwt.sign({ sub: 'late', roles: ['admin'], exp: Math.floor(Date.now() / 1000) - 60 })}` },
  {
    reason: 'a token signed with another secret',
    header: () => `Bearer ${new JwtService({ secret: 'another-secret-0123456789-0123456789' }).sign({ sub: 'mallory', roles: ['admin'] })}`,
  },
  {
    reason: 'a token whose signature was tampered with',
    header: () =>
      `Bearer ${jwt.sign({ sub: 'mallory', roles: ['analyst'] }).replace(/\.[^.]+\.([^.]+)$/, `.${base64url({ sub: 'mallory', roles: ['admin'] })}.$1`)}`,
  },
  {
    reason: 'an unsigned token (alg none)',
    header: () =>
      `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'mallory', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 3600 })}.`,
  },
  { reason: 'a token signed with HS512 instead of HS256', header: () => `Bearer ${jwt.sign({ sub: 'mallory', roles: ['admin'] }, { algorithm: 'HS512' })}` },
  { reason: 'a token without exp (it would never expire)', header: () => `Bearer ${signer.sign({ sub: 'forever', roles: ['admin'] })}` },
  { reason: 'a token without sub', header: () => `Bearer ${jwt.sign({ roles: ['admin'] })}` },
  { reason: 'a token with an empty sub', header: () => `Bearer ${jwt.sign({ sub: '', roles: ['admin'] })}` },
  { reason: 'a token whose sub is blank', header: () => `Bearer ${jwt.sign({ sub: '   ', roles: ['admin'] })}` },
  { reason: 'a token whose exp is 1e309 (Infinity)', header: () => `Bearer ${signRawPayload('{"sub":"forever","roles":["admin"],"exp":1e309}')}` },
  {
    reason: 'a token whose exp is not a whole number',
    header: () => `Bearer ${jwt.sign({ sub: 'x', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 3600.5 })}`,
  },
  {
    reason: 'a token whose exp is a string',
    header: () => `Bearer ${signRawPayload(`{"sub":"x","roles":["admin"],"exp":"${Math.floor(Date.now() / 1000) + 3600}"}`)}`,
  },
];

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`authentication and roles on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    beforeAll(async () => {
      t = await startTestApp(kind);
      store = t.app.get(EVENT_STORE);
    });
    afterAll(async () => t?.close());

    it('answers 401 without an Authorization header, appending nothing', async () => {
      const head = await store.headPosition();
      expectProblem(await t.request('POST', '/leads', { body: { id: randomUUID(), topic: 'No token', lastName: 'Doe' } }), 401, 'UNAUTHORIZED');
      expect(await store.headPosition()).toBe(head);
    });

    it('accepts a token signed by signRawPayload when its claims are sound (so the refusals below are about the claims)', async () => {
      const token = signRawPayload(`{"sub":"raw","roles":["analyst"],"exp":${Math.floor(Date.now() / 1000) + 3600}}`);
      expect((await t.request('GET', '/settings/qualify-lead', { token })).status).toBe(200);
    });

    it.each(REFUSED_TOKENS)('answers 401 to $reason, appending nothing', async ({ header }) => {
      const head = await store.headPosition();
      const res = await t.request('POST', '/leads', { headers: { authorization: header() }, body: { id: randomUUID(), topic: 'Bad token', lastName: 'Doe' } });
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(await store.headPosition()).toBe(head);
    });

    it('answers 403 to a valid token without any role', async () => {
      expectProblem(await t.request('GET', '/settings/qualify-lead', { token: t.token([]) }), 403, 'FORBIDDEN');
    });

    it('answers 403 to a valid token with an unknown role', async () => {
      expectProblem(await t.request('POST', '/leads', { token: t.token('guest'), body: { topic: 'Guest', lastName: 'Doe' } }), 403, 'FORBIDDEN');
    });

    it('answers 403 when roles is not an array', async () => {
      const token = jwt.sign({ sub: 'stringly', roles: 'admin' });
      expectProblem(await t.request('GET', '/settings/qualify-lead', { token }), 403, 'FORBIDDEN');
    });

    it.each(ENDPOINTS)('$name answers 401 without a token', async (endpoint) => {
      const send = await endpoint.prepare(t);
      const head = await store.headPosition();
      expectProblem(await send(t, {}), 401, 'UNAUTHORIZED');
      expect(await store.headPosition()).toBe(head);
    });

    it.each(MATRIX.filter((c) => !c.allowed))('$endpoint.name refuses $role with 403, appending nothing', async ({ endpoint, role }) => {
      const send = await endpoint.prepare(t);
      const head = await store.headPosition();
      expectProblem(await send(t, { as: role }), 403, 'FORBIDDEN');
      expect(await store.headPosition()).toBe(head);
    });

    it.each(MATRIX.filter((c) => c.allowed))('$endpoint.name lets $role through', async ({ endpoint, role }) => {
      const send = await endpoint.prepare(t);
      const res = await send(t, { as: role });
      expect({ status: res.status, body: res.body }).toEqual({ status: endpoint.success, body: expect.anything() });
    });

    it.each(['/health/live', '/health/ready', '/docs-json'])('%s needs no token', async (path) => {
      // Readiness waits for the processors to start; what matters here is that no token is asked for.
      await eventually(async () => (await t.request('GET', path)).status === 200, `GET ${path} without a token to answer 200`);
    });

    it('a public route ignores a bad token instead of refusing it', async () => {
      expect((await t.request('GET', '/health/live', { headers: { authorization: 'Bearer not-a-jwt' } })).status).toBe(200);
    });

    it("stamps every event with the token's sub, the X-Correlation-Id sent and a causation id", async () => {
      const sub = `alice-${randomUUID()}`;
      const correlationId = `corr-${randomUUID()}`;
      const as = { token: t.token('salesperson', sub), headers: { 'x-correlation-id': correlationId } };
      const id = randomUUID();
      const after = await store.headPosition();

      const created = await t.request('POST', '/leads', { ...as, body: { id, topic: 'Metadata', lastName: 'Doe', companyName: `Acme ${id}` } });
      expect(created.headers['x-correlation-id']).toBe(correlationId);
      await t.request('PATCH', `/leads/${id}`, { ...as, body: { city: 'Lyon' } });
      await t.request('POST', `/leads/${id}/qualify`, { ...as, body: allThree });
      // After a qualification the conversion saga appends to the lead too: retry a lost race like any client.
      await retryingConflicts(() => t.request('POST', `/leads/${id}/reactivate`, as));
      await retryingConflicts(() => t.request('POST', `/leads/${id}/disqualify`, { ...as, body: { statusReason: 'Canceled' } }));

      const events = (await store.readAll(after, 10_000)).filter((e) => e.streamId === `lead-${id}` && !e.type.startsWith('LeadConversion'));
      expect(events.map((e) => e.type)).toEqual(['LeadCreated', 'LeadUpdated', 'LeadQualified', 'LeadReactivated', 'LeadDisqualified']);
      for (const event of events) {
        expect(event.metadata).toEqual(expect.objectContaining({ userId: sub, correlationId, causationId: expect.any(String), at: expect.any(String) }));
        expect(event.metadata.causationId).not.toBe('');
      }
    });

    it('stamps the setting change with the admin as userId and the X-Correlation-Id sent', async () => {
      const sub = `root-${randomUUID()}`;
      const correlationId = `corr-${randomUUID()}`;
      const current = (await t.request('GET', '/settings/qualify-lead', { as: 'admin' })).body.createRecordsByDefault as boolean;
      const res = await t.request('PUT', '/settings/qualify-lead', {
        token: t.token('admin', sub),
        headers: { 'x-correlation-id': correlationId },
        body: { createRecordsByDefault: !current },
      });
      expect(res.status).toBe(200);
      const last = (await store.readStream('settings-qualify-lead')).at(-1)!;
      expect(last.type).toBe('QualifyLeadSettingUpdated');
      expect(last.metadata).toEqual(expect.objectContaining({ userId: sub, correlationId, causationId: expect.any(String) }));
    });

    it('gives a request without X-Correlation-Id its own correlation id, echoed in the response', async () => {
      const id = randomUUID();
      const res = await t.request('POST', '/leads', { as: 'salesperson', body: { id, topic: 'No correlation header', lastName: 'Doe' } });
      expect(res.status).toBe(201);
      const [created] = await store.readStream(`lead-${id}`);
      expect(created.metadata.correlationId).toEqual(expect.any(String));
      expect(created.metadata.correlationId).not.toBe('');
      expect(res.headers['x-correlation-id']).toBe(created.metadata.correlationId);
    });

    it('answers every kind of error as application/problem+json with type, title, status, detail and code', async () => {
      const open = await createLead(t);
      const noCompany = await createLead(t, { companyName: null });
      await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault: false } });
      const errors: [Promise<Response>, number, string][] = [
        [t.request('POST', '/leads', { as: 'salesperson', body: { topic: 5, lastName: 'Doe' } }), 400, 'VALIDATION_FAILED'],
        [t.request('POST', `/leads/${open}/qualify`, { as: 'salesperson', body: {} }), 400, 'RECORD_SELECTION_REQUIRED'],
        [t.request('POST', '/leads', {}), 401, 'UNAUTHORIZED'],
        [t.request('POST', '/leads', { as: 'analyst', body: { topic: 'x', lastName: 'Doe' } }), 403, 'FORBIDDEN'],
        [t.request('PATCH', `/leads/${randomUUID()}`, { as: 'salesperson', body: { topic: 'x' } }), 404, 'NOT_FOUND'],
        [t.request('POST', '/leads', { as: 'salesperson', body: { id: open, topic: 'x', lastName: 'Doe' } }), 409, 'LEAD_EXISTS'],
        [t.request('POST', `/leads/${open}/reactivate`, { as: 'salesperson' }), 409, 'LEAD_ALREADY_OPEN'],
        [t.request('PATCH', `/leads/${open}`, { as: 'salesperson', headers: { 'if-match': '7' }, body: { topic: 'x' } }), 412, 'VERSION_MISMATCH'],
        [t.request('POST', `/leads/${noCompany}/qualify`, { as: 'salesperson', body: allThree }), 422, 'COMPANY_NAME_REQUIRED'],
      ];
      for (const [pending, status, code] of errors) expectProblem(await pending, status, code);
      await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault: true } });
    });
  });
}
