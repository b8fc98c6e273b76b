import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';
import { openDatabase, type Database, type SqlRunner } from '../src/database/database.js';
import { EVENT_STORE_ENTITIES } from '../src/event-store/entities.js';
import { NO_STREAM, type RecordedEvent } from '../src/event-store/event-store.port.js';
import { NotYetError, type Processor, type Projection } from '../src/event-store/processor.js';
import { DeadLetterRow } from '../src/event-store/processor.entities.js';
import { DEFAULT_RUNNER_OPTIONS, ProcessorRunner, type RunnerOptions } from '../src/event-store/processor-runner.js';
import { SqlEventStore } from '../src/event-store/sql/sql-event-store.js';
import { testDatabaseKinds, type TestDatabase } from './support/databases.js';
import { eventually, newEvent, streamName } from './support/events.js';

const kinds = await testDatabaseKinds();

/** A projection that counts how often it applied each event, in a real table. */
class CountingProjection implements Projection {
  readonly eventTypes: string[];
  failNextApplyAfterWrite = false;
  readonly batchSizes: number[] = [];
  constructor(
    readonly name: string,
    private readonly db: Database,
  ) {
    // Tests share one database: each projection reads only the events of its own test.
    this.eventTypes = [`Counted.${name}`, `Poison.${name}`];
  }

  async apply(events: RecordedEvent[], sql: SqlRunner): Promise<void> {
    this.batchSizes.push(events.length);
    for (const e of events) {
      if (e.type.startsWith('Poison')) throw new Error('cannot digest poison');
      await sql(`INSERT INTO applied (processor, event_id) VALUES (${this.db.isSqlite ? '?, ?' : '$1, $2'})`, [this.name, e.id]);
    }
    if (this.failNextApplyAfterWrite) {
      this.failNextApplyAfterWrite = false;
      throw new Error('crash after the writes, before the checkpoint');
    }
  }

  async reset(sql: SqlRunner): Promise<void> {
    await sql(`DELETE FROM applied WHERE processor = ${this.db.isSqlite ? '?' : '$1'}`, [this.name]);
  }
}

