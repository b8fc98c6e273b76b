import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { EVENT_STORE, type EventStore } from '../src/event-store/event-store.port.js';
import { jsonDepthExceeds } from '../src/http/json-body.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';

// What a hostile or broken client can send does not depend on the database: the embedded default.
const [kind] = await testDatabaseKinds();

function expectProblem(res: Response, status: number, code: string): void {
  expect({ status: res.status, type: res.headers['content-type'], code: res.body?.code }).toEqual({
    status,
    type: expect.stringMatching(/^application\/problem\+json/),
    code,
  });
}

const json = { 'content-type': 'application/json' };
const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

/** What a raw socket receives until the server closes it (or `until` says enough). */
function rawExchange(port: number, send: (socket: Socket) => void): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('connect', () => send(socket));
    socket.on('data', (d) => (text += d.toString('utf8')));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.on('close', () => resolve({ text, closed: true }));
  });
}

function parseRawResponse(text: string): { status: number; headers: Record<string, string>; body: any } {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(rest.join('\r\n\r\n')) };
}

describe('jsonDepthExceeds', () => {
  it.each([
    ['64 levels of arrays', nested(64), false],
    ['65 levels of arrays', nested(65), true],
    ['65 levels of objects', '{"a":'.repeat(65) + '1' + '}'.repeat(65), true],
    ['brackets inside a string', JSON.stringify({ topic: '['.repeat(500) }), false],
    ['an escaped quote before brackets inside a string', JSON.stringify({ topic: '\\"' + '['.repeat(500) }), false],
    ['an escaped backslash closing a string, then deep nesting', `{"a":"\\\\",` + '"b":' + nested(65) + '}', true],
  ])('%s: %s', (_what, text, exceeds) => {
    expect(jsonDepthExceeds(text)).toBe(exceeds);
  });
});

