import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';
import { eventually } from './support/events.js';

const kinds = await testDatabaseKinds();

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`service boot on ${kind.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(kind);
    });
    afterAll(async () => t?.close());

    it('answers /health/live and /health/ready without a token', async () => {
      const live = await t.request('GET', '/health/live');
      // Liveness is bare: nothing about the process (its id) to anyone without a token.
      expect({ status: live.status, text: live.text }).toEqual({ status: 200, text: '{"status":"ok"}' });
      // Ready once every processor has started (taken its lease or found its holder).
      const ready = await eventually(async () => {
        const res = await t.request('GET', '/health/ready');
        return res.status === 200 && res;
      }, 'readiness');
      expect(ready.body.details.database.status).toBe('up');
    });

    it('serves the OpenAPI document at /docs-json', async () => {
      const res = await t.request('GET', '/docs-json');
      expect(res.status).toBe(200);
      expect(res.body.paths['/leads/{id}/qualify'].post).toBeDefined();
    });

    it('exposes Prometheus metrics without a token, including command counts and projection lag', async () => {
      await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'metrics', lastName: 'M' } });
      const res = await t.request('GET', '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.text).toMatch(/lead_commands_total\{command="Leads.create",outcome="ok"\} 1/);
      expect(res.text).toMatch(/projection_lag_positions\{processor="lead-details"\} \d+/);
      expect(res.text).toMatch(/saga_backlog_positions \d+/);
      expect(res.text).toMatch(/process_resident_memory_bytes/);
    });
  });
}

describe('rate limiting of commands', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kinds[0], { RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => t?.close());

  it('answers 429 RATE_LIMITED as problem details past the limit, per token, and never limits reads', async () => {
    const sally = t.token('salesperson', 'sally');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.request('POST', '/leads', { token: sally, body: { topic: `r${i}`, lastName: 'R' } })).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const refused = await t.request('POST', '/leads', { token: sally, body: { topic: 'again', lastName: 'R' } });
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(refused.body.detail).toContain('3 commands a minute');
    expect((await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'other token', lastName: 'R' } })).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await t.request('GET', '/settings/qualify-lead', { token: sally })).status).toBe(200);
  });
});
