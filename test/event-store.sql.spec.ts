import pg from 'pg';
import { openDatabase, type Database } from '../src/database/database.js';
import { EVENT_STORE_ENTITIES } from '../src/event-store/entities.js';
import { NO_STREAM, START } from '../src/event-store/event-store.port.js';
import { SqlEventStore } from '../src/event-store/sql/sql-event-store.js';
import { eventStoreContract } from './event-store.contract.js';
import { testDatabaseKinds } from './support/databases.js';
import { eventually, newEvent, streamName } from './support/events.js';

const kinds = await testDatabaseKinds({ memory: true });

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`SQL event store on ${kind.name}`, () => {
    describe('contract', () => {
      eventStoreContract(async () => {
        const testDb = await kind.create();
        const db = await openDatabase(testDb.config, EVENT_STORE_ENTITIES);
        const store = new SqlEventStore(db);
        return {
          store,
          close: async () => {
            await store.close();
            await db.close();
            await testDb.drop();
          },
        };
      });
    });

    describe('multi-stream appends', () => {
      it('append nothing anywhere when one stream conflicts (one transaction)', async () => {
        const testDb = await kind.create();
        const db = await openDatabase(testDb.config, EVENT_STORE_ENTITIES);
        try {
          const store = new SqlEventStore(db);
          const [fresh, taken] = [streamName(), streamName()];
          await store.appendToStream(taken, [newEvent()], { expectedRevision: NO_STREAM });
          const head = await store.headPosition();
          await expect(
            store.appendToStreams([
              { streamId: fresh, events: [newEvent()], expectedRevision: NO_STREAM },
              { streamId: taken, events: [newEvent()], expectedRevision: NO_STREAM },
            ]),
          ).rejects.toMatchObject({ streamId: taken, actual: 0 });
          expect(await store.readStream(fresh)).toEqual([]);
          expect(await store.headPosition()).toBe(head);
        } finally {
          await db.close();
          await testDb.drop();
        }
      });
    });

    if (kind.name === 'postgres') {
      describe('ordering under an open transaction', () => {
        let db: Database;
        let drop: () => Promise<void>;
        let url: string;
        beforeAll(async () => {
          const testDb = await kind.create();
          drop = testDb.drop;
          url = (testDb.config as { url: string }).url;
          db = await openDatabase(testDb.config, EVENT_STORE_ENTITIES);
        });
        afterAll(async () => {
          await db.close();
          await drop();
        });

        it('never lets a reader pass an append that is still open', async () => {
          const store = new SqlEventStore(db);
          const holder = new pg.Client({ connectionString: url });
          await holder.connect();
          try {
            // An append in flight: lock taken, position allocated, not yet committed.
            await holder.query('BEGIN');
            await holder.query('SELECT pg_advisory_xact_lock(727100001)');
            const held = await holder.query(
              `INSERT INTO events (event_id, stream_id, stream_revision, type, data, metadata, created_at)
               VALUES ($1, $2, 0, 'Held', '{}', '{}', now()) RETURNING global_position`,
              [newEvent().id, streamName()],
            );
            const later = store.appendToStream(streamName(), [newEvent('Later')], { expectedRevision: NO_STREAM });
            await eventually(async () => {
              const rows = await db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
              return rows[0].n >= 1;
            }, 'the second append to wait for the lock');
            expect(await store.readAll(START, 100)).toEqual([]);
            await holder.query('COMMIT');
            const result = await later;
            const all = await store.readAll(START, 100);
            expect(all.map((e) => e.type)).toEqual(['Held', 'Later']);
            expect(BigInt(result.position)).toBeGreaterThan(BigInt(held.rows[0].global_position));
          } finally {
            await holder.end();
          }
        });

        it('never lets a subscription pass an append that is still open', async () => {
          const store = new SqlEventStore(db);
          const after = await store.headPosition();
          const subscription = store.subscribeToAll({ after, eventTypes: ['HeldToo', 'LaterToo'] });
          const holder = new pg.Client({ connectionString: url });
          await holder.connect();
          try {
            await holder.query('BEGIN');
            await holder.query('SELECT pg_advisory_xact_lock(727100001)');
            await holder.query(
              `INSERT INTO events (event_id, stream_id, stream_revision, type, data, metadata, created_at)
               VALUES ($1, $2, 0, 'HeldToo', '{}', '{}', now())`,
              [newEvent().id, streamName()],
            );
            const later = store.appendToStream(streamName(), [newEvent('LaterToo')], { expectedRevision: NO_STREAM });
            await eventually(async () => {
              const rows = await db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
              return rows[0].n >= 1;
            }, 'the second append to wait for the lock');
            expect(await subscription.pull(100, 0)).toEqual({ events: [], position: after });
            await holder.query('COMMIT');
            await later;
            const seen: string[] = [];
            await eventually(async () => {
              seen.push(...(await subscription.pull(100, 100)).events.map((e) => e.type));
              return seen.length >= 2;
            }, 'both events');
            expect(seen).toEqual(['HeldToo', 'LaterToo']);
          } finally {
            await holder.end();
            await subscription.close();
          }
        });
      });
    }
  });
}
