import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';

/**
 * CORS in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core) loads
 * a page from a second local origin, whose script calls the API with fetch. It works from the
 * origin in CORS_ORIGINS and is blocked from a third one. Without Chromium the suite is skipped
 * with one line, except under CI (CI=true; .ci/browser.sh installs it), where that is a failure.
 */
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];

function findChromium(): { path?: string; missing: string } {
  const given = process.env.CHROMIUM_PATH;
  if (given) return existsSync(given) ? { path: given, missing: '' } : { missing: `CHROMIUM_PATH=${given} does not exist` };
  return {
    path: CHROMIUM_CANDIDATES.find((candidate) => existsSync(candidate)),
    missing: `no Chromium at ${CHROMIUM_CANDIDATES.join(', ')} (set CHROMIUM_PATH)`,
  };
}

const found = findChromium();
const ci = process.env.CI === 'true';
if (!found.path && !ci) {
  process.stderr.write(`SKIPPED: browser CORS test (${found.missing}; apt-get install chromium, or bash .ci/browser.sh)\n`);
}

const [kind] = await testDatabaseKinds();

/** The page both origins serve: it calls the API with fetch and leaves what it saw in window.results. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>CORS check</title></head>
<body><pre id="out">running</pre>
<script>
(async () => {
  const params = new URLSearchParams(location.hash.slice(1));
  const api = params.get('api');
  const leadId = params.get('lead');
  const correlationId = params.get('correlation');
  const auth = { Authorization: 'Bearer ' + params.get('token') };
  const pick = (res, names) => Object.fromEntries(names.map((name) => [name, res.headers.get(name)]));
  const call = async (path, init, names) => {
    try {
      const res = await fetch(api + path, init);
      const type = res.headers.get('content-type') || '';
      const body = type.includes('json') ? await res.json() : await res.text();
      return { status: res.status, body, headers: pick(res, names) };
    } catch (error) {
      return { error: String(error) };
    }
  };
  const results = {};
  // A simple request (no preflight): only the answer's headers decide whether the page may read it.
  results.health = await call('/health/live', {}, ['x-correlation-id', 'vary']);
  results.create = await call('/leads', {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json', 'X-Correlation-Id': correlationId },
    body: JSON.stringify({ id: leadId, topic: 'Seen from a browser', lastName: 'Chromium' }),
  }, ['x-correlation-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
  const created = (results.create.body && results.create.body.position) || '0';
  results.read = await call('/leads/' + leadId + '?minPosition=' + created, { headers: auth }, ['etag', 'x-projection-position', 'x-correlation-id']);
  const etag = (results.read.headers && results.read.headers.etag) || '"0"';
  results.update = await call('/leads/' + leadId, {
    method: 'PATCH',
    headers: { ...auth, 'Content-Type': 'application/json', 'If-Match': etag, 'X-Correlation-Id': correlationId + '-2' },
    body: JSON.stringify({ topic: 'Changed from a browser' }),
  }, ['x-correlation-id']);
  const updated = (results.update.body && results.update.body.position) || '0';
  results.list = await call('/leads?minPosition=' + updated, { headers: { ...auth, Prefer: 'handling=lenient' } }, ['x-projection-position', 'preference-applied']);
  window.results = results;
  document.getElementById('out').textContent = JSON.stringify(results, null, 2);
})();
</script></body></html>`;

interface Call {
  status?: number;
  body?: any;
  headers?: Record<string, string | null>;
  error?: string;
}
type Results = Record<'health' | 'create' | 'read' | 'update' | 'list', Call>;

/** A second (or third) local origin: a plain HTTP server on its own port that serves PAGE. */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

