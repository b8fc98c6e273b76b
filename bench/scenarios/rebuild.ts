/**
 * Rebuild: the log of N leads appended through the service's event store port (timed: the rate of
 * its batched append), every processor brought to the head by the service itself, then each
 * projection rebuilt through the API, one after the other on a fresh process, each over the whole log.
 */
import { http, log, peakRssMb, round, rssMb, sleep } from '../common.js';
import { generateEvents, type GenerateResult } from '../generate-events.js';
import { eventsTarget, newDatabase, openSql, type Target } from '../lib/databases.js';
import type { RebuildResult, RebuildRun, Results } from '../lib/results.js';
import { startService, stopServer, type Server } from '../lib/servers.js';
import { projections, waitCaughtUp } from '../lib/service.js';
import type { Session } from '../lib/session.js';
import { sqlFile, sqlMark, sqlPer } from '../lib/sql-counts.js';

/** The projections rebuilt, in this order, each with a query that reads it (sent right after the rebuild request, it must answer 503). */
const REBUILT: [name: string, probe: (g: GenerateResult) => string][] = [
  ['lead-details', (g) => `/leads/${g.sampleLeadIds[0]}`],
  ['qualification-analytics', () => '/analytics/qualifications?groupBy=day'],
  // src/records/records.projection.ts: accounts, contacts, opportunities (the search queries read them).
  ['customer-records', () => '/accounts?limit=20'],
];

/** The rebuilt service, left running for the queries scenario; its caller stops it. */
export interface Rebuilt {
  server: Server;
  target: Target;
  generated: GenerateResult;
}

