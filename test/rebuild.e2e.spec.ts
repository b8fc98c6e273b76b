import { randomUUID } from 'node:crypto';
import { AnalyticsLeadRow, AnalyticsRecordRow, QualificationStatsDailyRow } from '../src/analytics/analytics.entities.js';
import { ANALYTICS, AnalyticsProjection } from '../src/analytics/analytics.projection.js';
import { Database, openDatabase } from '../src/database/database.js';
import { ANY, comparePositions, EVENT_STORE, START, type EventStore, type NewEvent } from '../src/event-store/event-store.port.js';
import type { Processor } from '../src/event-store/processor.js';
import { LeadDetailsRow } from '../src/leads/lead-details/lead-details.entity.js';
import { LEAD_DETAILS, LeadDetailsProjection } from '../src/leads/lead-details/lead-details.projection.js';
import { SettingHistoryRow } from '../src/qualify-setting/setting-history/setting-history.entity.js';
import { SETTING_HISTORY, SettingHistoryProjection } from '../src/qualify-setting/setting-history/setting-history.projection.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';
import { eventually } from './support/events.js';
import { LEAD_DETAILS_INDEXES } from '../src/leads/lead-details/lead-details.entity.js';

const kinds = await testDatabaseKinds();
const POSITION = /^\d+$/;
const READ_MODEL_ENTITIES = [LeadDetailsRow, SettingHistoryRow, QualificationStatsDailyRow, AnalyticsLeadRow, AnalyticsRecordRow];

/** Each projection, how to build a fresh one, and its tables ordered by key. */
const PROJECTIONS: Record<string, { make: (db: Database) => Processor; tables: { table: string; orderBy: string }[] }> = {
  [LEAD_DETAILS]: { make: (db) => new LeadDetailsProjection(db), tables: [{ table: 'lead_details', orderBy: 'id' }] },
  [SETTING_HISTORY]: { make: (db) => new SettingHistoryProjection(db), tables: [{ table: 'qualify_setting_history', orderBy: 'version' }] },
  [ANALYTICS]: {
    make: (db) => new AnalyticsProjection(db),
    tables: [
      { table: 'qualification_stats_daily', orderBy: 'day, lead_source, setting_version, decided_by' },
      { table: 'analytics_leads', orderBy: 'lead_id' },
      { table: 'analytics_records', orderBy: 'record_id' },
    ],
  },
};
const NAMES = Object.keys(PROJECTIONS);

