/** The processes the bench measures: the service (built once into .bench-dist) and the two baselines. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startScriptNodeFlags } from '../../scripts/start-script-flags.js';
import { freePort, log, spawnTracked, stopChild, waitForHttp, type Child } from '../common.js';
import type { Target } from './databases.js';
import { DIST, ROOT } from './paths.js';
import type { Session } from './session.js';

export interface Server {
  name: string;
  base: string;
  child: Child;
  /** --count-sql: where bench/sql-counter.mjs writes the service's statement counts. */
  sqlCounts?: string;
}

export async function build(): Promise<void> {
  log('building the service (tsc → .bench-dist)');
  const t = Date.now();
  // --noCheck: the same emit (checked: byte-identical) in half the time; type-checking is `npm run typecheck`'s job.
  const tsc = spawnTracked(
    'tsc',
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', DIST, '--noCheck'],
    { cwd: ROOT },
  );
  const timer = setTimeout(() => tsc.child.kill('SIGKILL'), 300_000);
  const { code } = await tsc.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the build failed (${code}):\n${tsc.output().slice(-4000)}`);
  log(`built in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

export async function startService(session: Session, target: Target, label: string): Promise<Server> {
  const { opts, profileDir } = session;
  const port = await freePort();
  // The node flags of `npm start`, so that the bench measures the runtime users run.
  const execArgv = startScriptNodeFlags(ROOT);
  if (opts.profile) {
    mkdirSync(profileDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=service-${label}.cpuprofile`);
  }
  const sqlCounts = (opts.countSql || opts.sqlitePragmas) && target.kind === 'sqlite' ? join(session.tmp, `sql-counts-${label}.json`) : undefined;
  if (sqlCounts) execArgv.push('--import', pathToFileURL(join(ROOT, 'bench/sql-counter.mjs')).href);
  if (opts.nodeFlags) execArgv.push(...opts.nodeFlags.split(' ').filter(Boolean));
  // bench/service-entry.mjs imports .bench-dist/main.js: the same process, a distinct command line.
  const child = spawnTracked(`service (${label})`, process.execPath, [...execArgv, join(ROOT, 'bench/service-entry.mjs')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: target.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: session.jwtSecret,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      ...(sqlCounts ? { BENCH_SQL_COUNTS: sqlCounts } : {}),
      ...(opts.sqlitePragmas ? { BENCH_SQLITE_PRAGMAS: opts.sqlitePragmas } : {}),
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/health/ready`, child, 90_000);
  log(`service (${label}) ready on ${base}, pid ${child.child.pid}`);
  return { name: 'service', base, child, sqlCounts };
}

export async function startBaseline(session: Session, kind: 'crud' | 'raw', target: Target): Promise<Server> {
  const port = await freePort();
  const file = kind === 'crud' ? 'bench/crud-baseline.ts' : 'bench/raw-ceiling.ts';
  // A directory per baseline: tsx runs a loader thread, and each thread writes its own profile.
  const dir = join(session.profileDir, kind);
  const profile = session.opts.profile && target.name !== 'calibration' ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
  if (profile.length) mkdirSync(dir, { recursive: true });
  const child = spawnTracked(kind, process.execPath, [...profile, '--import', 'tsx', join(ROOT, file)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATABASE_URL: target.url, PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: session.jwtSecret },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/${kind}/health`, child, 60_000);
  log(`${kind} server ready on ${base}, pid ${child.child.pid}`);
  return { name: kind, base, child };
}

export async function stopServer(server: Server): Promise<void> {
  await stopChild(server.child, 30_000);
}
