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
      const res = await t.request('PUT', '/settings/qualify-lead', {
        as: 'admin',
        body: { createRecordsByDefault: !(await current()).createRecordsByDefault, version: 7 },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'version' })]);
      expect(await store.headPosition()).toBe(head);
    });

    describe('If-Match and ETag', () => {
      const putIfMatch = (createRecordsByDefault: unknown, ifMatch: string) =>
        t.request('PUT', '/settings/qualify-lead', { as: 'admin', headers: { 'if-match': ifMatch }, body: { createRecordsByDefault } });
      const settingEvents = async () => (await store.readStream(SETTING_STREAM)).length;

      it('GET sends the version as a strong ETag, and a change moves it', async () => {
        const before = await t.request('GET', '/settings/qualify-lead', { as: 'analyst' });
        expect(before.headers.etag).toBe(`"${before.body.version}"`);
        const changed = await put(!before.body.createRecordsByDefault);
        expect(changed.status).toBe(200);
        expect(changed.headers.etag).toBe(`"${before.body.version + 1}"`);
        const after = await t.request('GET', '/settings/qualify-lead', { as: 'analyst' });
        expect(after.headers.etag).toBe(`"${before.body.version + 1}"`);
        expect(after.body.version).toBe(before.body.version + 1);
      });

      it.each([
        ['bare', (v: number) => `${v}`],
        ['quoted', (v: number) => `"${v}"`],
        ['weak', (v: number) => `W/"${v}"`],
      ])('accepts the current version %s: 200, one change, the new ETag', async (_form, format) => {
        const before = await current();
        const events = await settingEvents();
        const res = await putIfMatch(!before.createRecordsByDefault, format(before.version));
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ createRecordsByDefault: !before.createRecordsByDefault, version: before.version + 1 });
        expect(res.headers.etag).toBe(`"${before.version + 1}"`);
        expect(await settingEvents()).toBe(events + 1);
      });

      it('accepts the ETag of GET as If-Match', async () => {
        const got = await t.request('GET', '/settings/qualify-lead', { as: 'admin' });
        const res = await putIfMatch(!got.body.createRecordsByDefault, got.headers.etag);
        expect(res.status).toBe(200);
        expect(res.body.version).toBe(got.body.version + 1);
      });

      it('the current version with the value it already has: 200, nothing appended', async () => {
        const before = await current();
        const events = await store.readStream(SETTING_STREAM);
        const res = await putIfMatch(before.createRecordsByDefault, `"${before.version}"`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ ...before, position: events.at(-1)!.position });
        expect(res.headers.etag).toBe(`"${before.version}"`);
        expect(await settingEvents()).toBe(events.length);
      });

      it.each([
        ['an older version, changing the value', -1, true],
        ['an older version, with the value it already has (the client decided on a stale view)', -1, false],
        ['a version not reached yet', +1, true],
      ])('refuses %s: 412 VERSION_MISMATCH with currentVersion, nothing appended', async (_what, offset, change) => {
        // An older version needs at least one change; run alone, this test makes it.
        if ((await current()).version === 0) await put(false);
        const before = await current();
        const events = await settingEvents();
        const head = await store.headPosition();
        const value = change ? !before.createRecordsByDefault : before.createRecordsByDefault;
        const res = await putIfMatch(value, `"${before.version + offset}"`);
        expect(res.status).toBe(412);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ status: 412, code: 'VERSION_MISMATCH', currentVersion: before.version });
        expect(res.headers.etag).toBeUndefined();
        expect(await settingEvents()).toBe(events);
        expect(await store.headPosition()).toBe(head);
        expect(await current()).toEqual(before);
      });

      it.each(['abc', '-1', '1.5', '*', '"1x"'])('refuses If-Match: %s with 400 VALIDATION_FAILED naming the header, nothing appended', async (ifMatch) => {
        const before = await current();
        const events = await settingEvents();
        const res = await putIfMatch(!before.createRecordsByDefault, ifMatch);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(res.body.errors).toEqual([expect.objectContaining({ field: 'If-Match' })]);
        expect(await settingEvents()).toBe(events);
      });

      it('12 concurrent PUTs with the same If-Match: exactly one changes the version, the others 412 or 200 unchanged', async () => {
        const before = await current();
        const events = await store.readStream(SETTING_STREAM);
        const values = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? !before.createRecordsByDefault : before.createRecordsByDefault));
        const responses = await Promise.all(values.map((value) => putIfMatch(value, `"${before.version}"`)));

        const after = await store.readStream(SETTING_STREAM);
        expect(after).toHaveLength(events.length + 1);
        const appended = after.at(-1)!;
        expect(appended.data).toEqual({
          createRecordsByDefault: !before.createRecordsByDefault,
          previousValue: before.createRecordsByDefault,
          version: before.version + 1,
        });

        const winners = responses.filter((r) => r.status === 200 && r.body.version === before.version + 1);
        expect(winners).toHaveLength(1);
        expect(winners[0].body).toMatchObject({ createRecordsByDefault: !before.createRecordsByDefault, position: appended.position });
        responses.forEach((res, i) => {
          if (res === winners[0]) return;
          if (res.status === 200) {
            // Only a request for the value it already had, decided before the winner appended: a no-op ordered first.
            expect(values[i]).toBe(before.createRecordsByDefault);
            expect(res.body).toEqual({ ...before, position: events.at(-1)!.position });
          } else {
            expect(res.status).toBe(412);
            expect(res.body).toMatchObject({ code: 'VERSION_MISMATCH', currentVersion: before.version + 1 });
          }
        });
        // Every other request for the new value lost, whether it read before or after the winner's append.
        const changers = responses.filter((_, i) => values[i] !== before.createRecordsByDefault);
        expect(changers.filter((r) => r.status === 412)).toHaveLength(changers.length - 1);
        expect(await current()).toMatchObject({ createRecordsByDefault: !before.createRecordsByDefault, version: before.version + 1 });
      });

      it('documents If-Match, 412 and the ETag in the OpenAPI document', async () => {
        const doc = (await t.request('GET', '/docs-json')).body;
        const { get, put: update } = doc.paths['/settings/qualify-lead'];
        expect(update.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'If-Match', in: 'header', required: false })]));
        expect(update.responses['412']).toBeDefined();
        expect(update.responses['200'].headers.ETag).toBeDefined();
        expect(get.responses['200'].headers.ETag).toBeDefined();
      });
    });
  });
}
