/**
 * The lead qualification service's benchmark (issue 7).
 *
 *   npm run bench                      full run, embedded SQLite (temp file)
 *   npm run bench -- --quick           the same scenarios, smaller (< 3 minutes on 2 cores)
 *   npm run bench -- --db postgres     PostgreSQL on 127.0.0.1:5432 (fresh databases, dropped after)
 *
 * Other options: --only e2e,crud,raw,rebuild,queries,hostile   --leads N   --rebuild-leads N
 *   --query-connections N (10)   --query-seconds S   --profile (service under --cpu-prof; profiles
 *   and a summary of the top self-time functions under bench/results/profiles/)
 *   --count-sql (SQLite: counts the statements the service runs, per qualification, per 1,000
 *   events replayed and per query, via the preload bench/sql-counter.mjs)
 *   --sqlite-pragmas "cache_size=-65536;…" (what-if experiments: pragmas applied to the service's
 *   SQLite connection by the same preload; such runs are marked WHAT-IF in the results)
 *   --node-flags "--max-old-space-size=192 …" (what-if: node flags added after those of package.json's
 *   start script, which the service always gets; marked WHAT-IF too)
 *
 * Scenario `hostile` (issue 14, last of the run): /health/live latency, probed from this process,
 * idle and while another process (bench/flood-worker.ts) sends floods of 50 deeply nested 90 kB
 * JSON bodies at once.
 *
 * It builds the service once (tsc → .bench-dist, removed at the end), starts every server it
 * measures on 127.0.0.1, drives load from a separate process (bench/load-worker.ts running
 * bench/lib/load-run.ts: autocannon in a closed loop, or an open loop at a fixed arrival rate),
 * prints progress on stderr, writes bench/results/<timestamp>.json and prints a markdown table on
 * stdout. Every loop is bounded in count and time; every child process is killed on exit, error
 * or signal. docs/performance.md describes the method and the figures.
 *
 * It reaches the service only through its API, its event store port (bench/generate-events.ts
 * appends the generated logs with EventStore.appendToStreams, src/event-store/event-store.port.ts)
 * and its documented tables, read only (docs/read-models.md): it writes no table of the service
 * itself.
 *
 * Layout: this entry (options, set-up, the scenarios in order, the results file); a module per
 * scenario under bench/scenarios/ (crud and raw share baselines.ts; calibration runs first and
 * last); bench/report.ts (targets, ratios, the table); bench/lib/ the plumbing (options, session
 * and clean-up, databases, servers, load runs, the workers' IPC, the service's API and tables,
 * --count-sql, --profile, the hostile scenario's probes and floods).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { errorText } from '../src/shared/error-text.js';
import { log, round } from './common.js';
import { PG_ADMIN_URL, pgAdmin } from './lib/databases.js';
import { runMeta } from './lib/meta.js';
import { fail, parseOptions } from './lib/options.js';
import { RESULTS } from './lib/paths.js';
import { summariseProfiles } from './lib/profiles.js';
import { peakRss, type Results } from './lib/results.js';
import { build, stopServer } from './lib/servers.js';
import { cleanup, openSession } from './lib/session.js';
import { markdown, ratios, targets } from './report.js';
import { prepareBaseline, runBaseline } from './scenarios/baselines.js';
import { calibrate, startCalibrationServer } from './scenarios/calibration.js';
import { runEndToEnd } from './scenarios/e2e.js';
import { runHostile } from './scenarios/hostile.js';
import { runQueries } from './scenarios/queries.js';
import { runRebuild, type Rebuilt } from './scenarios/rebuild.js';

const opts = parseOptions();
const session = openSession(opts);

async function main(): Promise<void> {
  const startedAt = new Date();
  const meta = runMeta(opts, startedAt);
  const { only } = opts;
  log(
    `${meta.mode} run on ${opts.db}: scenarios ${[...only].join(', ')}; ${meta.machine.nproc} CPUs, load average ${meta.machine.loadAverageAtStart.join(' ')}`,
  );
  if (opts.sqlitePragmas) log(`WHAT-IF run: the service's SQLite connection gets PRAGMA ${opts.sqlitePragmas} (not its own settings)`);
  if (opts.nodeFlags) log(`WHAT-IF run: the service's node gets ${opts.nodeFlags} after the start script's own flags`);
  if (opts.db === 'postgres') await pgAdmin('SELECT 1').catch((e: Error) => fail(`PostgreSQL is not reachable at ${PG_ADMIN_URL}: ${e.message}`));
  // Set-up that is not measured runs side by side: the build, the baseline servers and their
  // seeded leads, the calibration server. Measurements start once all of it is done.
  const quiet = <T>(p: Promise<T>) => (p.catch(() => undefined), p);
  const calibrationServer = quiet(startCalibrationServer(session));
  const prepared = {
    crud: only.has('crud') ? quiet(prepareBaseline(session, 'crud')) : undefined,
    raw: only.has('raw') ? quiet(prepareBaseline(session, 'raw')) : undefined,
  };
  const built = only.has('e2e') || only.has('rebuild') || only.has('hostile') ? quiet(build()) : Promise.resolve();
  await Promise.allSettled([built, calibrationServer, prepared.crud, prepared.raw]);
  await built;
  log('set-up done; measuring');

  const results: Results = {};
  const errors: Record<string, string> = {};
  const loadAverages: Record<string, { atStart: number[]; atEnd: number[] }> = {};
  const attempt = async (name: string, fn: () => Promise<void>) => {
    const load = loadavg().map((v) => round(v, 2));
    try {
      await fn();
      loadAverages[name] = { atStart: load, atEnd: loadavg().map((v) => round(v, 2)) };
    } catch (error) {
      errors[name] = errorText(error);
      log(`ERROR in ${name}: ${errors[name].slice(0, 2000)}`);
    }
  };
  await attempt('calibration-start', () => calibrate(session, calibrationServer, 'start', results));
  if (only.has('e2e')) await attempt('e2e', () => runEndToEnd(session, results));
  if (prepared.crud) await attempt('crud', () => runBaseline(session, 'crud', prepared.crud!, results));
  if (prepared.raw) await attempt('raw', () => runBaseline(session, 'raw', prepared.raw!, results));
  if (only.has('rebuild')) {
    let rebuilt: Rebuilt | undefined;
    await attempt('rebuild', async () => {
      rebuilt = await runRebuild(session, results);
    });
    // The queries run on the rebuild's service and data.
    if (rebuilt && only.has('queries')) await attempt('queries', () => runQueries(session, rebuilt!, results));
    if (rebuilt) await stopServer(rebuilt.server);
  }
  // Last: its floods load the machine for a few seconds, and no throughput is measured after it.
  if (only.has('hostile')) await attempt('hostile', () => runHostile(session, results));
  await attempt('calibration-end', () => calibrate(session, calibrationServer, 'end', results));

  await cleanup(session);
  const rss = peakRss(results);
  const checks = targets(results, rss, meta.database);
  const r = ratios(results);
  const profiles = opts.profile ? summariseProfiles(session.profileDir) : undefined;
  const seconds = round((Date.now() - startedAt.getTime()) / 1000, 1);
  const report = {
    meta: { ...meta, finishedAt: new Date().toISOString(), seconds, loadAverages },
    results,
    ratios: r,
    targets: checks,
    peakRssMb: rss,
    errors,
    profiles,
  };
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  log(`results written to ${file} (${seconds} s in all)`);
  process.stdout.write(`${markdown(meta, results, rss, checks, r)}\n`);
  if (Object.keys(errors).length) {
    process.stdout.write(
      `\nErrors: ${Object.entries(errors)
        .map(([k, v]) => `${k}: ${v.split('\n')[0]}`)
        .join('; ')}\n`,
    );
    process.exitCode = 1;
  }
}

main().catch(async (error: unknown) => {
  log(`failed: ${errorText(error, 'stack')}`);
  await cleanup(session);
  process.exit(1);
});
