/**
 * Qualify end to end: N open leads qualified over HTTP at c=50 (closed loop: the maximum rate),
 * timed from the first command sent until every record is in the read models; then fresh leads at
 * half that rate in an open loop (a fixed arrival rate, latency from each request's scheduled
 * send), for command latency and the time from qualified to completed at a given offered load.
 *
 * The start is the load worker's first send (bench/lib/load-run.ts); the end is the first of the
 * database polls, every 5 ms, that sees the read models complete (waitReadModelsComplete), started
 * the moment the worker reports the last command answered.
 */
import { log, peakRssMb, round } from '../common.js';
import { newDatabase, openSql, type Sql } from '../lib/databases.js';
import { checkOk, loadSummary, runLoad, runLoadUntilAnswered } from '../lib/load.js';
import type { Results } from '../lib/results.js';
import { startService, stopServer } from '../lib/servers.js';
import {
  conversionsVisible,
  createLeads,
  headPosition,
  projections,
  readModelCounts,
  timeToCompleted,
  waitCaughtUp,
  waitReadModelsComplete,
} from '../lib/service.js';
import type { Session } from '../lib/session.js';
import { sqlFile, sqlMark, sqlPer } from '../lib/sql-counts.js';

const qualify = (ids: string[]) => ids.map((id) => ({ path: `/leads/${id}/qualify`, body: '{}' }));

/**
 * The half-rate run's most connections: one per command in flight, so a stall of the service
 * queues commands at the service, not in the generator (a command that waits for a connection
 * still counts that wait in its latency). Opened on demand: quick runs on a loaded machine opened
 * 10–30.
 */
const OPEN_LOOP_CONNECTIONS = 256;

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
    // The processors whose checkpoints the timed waits read (those GET /projections lists).
    const processors = (await projections(session, server)).map((p) => p.name);
    const sqlBefore = await sqlMark(server);

    log(`qualifying ${LEADS.toLocaleString('en')} leads (POST /leads/:id/qualify, c=${concurrency}, each lead once)`);
    const run = runLoadUntilAnswered(session, 'qualify', {
      url: server.base,
      connections: concurrency,
      method: 'POST',
      items: qualify(ids),
      deadlineSec: Math.max(300, Math.ceil(LEADS / 20)),
    });
    // Watched from the moment the last command is answered, not from when the run's result arrives.
    const expected = warm.ok + (await run.answered);
    const [load, completion] = await Promise.all([run.result, waitReadModelsComplete(db, processors, 'conversion', 600_000, conversionsVisible(db, expected))]);
    checkOk('qualify', load, LEADS);
    // GET /projections agrees (lag 0, every processor running): a check, not timed.
    await waitCaughtUp(session, server, 'conversion (GET /projections)', 60_000);
    if (load.firstSentAt === null) throw new Error('qualify: no command was sent');
    const seconds = (completion.at - load.firstSentAt) / 1000;
    const throughput = load.ok / seconds;
    log(
      `  commands done in ${load.seconds.toFixed(3)} s; every account, contact and opportunity in the read models ${seconds.toFixed(3)} s after the first command (end seen within ${completion.resolutionMs.toFixed(1)} ms)`,
    );
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
      commandsSeconds: round(load.seconds, 4),
      secondsUntilReadModelsComplete: round(seconds, 4),
      completionResolutionMs: round(completion.resolutionMs, 2),
      throughputLeadsPerSec: round(throughput, 1),
      timeToCompletedMs: ttc.ms,
      conversions: { qualified: ttc.qualified, completed: ttc.completed },
      readModels: counts,
      peakRssMb: rss,
      sqlPerQualification,
      serviceMemoryAfter: counterAfter?.memory,
    };
    if (sqlPerQualification) log(`  SQLite per qualification: ${JSON.stringify(sqlPerQualification)}`);

    // Half the maximum rate, open loop: fresh open leads, one command every 1 / rate s on a fixed
    // schedule whatever is outstanding, latency from each command's scheduled send.
    const rate = Math.max(1, Math.floor(throughput / 2));
    const halfLeads = Math.min(LEADS, Math.max(100, Math.ceil(rate * halfRateSeconds)));
    log(`== qualify at half the maximum rate, open loop: ${rate}/s offered over ${halfLeads.toLocaleString('en')} new leads`);
    const halfIds = await createLeads(session, server, target, db, halfLeads, WARMUP + LEADS, WARMUP + LEADS + halfLeads);
    const beforeHalf = await headPosition(db);
    const halfRun = runLoadUntilAnswered(session, 'qualify at half rate', {
      url: server.base,
      connections: OPEN_LOOP_CONNECTIONS,
      method: 'POST',
      arrivalRate: rate,
      items: qualify(halfIds),
      deadlineSec: Math.ceil(halfLeads / rate) + 120,
    });
    const halfExpected = expected + (await halfRun.answered);
    const [half, halfCompletion] = await Promise.all([
      halfRun.result,
      waitReadModelsComplete(db, processors, 'conversion (half rate)', 600_000, conversionsVisible(db, halfExpected)),
    ]);
    checkOk('qualify at half rate', half, halfLeads);
    await waitCaughtUp(session, server, 'conversion, half rate (GET /projections)', 60_000);
    const halfTtc = await timeToCompleted(db, beforeHalf, await headPosition(db));
    const halfRss = peakRssMb(server.child.child.pid);
    const ol = half.openLoop;
    log(
      `  half rate: ${ol?.achievedRate}/s achieved of ${rate}/s offered, ${ol?.late} sends late (> ${ol?.lateAfterMs} ms, max lag ${ol?.maxLagMs} ms); command p99 ${half.latency?.p99} ms (from the actual send ${ol?.latencyFromSendMs?.p99} ms); time-to-completed p99 ${halfTtc.ms?.p99} ms`,
    );
    results.e2eHalfRate = {
      targetRate: rate,
      offeredRate: rate,
      leads: halfLeads,
      commands: loadSummary(half),
      achievedRate: half.seconds > 0 ? round(half.ok / half.seconds, 1) : null,
      sentPerSec: ol?.achievedRate ?? null,
      lateSends: ol?.late ?? null,
      lateAfterMs: ol?.lateAfterMs ?? null,
      maxSchedulerLagMs: ol?.maxLagMs ?? null,
      secondsUntilReadModelsComplete: half.firstSentAt === null ? null : round((halfCompletion.at - half.firstSentAt) / 1000, 4),
      completionResolutionMs: round(halfCompletion.resolutionMs, 2),
      timeToCompletedMs: halfTtc.ms,
      conversions: { qualified: halfTtc.qualified, completed: halfTtc.completed },
      peakRssMb: halfRss,
    };
  } finally {
    await sql?.close();
    await stopServer(server);
  }
}