(kind.available ? describe : describe.skip)(`hostile requests on ${kind.name}`, () => {
  let t: TestApp;
  let store: EventStore;
  let port: number;
  let openLead: string;
  beforeAll(async () => {
    t = await startTestApp(kind);
    store = t.app.get(EVENT_STORE);
    port = Number(new URL(t.baseUrl).port);
    const created = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'Target', lastName: 'Doe' } });
    expect(created.status).toBe(201);
    openLead = created.body.id;
  });
  afterAll(async () => t?.close());

  /** Runs `send` and asserts it appended nothing. */
  async function appendsNothing<T>(send: () => Promise<T>): Promise<T> {
    const head = await store.headPosition();
    const result = await send();
    expect(await store.headPosition()).toBe(head);
    return result;
  }

  describe('deeply nested JSON', () => {
    it.each([
      ['POST /leads', 'POST', () => '/leads'],
      ['PATCH /leads/:id', 'PATCH', (id: string) => `/leads/${id}`],
      ['POST /leads/:id/qualify', 'POST', (id: string) => `/leads/${id}/qualify`],
      ['PUT /settings/qualify-lead', 'PUT', () => '/settings/qualify-lead'],
    ])('2,000 levels of [ on %s: 400 VALIDATION_FAILED on the body', async (_name, method, url) => {
      const res = await appendsNothing(() => t.request(method, url(openLead), { as: 'admin', rawBody: nested(2000), headers: json }));
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([{ field: 'body', message: expect.stringContaining('64 levels') }]);
    });

    it('65 levels inside a known field: 400; brackets inside a string are text', async () => {
      expectProblem(
        await appendsNothing(() =>
          t.request('POST', '/leads', { as: 'salesperson', rawBody: `{"topic":${nested(65, '"x"')},"lastName":"Doe"}`, headers: json }),
        ),
        400,
        'VALIDATION_FAILED',
      );
      const res = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: '['.repeat(150), lastName: 'Doe' } });
      expect(res.status).toBe(201);
    });

    // The latency figure (within 100 ms of idle while the flood lasts) is measured by the benchmark
    // (`npm run bench -- --only hostile`), against a service in its own process.
    it('50 bodies of 90 kB of [ sent at once are all refused with 400, and /health/live answers meanwhile', async () => {
      const body = nested(45_000);
      let settled = 0;
      const flood = Promise.all(
        Array.from({ length: 50 }, () => t.request('POST', '/leads', { as: 'salesperson', rawBody: body, headers: json }).finally(() => settled++)),
      );
      const live = await t.request('GET', '/health/live');
      const settledWhenLiveAnswered = settled;
      const answers = await flood;
      expect(live.status).toBe(200);
      expect(settledWhenLiveAnswered).toBeLessThan(50);
      expect(answers.map((r) => [r.status, r.body.code])).toEqual(Array(50).fill([400, 'VALIDATION_FAILED']));
    });
  });

  describe('a body, when present, is a JSON object with known keys only', () => {
    it.each([
      ['null on qualify', 'POST', (id: string) => `/leads/${id}/qualify`, 'null'],
      ['null on PATCH', 'PATCH', (id: string) => `/leads/${id}`, 'null'],
      ['null on reactivate', 'POST', (id: string) => `/leads/${id}/reactivate`, 'null'],
      ['a string on reactivate', 'POST', (id: string) => `/leads/${id}/reactivate`, '"a string"'],
      ['a number on qualify', 'POST', (id: string) => `/leads/${id}/qualify`, '42'],
      ['true on disqualify', 'POST', (id: string) => `/leads/${id}/disqualify`, 'true'],
      ['an array on qualify', 'POST', (id: string) => `/leads/${id}/qualify`, '[]'],
      ['an array on bulk qualify', 'POST', () => '/leads/qualify', '[]'],
      ['a string on the setting', 'PUT', () => '/settings/qualify-lead', '"yes"'],
      ['null on rebuild', 'POST', () => '/projections/lead-details/rebuild', 'null'],
    ])('%s: 400 VALIDATION_FAILED, nothing appended', async (_what, method, url, rawBody) => {
      const res = await appendsNothing(() => t.request(method, url(openLead), { as: 'admin', rawBody, headers: json }));
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([{ field: 'body', message: expect.stringContaining('must be a JSON object') }]);
    });

    it.each([
      ['POST /leads', 'POST', () => '/leads'],
      ['PATCH /leads/:id', 'PATCH', (id: string) => `/leads/${id}`],
      ['POST /leads/:id/disqualify', 'POST', (id: string) => `/leads/${id}/disqualify`],
      ['POST /leads/qualify', 'POST', () => '/leads/qualify'],
      ['PUT /settings/qualify-lead', 'PUT', () => '/settings/qualify-lead'],
    ])('no body at all on %s: 400 VALIDATION_FAILED', async (_what, method, url) => {
      expectProblem(await appendsNothing(() => t.request(method, url(openLead), { as: 'admin' })), 400, 'VALIDATION_FAILED');
    });

    it('no body at all on qualify and reactivate is accepted as {}', async () => {
      const { body } = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'No body', lastName: 'Doe' } });
      expect((await t.request('POST', `/leads/${body.id}/qualify`, { as: 'salesperson' })).status).toBe(202);
      expect((await t.request('POST', `/leads/${body.id}/reactivate`, { as: 'salesperson' })).status).toBe(200);
    });

    it('no body and {} on rebuild are accepted; an unknown key is not', async () => {
      expect((await t.request('POST', '/projections/qualification-analytics/rebuild', { as: 'admin' })).status).toBe(202);
      expect((await t.request('POST', '/projections/qualification-analytics/rebuild', { as: 'admin', body: {} })).status).toBe(202);
      const res = await t.request('POST', '/projections/qualification-analytics/rebuild', { as: 'admin', body: { everything: true } });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'everything' })]);
    });

    const PROTOTYPE_KEYS = [
      'toString',
      'valueOf',
      'constructor',
      'hasOwnProperty',
      'prototype',
      '__defineGetter__',
      '__lookupSetter__',
      'isPrototypeOf',
      'propertyIsEnumerable',
      'toLocaleString',
    ];
    const BODIES: [string, string, (id: string) => string, Record<string, unknown>][] = [
      ['create', 'POST', () => '/leads', { topic: 'x', lastName: 'Doe' }],
      ['PATCH', 'PATCH', (id) => `/leads/${id}`, { city: 'Paris' }],
      ['qualify', 'POST', (id) => `/leads/${id}/qualify`, {}],
      ['bulk qualify', 'POST', () => '/leads/qualify', { leadIds: [randomUUID()] }],
      ['disqualify', 'POST', (id) => `/leads/${id}/disqualify`, { statusReason: 'Lost' }],
      ['reactivate', 'POST', (id) => `/leads/${id}/reactivate`, {}],
      ['the setting', 'PUT', () => '/settings/qualify-lead', { createRecordsByDefault: true }],
    ];
    it.each(BODIES.flatMap(([name, method, url, body]) => PROTOTYPE_KEYS.map((key) => ({ name, method, url, body, key }))))(
      'a key named $key on $name: 400 naming it, nothing appended',
      async ({ method, url, body, key }) => {
        const rawBody = JSON.stringify(body).replace(/}$/, `${Object.keys(body).length ? ',' : ''}${JSON.stringify(key)}:1}`);
        const res = await appendsNothing(() => t.request(method, url(openLead), { as: 'admin', rawBody, headers: json }));
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: key })]));
      },
    );
  });

  describe('errors answered by the framework are problem+json too', () => {
    it('a path segment over the length limit: 414 URI_TOO_LONG, not echoing the path', async () => {
      const long = 'a'.repeat(5000);
      const res = await t.request('POST', `/leads/${long}/qualify`, { as: 'salesperson', body: {} });
      expectProblem(res, 414, 'URI_TOO_LONG');
      expect(res.text).not.toContain(long.slice(0, 200));
    });

    it('a URL that does not decode: 400 problem+json', async () => {
      expectProblem(await t.request('GET', '/leads/%E0%A4%A', { as: 'analyst' }), 400, 'VALIDATION_FAILED');
    });

    it('headers over the size limit: 431 problem+json on the raw socket', async () => {
      const { text } = await rawExchange(port, (s) => s.write(`GET /leads HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
      const res = parseRawResponse(text);
      expect({ status: res.status, type: res.headers['content-type'], code: res.body.code }).toEqual({
        status: 431,
        type: expect.stringMatching(/^application\/problem\+json/),
        code: 'HEADERS_TOO_LARGE',
      });
    });

    it('bytes that are not HTTP: 400 problem+json on the raw socket', async () => {
      const { text } = await rawExchange(port, (s) => s.write('HELLO THERE\r\n\r\n'));
      const res = parseRawResponse(text);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it('an unsupported media type: 415 problem+json', async () => {
      expectProblem(
        await t.request('POST', '/leads', { as: 'salesperson', rawBody: 'topic=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    });
  });
});

(kind.available ? describe : describe.skip)(`request timeouts on ${kind.name}`, () => {
  const TIMEOUT_MS = 600;
  let t: TestApp;
  let port: number;
  let releaseAppend: () => void = () => undefined;
  let appendHeld: Promise<void> | undefined;
  let holdNextAppend = false;
  beforeAll(async () => {
    t = await startTestApp(
      kind,
      { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) },
      {
        // Holds a command's append until the test lets it go: an answer that takes longer than the timeout.
        wrapEventStore: (inner) =>
          new Proxy(inner, {
            get(target, property, receiver) {
              const value = Reflect.get(target, property, receiver);
              if (property !== 'appendToStreams' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
              return async (...args: unknown[]) => {
                if (holdNextAppend) {
                  holdNextAppend = false;
                  await (appendHeld = new Promise<void>((resolve) => (releaseAppend = resolve)));
                }
                return value.apply(target, args);
              };
            },
          }),
      },
    );
    port = Number(new URL(t.baseUrl).port);
  });
  afterAll(async () => t?.close());

  const stalledBody = (s: Socket) => s.write(`POST /leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"topic":`);

  it('a request whose body stalls gets 408 REQUEST_TIMEOUT as problem+json and is closed, within the timeout', async () => {
    const started = performance.now();
    const { text, closed } = await rawExchange(port, stalledBody);
    const elapsed = performance.now() - started;
    const res = parseRawResponse(text);
    expect({ closed, status: res.status, type: res.headers['content-type'], code: res.body.code }).toEqual({
      closed: true,
      status: 408,
      type: expect.stringMatching(/^application\/problem\+json/),
      code: 'REQUEST_TIMEOUT',
    });
    // Node checks deadlines at an interval: allowed one interval (a tenth of the timeout) and some scheduling.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS * 2);
  });

  it('a request whose headers stall gets the same 408', async () => {
    const { text } = await rawExchange(port, (s) => s.write('GET /leads HTTP/1.1\r\nHost: x\r\n'));
    expect(parseRawResponse(text).status).toBe(408);
  });

  it('the timeout bounds receiving the request, never producing the answer', async () => {
    holdNextAppend = true;
    const slow = t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'Slow answer', lastName: 'Doe' } });
    // Another connection timing out proves the deadline has passed for the slow request too.
    expect(parseRawResponse((await rawExchange(port, stalledBody)).text).status).toBe(408);
    expect(appendHeld).toBeDefined();
    releaseAppend();
    expect((await slow).status).toBe(201);
  });
});
