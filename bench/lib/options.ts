/** The run's options (bench/run.ts's header lists them) and the sizes derived from them. */
import { parseArgs } from 'node:util';

export const SCENARIOS = ['e2e', 'crud', 'raw', 'rebuild', 'queries', 'hostile'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface HostileOptions {
  /** /health/live probed every probeIntervalMs, idle for idleSeconds, then during floods for at least floodSeconds. */
  idleSeconds: number;
  floodSeconds: number;
  /** Bodies sent at once per flood. */
  bodiesPerFlood: number;
  /** `[`×nesting + `1` + `]`×nesting. */
  nesting: number;
  probeIntervalMs: number;
  /** Floods sent before the measured ones (the service's first answers of the kind are JIT-cold), recorded apart. */
  warmupFloods: number;
}

export interface Options {
  quick: boolean;
  db: 'sqlite' | 'postgres';
  only: Set<Scenario>;
  leads: number;
  rebuildLeads: number;
  concurrency: number;
  queryConnections: number;
  querySeconds: number;
  /** The half-rate run lasts about this long (fewer leads than N when the rate is low). */
  halfRateSeconds: number;
  /** Qualifications sent to each server before its measured run (JIT warm-up), not measured. */
  warmup: number;
  hostile: HostileOptions;
  /** Hard bound of the whole run; the watchdog kills everything after it. */
  runBoundMs: number;
  /** Bound of each long wait of the rebuild scenario (generation, catch-up, each rebuild). */
  rebuildBoundMs: number;
  profile: boolean;
  countSql: boolean;
  sqlitePragmas: string | undefined;
  nodeFlags: string | undefined;
}

export function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

function positive(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) fail(`expected a positive whole number, got ${raw}`);
  return n;
}

export function parseOptions(argv: string[] = process.argv.slice(2)): Options {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      db: { type: 'string', default: 'sqlite' },
      only: { type: 'string' },
      leads: { type: 'string' },
      'rebuild-leads': { type: 'string' },
      'query-connections': { type: 'string', default: '10' },
      'query-seconds': { type: 'string' },
      profile: { type: 'boolean', default: false },
      'count-sql': { type: 'boolean', default: false },
      'sqlite-pragmas': { type: 'string' },
      'node-flags': { type: 'string' },
    },
  });
  const quick = !!args.quick;
  const db =
    args.db === 'postgres' || args.db === 'pg' ? 'postgres' : args.db === 'sqlite' ? 'sqlite' : fail(`--db must be sqlite or postgres, not ${args.db}`);
  const isScenario = (s: string): s is Scenario => (SCENARIOS as readonly string[]).includes(s);
  const only = new Set<Scenario>((args.only ? args.only.split(',') : SCENARIOS).map((s) => (isScenario(s) ? s : fail(`unknown scenario ${s}`))));
  if (only.has('queries')) only.add('rebuild'); // queries run on the rebuilt 1M-lead data set
  return {
    quick,
    db,
    only,
    leads: positive(args.leads, quick ? 2_000 : 20_000),
    rebuildLeads: positive(args['rebuild-leads'], quick ? 100_000 : 1_000_000),
    concurrency: 50,
    queryConnections: positive(args['query-connections'], 10),
    querySeconds: positive(args['query-seconds'], quick ? 3 : 10),
    halfRateSeconds: quick ? 6 : 45,
    warmup: quick ? 100 : 500,
    hostile: {
      idleSeconds: quick ? 2 : 3,
      floodSeconds: quick ? 3 : 8,
      bodiesPerFlood: 50,
      // 90,001 bytes: under the service's 100 kB body limit, so the body reaches the parser.
      nesting: 45_000,
      probeIntervalMs: 5,
      warmupFloods: 3,
    },
    runBoundMs: (quick ? 6 : 90) * 60_000,
    rebuildBoundMs: quick ? 120_000 : 1_800_000,
    profile: !!args.profile,
    countSql: !!args['count-sql'],
    sqlitePragmas: args['sqlite-pragmas'],
    nodeFlags: args['node-flags'],
  };
}
