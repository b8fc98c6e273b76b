import { randomUUID } from 'node:crypto';
import { Processors } from '../src/event-store/event-store.module.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { auditConversions, conversionsSettled, inspect, type Sql } from './support/conversion-audit.js';
import { testDatabaseKinds } from './support/databases.js';
import { eventually } from './support/events.js';
import { aFullLead } from './support/fixtures.js';
import { proxiedPostgres, type ProxiedPostgres } from './support/proxied-postgres.js';

/**
 * Issue 14, item 10: PostgreSQL restarting under a load of qualifications. The service reaches its
 * database through a proxy that the test cuts in the middle of the load (every connection
 * destroyed, new ones refused or reset) and restores: what a restart or a network failure looks
 * like from the service. Every answer must be 202 or 503 DATABASE_UNAVAILABLE with Retry-After,
 * /health/ready must say the database is down while it lasts and ready again after, and every
 * accepted qualification must be converted exactly once, by the service on its own.
 */
const postgres = (await testDatabaseKinds()).find((k) => k.name === 'postgres')!;

/** Leads qualified per round, one qualification each. */
const LEADS = 300;
/** One qualification is sent every PACE_MS: the load runs on before, during and after the outage. */
const PACE_MS = 8;
/** Qualifications in flight at most. */
const IN_FLIGHT = 32;
/** The outage begins once this many qualifications have been answered. */
const CUT_AFTER = 80;
/** Qualifications sent while the database is cut; the others wait for it to be back. */
const SENT_WHILE_CUT = 60;
/**
 * How long the database stays cut (the outage simulated; at least until readiness said so). Longer
 * than a processor's whole retry budget (100 + 200 + 400 + 800 ms by default): an outage that used
 * up attempts would fail conversions, which this must show it does not.
 */
const OUTAGE_MS = 3_000;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
const qualifyBody = { createAccount: true, createContact: true, createOpportunity: true };