async function snapshot(db: Database, name: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const { table, orderBy } of PROJECTIONS[name].tables) out[table] = await db.query(`SELECT * FROM ${table} ORDER BY ${orderBy}`);
  return out;
}

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`projection rebuild and status on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    let db: Database;
    beforeAll(async () => {
      t = await startTestApp(kind);
      store = t.app.get(EVENT_STORE);
      db = t.app.get(Database);
    });
    afterAll(async () => t?.close());

    const get = (url: string, as = 'analyst') => t.request('GET', url, { as });
    const rebuild = async (name: string) => {
      const res = await t.request('POST', `/projections/${name}/rebuild`, { as: 'admin' });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ name, status: 'rebuilding', target: expect.stringMatching(POSITION) });
      return res.body.target as string;
    };

    /** Everything has settled: no saga work left, every processor at the head. */
    const quiescent = () =>
      eventually(async () => {
        const res = await get('/projections');
        return res.status === 200 && res.body.items.every((p: any) => p.checkpoint === p.head && p.status !== 'rebuilding') && res.body.items[0].head;
      }, 'every processor to reach the head');

    /** A query of the projection, waiting (minPosition) until it has processed `position`. */
    const caughtUp = async (name: string, position: string) => {
      const url = (
        { [LEAD_DETAILS]: '/leads?limit=1', [SETTING_HISTORY]: '/settings/qualify-lead/history', [ANALYTICS]: '/analytics/qualifications' } as Record<
          string,
          string
        >
      )[name];
      const res = await eventually(async () => {
        const r = await get(`${url}${url.includes('?') ? '&' : '?'}minPosition=${position}`);
        return r.status !== 503 && r;
      }, `${name} to reach ${position}`);
      expect(res.status).toBe(200);
    };

    /** The projection built afresh from the whole log, on a database of its own. */
    async function freshProjection(name: string): Promise<Record<string, unknown[]>> {
      const scratch = await kind.create();
      const scratchDb = await openDatabase(scratch.config, READ_MODEL_ENTITIES);
      try {
        const projection = PROJECTIONS[name].make(scratchDb);
        for (let after = START; ;) {
          const batch = await store.readAll(after, 500);
          if (!batch.length) break;
          const relevant = batch.filter((e) => projection.eventTypes!.includes(e.type));
          if (relevant.length) await scratchDb.transactionSql((sql) => projection.apply!(relevant, sql));
          after = batch.at(-1)!.position;
        }
        return await snapshot(scratchDb, name);
      } finally {
        await scratchDb.close();
        await scratch.drop();
      }
    }

    /** A mix of lead commands (and two setting changes that end where they began). */
    async function commands(count: number, progress: (done: number) => void = () => undefined): Promise<void> {
      const initial = (await get('/settings/qualify-lead')).body.createRecordsByDefault;
      for (let i = 0; i < count; i++) {
        const id = randomUUID();
        const created = await t.request('POST', '/leads', {
          as: 'salesperson',
          body: {
            id,
            topic: `Deal ${i}`,
            lastName: `Lead${i}`,
            companyName: `Co ${randomUUID()}`,
            email: `${randomUUID()}@example.com`,
            leadSource: i % 2 ? 'Web' : 'Partner',
          },
        });
        expect(created.status).toBe(201);
        if (i % 3 === 0) {
          const res = await t.request('POST', `/leads/${id}/qualify`, {
            as: 'salesperson',
            body: { createAccount: true, createContact: true, createOpportunity: true, ignoreDuplicates: true },
          });
          expect(res.status).toBe(202);
        } else if (i % 3 === 1) {
          expect((await t.request('POST', `/leads/${id}/disqualify`, { as: 'salesperson', body: { statusReason: 'Lost' } })).status).toBe(200);
          if (i % 2) expect((await t.request('POST', `/leads/${id}/reactivate`, { as: 'salesperson' })).status).toBe(200);
        } else {
          expect((await t.request('PATCH', `/leads/${id}`, { as: 'salesperson', body: { rating: 'Hot', leadSource: 'Seminar' } })).status).toBe(200);
        }
        if (i === Math.floor(count / 3) || i === Math.floor((2 * count) / 3)) {
          const setting = i === Math.floor(count / 3) ? !initial : initial;
          expect((await t.request('PUT', '/settings/qualify-lead', { as: 'admin', body: { createRecordsByDefault: setting } })).status).toBe(200);
        }
        progress(i + 1);
      }
    }

    it.each(NAMES)('rebuilding %s gives rows equal to the live model', async (name) => {
      await commands(6);
      await quiescent();
      const live = await snapshot(db, name);
      for (const rows of Object.values(live)) expect(rows.length).toBeGreaterThan(0);
      const target = await rebuild(name);
      await caughtUp(name, target);
      expect(await snapshot(db, name)).toEqual(live);
      if (name === 'lead-details') {
        // Its query indexes are dropped for the replay; they must all be back once it is done.
        const indexes = await db.query(
          db.isSqlite
            ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lead_details' AND name LIKE 'ix_%'"
            : "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'lead_details' AND indexname LIKE 'ix_%'",
        );
        expect(indexes.map((r: { name: string }) => r.name).sort()).toEqual(LEAD_DETAILS_INDEXES.map(({ name }) => name).sort());
      }
    });

    it.each(NAMES)('rebuilding %s while commands keep arriving ends equal to a fresh projection of the whole log', async (name) => {
      let done = 0;
      const traffic = commands(15, (n) => (done = n));
      // The rebuild starts once a few commands went through, while the rest keep coming.
      await Promise.race([traffic, eventually(() => done >= 3, 'the first commands')]);
      const target = await rebuild(name);
      await traffic;
      await caughtUp(name, target);
      await quiescent();
      expect(await snapshot(db, name)).toEqual(await freshProjection(name));
    });

    describe('readers during a rebuild', () => {
      const event = (type: string, data: Record<string, unknown>, at: string): NewEvent => {
        const id = randomUUID();
        return { id, type, data, metadata: { userId: 'seeder', correlationId: id, causationId: id, at } };
      };

      /**
       * 300 leads (600 events: more than one batch of the runner, so that readers can meet the
       * rebuild half-way), all created on a day of their own, written straight to the log.
       */
      async function seedLeads(token: string, day: string): Promise<string> {
        const results = await Promise.all(
          Array.from({ length: 300 }, async (_, i) => {
            const leadId = randomUUID();
            const events = [
              event('LeadCreated', { leadId, topic: 'Bulk', lastName: `Bulk${i}`, companyName: `${token} ${i}`, leadSource: 'Web' }, `${day}T10:00:00.000Z`),
              event('LeadUpdated', { leadId, rating: 'Warm' }, `${day}T11:00:00.000Z`),
            ];
            return (await store.appendToStream(`lead-${leadId}`, events, { expectedRevision: ANY })).position;
          }),
        );
        return results.reduce((a, b) => (comparePositions(a, b) >= 0 ? a : b));
      }

      const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const READERS: Record<string, { url: (token: string, day: string) => string; count: (res: Response) => number }> = {
        [LEAD_DETAILS]: { url: (token) => `/leads?q=${token}&limit=500`, count: (res) => res.body.items.length },
        [ANALYTICS]: {
          url: (_token, day) => `/analytics/qualifications?from=${day}&to=${nextDay(day)}&groupBy=day`,
          count: (res) => res.body.items.reduce((sum: number, s: any) => sum + s.leadsCreated, 0),
        },
      };

      it.each(Object.keys(READERS))('a query of %s answers the whole model or 503 PROJECTION_REBUILDING, never a partial one', async (name) => {
        const token = `tok${randomUUID().replace(/-/g, '').slice(0, 12)}`;
        const day = `19${String(10 + Object.keys(READERS).indexOf(name))}-05-05`;
        const reader = READERS[name];
        const last = await seedLeads(token, day);
        const before = await get(`${reader.url(token, day)}&minPosition=${last}`);
        expect(reader.count(before)).toBe(300);

        const answers: { status: number; code?: string; count?: number; retryAfter?: string }[] = [];
        let rebuilt = false;
        const readUntilRebuilt = async () => {
          while (!rebuilt) {
            const res = await get(reader.url(token, day));
            answers.push(
              res.status === 200
                ? { status: 200, count: reader.count(res) }
                : { status: res.status, code: res.body.code, retryAfter: res.headers['retry-after'] },
            );
          }
        };
        // Readers run before, during and after the rebuild; how many meet it half-way depends on
        // timing, so the test asserts only what each answer must be.
        const readers = [readUntilRebuilt(), readUntilRebuilt(), readUntilRebuilt()];
        try {
          const target = await rebuild(name);
          await caughtUp(name, target);
        } finally {
          rebuilt = true;
          await Promise.all(readers);
        }

        const wrong = answers.filter(
          (a) => !(a.status === 200 && a.count === 300) && !(a.status === 503 && a.code === 'PROJECTION_REBUILDING' && Number(a.retryAfter) > 0),
        );
        expect(answers.length).toBeGreaterThan(0);
        expect(wrong).toEqual([]);
        const after = await get(reader.url(token, day));
        expect(reader.count(after)).toBe(300);
      });
    });

    describe('GET /projections and POST /projections/:name/rebuild', () => {
      it('lists each projection and the saga with checkpoint, lag, status and dead letters', async () => {
        const res = await t.request('POST', '/leads', { as: 'salesperson', body: { topic: 'Status', lastName: 'Doe' } });
        await caughtUp(LEAD_DETAILS, res.body.position);
        const head = await quiescent();
        const list = await get('/projections');
        expect(list.status).toBe(200);
        const byName = Object.fromEntries(list.body.items.map((p: any) => [p.name, p]));
        for (const name of [...NAMES, 'lead-conversion']) {
          expect(byName[name]).toMatchObject({
            name,
            checkpoint: expect.stringMatching(POSITION),
            lag: expect.stringMatching(POSITION),
            status: expect.any(String),
            deadLetters: expect.any(Number),
          });
        }
        for (const name of NAMES) {
          expect(byName[name]).toMatchObject({ kind: 'projection', checkpoint: head, lag: '0', status: 'running', deadLetters: 0 });
        }
        expect(byName['lead-conversion'].kind).toBe('saga');
      });

      it('a rebuilding projection shows status rebuilding until it reaches its target, then running', async () => {
        const target = await rebuild(SETTING_HISTORY);
        const during = (await get('/projections')).body.items.find((p: any) => p.name === SETTING_HISTORY);
        // Whichever the moment of the read: rebuilding below the target, running once there.
        expect(comparePositions(during.checkpoint, target) < 0 ? during.status : 'rebuilding').toBe('rebuilding');
        await caughtUp(SETTING_HISTORY, target);
        await eventually(
          async () => (await get('/projections')).body.items.find((p: any) => p.name === SETTING_HISTORY).status === 'running',
          'status running',
        );
      });

      it('an unknown projection: 404 NOT_FOUND', async () => {
        const res = await t.request('POST', `/projections/no-such-${randomUUID()}/rebuild`, { as: 'admin' });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
      });

      it('the saga cannot be rebuilt: 409 NOT_REBUILDABLE', async () => {
        const res = await t.request('POST', '/projections/lead-conversion/rebuild', { as: 'admin' });
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: 'NOT_REBUILDABLE' });
      });
    });
  });
}