export async function runRebuild(session: Session, results: Results): Promise<Rebuilt> {
  const { opts } = session;
  log(`== rebuild: ${opts.rebuildLeads.toLocaleString('en')} leads' streams generated into the event store, then replayed`);
  const target = await newDatabase(session, 'rebuild');
  // 1. The service creates its schema (the generator appends to its log through its event store), then stops.
  const schema = await startService(session, target, 'schema');
  const names = (await projections(session, schema)).map((p) => p.name);
  await stopServer(schema);
  const missing = REBUILT.map(([name]) => name).filter((name) => !names.includes(name));
  if (missing.length) throw new Error(`the service has no projection ${missing.join(', ')} (it has ${names.join(', ')})`);

  // 2. The log, appended through the event store port, 1,000 leads per appendToStreams (timed).
  const generated = await generateEvents(eventsTarget(target), opts.rebuildLeads, Date.now() + opts.rebuildBoundMs);
  log(
    `  generated ${generated.events.toLocaleString('en')} events of ${generated.leads.toLocaleString('en')} leads in ${generated.totalSeconds.toFixed(1)} s; batched append through the event store port ${generated.eventRowsPerSec.toLocaleString('en')} events/s`,
  );

  // 3. Every processor at the head, as in a deployment whose read models are up to date.
  const catchUp = await catchUpOnLog(session, target, generated);

  // 4. A fresh process whose processors are idle at the head: each rebuild replays the whole log
  // alone, and the process's peak RSS is the rebuilds' own.
  const server = await startService(session, target, 'rebuild');
  try {
    const rebuilds: Record<string, RebuildRun> = {};
    for (const [name, probe] of REBUILT) rebuilds[name] = await rebuildOne(session, server, name, catchUp.head, probe(generated));
    const sql = await openSql(target);
    const count = async (table: string) => Number((await sql.all(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
    const readModelsAfter: RebuildResult['readModelsAfter'] = {
      leadDetailsRows: await count('lead_details'),
      qualificationStatsDailyRows: await count('qualification_stats_daily'),
      accountsRows: await count('accounts'),
      contactsRows: await count('contacts'),
      opportunitiesRows: await count('opportunities'),
    };
    await sql.close();
    log(`  read models after the rebuilds: ${JSON.stringify(readModelsAfter)}`);
    results.rebuild = {
      leads: generated.leads,
      events: generated.events,
      qualifiedLeads: generated.qualified,
      streams: generated.streams,
      generationSeconds: round(generated.totalSeconds, 1),
      rawBatchedInsert: {
        eventRowsPerSec: generated.eventRowsPerSec,
        eventInsertSeconds: round(generated.eventInsertSeconds, 2),
        rowsPerTransaction: '≈1,130 events (1,000 leads)',
        through: 'EventStore.appendToStreams (SqlEventStore)',
      },
      catchUp,
      projections: rebuilds,
      readModelsAfter,
      peakRssMb: peakRssMb(server.child.child.pid),
    };
    return { server, target, generated };
  } catch (error) {
    await stopServer(server);
    throw error;
  }
}

/**
 * Brings every processor to the head of the generated log (not measured), through the service:
 * the checkpoints are its own, and the bench writes none of them. The quick way, as an operator
 * would on a log this size: every projection rebuilt at once (a rebuild replays without the query
 * indexes and builds them at the end); the saga catches up as it does on start-up, finds every
 * conversion complete already and appends nothing, so the rebuilds replay exactly the generated
 * log (the head is checked to be sure).
 */
async function catchUpOnLog(session: Session, target: Target, generated: GenerateResult): Promise<RebuildResult['catchUp']> {
  const server = await startService(session, target, 'catch-up');
  try {
    const t0 = Date.now();
    for (const p of await projections(session, server)) if (p.kind === 'projection') await requestRebuild(session, server, p.name);
    // Polled slowly: the service is busy, and the wait is not measured.
    const doneAt = await waitCaughtUp(session, server, 'catch-up with the generated log', session.opts.rebuildBoundMs, undefined, 500);
    const head = Number((await projections(session, server))[0]?.head ?? 0);
    if (head !== generated.events)
      log(`  WARNING the log has ${head.toLocaleString('en')} events after the catch-up, not the ${generated.events.toLocaleString('en')} generated`);
    const seconds = (doneAt - t0) / 1000;
    log(`  every processor caught up with ${head.toLocaleString('en')} events in ${seconds.toFixed(1)} s (not measured)`);
    return { seconds: round(seconds, 1), head };
  } finally {
    await stopServer(server);
  }
}

/** POST /projections/:name/rebuild; the target is the head when the request arrived. */
async function requestRebuild(session: Session, server: Server, name: string): Promise<number> {
  const res = await http<{ target?: string }>('POST', `${server.base}/projections/${name}/rebuild`, { token: session.token, timeoutMs: 120_000 });
  if (res.status !== 202) throw new Error(`rebuild of ${name} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return Number(res.body.target);
}

/** POST /projections/:name/rebuild, timed from the request until GET /projections shows the projection running at its target. */
async function rebuildOne(session: Session, server: Server, name: string, head: number, probePath: string): Promise<RebuildRun> {
  const { opts, token } = session;
  log(`rebuilding ${name} over ${head.toLocaleString('en')} events`);
  const sqlBefore = await sqlMark(server);
  const t0 = Date.now();
  const rebuildTarget = await requestRebuild(session, server, name);
  const requestMs = Date.now() - t0;
  const rssSamples: [number, number][] = [];
  const polls: number[] = [];
  const rssBefore = rssMb(server.child.child.pid);
  // While it runs, the projection's queries must answer 503.
  const tProbe = Date.now();
  const probe = await http('GET', `${server.base}${probePath}`, { token, timeoutMs: opts.rebuildBoundMs });
  const probeMs = Date.now() - tProbe;
  let sawRebuilding = false;
  let lastLog = Date.now();
  const deadline = t0 + opts.rebuildBoundMs;
  let doneAt = 0;
  while (Date.now() < deadline) {
    const tp = Date.now();
    // A long timeout: while a projection replays, the service may answer nothing at all.
    const item = (await projections(session, server, Math.max(1000, deadline - Date.now()))).find((p) => p.name === name)!;
    polls.push(Date.now() - tp);
    if (item.status === 'rebuilding') sawRebuilding = true;
    const now = rssMb(server.child.child.pid);
    if (now != null) rssSamples.push([round((Date.now() - t0) / 1000, 1), now]);
    if (item.status === 'running' && Number(item.checkpoint) >= rebuildTarget) {
      doneAt = Date.now();
      break;
    }
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      const s = (Date.now() - t0) / 1000;
      log(
        `  ${name}: ${item.status} at ${Number(item.checkpoint).toLocaleString('en')} / ${rebuildTarget.toLocaleString('en')} (${Math.round(Number(item.checkpoint) / s).toLocaleString('en')} events/s), service RSS ${now} MB`,
      );
    }
    await sleep(100);
  }
  if (!doneAt) throw new Error(`rebuild of ${name} did not finish in time`);
  const seconds = (doneAt - t0) / 1000;
  const rate = rebuildTarget / seconds;
  log(
    `  ${name}: ${rebuildTarget.toLocaleString('en')} events in ${seconds.toFixed(1)} s = ${Math.round(rate).toLocaleString('en')} events/s (the request answered after ${requestMs} ms; a query sent right after it answered ${probe.status} after ${probeMs} ms)`,
  );
  const counterAfter = await sqlFile(server);
  const sqlPer1000Events = sqlPer(sqlBefore, counterAfter?.statements ?? null, rebuildTarget / 1000);
  if (counterAfter?.memory)
    log(`  service memory after the rebuild: ${JSON.stringify(counterAfter.memory)}; prepared statements ${JSON.stringify(counterAfter.prepared)}`);
  if (sqlPer1000Events) log(`  SQLite per 1,000 events replayed: ${JSON.stringify(sqlPer1000Events)}`);
  log(`  GET /projections answered ${polls.length} times during the rebuild; longest wait ${polls.length ? Math.max(...polls) : '—'} ms`);
  return {
    events: rebuildTarget,
    seconds: round(seconds, 3),
    eventsPerSec: Math.round(rate),
    requestMs,
    statusSeenWhileRebuilding: sawRebuilding ? 'rebuilding' : 'not observed',
    queryStatusWhileRebuilding: probe.status,
    queryAnsweredAfterMs: probeMs,
    rssMb: { before: rssBefore, maxDuring: Math.max(...rssSamples.map((x) => x[1])), afterPeakHwm: peakRssMb(server.child.child.pid) },
    rssSamples: rssSamples.filter((_, i) => i % Math.max(1, Math.floor(rssSamples.length / 60)) === 0),
    sqlPer1000Events,
    serviceMemoryAfter: counterAfter?.memory,
    preparedStatementsAfter: counterAfter?.prepared,
    projectionsPolls: { answered: polls.length, longestWaitMs: polls.length ? Math.max(...polls) : null },
  };
}
