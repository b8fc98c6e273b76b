/**
 * Scenarios `crud` and `raw`: the same qualifications as end to end, against the CRUD baseline
 * (bench/crud-baseline.ts, NestJS + TypeORM) and the raw ceiling (bench/raw-ceiling.ts, Fastify +
 * bare driver). One module for both: they differ only in the server, and must not differ in method.
 */
import { http, log, peakRssMb, round } from '../common.js';
import { newDatabase, openSql, type Target } from '../lib/databases.js';
import { checkOk, loadSummary, runLoad } from '../lib/load.js';
import type { Results } from '../lib/results.js';
import { startBaseline, stopServer, type Server } from '../lib/servers.js';
import { leadPayloads, type LeadPayload } from '../lib/service.js';
import type { Session } from '../lib/session.js';

export type BaselineKind = 'crud' | 'raw';

export interface PreparedBaseline {
  server: Server;
  target: Target;
  leads: LeadPayload[];
}

/** Starts a baseline server on its own fresh database and seeds warm-up + N open leads (not measured). */
export async function prepareBaseline(session: Session, kind: BaselineKind): Promise<PreparedBaseline> {
  const target = await newDatabase(session, kind);
  const server = await startBaseline(session, kind, target);
  const leads = leadPayloads(session.opts.warmup + session.opts.leads, 0);
  for (let i = 0; i < leads.length; i += 2000) {
    const res = await http('POST', `${server.base}/${kind}/seed`, { body: { leads: leads.slice(i, i + 2000).map((l) => l.fields) }, timeoutMs: 120_000 });
    if (res.status !== 201) throw new Error(`${kind} seed answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  log(`  ${kind}: seeded ${leads.length.toLocaleString('en')} open leads`);
  return { server, target, leads };
}

export async function runBaseline(session: Session, kind: BaselineKind, prepared: Promise<PreparedBaseline>, results: Results): Promise<void> {
  const { leads: LEADS, concurrency, warmup } = session.opts;
  const title = kind === 'crud' ? 'CRUD baseline (NestJS + TypeORM, one transaction)' : 'raw ceiling (Fastify + bare driver, one transaction)';
  log(`== ${title}: ${LEADS.toLocaleString('en')} leads, c=${concurrency}`);
  const { server, target, leads: all } = await prepared;
  const qualify = (leads: LeadPayload[]) => leads.map((l) => ({ path: `/${kind}/leads/${l.id}/qualify`, body: '{}' }));
  try {
    await runLoad(session, `${kind} warm-up`, {
      url: server.base,
      connections: concurrency,
      method: 'POST',
      items: qualify(all.slice(0, warmup)),
      deadlineSec: 120,
    });
    const load = await runLoad(session, kind, {
      url: server.base,
      connections: concurrency,
      method: 'POST',
      items: qualify(all.slice(warmup)),
      deadlineSec: Math.max(300, Math.ceil(LEADS / 20)),
    });
    checkOk(kind, load, LEADS);
    const sql = await openSql(target);
    const [row] = await sql.all<{ a: number | string; c: number | string; o: number | string; q: number | string }>(
      `SELECT (SELECT COUNT(*) FROM accounts) AS a, (SELECT COUNT(*) FROM contacts) AS c, (SELECT COUNT(*) FROM opportunities) AS o, (SELECT COUNT(*) FROM leads WHERE status = 'Qualified') AS q`,
    );
    await sql.close();
    const rss = peakRssMb(server.child.child.pid);
    const throughput = load.ok / load.seconds;
    log(
      `  ${kind}: ${round(throughput, 1)} qualifications/s; p99 ${load.latency?.p99} ms; rows (warm-up included): ${row.a} accounts, ${row.c} contacts, ${row.o} opportunities, ${row.q} leads qualified`,
    );
    results[kind] = {
      leads: LEADS,
      warmupLeads: warmup,
      connections: concurrency,
      commands: loadSummary(load),
      throughputLeadsPerSec: round(throughput, 1),
      rows: { accounts: Number(row.a), contacts: Number(row.c), opportunities: Number(row.o), qualifiedLeads: Number(row.q) },
      peakRssMb: rss,
    };
  } finally {
    await stopServer(server);
  }
}
