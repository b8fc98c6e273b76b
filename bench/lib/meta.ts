/** What the results file says about the run itself: mode, parameters, machine, commit, service settings. */
import { execFileSync } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { startScriptNodeFlags } from '../../scripts/start-script-flags.js';
import { round } from '../common.js';
import type { Options } from './options.js';
import { ROOT } from './paths.js';

export function runMeta(opts: Options, startedAt: Date) {
  const h = opts.hostile;
  return {
    mode: opts.quick ? 'quick' : 'full',
    database: opts.db,
    date: startedAt.toISOString(),
    scenarios: [...opts.only],
    parameters: {
      leads: opts.leads,
      rebuildLeads: opts.rebuildLeads,
      concurrency: opts.concurrency,
      queryConnections: opts.queryConnections,
      querySeconds: opts.querySeconds,
      halfRateSeconds: opts.halfRateSeconds,
      hostile: {
        idleSeconds: h.idleSeconds,
        floodSeconds: h.floodSeconds,
        bodiesPerFlood: h.bodiesPerFlood,
        nesting: h.nesting,
        probeIntervalMs: h.probeIntervalMs,
      },
    },
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      memoryGb: round(totalmem() / 1024 ** 3, 1),
      freeMemoryGbAtStart: round(freemem() / 1024 ** 3, 1),
      node: process.version,
      loadAverageAtStart: loadavg().map((v) => round(v, 2)),
    },
    commit: git(['rev-parse', '--short', 'HEAD']),
    uncommittedChangesUnderSrc: gitDirtySrc(),
    serviceSettings: {
      sqlite: 'WAL, synchronous=NORMAL (service default)',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: 0,
      whatIfSqlitePragmas: opts.sqlitePragmas ?? null,
      nodeFlags: startScriptNodeFlags(ROOT),
      whatIfNodeFlags: opts.nodeFlags ?? null,
    },
  };
}

export type RunMeta = ReturnType<typeof runMeta>;

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

function gitDirtySrc(): string[] | null {
  const out = git(['status', '--porcelain', '--', 'src']);
  return out === null ? null : out ? out.split('\n') : [];
}