/** What the runners log (through Nest's Logger), until restore(). */
function captureLogs(): { entries: { level: string; message: string; context: unknown }[]; restore(): void } {
  const entries: { level: string; message: string; context: unknown }[] = [];
  const record =
    (level: string) =>
    (message: unknown, ...params: unknown[]) =>
      void entries.push({ level, message: String(message), context: params.at(-1) });
  const capture: LoggerService = { log: record('log'), error: record('error'), warn: record('warn'), debug: record('debug'), verbose: record('verbose') };
  Logger.overrideLogger(capture);
  return { entries, restore: () => Logger.overrideLogger(new ConsoleLogger()) };
}

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`processor runner on ${kind.name}`, () => {
    let testDb: TestDatabase;
    let db: Database;
    let store: SqlEventStore;
    const runners: ProcessorRunner[] = [];
    let n = 0;

    const options = (overrides: Partial<RunnerOptions> = {}): RunnerOptions => ({
      ...DEFAULT_RUNNER_OPTIONS,
      retryDelayMs: 5,
      maxAttempts: 3,
      instanceId: `instance-${++n}`,
      ...overrides,
    });
    const runner = (p: Processor, o: Partial<RunnerOptions> = {}) => {
      const r = new ProcessorRunner(p, store, db, options(o));
      runners.push(r);
      return r;
    };
    const appliedIds = async (processor: string): Promise<string[]> =>
      (await db.query(`SELECT event_id FROM applied WHERE processor = ${db.isSqlite ? '?' : '$1'} ORDER BY id`, [processor])).map((r: any) => r.event_id);
    const append = async (p: Processor, count: number, kindOfEvent = 'Counted') => {
      const events = Array.from({ length: count }, () => newEvent(`${kindOfEvent}.${p.name}`));
      const result = await store.appendToStream(streamName(), events, { expectedRevision: NO_STREAM });
      return { ids: events.map((e) => e.id), position: result.position };
    };

    beforeAll(async () => {
      testDb = await kind.create();
      db = await openDatabase(testDb.config, EVENT_STORE_ENTITIES);
      store = new SqlEventStore(db);
      await db.query(
        db.isSqlite
          ? 'CREATE TABLE applied (id INTEGER PRIMARY KEY AUTOINCREMENT, processor TEXT, event_id TEXT)'
          : 'CREATE TABLE applied (id SERIAL PRIMARY KEY, processor TEXT, event_id TEXT)',
      );
    });
    afterEach(async () => {
      await Promise.all(runners.splice(0).map((r) => r.stop()));
    });
    afterAll(async () => {
      await db.close();
      await testDb.drop();
    });

    it('applies every event once, in order, and resumes from its stored checkpoint after a restart', async () => {
      const projection = new CountingProjection(`p-${kind.name}-resume`, db);
      const first = await append(projection, 30);
      const r1 = runner(projection, { batchSize: 7 });
      r1.start();
      expect(await r1.waitFor(first.position, 10_000)).toBe(true);
      await r1.stop();
      const second = await append(projection, 5);
      const r2 = runner(projection);
      r2.start();
      expect(await r2.waitFor(second.position, 10_000)).toBe(true);
      expect(await appliedIds(projection.name)).toEqual([...first.ids, ...second.ids]);
      expect(await r2.storedCheckpoint()).toBe(second.position);
    });

    it('doubles its batches while it is behind, up to maxBatchSize, applying every event once', async () => {
      const projection = new CountingProjection(`p-${kind.name}-grow`, db);
      const appended = await append(projection, 100);
      const r = runner(projection, { batchSize: 7, maxBatchSize: 28 });
      r.start();
      expect(await r.waitFor(appended.position, 10_000)).toBe(true);
      expect(projection.batchSizes).toEqual([7, 14, 28, 28, 23]);
      expect(await appliedIds(projection.name)).toEqual(appended.ids);
    });

    it('after a rebuild builds its indexes one at a time and keeps the mark until all are built', async () => {
      const name = `p-${kind.name}-indexes`.replace(/\W/g, '_');
      const projection = new CountingProjection(name, db);
      let brokenSecondIndex = true;
      Object.assign(projection, {
        reset: async (sql: SqlRunner) => void (await sql(`DELETE FROM applied WHERE processor = ${db.isSqlite ? '?' : '$1'}`, [projection.name])),
        restoreIndexes: () => [
          `CREATE INDEX IF NOT EXISTS ix_${name}_1 ON applied (processor)`,
          `CREATE INDEX IF NOT EXISTS ix_${name}_2 ON ${brokenSecondIndex ? 'no_such_table' : 'applied'} (event_id)`,
        ],
      });
      const indexes = async () =>
        (db.isSqlite
          ? await db.query(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_${name}_%'`)
          : await db.query(`SELECT indexname AS name FROM pg_indexes WHERE indexname LIKE 'ix_${name}_%'`)
        )
          .map((r: { name: string }) => r.name)
          .sort();
      const mark = async () =>
        (await db.query(`SELECT rebuild_target FROM checkpoints WHERE processor = ${db.isSqlite ? '?' : '$1'}`, [projection.name]))[0]?.rebuild_target ?? null;

      const first = await append(projection, 5);
      const r = runner(projection);
      r.start();
      expect(await r.waitFor(first.position, 10_000)).toBe(true);
      await r.rebuild(first.position);
      expect(await r.waitFor(first.position, 10_000)).toBe(true);
      // The second build failed: the first stays built (built by itself), the mark stays set.
      await eventually(async () => (await indexes()).length === 1, 'the first index');
      expect(await mark()).toBe(first.position);

      brokenSecondIndex = false;
      const second = await append(projection, 1);
      expect(await r.waitFor(second.position, 10_000)).toBe(true);
      await eventually(async () => (await mark()) === null, 'the rebuild mark cleared after the retry');
      expect(await indexes()).toEqual([`ix_${name}_1`, `ix_${name}_2`]);
      expect(await appliedIds(projection.name)).toEqual([...first.ids, ...second.ids]);
    });

    it('wakes on a local append without waiting for its poll interval', async () => {
      const projection = new CountingProjection(`p-${kind.name}-wake`, db);
      const r = runner(projection, { pollMs: 600_000 });
      r.start();
      await eventually(() => r.status().state === 'running', 'the runner to start');
      const { position } = await append(projection, 1);
      expect(await r.waitFor(position, 5_000)).toBe(true);
    });

    it('moves a filtered checkpoint to the head although no event matched', async () => {
      const projection = new CountingProjection(`p-${kind.name}-unmatched`, db);
      const { position } = await append(projection, 5, 'Unread');
      const r = runner(projection);
      r.start();
      expect(await r.waitFor(position, 10_000)).toBe(true);
      expect(await r.storedCheckpoint()).toBe(await store.headPosition());
      expect(await appliedIds(projection.name)).toEqual([]);
    });

    it('rolls back the writes of a batch whose checkpoint did not commit, so a retry applies them once', async () => {
      const projection = new CountingProjection(`p-${kind.name}-crash`, db);
      projection.failNextApplyAfterWrite = true;
      const { ids, position } = await append(projection, 4);
      const r = runner(projection);
      r.start();
      expect(await r.waitFor(position, 10_000)).toBe(true);
      expect(await appliedIds(projection.name)).toEqual(ids);
      expect(await db.read((m) => m.countBy(DeadLetterRow, { processor: projection.name }))).toBe(0);
    });

    it('retries an event that is not ready yet (NotYetError) past maxAttempts without dead-lettering it, and performs it once it is', async () => {
      const name = `p-${kind.name}-not-yet`;
      let tries = 0;
      const performed: string[] = [];
      const saga: Processor = {
        name,
        eventTypes: [`Counted.${name}`],
        async perform(event) {
          // Ready on the tenth try: far past maxAttempts (3), as a conversion waiting on a slow one.
          if (++tries < 10) throw new NotYetError('the other event is still being performed');
          performed.push(event.id);
        },
      };
      const { ids, position } = await append(saga, 1);
      const r = runner(saga, { retryDelayMs: 1 });
      r.start();
      expect(await r.waitFor(position, 10_000)).toBe(true);
      expect({ tries, performed }).toEqual({ tries: 10, performed: ids });
      expect(await db.read((m) => m.findBy(DeadLetterRow, { processor: name }))).toEqual([]);
    });

    it('records a failed event at once, so another event of the batch waiting on its outcome goes on (no wait until the bound)', async () => {
      const name = `p-${kind.name}-waits-on-failure`;
      let failed = false;
      const performed: string[] = [];
      const saga: Processor = {
        name,
        eventTypes: [`Counted.${name}`, `Poison.${name}`],
        async perform(event) {
          if (event.type.startsWith('Poison')) throw new Error('this conversion fails');
          // The waiting event: ready once the failing one has been given up on.
          if (!failed) throw new NotYetError('the failing event has no outcome yet');
          performed.push(event.id);
        },
        async giveUp() {
          failed = true;
        },
      };
      await append(saga, 1, 'Poison');
      const { ids, position } = await append(saga, 1);
      const r = runner(saga, { retryDelayMs: 1 });
      r.start();
      // Well under NotYetError's 60 s bound: the outcome is recorded when the attempts run out.
      expect(await r.waitFor(position, 10_000)).toBe(true);
      expect(performed).toEqual(ids);
    });

    it('counts a NotYetError as a failure once its wait bound has passed', async () => {
      const name = `p-${kind.name}-never`;
      const saga: Processor = {
        name,
        eventTypes: [`Counted.${name}`],
        async perform() {
          throw new NotYetError('the other event went to the dead letters', 20);
        },
      };
      const { position } = await append(saga, 1);
      const r = runner(saga, { retryDelayMs: 1 });
      r.start();
      expect(await r.waitFor(position, 10_000)).toBe(true);
      const letters = await db.read((m) => m.findBy(DeadLetterRow, { processor: name }));
      expect(letters.map((l) => [l.attempts, l.error])).toEqual([[3, expect.stringContaining('dead letters')]]);
    });

    for (const [how, abortsWork] of [
      ['finishes the event in progress', false],
      ['abandons the event in progress (rejects on the stop signal)', true],
    ] as const) {
      it(`stops quietly during a saga batch whose saga ${how}: nothing logged as failed, the batch performed again by the next holder`, async () => {
        const name = `p-${kind.name}-stop-${abortsWork ? 'abandon' : 'finish'}`;
        const performed: string[] = [];
        let performing!: () => void;
        const firstPerformStarted = new Promise<void>((resolve) => (performing = resolve));
        const saga: Processor = {
          name,
          eventTypes: [`Counted.${name}`],
          async perform(event, signal) {
            performed.push(event.id);
            if (performed.length > 1) return;
            performing();
            // The first event holds the batch open until the stop, as a conversion still at work would.
            await new Promise<void>((resolve, reject) =>
              signal.addEventListener('abort', () => (abortsWork ? reject(new Error('stopping')) : resolve()), { once: true }),
            );
          },
        };
        const { ids, position } = await append(saga, 3);
        const r = runner(saga, { performConcurrency: 1 });
        const logs = captureLogs();
        try {
          r.start();
          await firstPerformStarted;
          await r.stop();
        } finally {
          logs.restore();
        }
        const mine = logs.entries.filter((e) => e.context === `Processor:${name}`);
        expect(mine).toContainEqual(expect.objectContaining({ level: 'log', message: expect.stringContaining('lease taken') }));
        expect(mine.filter((e) => e.level === 'error' || e.level === 'warn')).toEqual([]);
        expect(r.status()).toMatchObject({ state: 'stopped', lastError: null });
        expect(performed).toEqual(ids.slice(0, 1));
        expect(await r.storedCheckpoint()).not.toBe(position);

        const next = runner(saga);
        next.start();
        expect(await next.waitFor(position, 10_000)).toBe(true);
        expect(performed).toEqual([ids[0], ...ids]);
        expect(await db.read((m) => m.countBy(DeadLetterRow, { processor: name }))).toBe(0);
      });
    }

    it('dead-letters a poison event after its retries while later events still flow', async () => {
      const projection = new CountingProjection(`p-${kind.name}-poison`, db);
      const before = await append(projection, 2);
      const poison = await append(projection, 1, 'Poison');
      const after = await append(projection, 2);
      const r = runner(projection);
      r.start();
      expect(await r.waitFor(after.position, 10_000)).toBe(true);
      expect(await appliedIds(projection.name)).toEqual([...before.ids, ...after.ids]);
      const letters = await db.read((m) => m.findBy(DeadLetterRow, { processor: projection.name }));
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ eventId: poison.ids[0], eventType: `Poison.${projection.name}`, attempts: 3, position: poison.position });
      expect(letters[0].error).toContain('cannot digest poison');
    });

    it('runs a processor on one instance at a time and hands over when the holder dies', async () => {
      const projection = new CountingProjection(`p-${kind.name}-lease`, db);
      const a = runner(projection, { leaseMs: 400 });
      const b = runner(projection, { leaseMs: 400 });
      a.start();
      await eventually(() => a.status().state === 'running', 'a to take the lease');
      b.start();
      await eventually(() => b.status().state === 'standby', 'b to stand by');
      const first = await append(projection, 10);
      expect(await a.waitFor(first.position, 10_000)).toBe(true);
      expect(b.status().state).toBe('standby');

      // a dies without releasing its lease (kill -9): b must take over once the lease runs out.
      await a.stop({ releaseLease: false });
      const second = await append(projection, 10);
      await eventually(() => b.status().state === 'running', 'b to take over');
      expect(await b.waitFor(second.position, 10_000)).toBe(true);
      expect(await appliedIds(projection.name)).toEqual([...first.ids, ...second.ids]);
    });

    it('refuses the commit of a runner whose checkpoint moved under it (no double effect)', async () => {
      const projection = new CountingProjection(`p-${kind.name}-fence`, db);
      const first = await append(projection, 3);
      const a = runner(projection, { leaseMs: 60_000 });
      a.start();
      expect(await a.waitFor(first.position, 10_000)).toBe(true);
      // Another instance steals the row (as after a takeover) and moves the checkpoint on.
      await db.transaction((m) =>
        m.query(`UPDATE checkpoints SET owner = 'thief', lease_until = ${Date.now() + 60_000} WHERE processor = ${db.isSqlite ? '?' : '$1'}`, [
          projection.name,
        ]),
      );
      await append(projection, 3);
      await eventually(() => a.status().state === 'standby', 'a to notice it lost the lease');
      expect(await appliedIds(projection.name)).toEqual(first.ids);
    });

    if (kind.name === 'sqlite-file') {
      it('takes 20 parallel appends and processor commits on SQLite without transaction errors', async () => {
        const projection = new CountingProjection(`p-${kind.name}-parallel`, db);
        const r = runner(projection);
        r.start();
        const results = await Promise.all(Array.from({ length: 20 }, () => append(projection, 1)));
        const last = results
          .map((x) => x.position)
          .sort((x, y) => Number(x) - Number(y))
          .at(-1)!;
        expect(await r.waitFor(last, 10_000)).toBe(true);
        expect((await appliedIds(projection.name)).sort()).toEqual(results.flatMap((x) => x.ids).sort());
      });
    }
  });
}
