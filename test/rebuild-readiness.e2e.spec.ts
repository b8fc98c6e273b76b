import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { leadFields } from '../bench/data.js';
import { openDatabase, type Database, type SqlRunner } from '../src/database/database.js';
import { rawSqlite } from '../src/database/sqlite-statements.js';
import { EVENT_STORE_ENTITIES } from '../src/event-store/entities.js';
import { EVENT_STORE, NO_STREAM, type EventStore, type RecordedEvent, type StreamAppend } from '../src/event-store/event-store.port.js';
import type { Projection } from '../src/event-store/processor.js';
import { DEFAULT_RUNNER_OPTIONS, ProcessorRunner } from '../src/event-store/processor-runner.js';
import { SqlEventStore } from '../src/event-store/sql/sql-event-store.js';
import { LEAD_DETAILS, LeadDetailsProjection } from '../src/leads/lead-details/lead-details.projection.js';
import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseKinds, type TestDatabase } from './support/databases.js';
import { eventually, newEvent, streamName } from './support/events.js';

/**
 * Issue #17 item 4: rebuilding one read model leaves the instance ready. While lead-details is
 * reset and replayed, /health/ready answers 200 every time, the other processors keep going (a
 * lead qualified meanwhile is converted, its records readable) and lead-details' queries answer
 * 503 PROJECTION_REBUILDING until the rebuild is done, then 200.
 */
const kinds = await testDatabaseKinds();

/** Leads in the log (one LeadCreated each): the reset deletes as many rows, the replay writes them again. */
const LEADS = 10_000;

/** The log of `count` leads, through the event store port, 1,000 new streams per append (as bench/generate-events.ts). */
async function seedLeads(store: EventStore, count: number): Promise<void> {
  for (let first = 0; first < count; first += 1000) {
    const appends: StreamAppend[] = [];
    for (let i = first; i < Math.min(count, first + 1000); i++) {
      const leadId = uuidv7();
      const event = { ...newEvent('LeadCreated', { leadId, ...leadFields(i, leadId) }), id: uuidv7() };
      appends.push({ streamId: `lead-${leadId}`, expectedRevision: NO_STREAM, events: [event] });
    }
    await store.appendToStreams(appends);
  }
}

