/**
 * The shape of `results` in bench/results/<timestamp>.json, one entry per scenario. docs/performance.md
 * quotes these figures, so a field is added here, never renamed.
 */
import type { Percentiles } from '../common.js';
import type { FloodRun } from './floods.js';
import type { LoadSummary } from './load.js';
import type { ReadModelCounts } from './service.js';
import type { SqlPer } from './sql-counts.js';

/** The queries scenario's runs, by the label its results and report rows carry. */
export const QUERIES = {
  leadById: 'GET /leads/:id',
  filteredList: 'GET /leads?status=Open&leadSource=Web&limit=50',
  analyticsByDay: 'GET /analytics/qualifications?groupBy=day',
  accountSearch: 'GET /accounts?q=<prefix>&limit=20',
  contactSearch: 'GET /contacts?q=<prefix>&limit=20',
} as const;
export type QueryLabel = (typeof QUERIES)[keyof typeof QUERIES];

export interface CalibrationPoint {
  helloWorldRps: number;
  latencyMs: Percentiles | null;
  loadAverage: number[];
}

interface Conversions {
  qualified: number;
  completed: number;
}

export interface E2eResult {
  leads: number;
  warmupLeads: number;
  connections: number;
  commands: LoadSummary;
  /** First command sent → last response received (the load worker's own timestamps). */
  commandsSeconds: number;
  /** First command sent → the first 5 ms database poll that saw every record in the read models. */
  secondsUntilReadModelsComplete: number;
  /** How precisely that end is known: it lies within this many ms before the poll that saw it. */
  completionResolutionMs?: number;
  /** leads / secondsUntilReadModelsComplete. */
  throughputLeadsPerSec: number;
  timeToCompletedMs: Percentiles | null;
  conversions: Conversions;
  readModels: ReadModelCounts;
  peakRssMb: number | null;
  sqlPerQualification: SqlPer;
  serviceMemoryAfter: Record<string, number> | undefined;
}

/**
 * The half-rate run. Results files before the open loop (issue 17) come from autocannon's
 * `overallRate` at c=50 (closed loop, latency from the actual send), with achievedRate = 2xx /
 * seconds (its meaning still); since, from an open loop: a command every 1 / offeredRate s on a fixed schedule,
 * latency (commands.latencyMs) from each command's scheduled send.
 */
export interface HalfRateResult {
  /** Half the end-to-end throughput, rounded down: the offered rate (same as offeredRate). */
  targetRate: number;
  offeredRate?: number;
  leads: number;
  commands: LoadSummary;
  /** 2xx answers / (first command sent → last response), as in every results file. */
  achievedRate: number | null;
  /** Open loop: commands sent per second, sent / (last send − first scheduled send + 1 / offeredRate); at most offeredRate. */
  sentPerSec?: number | null;
  /** Commands sent more than lateAfterMs after their scheduled time (the generator's timers fell behind), and the largest lag. */
  lateSends?: number | null;
  lateAfterMs?: number | null;
  maxSchedulerLagMs?: number | null;
  secondsUntilReadModelsComplete: number | null;
  completionResolutionMs?: number;
  timeToCompletedMs: Percentiles | null;
  conversions: Conversions;
  peakRssMb: number | null;
}

export interface BaselineResult {
  leads: number;
  warmupLeads: number;
  connections: number;
  commands: LoadSummary;
  throughputLeadsPerSec: number;
  rows: { accounts: number; contacts: number; opportunities: number; qualifiedLeads: number };
  peakRssMb: number | null;
}

export interface RebuildRun {
  /** The head when the rebuild was requested: every event of the log is replayed. */
  events: number;
  seconds: number;
  eventsPerSec: number;
  /** How long POST /projections/:name/rebuild took to answer: the runner stopped, the read model's rows deleted, its indexes dropped. Included in `seconds`. */
  requestMs: number;
  statusSeenWhileRebuilding: 'rebuilding' | 'not observed';
  queryStatusWhileRebuilding: number;
  queryAnsweredAfterMs: number;
  rssMb: { before: number | null; maxDuring: number; afterPeakHwm: number | null };
  rssSamples: [seconds: number, mb: number][];
  sqlPer1000Events: SqlPer;
  serviceMemoryAfter: Record<string, number> | undefined;
  preparedStatementsAfter: Record<string, number> | undefined;
  /** How responsive the service stayed: GET /projections was polled every 100 ms. */
  projectionsPolls: { answered: number; longestWaitMs: number | null };
}

export interface RebuildResult {
  leads: number;
  events: number;
  qualifiedLeads: number;
  streams: number;
  generationSeconds: number;
  /**
   * The generated log's appends, timed. The name is historical: results files without `through` come
   * from the bench inserting the rows with its own SQL; since, it appends through the event store
   * port, 1,000 leads' streams per appendToStreams call (one transaction). The key stays for the
   * ratios (rebuild / batched append) and for comparisons with earlier results files.
   */
  rawBatchedInsert: { eventRowsPerSec: number; eventInsertSeconds: number; rowsPerTransaction: string; through: string };
  /** Not measured: before the rebuilds, a service started on the generated log brought every processor to its head (every projection rebuilt at once, the saga caught up). */
  catchUp: { seconds: number; head: number };
  projections: Record<string, RebuildRun>;
  readModelsAfter: { leadDetailsRows: number; qualificationStatsDailyRows: number; accountsRows: number; contactsRows: number; opportunitiesRows: number };
  peakRssMb: number | null;
}

export type QueryRun = { connections: number; sqlPerRequest: SqlPer; paths?: number } & LoadSummary;

export type QueriesResult = { leads: number; peakRssMb: number | null } & Partial<Record<QueryLabel, QueryRun>>;

export interface HostileResult {
  bodiesPerFlood: number;
  nesting: number;
  bodyBytes: number;
  probeIntervalMs: number;
  sender: string;
  idle: {
    seconds: number;
    probes: number;
    skippedTicks: number;
    latencyMs: Percentiles | null;
    serviceCpuMs: number | null;
    serviceCpuMsPerSec: number | null;
  };
  duringFloods: FloodRun['live'];
  targetMs: number | null;
  failedProbes: number;
  floods: FloodRun['floods'];
  /** servicePerBodyNet: the service's CPU over the floods less its CPU rate when only probed (idle), per body. */
  cpuMs: FloodRun['cpuMs'] & { servicePerBodyNet: number | null };
  perFlood: FloodRun['perFlood'];
  warmup: Pick<FloodRun, 'live' | 'floods' | 'cpuMs' | 'perFlood'>;
  peakRssMb: number | null;
}

export interface Results {
  calibration?: { start?: CalibrationPoint; end?: CalibrationPoint };
  e2e?: E2eResult;
  e2eHalfRate?: HalfRateResult;
  crud?: BaselineResult;
  raw?: BaselineResult;
  rebuild?: RebuildResult;
  queries?: QueriesResult;
  hostile?: HostileResult;
}

/** Peak RSS (VmHWM) of each server after its scenario, in the order the scenarios run. */
export function peakRss(results: Results): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const key of ['e2e', 'e2eHalfRate', 'crud', 'raw', 'rebuild', 'queries', 'hostile'] as const) {
    const r = results[key];
    if (r) out[key] = r.peakRssMb;
  }
  return out;
}