(postgres.available ? describe : describe.skip)('a database outage under load (PostgreSQL behind a proxy)', () => {
  let db: ProxiedPostgres;
  let t: TestApp;
  let look: { sql: Sql; close(): Promise<void> };

  beforeAll(async () => {
    db = await proxiedPostgres(postgres);
    t = await startTestApp(db.kind);
    look = await inspect(db.direct);
    await eventually(async () => (await t.request('GET', '/health/ready')).status === 200, 'readiness before the load', 15_000);
  }, 60_000);
  afterAll(async () => {
    await look?.close();
    await t?.close();
    await db?.drop();
  });

  async function createLeads(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const tag = id.slice(0, 8);
        const res = await t.request('POST', '/leads', {
          as: 'salesperson',
          body: { id, ...aFullLead({ companyName: `Outage ${tag}`, email: `o.${tag}@outage.example` }) },
        });
        expect(res.status).toBe(201);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return ids;
  }

  /** Each lead's LeadQualified events, read directly from the database (not through the proxy). */
  async function qualificationsOf(leads: string[]): Promise<Map<string, string[]>> {
    const wanted = new Set(leads);
    const byLead = new Map<string, string[]>(leads.map((id) => [id, []]));
    for (const row of await look.sql(`SELECT data FROM events WHERE type = 'LeadQualified'`)) {
      const { leadId, qualificationId } = json(row.data);
      if (wanted.has(leadId)) byLead.get(leadId)!.push(qualificationId);
    }
    return byLead;
  }

  /** The audit once every qualification has its outcome; on a timeout, what the processors were doing. */
  async function settledAudit() {
    try {
      await eventually(() => conversionsSettled(look.sql), 'every qualification converted after the outage', 60_000);
    } catch (error) {
      const processors = t.app
        .get(Processors)
        .all()
        .map((r) => r.status());
      const deadLetters = await look.sql('SELECT processor, event_type, error FROM dead_letters LIMIT 3');
      throw new Error(`${(error as Error).message}: ${JSON.stringify({ processors, deadLetters })}`);
    }
    return auditConversions(look.sql);
  }

  it.each(['refuse', 'reset'] as const)(
    'answers 202 or 503 DATABASE_UNAVAILABLE, never 500, says not ready while the database is %s-cut, and converts every accepted qualification exactly once',
    async (mode) => {
      const leads = await createLeads(LEADS);
      const answers: Response[] = new Array(LEADS);
      let answered = 0;
      let outage: Promise<{ notReady: Response; probeMs: number; cutMs: number }> | undefined;
      let cutBeganMs = 0;

      const started = Date.now();
      const cutTheDatabase = async () => {
        await db.proxy.cut(mode);
        const cutAt = Date.now();
        cutBeganMs = cutAt - started;
        // While it lasts, readiness says the database is down, and answers within its bound.
        let probeMs = 0;
        const notReady = await eventually(
          async () => {
            const asked = Date.now();
            const res = await t.request('GET', '/health/ready');
            probeMs = Math.max(probeMs, Date.now() - asked);
            return res.status === 503 && res;
          },
          'readiness to report the database down',
          10_000,
        );
        await delay(Math.max(0, OUTAGE_MS - (Date.now() - cutAt)));
        await db.proxy.restore();
        return { notReady, probeMs, cutMs: Date.now() - cutAt };
      };

      // Paced and at most IN_FLIGHT at once, so that the load runs before, during and after the
      // outage whatever the machine's speed; while the database is cut at most SENT_WHILE_CUT more
      // are sent, the rest once it is back.
      const sends = new Set<Promise<void>>();
      let sentWhileCut = 0;
      for (const [i, id] of leads.entries()) {
        if (outage && db.proxy.isCut && ++sentWhileCut > SENT_WHILE_CUT) await outage;
        while (sends.size >= IN_FLIGHT) await Promise.race(sends);
        const send = (async () => {
          answers[i] = await t.request('POST', `/leads/${id}/qualify`, { as: 'salesperson', body: qualifyBody });
          if (++answered === CUT_AFTER) outage = cutTheDatabase();
        })().finally(() => sends.delete(send));
        sends.add(send);
        await delay(PACE_MS);
      }
      await Promise.all(sends);
      const { notReady, probeMs, cutMs } = await outage!;
      const loadMs = Date.now() - started;

      // Ready again by itself: no restart, no operator.
      const recovered = Date.now();
      const ready = await eventually(
        async () => {
          const res = await t.request('GET', '/health/ready');
          return res.status === 200 && res;
        },
        'readiness after the outage',
        15_000,
      );
      const readyAgainMs = Date.now() - recovered;

      const byStatus = new Map<number, number>();
      for (const res of answers) byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
      const accepted = leads.filter((_, i) => answers[i].status === 202);
      const refused = leads.filter((_, i) => answers[i].status !== 202);
      console.log(
        `outage (${mode}) under ${LEADS} qualifications in ${loadMs} ms: ${accepted.length} × 202, ${refused.length} × 503; ` +
          `database cut ${cutBeganMs} ms into the load for ${cutMs} ms, slowest readiness answer while cut ${probeMs} ms, ready again ${readyAgainMs} ms after the load`,
      );

      // Never a 500: every refusal is the outage, as problem details with Retry-After.
      expect(byStatus.get(500) ?? 0).toBe(0);
      for (const i of leads.keys()) {
        const res = answers[i];
        if (res.status === 202) continue;
        expect({ status: res.status, code: res.body?.code, retryAfter: res.headers['retry-after'], type: res.headers['content-type'] }).toEqual({
          status: 503,
          code: 'DATABASE_UNAVAILABLE',
          retryAfter: '2',
          type: expect.stringMatching(/^application\/problem\+json/),
        });
      }
      // The outage met the load, and the load went on after it.
      expect(refused.length).toBeGreaterThan(0);
      expect(accepted.length).toBeGreaterThan(CUT_AFTER - 1);
      expect(answers.slice(-10).every((res) => res.status === 202)).toBe(true);

      expect(notReady.body).toMatchObject({ status: 503, code: 'NOT_READY', details: { database: { status: 'down' } } });
      expect(probeMs).toBeLessThan(5_000);
      expect(ready.body.details.database.status).toBe('up');

      // Every accepted qualification converted exactly once; nothing failed, nothing duplicated.
      let audit = await settledAudit();
      expect(audit.problems).toEqual([]);
      expect({ failed: audit.failed, completed: audit.completed }).toEqual({ failed: 0, completed: audit.qualifications });
      expect(Number((await look.sql('SELECT COUNT(*) AS n FROM dead_letters'))[0].n)).toBe(0);
      const logged = await qualificationsOf(leads);
      for (const [i, id] of leads.entries()) {
        const got = logged.get(id)!;
        if (answers[i].status === 202) expect(got).toEqual([answers[i].body.qualificationId]);
        // A 503 whose COMMIT went through before the connection broke: qualified all the same.
        else expect(got.length).toBeLessThanOrEqual(1);
      }
      const committedAnyway = refused.filter((id) => logged.get(id)!.length === 1);
      console.log(`${committedAnyway.length} of the ${refused.length} answered 503 had committed before the connection broke`);

      // What a client does with a 503: send the same qualify again. It is accepted now, or the lead
      // is no longer open because the first one went through (GET /leads/:id shows that one).
      for (const id of refused) {
        const res = await t.request('POST', `/leads/${id}/qualify`, { as: 'salesperson', body: qualifyBody });
        if (committedAnyway.includes(id)) {
          expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: 'LEAD_NOT_OPEN' });
          const shown = await eventually(
            async () => (await t.request('GET', `/leads/${id}`, { as: 'analyst' })).body.qualification,
            `the qualification of lead ${id} on GET /leads/:id`,
          );
          expect(shown.qualificationId).toBe(logged.get(id)![0]);
        } else {
          expect(res.status).toBe(202);
        }
      }
      audit = await settledAudit();
      expect(audit.problems).toEqual([]);
      expect({ failed: audit.failed, completed: audit.completed }).toEqual({ failed: 0, completed: audit.qualifications });
      const finally_ = await qualificationsOf(leads);
      expect(leads.filter((id) => finally_.get(id)!.length !== 1)).toEqual([]);
    },
    180_000,
  );
});
