import { randomUUID } from 'node:crypto';
import { EVENT_STORE, type EventStore } from '../src/event-store/event-store.port.js';
import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';

const kinds = await testDatabaseKinds();
const SETTING_STREAM = 'settings-qualify-lead';
const POSITION = /^\d+$/;

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`the qualify-lead setting over HTTP on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    beforeAll(async () => {
      t = await startTestApp(kind);
      store = t.app.get(EVENT_STORE);
    });
    afterAll(async () => t?.close());

    const put = (createRecordsByDefault: unknown, sub = `admin-${randomUUID()}`) =>
      t.request('PUT', '/settings/qualify-lead', { token: t.token('admin', sub), body: { createRecordsByDefault } });
    const current = async () => (await t.request('GET', '/settings/qualify-lead', { as: 'salesperson' })).body;

    // First in this describe: the app's database is fresh, the setting has never changed.
    it('starts as Yes at version 0, never updated, with no event', async () => {
      const res = await t.request('GET', '/settings/qualify-lead', { as: 'analyst' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ createRecordsByDefault: true, version: 0, updatedAt: null, updatedBy: null });
      expect(await store.readStream(SETTING_STREAM)).toEqual([]);
    });

    it('a change increments the version, appends QualifyLeadSettingUpdated with previousValue and records the admin', async () => {
      const before = await current();
      const sub = `root-${randomUUID()}`;
      const res = await put(!before.createRecordsByDefault, sub);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        createRecordsByDefault: !before.createRecordsByDefault,
        version: before.version + 1,
        updatedAt: expect.any(String),
        updatedBy: sub,
        position: expect.stringMatching(POSITION),
      });
      const last = (await store.readStream(SETTING_STREAM)).at(-1)!;
      expect({ type: last.type, data: last.data }).toEqual({
        type: 'QualifyLeadSettingUpdated',
        data: { createRecordsByDefault: !before.createRecordsByDefault, previousValue: before.createRecordsByDefault, version: before.version + 1 },
      });
      expect(last.metadata.userId).toBe(sub);
      expect(last.position).toBe(res.body.position);
      expect(res.body.updatedAt).toBe(last.metadata.at);
    });

    it('GET answers what the last change set', async () => {
      const sub = `root-${randomUUID()}`;
      const changed = await put(!(await current()).createRecordsByDefault, sub);
      const { position: _position, ...setting } = changed.body;
      expect(await current()).toEqual(setting);
      expect(setting.updatedBy).toBe(sub);
    });

    it('changes back and forth, one event and one version per change', async () => {
      const start = await current();
      const events = (await store.readStream(SETTING_STREAM)).length;
      const first = await put(!start.createRecordsByDefault);
      const second = await put(start.createRecordsByDefault);
      expect([first.body.version, second.body.version]).toEqual([start.version + 1, start.version + 2]);
      const appended = (await store.readStream(SETTING_STREAM)).slice(events).map((e) => e.data);
      expect(appended).toEqual([
        { createRecordsByDefault: !start.createRecordsByDefault, previousValue: start.createRecordsByDefault, version: start.version + 1 },
        { createRecordsByDefault: start.createRecordsByDefault, previousValue: !start.createRecordsByDefault, version: start.version + 2 },
      ]);
    });

    it('setting the value it already has appends nothing and answers the current version', async () => {
      await put(false);
      const before = await current();
      const head = await store.headPosition();
      const events = await store.readStream(SETTING_STREAM);
      const res = await put(false, `other-admin-${randomUUID()}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...before, position: events.at(-1)!.position });
      expect(await store.headPosition()).toBe(head);
      expect(await store.readStream(SETTING_STREAM)).toHaveLength(events.length);
      expect(await current()).toEqual(before);
    });

    it.each([
      ['the string "true"', 'true'],
      ['the number 1', 1],
      ['null', null],
      ['an object', { value: true }],
    ])('refuses %s with 400 VALIDATION_FAILED naming createRecordsByDefault, appending nothing', async (_what, value) => {
      const head = await store.headPosition();
      const res = await put(value);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'createRecordsByDefault' })]));
      expect(await store.headPosition()).toBe(head);
    });

    it('refuses a body without createRecordsByDefault with 400 VALIDATION_FAILED', async () => {
      const head = await store.headPosition();
      const res = await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: {} });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'createRecordsByDefault' })]));
      expect(await store.headPosition()).toBe(head);
    });

    it('refuses unknown fields beside the value with 400 VALIDATION_FAILED', async () => {
      const head = await store.headPosition();
      const res = await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault: !(await current()).createRecordsByDefault, version: 7 } });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'version' })]);
      expect(await store.headPosition()).toBe(head);
    });
  });
}
