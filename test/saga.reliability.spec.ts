import { randomUUID } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { Processors } from '../src/event-store/event-store.module.js';
import { startTestApp, TEST_JWT_SECRET } from './support/app.js';
import { auditConversions, conversionsSettled, inspect, type Sql } from './support/conversion-audit.js';
import { testDatabaseKinds, type TestDatabase, type TestDatabaseKind } from './support/databases.js';
import { eventually } from './support/events.js';
import { startService, waitUntilReady, type ServiceProcess } from './support/process.js';

const kinds = await testDatabaseKinds();
const postgres = kinds.find((k) => k.name === 'postgres')!;

const BURST = 210;
/** A killed instance's leases run out quickly, so that its successor does not idle for the default 10 s. */
const FAST_LEASES = { PROCESSOR_LEASE_MS: '1000', LOG_LEVEL: 'warn' };
const token = new JwtService({ secret: TEST_JWT_SECRET }).sign({ sub: 'burst', roles: ['salesperson', 'admin'] }, { algorithm: 'HS256', expiresIn: '1h' });

interface Reply {
  status: number;
  body: any;
}

async function call(service: ServiceProcess, method: string, path: string, body?: unknown): Promise<Reply> {
  let res: globalThis.Response;
  try {
    res = await fetch(`${service.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(
      `${method} ${path} on pid ${service.child.pid} failed: ${(error as Error).message} (${(error as Error).cause ?? ''}); exit: ${service.child.exitCode ?? service.child.signalCode ?? 'running'}\n${service.output().slice(-3000)}`,
    );
  }
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

/** Runs `work` over `items`, at most `width` at a time. */
async function inParallel<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]);
      }
    }),
  );
  return out;
}

async function createLeads(service: ServiceProcess, count: number): Promise<string[]> {
  return inParallel(
    Array.from({ length: count }, () => randomUUID()),
    16,
    async (id) => {
      const tag = id.slice(0, 8);
      const res = await call(service, 'POST', '/leads', {
        id,
        topic: `Burst ${tag}`,
        lastName: 'Doe',
        companyName: `Burst Co ${tag}`,
        email: `b.${tag}@burst.example`,
      });
      if (res.status !== 201) throw new Error(`POST /leads answered ${res.status}: ${JSON.stringify(res.body)}`);
      return id;
    },
  );
}

const databaseUrl = (db: TestDatabase) => (db.config.kind === 'sqlite' ? `sqlite:${db.config.path}` : db.config.url);
const count = async (sql: Sql, type: string) => Number((await sql(`SELECT COUNT(*) AS n FROM events WHERE type = '${type}'`))[0].n);

/** Kills (SIGKILL) whatever a test left running. */
const running = new Set<ServiceProcess>();
async function start(env: Record<string, string>): Promise<ServiceProcess> {
  const service = await startService({ ...FAST_LEASES, ...env });
  running.add(service);
  void service.exited.then(() => running.delete(service));
  try {
    await waitUntilReady(service);
  } catch (error) {
    // 'exit' can come before the last output: wait for the streams to close to tell why it died.
    await new Promise((resolve) => (service.child.stdout!.closed ? resolve(undefined) : service.child.stdout!.once('close', resolve)));
    const { code, signal } = await service.exited;
    throw new Error(`${(error as Error).message} (exit code ${code}, signal ${signal})\n${service.output().slice(-3000)}`);
  }
  return service;
}
async function kill9(service: ServiceProcess): Promise<void> {
  service.child.kill('SIGKILL');
  await service.exited;
}
afterAll(async () => {
  await Promise.all([...running].map(kill9));
});

for (const kind of kinds.filter((k) => k.name === 'sqlite-file' || k.name === 'postgres')) {
  (kind.available ? describe : describe.skip)(`kill -9 of the service in a burst of ${BURST} qualifications on ${kind.name}`, () => {
    let db: TestDatabase;
    let inspector: Awaited<ReturnType<typeof inspect>> | undefined;
    beforeAll(async () => {
      db = await kind.create();
    });
    afterAll(async () => {
      await inspector?.close();
      await Promise.all([...running].map(kill9));
      await db?.drop();
    });

    it('after a restart every accepted qualification completed and each planned record exists exactly once', async () => {
      const env = { DATABASE_URL: databaseUrl(db) };
      const first = await start(env);
      inspector = await inspect(db.config);
      const { sql } = inspector;
      const leadIds = await createLeads(first, BURST);

      // The whole burst at once. The process dies once half of it was accepted, at a moment the saga
      // is behind the log or between a conversion's records and its completion (failing that, once
      // most of the burst was accepted); the check after the kill tells whether it was mid-way.
      const accepted: string[] = [];
      const refused: number[] = [];
      let lost = 0;
      const burst = Promise.all(
        leadIds.map((id) =>
          call(first, 'POST', `/leads/${id}/qualify`, {}).then(
            (res) => (res.status === 202 ? accepted.push(res.body.qualificationId) : refused.push(res.status)),
            () => lost++,
          ),
        ),
      );
      const sagaProgress = async () => ({
        qualified: await count(sql, 'LeadQualified'),
        completed: await count(sql, 'LeadConversionCompleted'),
        recordEvents: Number((await sql(`SELECT COUNT(*) AS n FROM events WHERE type IN ('AccountCreated', 'ContactCreated', 'OpportunityCreated')`))[0].n),
      });
      /** Qualifications in the log not yet converted, or a conversion caught between its records and its completion. */
      const midWay = (p: Awaited<ReturnType<typeof sagaProgress>>) => p.completed < p.qualified || p.recordEvents > 3 * p.completed;
      await eventually(
        async () => accepted.length >= BURST / 2 && (midWay(await sagaProgress()) || accepted.length >= BURST * 0.9),
        'half of the burst accepted and the saga mid-way',
        20_000,
      );
      await kill9(first);
      await burst;
      const atKill = await sagaProgress();
      expect(midWay(atKill)).toBe(true);

      const restartedAt = Date.now();
      const second = await start(env);
      await eventually(() => conversionsSettled(sql), 'the restarted saga to catch up', 30_000).catch(async (error) => {
        const projections = await call(second, 'GET', '/projections').catch((e) => ({ body: String(e) }));
        const { problems, ...figures } = await auditConversions(sql);
        throw new Error(
          `${error.message}: ${JSON.stringify({ figures, problems: problems.slice(0, 5), projections: projections.body })}\n${second.output().slice(-4000)}`,
        );
      });
      const catchUpMs = Date.now() - restartedAt;
      const audit = await auditConversions(sql);
      const completedIds = new Set(
        (await sql(`SELECT data FROM events WHERE type = 'LeadConversionCompleted'`)).map(
          (r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data).qualificationId,
        ),
      );
      const perStream = await sql(
        `SELECT COUNT(*) AS n FROM events WHERE type IN ('AccountCreated', 'ContactCreated', 'OpportunityCreated') GROUP BY stream_id HAVING COUNT(*) > 1`,
      );
      const projections = (await call(second, 'GET', '/projections')).body.items;
      const figures = {
        burst: BURST,
        accepted: accepted.length,
        refused: refused.length,
        lostWithTheProcess: lost,
        atKill,
        qualificationsInLog: audit.qualifications,
        completed: audit.completed,
        failed: audit.failed,
        plannedRecords: audit.plannedRecords,
        recordEvents: audit.recordEvents,
        recordRows: audit.recordRows,
        restartToAllConvertedMs: catchUpMs,
      };
      console.log(`kill -9 on ${kind.name}: ${JSON.stringify(figures)}`);

      expect(refused).toEqual([]);
      expect(accepted.length).toBeGreaterThan(0);
      expect(accepted.filter((id) => !completedIds.has(id))).toEqual([]);
      expect(audit.problems).toEqual([]);
      expect({ failed: audit.failed, pending: audit.pending, completed: audit.completed }).toEqual({ failed: 0, pending: 0, completed: audit.qualifications });
      expect(audit.recordEvents).toBe(audit.plannedRecords);
      expect(audit.recordRows).toBe(audit.plannedRecords);
      expect(audit.plannedRecords).toBe(3 * audit.qualifications);
      expect(perStream).toEqual([]);
      expect(projections.find((p: any) => p.name === 'lead-conversion').deadLetters).toBe(0);
      await kill9(second);
    }, 90_000);
  });
}

(postgres.available ? describe : describe.skip)('two service instances on one PostgreSQL database', () => {
  let db: TestDatabase;
  let inspector: Awaited<ReturnType<typeof inspect>> | undefined;
  beforeAll(async () => {
    db = await postgres.create();
  });
  afterAll(async () => {
    await inspector?.close();
    await Promise.all([...running].map(kill9));
    await db?.drop();
  });

  it('process one backlog without duplicates, each processor active on exactly one instance; the other takes over when it dies', async () => {
    // The backlog: qualified while no saga runs (an in-process instance with its saga stopped).
    const sameDatabase: TestDatabaseKind = { ...postgres, create: async () => ({ ...db, drop: async () => undefined }) };
    const seeder = await startTestApp(sameDatabase);
    await seeder.app.get(Processors).get('lead-conversion')!.stop();
    const backlog = await inParallel(
      Array.from({ length: 100 }, () => randomUUID()),
      16,
      async (id) => {
        const tag = id.slice(0, 8);
        expect(
          (await seeder.request('POST', '/leads', { as: 'salesperson', body: { id, topic: `Backlog ${tag}`, lastName: 'Doe', companyName: `Backlog ${tag}` } }))
            .status,
        ).toBe(201);
        const res = await seeder.request('POST', `/leads/${id}/qualify`, { as: 'salesperson', body: {} });
        expect(res.status).toBe(202);
        return res.body.qualificationId as string;
      },
    );
    await seeder.close();
    inspector = await inspect(db.config);
    const { sql } = inspector;
    expect(await count(sql, 'LeadConversionCompleted')).toBe(0);

    // Both instances start together and race for every processor, while both take new qualifications.
    const env = { DATABASE_URL: databaseUrl(db) };
    const [a, b] = await Promise.all([start(env), start(env)]);
    const fresh = await createLeads(a, 30);
    const more = await Promise.all(fresh.map((id, i) => call(i % 2 ? a : b, 'POST', `/leads/${id}/qualify`, {})));
    expect(more.map((r) => r.status)).toEqual(fresh.map(() => 202));
    await eventually(() => conversionsSettled(sql), 'both instances to process the backlog', 30_000);

    const instanceOf = (owner: string | null) =>
      owner?.includes(`-${a.child.pid}-`) ? 'a' : owner?.includes(`-${b.child.pid}-`) ? 'b' : `unknown owner ${owner}`;
    const ownership = await eventually(async () => {
      const [fromA, fromB] = await Promise.all([call(a, 'GET', '/projections'), call(b, 'GET', '/projections')]);
      const rows = fromA.body.items.map((p: any) => {
        const q = fromB.body.items.find((x: any) => x.name === p.name);
        return {
          name: p.name,
          owner: instanceOf(p.owner),
          sameOwnerSeenByBoth: p.owner === q.owner,
          active: [p.status === 'running' && 'a', q.status === 'running' && 'b'].filter(Boolean),
        };
      });
      return rows.every((r: any) => r.active.length === 1) && rows;
    }, 'every processor to settle on one instance');
    for (const row of ownership) expect(row).toEqual({ name: row.name, owner: row.active[0], sameOwnerSeenByBoth: true, active: [row.owner] });
    const sagaOwner = ownership.find((r: any) => r.name === 'lead-conversion').owner as 'a' | 'b';

    let audit = await auditConversions(sql);
    expect(audit.problems).toEqual([]);
    expect({ qualifications: audit.qualifications, completed: audit.completed, failed: audit.failed }).toEqual({
      qualifications: 130,
      completed: 130,
      failed: 0,
    });
    const completedOnce = await sql(`SELECT COUNT(*) AS n FROM events WHERE type = 'LeadConversionCompleted'`);
    expect(Number(completedOnce[0].n)).toBe(130);
    expect(backlog).toHaveLength(100);

    // The saga's instance dies; the other, standing by, takes the lease over and converts what comes next.
    const [dead, survivor] = sagaOwner === 'a' ? [a, b] : [b, a];
    await kill9(dead);
    const after = await createLeads(survivor, 20);
    for (const id of after) expect((await call(survivor, 'POST', `/leads/${id}/qualify`, {})).status).toBe(202);
    await eventually(() => conversionsSettled(sql), 'the survivor to take the saga over', 30_000);
    audit = await auditConversions(sql);
    expect(audit.problems).toEqual([]);
    expect({ qualifications: audit.qualifications, completed: audit.completed, failed: audit.failed }).toEqual({
      qualifications: 150,
      completed: 150,
      failed: 0,
    });
    const takenOver = (await call(survivor, 'GET', '/projections')).body.items.find((p: any) => p.name === 'lead-conversion');
    expect({ owner: instanceOf(takenOver.owner), status: takenOver.status }).toEqual({ owner: sagaOwner === 'a' ? 'b' : 'a', status: 'running' });
    console.log(
      `two instances on postgres: backlog 100 + 30 concurrent, saga on instance ${sagaOwner}; after it was killed 20 more converted by the other: ${JSON.stringify({ qualifications: audit.qualifications, completed: audit.completed, recordRows: audit.recordRows, recordEvents: audit.recordEvents })}`,
    );
    expect(audit.recordRows).toBe(audit.plannedRecords);
    expect(audit.recordEvents).toBe(audit.plannedRecords);
  }, 90_000);
});
