/**
 * Qualify end to end: N open leads qualified over HTTP at c=50, timed until every record is in the
 * read models; then fresh leads at half that rate, for the time from qualified to completed.
 */
import { log, peakRssMb, round } from '../common.js';
import { newDatabase, openSql, type Sql } from '../lib/databases.js';
import { checkOk, loadSummary, runLoad } from '../lib/load.js';
import type { Results } from '../lib/results.js';
import { startService, stopServer } from '../lib/servers.js';
import { conversionsVisible, createLeads, headPosition, readModelCounts, timeToCompleted, waitCaughtUp } from '../lib/service.js';
import type { Session } from '../lib/session.js';
import { sqlFile, sqlMark, sqlPer } from '../lib/sql-counts.js';

const qualify = (ids: string[]) => ids.map((id) => ({ path: `/leads/${id}/qualify`, body: '{}' }));

export async function runEndToEnd(session: Session, results: Results): Promise<void> {
  const { leads: LEADS, concurrency, warmup: WARMUP, halfRateSeconds } = session.opts;
  log(`== qualify end to end: ${LEADS.toLocaleString('en')} leads, c=${concurrency}, setting Yes (default)`);
  const target = await newDatabase(session, 'e2e');
  const server = await startService(session, target, 'e2e');
  let sql: Sql | undefined;
  try {
    sql = await openSql(target);
    const db = sql;
    // Warm-up (not measured): WARMUP leads qualified first, so that the measured run starts on a
    // JIT-warm process, as the baselines' runs do.
    const warmIds = await createLeads(session, server, target, db, WARMUP, 0, WARMUP);
    const warm = await runLoad(session, 'warm-up', { url: server.base, connections: concurrency, method: 'POST', items: qualify(warmIds), deadlineSec: 120 });
    await waitCaughtUp(session, server, 'warm-up conversion', 120_000, conversionsVisible(db, warm.ok));

    log(`creating ${LEADS.toLocaleString('en')} leads beforehand`);
    const ids = await createLeads(session, server, target, db, LEADS, WARMUP, WARMUP + LEADS);
    const before = await headPosition(db);
    const sqlBefore = await sqlMark(server);

    log(`qualifying ${LEADS.toLocaleString('en')} leads (POST /leads/:id/qualify, c=${concurrency}, each lead once)`);
    const load = await runLoad(session, 'qualify', {
      url: server.base,
      connections: concurrency,
      method: 'POST',
      items: qualify(ids),
      deadlineSec: Math.max(300, Math.ceil(LEADS / 20)),
    });
    checkOk('qualify', load, LEADS);
    log(`  commands done in ${load.seconds.toFixed(1)} s; waiting until every account, contact and opportunity is in the read models`);
    const expected = warm.ok + load.ok;
    const completedAt = await waitCaughtUp(session, server, 'conversion', 600_000, conversionsVisible(db, expected));
    const seconds = (completedAt - load.startedAt) / 1000;
    const throughput = load.ok / seconds;
    const counterAfter = await sqlFile(server);
    const sqlPerQualification = sqlPer(sqlBefore, counterAfter?.statements ?? null, load.ok);
    if (counterAfter?.memory)
      log(`  service memory after the run: ${JSON.stringify(counterAfter.memory)}; prepared statements ${JSON.stringify(counterAfter.prepared)}`);
    const afterMain = await headPosition(db);
    const ttc = await timeToCompleted(db, before, afterMain);
    const counts = await readModelCounts(db);
    const rss = peakRssMb(server.child.child.pid);
    log(
      `  end to end: ${round(throughput, 1)} leads/s (${seconds.toFixed(1)} s); command p99 ${load.latency?.p99} ms; time-to-completed p99 ${ttc.ms?.p99} ms; peak RSS ${rss} MB`,
    );
    results.e2e = {
      leads: LEADS,
      warmupLeads: WARMUP,
      connections: concurrency,
      commands: loadSummary(load),
      commandsSeconds: round(load.seconds, 3),
      secondsUntilReadModelsComplete: round(seconds, 3),
      throughputLeadsPerSec: round(throughput, 1),
      timeToCompletedMs: ttc.ms,
      conversions: { qualified: ttc.qualified, completed: ttc.completed },
      readModels: counts,
      peakRssMb: rss,
      sqlPerQualification,
      serviceMemoryAfter: counterAfter?.memory,
    };
    if (sqlPerQualification) log(`  SQLite per qualification: ${JSON.stringify(sqlPerQualification)}`);

    // Half the maximum rate: fresh open leads, autocannon overallRate = throughput / 2.
    const rate = Math.max(1, Math.floor(throughput / 2));
    const halfLeads = Math.min(LEADS, Math.max(100, Math.ceil(rate * halfRateSeconds)));
    log(`== qualify at half the maximum rate: ${rate}/s over ${halfLeads.toLocaleString('en')} new leads`);
    const halfIds = await createLeads(session, server, target, db, halfLeads, WARMUP + LEADS, WARMUP + LEADS + halfLeads);
    const beforeHalf = await headPosition(db);
    const half = await runLoad(session, 'qualify at half rate', {
      url: server.base,
      connections: concurrency,
      method: 'POST',
      overallRate: rate,
      items: qualify(halfIds),
      deadlineSec: Math.ceil(halfLeads / rate) + 120,
    });
    checkOk('qualify at half rate', half, halfLeads);
    const halfDoneAt = await waitCaughtUp(session, server, 'conversion (half rate)', 600_000, conversionsVisible(db, expected + half.ok));
    const halfTtc = await timeToCompleted(db, beforeHalf, await headPosition(db));
    const halfRss = peakRssMb(server.child.child.pid);
    log(`  half rate: time-to-completed p99 ${halfTtc.ms?.p99} ms; command p99 ${half.latency?.p99} ms`);
    results.e2eHalfRate = {
      targetRate: rate,
      leads: halfLeads,
      commands: loadSummary(half),
      achievedRate: round(half.ok / half.seconds, 1),
      secondsUntilReadModelsComplete: round((halfDoneAt - half.startedAt) / 1000, 3),
      timeToCompletedMs: halfTtc.ms,
      conversions: { qualified: halfTtc.qualified, completed: halfTtc.completed },
      peakRssMb: halfRss,
    };
  } finally {
    await sql?.close();
    await stopServer(server);
  }
}