/** Asks /health/ready back to back until stop(), keeping every answer. */
function watchReadiness(t: TestApp) {
  const answers: { status: number; details?: unknown }[] = [];
  let watching = true;
  const loop = (async () => {
    while (watching) {
      const res = await t.request('GET', '/health/ready');
      answers.push(res.status === 200 ? { status: 200 } : { status: res.status, details: res.body?.details ?? res.body });
    }
  })();
  return {
    answers,
    stop: async () => {
      watching = false;
      await loop;
      return answers;
    },
  };
}

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`readiness while a read model is rebuilt, on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    beforeAll(async () => {
      t = await startTestApp(kind);
      store = t.app.get(EVENT_STORE);
      await seedLeads(store, LEADS);
      const head = await store.headPosition();
      // Every processor at the head: a deployment whose read models are up to date.
      await eventually(async () => (await projections()).every((p) => p.checkpoint === head), 'every processor to reach the head of the seeded log', 60_000);
    }, 120_000);
    afterAll(async () => t?.close());

    const projections = async (): Promise<{ name: string; status: string; checkpoint: string }[]> => {
      const res = await t.request('GET', '/projections', { as: 'analyst' });
      expect(res.status).toBe(200);
      return res.body.items;
    };
    const leadDetails = async () => (await projections()).find((p) => p.name === LEAD_DETAILS)!;
    const rebuilt = (target: string) =>
      eventually(
        async () => {
          const p = await leadDetails();
          return p.status === 'running' && BigInt(p.checkpoint) >= BigInt(target);
        },
        'lead-details to finish its rebuild',
        60_000,
      );

    /**
     * A lead created and qualified now, returned once the saga has converted it and the records
     * projection shows its account, contact and opportunity: the processors other than
     * lead-details at work. Its history is read from the log (lead-details is not involved).
     */
    async function convertLead(topic: string): Promise<string> {
      const id = randomUUID();
      const body = { id, topic, lastName: 'Rebuild', companyName: `Co ${id}`, email: `${id}@example.com`, leadSource: 'Web' };
      expect((await t.request('POST', '/leads', { as: 'salesperson', body })).status).toBe(201);
      const qualified = await t.request('POST', `/leads/${id}/qualify`, {
        as: 'salesperson',
        body: { createAccount: true, createContact: true, createOpportunity: true, ignoreDuplicates: true },
      });
      expect(qualified.status).toBe(202);
      const { plan } = qualified.body as { plan: Record<'account' | 'contact' | 'opportunity', { action: string; id: string }> };
      await eventually(async () => {
        const history = await t.request('GET', `/leads/${id}/history`, { as: 'analyst' });
        return history.status === 200 && history.body.items.some((e: { type: string }) => e.type === 'LeadConversionCompleted');
      }, `the conversion of ${topic}`);
      for (const [collection, record] of [
        ['accounts', plan.account],
        ['contacts', plan.contact],
        ['opportunities', plan.opportunity],
      ] as const) {
        expect(record.action).toBe('create');
        await eventually(async () => (await t.request('GET', `/${collection}/${record.id}`, { as: 'analyst' })).status === 200, `${collection} of ${topic}`);
      }
      return id;
    }

    /** A lead-details query; during the rebuild 503 PROJECTION_REBUILDING. */
    const readLead = (id: string) => t.request('GET', `/leads/${id}`, { as: 'analyst' });

    if (kind.name === 'postgres') {
      it('stays ready, and the other processors convert new qualifications, while lead-details is reset and replayed', async () => {
        const url = (t.db.config as { url: string }).url;
        const connect = async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          return client;
        };
        const waitingForLeadDetails = async () =>
          Number((await backup.query(`SELECT COUNT(*) AS n FROM pg_locks WHERE relation = 'lead_details'::regclass AND NOT granted`)).rows[0].n);
        // The windows are held open by table locks, as a backup (pg_dump) holds its tables: each
        // check runs while the rebuild is provably in that phase, however fast the machine.
        const backup = await connect();
        const blocker = await connect();
        const readiness = watchReadiness(t);
        try {
          // 1. The reset: deletes the rows, then waits to drop the query indexes (ACCESS EXCLUSIVE)
          // until the "backup" ends. It used to stop the runner: `stopped`, readiness 503 throughout.
          await backup.query('BEGIN');
          await backup.query('SELECT COUNT(*) FROM lead_details');
          const request = t.request('POST', `/projections/${LEAD_DETAILS}/rebuild`, { as: 'admin' });
          await eventually(async () => (await waitingForLeadDetails()) === 1, 'the reset to wait for the lock on lead_details');
          const duringReset = await convertLead('converted during the reset');
          expect(readiness.answers.length).toBeGreaterThan(0);

          // 2. The replay: held by a SHARE lock queued behind the reset, so that no batch of it
          // commits until released (the lock queue is first come, first served).
          await blocker.query('BEGIN');
          const replayHeld = blocker.query('LOCK TABLE lead_details IN SHARE MODE');
          await eventually(async () => (await waitingForLeadDetails()) === 2, 'the replay blocker to queue behind the reset');
          await backup.query('COMMIT');
          await replayHeld;
          const accepted = await request;
          expect(accepted.status).toBe(202);
          const target = accepted.body.target as string;

          const refused = await readLead(duringReset);
          expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 503, code: 'PROJECTION_REBUILDING' });
          const duringReplay = await convertLead('converted during the replay');
          const others = (await projections()).filter((p) => p.name !== LEAD_DETAILS);
          expect((await leadDetails()).status).toBe('rebuilding');
          // Every other processor has moved past the rebuild's target meanwhile.
          for (const p of others) expect(BigInt(p.checkpoint)).toBeGreaterThan(BigInt(target));

          // 3. Released: the replay and the index builds run to the end.
          await blocker.query('COMMIT');
          await rebuilt(target);
          for (const id of [duringReset, duringReplay]) {
            const res = await readLead(id);
            expect(res.status).toBe(200);
            expect(res.body.qualification).toMatchObject({ conversion: 'completed' });
          }
        } finally {
          await backup.query('ROLLBACK').catch(() => undefined);
          await blocker.query('ROLLBACK').catch(() => undefined);
          await backup.end();
          await blocker.end();
          await readiness.stop();
        }
        expect(readiness.answers.filter((a) => a.status !== 200)).toEqual([]);
      }, 90_000);
    } else {
      it('stays ready while lead-details is rebuilt, and a lead qualified meanwhile is converted', async () => {
        const readiness = watchReadiness(t);
        const answers: { status: number; code?: string }[] = [];
        try {
          const accepted = await t.request('POST', `/projections/${LEAD_DETAILS}/rebuild`, { as: 'admin' });
          expect(accepted.status).toBe(202);
          // SQLite replays fast: the conversion may end before or after the rebuild; it must end.
          const converted = await convertLead('converted while rebuilding');
          await eventually(async () => {
            const res = await readLead(converted);
            answers.push({ status: res.status, code: res.body?.code });
            return res.status === 200;
          }, 'lead-details to answer again');
          await rebuilt(accepted.body.target);
        } finally {
          await readiness.stop();
        }
        expect(readiness.answers.filter((a) => a.status !== 200)).toEqual([]);
        expect(answers.filter((a) => !(a.status === 200 || (a.status === 503 && a.code === 'PROJECTION_REBUILDING')))).toEqual([]);
      }, 90_000);
    }
  });
}

/**
 * On SQLite an index build holds the only connection and the event loop for its whole duration.
 * A request that arrives meanwhile must wait for that build only, not for the next one as well:
 * the work that waited runs between two builds. Builds made slow on purpose (an index on a
 * function that takes BUILD_MS), so that the bound is measured, not the machine.
 */
const sqlite = kinds.find((k) => k.name === 'sqlite-file')!;
describe('index builds after a rebuild, on SQLite', () => {
  // Long enough that one build and two tell apart on a loaded machine (a margin of half a build).
  const BUILD_MS = 300;
  const BUILDS = 6;
  let testDb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    testDb = await sqlite.create();
    db = await openDatabase(testDb.config, EVENT_STORE_ENTITIES);
    rawSqlite(db.dataSource).function('slow', { deterministic: true }, (x: unknown) => {
      const end = performance.now() + BUILD_MS;
      while (performance.now() < end);
      return x;
    });
    await db.query('CREATE TABLE slow_rows (x INTEGER)');
    await db.query('INSERT INTO slow_rows (x) VALUES (1)');
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('keep any request waiting for one build at most', async () => {
    const index = (i: number) => `ix_slow_${i}`;
    const projection: Projection = {
      name: 'slow-indexes',
      eventTypes: ['SlowIndexed'],
      apply: async () => undefined,
      reset: async () => undefined,
      suspendIndexes: async (sql: SqlRunner) => {
        for (let i = 0; i < BUILDS; i++) await sql(`DROP INDEX IF EXISTS ${index(i)}`);
      },
      restoreIndexes: () => Array.from({ length: BUILDS }, (_, i) => `CREATE INDEX IF NOT EXISTS ${index(i)} ON slow_rows (slow(x + ${i}))`),
    };
    const store = new SqlEventStore(db);
    const { position } = await store.appendToStream(streamName(), [newEvent('SlowIndexed')], { expectedRevision: NO_STREAM });
    const runner = new ProcessorRunner(projection, store, db, { ...DEFAULT_RUNNER_OPTIONS, instanceId: 'slow-indexes' });
    runner.start();
    expect(await runner.waitFor(position, 10_000)).toBe(true);

    // A timer every 2 ms, and a statement once it fires: from when the timer was due to when the
    // statement answered is what a request arriving at that moment waited.
    let probing = true;
    let longest = 0;
    const probe = (async () => {
      while (probing) {
        const due = performance.now() + 2;
        await new Promise((resolve) => setTimeout(resolve, 2));
        await db.query('SELECT 1');
        longest = Math.max(longest, performance.now() - due);
      }
    })();
    const mark = async () =>
      (await db.query<{ rebuild_target: string | null }>('SELECT rebuild_target FROM checkpoints WHERE processor = ?', [projection.name]))[0];
    const started = performance.now();
    try {
      await runner.rebuild(position);
      await eventually(async () => (await mark()).rebuild_target === null, 'the indexes rebuilt and the mark cleared');
    } finally {
      probing = false;
      await probe;
      await runner.stop();
    }
    const built = await db.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_slow_%'`);
    expect(built).toHaveLength(BUILDS);
    expect(performance.now() - started).toBeGreaterThan(BUILDS * BUILD_MS);
    // Queued behind the next build as well, it waited about two builds.
    expect(longest).toBeGreaterThan(BUILD_MS * 0.5);
    expect(longest).toBeLessThan(BUILD_MS * 1.5);
  });
});
