import pg from 'pg';
import { openDatabase, type Database } from '../src/database/database.js';
import { EVENT_STORE_ENTITIES } from '../src/event-store/entities.js';
import { NO_STREAM, START } from '../src/event-store/event-store.port.js';
import { SqlEventStore } from '../src/event-store/sql/sql-event-store.js';
import { SqlAllSubscription } from '../src/event-store/sql/sql-all-subscription.js';
import { EventEmitter } from 'node:events';
import type { SubscriptionPage } from '../src/event-store/event-store.port.js';
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

    describe('reading ahead (the pages of a runner that catches up)', () => {
      let testDb: Awaited<ReturnType<typeof kind.create>>;
      let db: Database;
      let store: SqlEventStore;
      beforeEach(async () => {
        testDb = await kind.create();
        db = await openDatabase(testDb.config, EVENT_STORE_ENTITIES);
        store = new SqlEventStore(db);
      });
      afterEach(async () => {
        await store.close();
        await db.close();
        await testDb.drop();
      });

      /** The real store's pages, and when each was asked for relative to the pulls. */
      const watched = () => {
        const asked: string[] = [];
        return {
          asked,
          readPage: (after: string, limit: number, types?: readonly string[], sparse?: boolean): Promise<SubscriptionPage> => {
            asked.push(after);
            return store.readPage(after, limit, types, sparse);
          },
        };
      };

      it('asks for the next page when a full one comes back, and delivers every event once, in order', async () => {
        const stream = streamName();
        await store.appendToStream(
          stream,
          Array.from({ length: 250 }, () => newEvent('Seen')),
          { expectedRevision: NO_STREAM },
        );
        const reader = watched();
        const subscription = new SqlAllSubscription(reader, new EventEmitter(), START, ['Seen'], true);
        const first = await subscription.pull(100, 0);
        // The second page is on its way before the runner asks for it.
        expect(reader.asked).toEqual([START, first.position]);
        const seen = [...first.events];
        for (;;) {
          const page = await subscription.pull(100, 0);
          if (!page.events.length) break;
          seen.push(...page.events);
        }
        expect(seen.map((e) => e.revision)).toEqual(Array.from({ length: 250 }, (_, i) => i));
        await subscription.close();
      });

      it('does not answer from a page read ahead that found nothing: an append since then is delivered at once', async () => {
        const stream = streamName();
        await store.appendToStream(
          stream,
          Array.from({ length: 100 }, () => newEvent('Seen')),
          { expectedRevision: NO_STREAM },
        );
        const emitter = new EventEmitter();
        const subscription = new SqlAllSubscription(watched(), emitter, START, ['Seen'], true);
        const full = await subscription.pull(100, 0);
        expect(full.events).toHaveLength(100);
        // The read ahead (of an empty tail) may be done by now; the append comes after it.
        await store.appendToStream(stream, [newEvent('Seen')], { expectedRevision: 99 });
        emitter.emit('appended');
        const next = await subscription.pull(100, 10_000);
        expect(next.events.map((e) => e.revision)).toEqual([100]);
        await subscription.close();
      });

      it('does not use a page read ahead at another size than the runner now asks for', async () => {
        const stream = streamName();
        await store.appendToStream(
          stream,
          Array.from({ length: 300 }, () => newEvent('Seen')),
          { expectedRevision: NO_STREAM },
        );
        const subscription = new SqlAllSubscription(watched(), new EventEmitter(), START, ['Seen'], true);
        await subscription.pull(100, 0);
        const smaller = await subscription.pull(10, 0);
        expect(smaller.events.map((e) => e.revision)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
        const larger = await subscription.pull(150, 0);
        expect(larger.events.map((e) => e.revision)).toEqual(Array.from({ length: 150 }, (_, i) => 110 + i));
        await subscription.close();
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
