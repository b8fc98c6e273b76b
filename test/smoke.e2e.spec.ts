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
      expect((await t.request('GET', '/health/live')).status).toBe(200);
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
