import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';

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
      const ready = await t.request('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.database.status).toBe('up');
    });

    it('serves the OpenAPI document at /docs-json', async () => {
      const res = await t.request('GET', '/docs-json');
      expect(res.status).toBe(200);
      expect(res.body.paths['/leads/{id}/qualify'].post).toBeDefined();
    });
  });
}
