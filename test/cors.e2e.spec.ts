import { randomUUID } from 'node:crypto';
import { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS, CORS_MAX_AGE_SECONDS } from '../src/http/cors.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';

// CORS is HTTP only, whatever the database: the embedded default. The browser's side of it is
// test/cors.browser.spec.ts; this one checks the headers themselves.
const [kind] = await testDatabaseKinds();

const ALLOWED = 'http://app.example.test:5173';
const OTHER_ALLOWED = 'https://admin.example.test';
const NOT_ALLOWED = 'http://evil.example.test:5173';
const RATE_LIMIT = 3;

/** The access-control-* headers of an answer (none is what a disallowed origin must get). */
const corsHeaders = (res: Response) => Object.fromEntries(Object.entries(res.headers).filter(([name]) => name.startsWith('access-control-')));
const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);

const preflight = (t: TestApp, path: string, origin: string, method = 'POST', headers = 'authorization,content-type,if-match,prefer,x-correlation-id') =>
  t.request('OPTIONS', path, { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });

const lead = () => ({ id: randomUUID(), topic: 'CORS', lastName: 'Browser' });

(kind.available ? describe : describe.skip)('CORS with CORS_ORIGINS set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { CORS_ORIGINS: `${ALLOWED}, ${OTHER_ALLOWED}`, RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) });
  });
  afterAll(async () => t?.close());

  it('answers a preflight from an allowed origin with 204, the allowed methods and headers and a max-age, without a token', async () => {
    const res = await preflight(t, '/leads', ALLOWED);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(list(res.headers['access-control-allow-methods'])).toEqual(expect.arrayContaining(['get', 'post', 'put', 'patch']));
    expect(list(res.headers['access-control-allow-headers'])).toEqual(CORS_ALLOWED_HEADERS.map((h) => h.toLowerCase()));
    expect(res.headers['access-control-max-age']).toBe(String(CORS_MAX_AGE_SECONDS));
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(list(res.headers.vary)).toContain('origin');
    // Answered before the rate limiter: not counted.
    expect(res.headers['x-ratelimit-remaining']).toBeUndefined();
  });

  it('answers preflights for every origin in the list and every route, a PATCH one included', async () => {
    const res = await preflight(t, `/leads/${randomUUID()}`, OTHER_ALLOWED, 'PATCH', 'authorization,content-type,if-match');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(OTHER_ALLOWED);
    expect(list(res.headers['access-control-allow-methods'])).toContain('patch');
  });

  it('does not rate-limit preflights, nor count them against the commands', async () => {
    const token = t.token('salesperson', 'preflight-counter');
    for (let i = 0; i < RATE_LIMIT * 3; i++) {
      const res = await t.request('OPTIONS', '/leads', {
        headers: { origin: ALLOWED, 'access-control-request-method': 'POST', authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(204);
    }
    const created = await t.request('POST', '/leads', { token, body: lead(), headers: { origin: ALLOWED } });
    expect(created.status).toBe(201);
    expect(created.headers['x-ratelimit-remaining']).toBe(String(RATE_LIMIT - 1));
  });

  it('gives a preflight from another origin no CORS header (the browser then blocks the request)', async () => {
    const res = await preflight(t, '/leads', NOT_ALLOWED);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(corsHeaders(res)).toEqual({});
  });

  it('lets an allowed origin read GET and POST answers and the exposed headers', async () => {
    const correlationId = `cors-${randomUUID()}`;
    const created = await t.request('POST', '/leads', { as: 'salesperson', body: lead(), headers: { origin: ALLOWED, 'x-correlation-id': correlationId } });
    expect(created.status).toBe(201);
    expect(created.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(list(created.headers['access-control-expose-headers'])).toEqual(CORS_EXPOSED_HEADERS.map((h) => h.toLowerCase()));
    expect(list(created.headers['access-control-expose-headers'])).toEqual(
      expect.arrayContaining(['x-projection-position', 'etag', 'location', 'x-correlation-id', 'preference-applied', 'x-ratelimit-remaining', 'retry-after']),
    );
    expect(created.headers['x-correlation-id']).toBe(correlationId);
    expect(list(created.headers.vary)).toContain('origin');

    const read = await t.request('GET', `/leads?minPosition=${created.body.position}`, { as: 'analyst', headers: { origin: ALLOWED } });
    expect(read.status).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(list(read.headers['access-control-expose-headers'])).toContain('x-projection-position');
    expect(read.headers['x-projection-position']).toMatch(/^\d+$/);
  });

  it('lets an allowed origin read error answers too (401 without a token, 429 over the limit)', async () => {
    const unauthorized = await t.request('GET', '/leads', { headers: { origin: ALLOWED } });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(unauthorized.headers['content-type']).toMatch(/^application\/problem\+json/);

    const token = t.token('salesperson', 'rate-limited-page');
    let last: Response | undefined;
    for (let i = 0; i <= RATE_LIMIT; i++) last = await t.request('POST', '/leads', { token, body: lead(), headers: { origin: ALLOWED } });
    expect(last!.status).toBe(429);
    expect(last!.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(last!.headers['retry-after']).toMatch(/^\d+$/);
    expect(list(last!.headers['access-control-expose-headers'])).toContain('retry-after');
  });

  it('answers another origin, or a request without Origin, without any CORS header', async () => {
    const other = await t.request('GET', '/leads', { as: 'analyst', headers: { origin: NOT_ALLOWED } });
    expect(other.status).toBe(200);
    expect(corsHeaders(other)).toEqual({});
    const sameOrigin = await t.request('GET', '/leads', { as: 'analyst' });
    expect(sameOrigin.status).toBe(200);
    expect(corsHeaders(sameOrigin)).toEqual({});
    // Origins are compared exactly, as browsers send them.
    const lookalike = await t.request('GET', '/health/live', { headers: { origin: `${ALLOWED}.evil.test` } });
    expect(corsHeaders(lookalike)).toEqual({});
  });

  it('still refuses a malformed preflight from an allowed origin (no Access-Control-Request-Method)', async () => {
    const res = await t.request('OPTIONS', '/leads', { headers: { origin: ALLOWED } });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

(kind.available ? describe : describe.skip)('CORS without CORS_ORIGINS (the default: same-origin only)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t?.close());

  it('answers no preflight and sends no CORS header to any origin', async () => {
    const pre = await preflight(t, '/leads', ALLOWED);
    expect(pre.status).toBe(404);
    expect(corsHeaders(pre)).toEqual({});
    const read = await t.request('GET', '/leads', { as: 'analyst', headers: { origin: ALLOWED } });
    expect(read.status).toBe(200);
    expect(corsHeaders(read)).toEqual({});
    expect(list(read.headers.vary)).not.toContain('origin');
    const created = await t.request('POST', '/leads', { as: 'salesperson', body: lead(), headers: { origin: ALLOWED } });
    expect(created.status).toBe(201);
    expect(corsHeaders(created)).toEqual({});
  });
});
