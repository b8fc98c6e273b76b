/**
 * Queries on the rebuilt data set (1,000,000 leads; 2 % qualified, so about 20,000 accounts and
 * contacts): each run for --query-seconds at c=--query-connections, on the rebuild's service.
 */
import { log, peakRssMb } from '../common.js';
import type { LoadSpec } from '../load-worker.js';
import { loadSummary, runLoad } from '../lib/load.js';
import { QUERIES, type QueryLabel, type QueryRun, type Results } from '../lib/results.js';
import { startService, stopServer } from '../lib/servers.js';
import type { Session } from '../lib/session.js';
import { sqlMark, sqlPer } from '../lib/sql-counts.js';
import type { Rebuilt } from './rebuild.js';

type QuerySpec = Pick<LoadSpec, 'path' | 'paths'>;

export async function runQueries(session: Session, rebuilt: Rebuilt, results: Results): Promise<void> {
  const { opts } = session;
  if (opts.profile) {
    // A profile of its own for the queries (the rebuild's would swamp them).
    await stopServer(rebuilt.server);
    rebuilt.server = await startService(session, rebuilt.target, 'queries');
  }
  const { server, generated } = rebuilt;
  log(`== queries at ${generated.leads.toLocaleString('en')} leads: ${opts.querySeconds} s each, c=${opts.queryConnections}`);
  // Prefixes sampled from the generated records, so that every search finds some.
  const search = (resource: string, prefixes: string[]) => prefixes.map((p) => `/${resource}?q=${encodeURIComponent(p)}&limit=20`);
  const runs: [QueryLabel, QuerySpec][] = [
    [QUERIES.leadById, { paths: generated.sampleLeadIds.map((id) => `/leads/${id}`) }],
    [QUERIES.filteredList, { path: '/leads?status=Open&leadSource=Web&limit=50' }],
    [QUERIES.analyticsByDay, { path: '/analytics/qualifications?groupBy=day' }],
    [QUERIES.accountSearch, { paths: search('accounts', generated.sampleAccountPrefixes) }],
    [QUERIES.contactSearch, { paths: search('contacts', generated.sampleContactPrefixes) }],
  ];
  const queries: Partial<Record<QueryLabel, QueryRun>> = {};
  for (const [label, spec] of runs) {
    const sqlBefore = await sqlMark(server);
    const r = await runLoad(session, label, {
      url: server.base,
      connections: opts.queryConnections,
      method: 'GET',
      durationSec: opts.querySeconds,
      deadlineSec: opts.querySeconds + 30,
      ...spec,
    });
    const sqlPerRequest = sqlPer(sqlBefore, await sqlMark(server), r.responses);
    if (sqlPerRequest) log(`  SQLite per request: ${JSON.stringify(sqlPerRequest)}`);
    if (r.ok !== r.responses) log(`  WARNING ${label}: ${r.responses - r.ok} non-2xx answers ${JSON.stringify(r.statusCodes)}`);
    log(`  ${label}: ${r.rps} req/s, p50 ${r.latency?.p50} ms, p95 ${r.latency?.p95} ms, p99 ${r.latency?.p99} ms`);
    // paths: how many distinct paths the run drew from at random.
    queries[label] = { connections: opts.queryConnections, ...loadSummary(r), sqlPerRequest, ...(spec.paths ? { paths: new Set(spec.paths).size } : {}) };
  }
  results.queries = { leads: generated.leads, ...queries, peakRssMb: peakRssMb(server.child.child.pid) };
}
