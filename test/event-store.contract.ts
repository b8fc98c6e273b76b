import { randomUUID } from 'node:crypto';
import {
  ANY,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  WrongExpectedRevisionError,
  comparePositions,
  type AllSubscription,
  type EventStore,
  type RecordedEvent,
} from '../src/event-store/event-store.port.js';
import { newEvent, streamName } from './support/events.js';

/**
 * The behaviour every EventStore adapter must have. Each adapter's spec calls this with a
 * factory; adapter-specific guarantees (e.g. the PostgreSQL gap test) live in the adapter's spec.
 */
export function eventStoreContract(open: () => Promise<{ store: EventStore; close: () => Promise<void> }>): void {
  let store: EventStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await open());
  });
  afterAll(async () => close?.());

  it('numbers the first event of a stream revision 0 and counts up', async () => {
    const stream = streamName();
    const first = await store.appendToStream(stream, [newEvent()], { expectedRevision: NO_STREAM });
    const next = await store.appendToStream(stream, [newEvent(), newEvent()], { expectedRevision: 0 });
    expect(first.nextRevision).toBe(0);
    expect(next.nextRevision).toBe(2);
    expect(comparePositions(next.position, first.position)).toBe(1);
    const events = await store.readStream(stream);
    expect(events.map((e) => e.revision)).toEqual([0, 1, 2]);
  });

  it('reads a missing stream as empty', async () => {
    expect(await store.readStream(streamName())).toEqual([]);
  });

  it('round-trips type, data and metadata, and reads from a revision', async () => {
    const stream = streamName();
    const event = newEvent('LeadCreated', { topic: 'Büro', nested: { n: 1.5, list: [true, null] } });
    await store.appendToStream(stream, [event, newEvent()], { expectedRevision: NO_STREAM });
    const [read] = await store.readStream(stream);
    expect(read).toMatchObject({ id: event.id, type: 'LeadCreated', streamId: stream, revision: 0, data: event.data, metadata: event.metadata });
    expect(typeof read.position).toBe('string');
    expect(read.createdAt).toBeInstanceOf(Date);
    expect((await store.readStream(stream, { fromRevision: 1 })).map((e) => e.revision)).toEqual([1]);
  });

  it('rejects each kind of wrong expected revision with the actual revision', async () => {
    const stream = streamName();
    await expect(store.appendToStream(stream, [newEvent()], { expectedRevision: STREAM_EXISTS })).rejects.toMatchObject({ actual: -1 });
    await expect(store.appendToStream(stream, [newEvent()], { expectedRevision: 0 })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await store.appendToStream(stream, [newEvent()], { expectedRevision: NO_STREAM });
    await expect(store.appendToStream(stream, [newEvent()], { expectedRevision: NO_STREAM })).rejects.toMatchObject({ actual: 0, streamId: stream });
    await expect(store.appendToStream(stream, [newEvent()], { expectedRevision: 5 })).rejects.toMatchObject({ actual: 0 });
    await store.appendToStream(stream, [newEvent()], { expectedRevision: STREAM_EXISTS });
    await store.appendToStream(stream, [newEvent()], { expectedRevision: ANY });
    expect((await store.readStream(stream)).length).toBe(3);
  });

  it('lets exactly one of two concurrent appends at the same revision win', async () => {
    const stream = streamName();
    await store.appendToStream(stream, [newEvent()], { expectedRevision: NO_STREAM });
    const results = await Promise.allSettled([
      store.appendToStream(stream, [newEvent('A')], { expectedRevision: 0 }),
      store.appendToStream(stream, [newEvent('B')], { expectedRevision: 0 }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect((await store.readStream(stream)).length).toBe(2);
  });

  it('treats a retried append of the same event ids as already done', async () => {
    const stream = streamName();
    const events = [newEvent(), newEvent()];
    const first = await store.appendToStream(stream, events, { expectedRevision: NO_STREAM });
    const retry = await store.appendToStream(stream, events, { expectedRevision: NO_STREAM });
    expect(retry).toEqual(first);
    expect((await store.readStream(stream)).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  // On PostgreSQL appends that arrive together commit in one transaction (append-batches.ts):
  // a conflict, a retry or a stream named twice among them must still be answered alone.
  it('answers each of many concurrent appends alone: conflicts fail, retries replay, the rest commit', async () => {
    const fresh = Array.from({ length: 30 }, () => streamName('together'));
    const existing = streamName('together-existing');
    const stored = [newEvent()];
    const first = await store.appendToStream(existing, stored, { expectedRevision: NO_STREAM });
    const outcomes = await Promise.allSettled([
      ...fresh.map((s) => store.appendToStream(s, [newEvent()], { expectedRevision: NO_STREAM })),
      store.appendToStream(existing, [newEvent()], { expectedRevision: 5 }),
      store.appendToStream(existing, stored, { expectedRevision: NO_STREAM }),
      store.appendToStreams([
        { streamId: fresh[0], events: [newEvent()], expectedRevision: ANY },
        { streamId: streamName('together-pair'), events: [newEvent()], expectedRevision: NO_STREAM },
      ]),
    ]);
    expect(outcomes.slice(0, 30).every((o) => o.status === 'fulfilled')).toBe(true);
    const [conflict, retry, pair] = outcomes.slice(30);
    expect(conflict.status === 'rejected' && conflict.reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect(retry).toEqual({ status: 'fulfilled', value: first });
    expect(pair.status).toBe('fulfilled');
    expect((await store.readStream(fresh[0])).length).toBe(2);
    expect((await store.readStream(existing)).map((e) => e.id)).toEqual([stored[0].id]);
  });

  // On PostgreSQL concurrent stream reads beyond a few queue and go as one statement (stream-reads.ts).
  it('answers many concurrent stream reads each with its own stream, from its own revision', async () => {
    const streams = Array.from({ length: 40 }, () => streamName('read-together'));
    const ids = await Promise.all(
      streams.map(async (s, i) => {
        const events = Array.from({ length: (i % 3) + 1 }, () => newEvent());
        await store.appendToStream(s, events, { expectedRevision: NO_STREAM });
        return events.map((e) => e.id);
      }),
    );
    const reads = await Promise.all([
      ...streams.map((s) => store.readStream(s)),
      ...streams.map((s) => store.readStream(s, { fromRevision: 1 })),
      store.readStream(streamName('read-together-missing')),
    ]);
    streams.forEach((s, i) => {
      expect(reads[i].map((e) => e.id)).toEqual(ids[i]);
      expect(reads[streams.length + i].map((e) => e.id)).toEqual(ids[i].slice(1));
      expect(reads[i].every((e) => e.streamId === s)).toBe(true);
    });
    expect(reads[reads.length - 1]).toEqual([]);
  });

  it('reads all from an exclusive position, in batches', async () => {
    const stream = streamName();
    const before = await store.headPosition();
    await store.appendToStream(stream, [newEvent(), newEvent(), newEvent()], { expectedRevision: NO_STREAM });
    const all = (await store.readAll(before, 1000)).filter((e) => e.streamId === stream);
    expect(all).toHaveLength(3);
    const afterFirst = await store.readAll(all[0].position, 1);
    expect(afterFirst).toHaveLength(1);
    expect(afterFirst[0].id).toBe(all[1].id);
    expect(await store.readAll(await store.headPosition(), 10)).toEqual([]);
    expect(comparePositions(await store.headPosition(), START)).toBe(1);
  });

  it('gives 50 concurrent appenders one slot each and a follower sees every event once, in order', async () => {
    const start = await store.headPosition();
    const streams = Array.from({ length: 50 }, () => streamName('burst'));
    const seen: string[] = [];
    let done = false;
    const follower = (async () => {
      let after = start;
      for (;;) {
        const finished = done;
        const batch = await store.readAll(after, 37);
        for (const e of batch) {
          if (seen.length && comparePositions(e.position, after) <= 0) throw new Error('position went backwards');
          seen.push(e.id);
          after = e.position;
        }
        if (finished && batch.length === 0) return;
      }
    })();
    const appended = await Promise.all(
      streams.map(async (s) => {
        const events = [newEvent(), newEvent()];
        await store.appendToStream(s, [events[0]], { expectedRevision: NO_STREAM });
        await store.appendToStream(s, [events[1]], { expectedRevision: 0 });
        return events.map((e) => e.id);
      }),
    );
    done = true;
    await follower;
    const expected = appended.flat();
    const ours = seen.filter((id) => expected.includes(id));
    expect(ours).toHaveLength(100);
    expect(new Set(ours).size).toBe(100);
    const all = await store.readAll(start, 10_000);
    const positions = all.map((e) => BigInt(e.position));
    expect([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(positions);
  });

  it('appends to several streams at once, answering in order', async () => {
    const [a, b] = [streamName(), streamName()];
    await store.appendToStream(b, [newEvent()], { expectedRevision: NO_STREAM });
    const results = await store.appendToStreams([
      { streamId: a, events: [newEvent('A')], expectedRevision: NO_STREAM },
      { streamId: b, events: [newEvent('B'), newEvent('B')], expectedRevision: 0 },
    ]);
    expect(results.map((r) => r.nextRevision)).toEqual([0, 2]);
    expect(comparePositions(results[1].position, results[0].position)).toBe(1);
    expect((await store.readStream(a)).map((e) => e.type)).toEqual(['A']);
    expect((await store.readStream(b)).map((e) => [e.type, e.revision])).toEqual([
      ['TestHappened', 0],
      ['B', 1],
      ['B', 2],
    ]);
    // Each answer is the position of that stream's last event, as a reader sees it.
    expect(results[0].position).toBe((await store.readStream(a)).at(-1)!.position);
    expect(results[1].position).toBe((await store.readStream(b)).at(-1)!.position);
  });

  describe('subscription to all', () => {
    /** Pulls until `done` holds for everything pulled so far; fails after 15 s. */
    async function pullUntil(subscription: AllSubscription, done: (events: RecordedEvent[], position: string) => boolean, max = 100) {
      const events: RecordedEvent[] = [];
      let position = START;
      const deadline = Date.now() + 15_000;
      while (!done(events, position)) {
        if (Date.now() > deadline) throw new Error(`pulled ${events.length} events up to ${position}, still not done`);
        const page = await subscription.pull(max, 200);
        expect(page.events.length).toBeLessThanOrEqual(max);
        if (page.events.length > 0) expect(comparePositions(page.position, page.events[page.events.length - 1].position)).toBeGreaterThanOrEqual(0);
        events.push(...page.events);
        position = page.position;
      }
      return { events, position };
    }
    const kinds = () => {
      const id = randomUUID();
      return { a: `SubA.${id}`, b: `SubB.${id}` };
    };

    it('delivers the events after a position in order, only those of the types asked for', async () => {
      const { a, b } = kinds();
      const before = await store.headPosition();
      const stream = streamName();
      const events = [newEvent(a), newEvent(b), newEvent(a), newEvent(b)];
      await store.appendToStream(stream, events, { expectedRevision: NO_STREAM });

      const filtered = store.subscribeToAll({ after: before, eventTypes: [a] });
      try {
        const { events: got } = await pullUntil(filtered, (e) => e.length >= 2);
        expect(got.map((e) => e.id)).toEqual([events[0].id, events[2].id]);
        expect(got[0]).toMatchObject({ type: a, streamId: stream, revision: 0, data: events[0].data, metadata: events[0].metadata });
        expect(comparePositions(got[0].position, before)).toBe(1);
      } finally {
        await filtered.close();
      }

      const all = store.subscribeToAll({ after: before });
      try {
        const ours = (e: RecordedEvent[]) => e.filter((x) => x.streamId === stream);
        const { events: got } = await pullUntil(all, (e) => ours(e).length >= 4);
        expect(ours(got).map((e) => e.id)).toEqual(events.map((e) => e.id));
        const positions = got.map((e) => BigInt(e.position));
        expect(positions.every((p, i) => i === 0 || p > positions[i - 1])).toBe(true);
      } finally {
        await all.close();
      }
    });

    it('moves its position past events of other types', async () => {
      const { a, b } = kinds();
      const subscription = store.subscribeToAll({ after: await store.headPosition(), eventTypes: [a] });
      try {
        await store.appendToStream(streamName(), [newEvent(b), newEvent(b), newEvent(b)], { expectedRevision: NO_STREAM });
        const head = await store.headPosition();
        // The SQL store covers up to its head at once; EventStoreDB at its next checkpoint, which
        // takes some more events of any type to come.
        for (let padding = 0; ; padding++) {
          const { events, position } = await subscription.pull(10, 200);
          expect(events).toEqual([]);
          if (comparePositions(position, head) >= 0) break;
          expect(padding).toBeLessThan(100);
          await store.appendToStream(
            streamName(),
            Array.from({ length: 8 }, () => newEvent(b)),
            { expectedRevision: NO_STREAM },
          );
        }
      } finally {
        await subscription.close();
      }
    });

    it('waits in pull until an append arrives', async () => {
      const { a } = kinds();
      const subscription = store.subscribeToAll({ after: await store.headPosition(), eventTypes: [a] });
      try {
        const started = Date.now();
        const waitMs = 20_000;
        const pulled = pullUntil(subscription, (e) => e.length >= 1);
        const event = newEvent(a);
        await store.appendToStream(streamName(), [event], { expectedRevision: NO_STREAM });
        const { events } = await pulled;
        expect(events.map((e) => e.id)).toEqual([event.id]);
        // A long pull too: it must end with the append, not with its wait.
        const next = newEvent(a);
        const long = subscription.pull(10, waitMs);
        await store.appendToStream(streamName(), [next], { expectedRevision: NO_STREAM });
        let page = await long;
        while (page.events.length === 0) page = await subscription.pull(10, waitMs);
        expect(page.events.map((e) => e.id)).toEqual([next.id]);
        expect(Date.now() - started).toBeLessThan(waitMs);
      } finally {
        await subscription.close();
      }
    });

    it('ends a waiting pull on close and refuses pulls after it', async () => {
      const { a } = kinds();
      const after = await store.headPosition();
      const subscription = store.subscribeToAll({ after, eventTypes: [a] });
      const started = Date.now();
      const pending = subscription.pull(10, 20_000);
      await subscription.close();
      await expect(pending).resolves.toMatchObject({ events: [] });
      expect(Date.now() - started).toBeLessThan(20_000);
      await expect(subscription.pull(10, 10)).rejects.toThrow(/closed/);
    });

    // The SQL store walks the log or the type index depending on how much of the log matched
    // lately: a rare type and a common one over the same events exercise both, in small pages.
    it('delivers a rare type and a common one among the same events, in order, page by page', async () => {
      const { a, b } = kinds();
      const before = await store.headPosition();
      const events = Array.from({ length: 400 }, (_, i) => newEvent(i % 40 === 7 ? a : b));
      for (let i = 0; i < events.length; i += 100) await store.appendToStream(streamName(), events.slice(i, i + 100), { expectedRevision: NO_STREAM });
      for (const [type, max] of [
        [a, 3],
        [b, 50],
      ] as const) {
        const expected = events.filter((e) => e.type === type).map((e) => e.id);
        const subscription = store.subscribeToAll({ after: before, eventTypes: [type] });
        const { events: got } = await pullUntil(subscription, (e) => e.length >= expected.length, max).finally(() => subscription.close());
        expect(got.map((e) => e.id)).toEqual(expected);
      }
    });

    it('continues from a returned position without gap or repeat', async () => {
      const { a, b } = kinds();
      const before = await store.headPosition();
      const events = [newEvent(a), newEvent(b), newEvent(a), newEvent(a), newEvent(b), newEvent(a), newEvent(a)];
      await store.appendToStream(streamName(), events, { expectedRevision: NO_STREAM });
      const expected = events.filter((e) => e.type === a).map((e) => e.id);

      const first = store.subscribeToAll({ after: before, eventTypes: [a] });
      const head = await pullUntil(first, (e) => e.length >= 2, 2).finally(() => first.close());
      const rest = store.subscribeToAll({ after: head.position, eventTypes: [a] });
      const tail = await pullUntil(rest, (e) => head.events.length + e.length >= expected.length, 2).finally(() => rest.close());
      expect([...head.events, ...tail.events].map((e) => e.id)).toEqual(expected);
    });

    it('gives a filtered follower every event of 50 concurrent appenders once, in order', async () => {
      const { a } = kinds();
      const subscription = store.subscribeToAll({ after: await store.headPosition(), eventTypes: [a] });
      try {
        const appended = Promise.all(
          Array.from({ length: 50 }, async () => {
            const stream = streamName('burst');
            const events = [newEvent(a), newEvent(a)];
            await store.appendToStream(stream, [events[0]], { expectedRevision: NO_STREAM });
            await store.appendToStream(stream, [events[1]], { expectedRevision: 0 });
            return events.map((e) => e.id);
          }),
        );
        const { events } = await pullUntil(subscription, (e) => e.length >= 100, 37);
        const ids = (await appended).flat();
        expect(events).toHaveLength(100);
        expect(new Set(events.map((e) => e.id))).toEqual(new Set(ids));
        const positions = events.map((e) => BigInt(e.position));
        expect(positions.every((p, i) => i === 0 || p > positions[i - 1])).toBe(true);
      } finally {
        await subscription.close();
      }
    });
  });
}
