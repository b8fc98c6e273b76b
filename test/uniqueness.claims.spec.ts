import { randomUUID } from 'node:crypto';
import { openDatabase, type Database } from '../src/database/database.js';
import { EVENT_STORE_ENTITIES } from '../src/event-store/entities.js';
import { NO_STREAM, type EventMetadata } from '../src/event-store/event-store.port.js';
import { SqlEventStore } from '../src/event-store/sql/sql-event-store.js';
import { claimAppend } from '../src/uniqueness/claim-appends.js';
import { liveHolders } from '../src/leads/claim-holders.js';
import { readClaims } from '../src/uniqueness/key-claims.js';
import { LapsedClaimsProcessor } from '../src/uniqueness/lapsed-claims.processor.js';
import { uniqueKey, type UniqueKey } from '../src/uniqueness/unique-keys.js';
import { testDatabaseKinds, type TestDatabase } from './support/databases.js';
import { newEvent } from './support/events.js';
import type { EventStore } from './support/untyped-events.js';

const sqlite = (await testDatabaseKinds()).find((k) => k.name === 'sqlite-file')!;
const TTL = 60_000;

describe('uniqueness claims, judged by their owners (sqlite-file)', () => {
  let testDb: TestDatabase;
  let db: Database;
  let store: EventStore;
  beforeAll(async () => {
    testDb = await sqlite.create();
    db = await openDatabase(testDb.config, EVENT_STORE_ENTITIES);
    store = new SqlEventStore(db);
  });
  afterAll(async () => {
    await store.close();
    await db.close();
    await testDb.drop();
  });

  const at = (iso: string): EventMetadata => ({ userId: 'u', correlationId: 'c', causationId: 'c', at: iso });
  const now = new Date('2026-11-30T12:00:00.000Z');
  const none = { action: 'none', id: null };

  /** Claims `key` for lead `leadId` (owner event id `ownerEventId`), as a command made at `claimedAt` would. */
  async function claim(key: UniqueKey, leadId: string, ownerEventId: string, claimedAt: string, recordId = leadId): Promise<void> {
    const claims = await readClaims(store, key);
    const append = claimAppend(
      claims,
      {
        recordId,
        leadId,
        qualificationId: key.kind === 'lead-email' ? null : randomUUID(),
        ownerStreamId: `lead-${leadId}`,
        ownerEventId,
        record: { name: 'X' },
      },
      at(claimedAt),
    );
    await store.appendToStreams([append]);
  }

  it('a claim whose owner event is not in the log holds (pending) while young and lapses after the TTL', async () => {
    const key = uniqueKey('account-name', `Orphan ${randomUUID()}`)!;
    await claim(key, randomUUID(), randomUUID(), '2026-11-30T11:59:30.000Z');
    const claims = await readClaims(store, key);
    expect((await liveHolders(store, claims, now, { ttlMs: TTL })).map((h) => h.pending)).toEqual([true]);
    expect(await liveHolders(store, claims, new Date(now.getTime() + TTL), { ttlMs: TTL })).toEqual([]);
  });

  it("a lead's e-mail claim holds while the lead is open with that e-mail, and not once it is qualified, even with no release event", async () => {
    const email = `${randomUUID()}@example.com`;
    const key = uniqueKey('lead-email', email)!;
    const leadId = randomUUID();
    const created = newEvent('LeadCreated', { leadId, topic: 't', lastName: 'l', email });
    await claim(key, leadId, created.id, now.toISOString());
    await store.appendToStream(`lead-${leadId}`, [created], { expectedRevision: NO_STREAM });
    const claims = await readClaims(store, key);
    expect((await liveHolders(store, claims, now)).map((h) => [h.claim.data.recordId, h.pending])).toEqual([[leadId, false]]);
    expect(await liveHolders(store, claims, now, { ignoreLeadId: leadId })).toEqual([]);
    // A crash after LeadQualified, before the release (possible where appends are not atomic).
    await store.appendToStream(
      `lead-${leadId}`,
      [newEvent('LeadQualified', { leadId, qualificationId: randomUUID(), plan: { account: none, contact: none, opportunity: none } })],
      { expectedRevision: 0 },
    );
    expect(await liveHolders(store, await readClaims(store, key), now)).toEqual([]);
  });

  describe('LapsedClaimsProcessor', () => {
    const processor = () => new LapsedClaimsProcessor(store, { ttlMs: 300, pollMs: 20 });
    const claimedEvent = async (key: UniqueKey) => (await store.readStream((await readClaims(store, key)).streamId)).at(-1)!;

    it('releases a claim whose owner never came, once the TTL has passed (owner-missing)', async () => {
      const key = uniqueKey('contact-email', `${randomUUID()}@example.com`)!;
      await claim(key, randomUUID(), randomUUID(), new Date().toISOString(), randomUUID());
      await processor().perform(await claimedEvent(key), new AbortController().signal);
      const events = await store.readStream((await readClaims(store, key)).streamId);
      expect(events.map((e) => [e.type, e.data.reason])).toEqual([
        ['UniqueKeyClaimed', undefined],
        ['UniqueKeyReleased', 'owner-missing'],
      ]);
      expect((await readClaims(store, key)).claims).toEqual([]);
    });

    it('leaves a claim alone once its owner event is in the log, even if it comes late', async () => {
      const key = uniqueKey('account-name', `Late ${randomUUID()}`)!;
      const leadId = randomUUID();
      const owner = newEvent('LeadQualified', { leadId });
      await claim(key, leadId, owner.id, new Date().toISOString(), randomUUID());
      const performed = processor().perform(await claimedEvent(key), new AbortController().signal);
      await store.appendToStream(`lead-${leadId}`, [owner], { expectedRevision: NO_STREAM });
      await performed;
      expect((await store.readStream((await readClaims(store, key)).streamId)).map((e) => e.type)).toEqual(['UniqueKeyClaimed']);
    });

    it('stops waiting when the runner stops, quietly (no error) and releasing nothing', async () => {
      const key = uniqueKey('account-name', `Stopped ${randomUUID()}`)!;
      await claim(key, randomUUID(), randomUUID(), new Date().toISOString(), randomUUID());
      const stop = new AbortController();
      const performed = new LapsedClaimsProcessor(store, { ttlMs: 60_000, pollMs: 60_000 }).perform(await claimedEvent(key), stop.signal);
      stop.abort();
      await expect(performed).resolves.toBeUndefined();
      expect((await store.readStream((await readClaims(store, key)).streamId)).map((e) => e.type)).toEqual(['UniqueKeyClaimed']);
    });
  });
});