if (!found.path && ci) {
  describe('CORS in a real browser', () => {
    it('needs Chromium under CI', () => {
      throw new Error(`CI=true but ${found.missing}: run .ci/browser.sh (Debian's chromium) before the tests`);
    });
  });
} else {
  (found.path && kind.available ? describe : describe.skip)('CORS in a real browser (headless Chromium)', () => {
    let allowedPage: { server: Server; origin: string };
    let otherPage: { server: Server; origin: string };
    let t: TestApp;
    let browser: Browser;
    /** What reached the API's socket, with the Origin it came from: a blocked page's request must not. */
    const received: Array<{ method: string; path: string; origin?: string }> = [];

    beforeAll(async () => {
      allowedPage = await servePage();
      otherPage = await servePage();
      t = await startTestApp(kind, { CORS_ORIGINS: allowedPage.origin });
      t.app
        .getHttpServer()
        .on('request', (req: IncomingMessage) => received.push({ method: req.method!, path: req.url!.split('?')[0], origin: req.headers.origin }));
      browser = await chromium.launch({
        executablePath: found.path,
        headless: true,
        // As root Chromium needs --no-sandbox; the rest stops its own background connections (updates, sync).
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--disable-quic',
          '--no-first-run',
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await t?.close();
      await closeServer(allowedPage?.server);
      await closeServer(otherPage?.server);
    });

    /** Loads the page from `origin` in a fresh context and waits for its script to report. */
    async function runPage(origin: string, leadId: string, correlationId: string): Promise<{ results: Results; console: string[] }> {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const console: string[] = [];
        page.on('console', (message) => console.push(message.text()));
        const fragment = new URLSearchParams({ api: t.baseUrl, token: t.token('salesperson', 'browser-user'), lead: leadId, correlation: correlationId });
        await page.goto(`${origin}/#${fragment}`);
        await page.waitForFunction(() => (globalThis as { results?: unknown }).results !== undefined, undefined, { timeout: 20_000 });
        const results = (await page.evaluate(() => (globalThis as { results?: unknown }).results)) as Results;
        return { results, console };
      } finally {
        await context.close();
      }
    }

    it('lets a page from the allowed origin call the API and read the exposed headers', async () => {
      const leadId = randomUUID();
      const correlationId = `browser-${randomUUID()}`;
      const { results } = await runPage(allowedPage.origin, leadId, correlationId);

      expect(results.health).toMatchObject({ status: 200, headers: { 'x-correlation-id': expect.any(String), vary: null } });
      expect(results.create).toMatchObject({
        status: 201,
        body: { id: leadId, version: 0, position: expect.stringMatching(/^\d+$/) },
        headers: {
          'x-correlation-id': correlationId,
          'x-ratelimit-limit': expect.stringMatching(/^\d+$/),
          'x-ratelimit-remaining': expect.stringMatching(/^\d+$/),
        },
      });
      expect(results.read).toMatchObject({
        status: 200,
        body: { id: leadId, topic: 'Seen from a browser' },
        headers: { etag: '"0"', 'x-projection-position': expect.stringMatching(/^\d+$/) },
      });
      expect(results.update).toMatchObject({ status: 200, body: { id: leadId, version: 1 }, headers: { 'x-correlation-id': `${correlationId}-2` } });
      expect(results.list).toMatchObject({ status: 200, headers: { 'x-projection-position': expect.stringMatching(/^\d+$/) } });
      expect(results.list.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: leadId, topic: 'Changed from a browser' })]));

      // The browser asked first (preflight) for the requests with an Authorization header.
      const fromPage = received.filter((r) => r.origin === allowedPage.origin);
      expect(fromPage).toEqual(
        expect.arrayContaining([
          { method: 'OPTIONS', path: '/leads', origin: allowedPage.origin },
          { method: 'POST', path: '/leads', origin: allowedPage.origin },
          { method: 'PATCH', path: `/leads/${leadId}`, origin: allowedPage.origin },
        ]),
      );
    });

    it('blocks the same page served from an origin not in CORS_ORIGINS', async () => {
      const leadId = randomUUID();
      const { results, console } = await runPage(otherPage.origin, leadId, `browser-${randomUUID()}`);

      for (const call of Object.values(results)) expect(call).toEqual({ error: 'TypeError: Failed to fetch' });
      expect(console.join('\n')).toMatch(/blocked by CORS policy/);
      // Only preflights reached the API, and the simple GET whose answer the browser then withheld:
      // no command was sent, so nothing was created.
      const fromPage = received.filter((r) => r.origin === otherPage.origin);
      expect(fromPage).toContainEqual({ method: 'OPTIONS', path: '/leads', origin: otherPage.origin });
      expect(fromPage.filter((r) => r.method !== 'OPTIONS')).toEqual([{ method: 'GET', path: '/health/live', origin: otherPage.origin }]);
      expect((await t.request('GET', `/leads/${leadId}`, { as: 'analyst' })).status).toBe(404);
    });
  });
}
