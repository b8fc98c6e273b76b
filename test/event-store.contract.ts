import { ANY, NO_STREAM, START, STREAM_EXISTS, WrongExpectedRevisionError, comparePositions, type EventStore } from '../src/event-store/event-store.port.js';
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
    expect((await store.readStream(b)).map((e) => e.type)).toEqual(['TestHappened', 'B', 'B']);
  });

  it('notifies listeners after an append commits', async () => {
    let calls = 0;
    const off = store.onAppended(() => calls++);
    await store.appendToStream(streamName(), [newEvent()], { expectedRevision: NO_STREAM });
    off();
    await store.appendToStream(streamName(), [newEvent()], { expectedRevision: NO_STREAM });
    expect(calls).toBe(1);
  });
}
