/**
 * One load run: what bench/load-worker.ts (the IPC entry, a child process of bench/run.ts) executes
 * for each LoadSpec, kept apart from the IPC so that test/bench-measurement.spec.ts drives the very
 * same code against a server of known timing.
 *
 * Two modes:
 * - **closed loop** (default): autocannon's programmatic API, `connections` connections each
 *   sending its next request when the previous one is answered. The maximum-rate measurements
 *   (end to end at c=50, the CRUD baseline, the raw ceiling, the queries, the calibration).
 * - **open loop** (`arrivalRate`): bench/lib/open-loop.ts, requests issued on a fixed schedule
 *   whatever is outstanding, latency from the scheduled send time.
 *
 * Durations, in both modes, come from this process's own per-request timestamps: first request
 * sent → last response received (or last request failed), `performance.now()`, reported as epoch
 * ms through a per-run anchor (bench/lib/clock.ts). Not from autocannon's `duration`/`done`: those
 * fall on its one-second sampling tick, which made every run a whole number of seconds plus the
 * 10–40 ms of its wind-down.
 *
 * Bounded: by the items (each once), or by `durationSec`, and by `deadlineSec` after which the run
 * is stopped whatever happens.
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { percentiles, type Percentiles } from '../common.js';
import { epochClock, runSpan } from './clock.js';
import { runOpenLoop, type OpenLoopStats, type RequestRecord } from './open-loop.js';

export interface LoadSpec {
  url: string;
  /**
   * Closed loop: the connections, each with one request in flight. Open loop: the most keep-alive
   * connections opened (one per request in flight; a request finding all of them busy waits for
   * one, and that wait counts in its latency).
   */
  connections: number;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Each item sent exactly once, in order (paths and bodies), then the run ends. */
  items?: { path: string; body?: string }[];
  /** A path chosen at random per request (for durationSec). */
  paths?: string[];
  /** One fixed path (for durationSec). */
  path?: string;
  body?: string;
  durationSec?: number;
  /**
   * Open loop: requests per second issued on the schedule t0 + i / arrivalRate, whether or not
   * earlier ones are answered; latency is measured from the scheduled time (bench/lib/open-loop.ts).
   */
  arrivalRate?: number;
  /** Closed loop with autocannon's overallRate (requests per second over all connections). Unused by the scenarios: still closed loop, and measured from the actual send. */
  overallRate?: number;
  /** Stop the run after this long whatever happens. */
  deadlineSec: number;
  /** Per-request timeout (autocannon default 10 s). */
  timeoutSec?: number;
  /** Open loop: return every request's timings (tests; small runs only). */
  keepRecords?: boolean;
}

export interface LoadResult {
  mode: 'closed' | 'open';
  /** Epoch ms: when the run was received and when it returned (set-up and wind-down included: not durations). */
  startedAt: number;
  finishedAt: number;
  /** Epoch ms (fractional): the first request written to a connected socket; null when none was. */
  firstSentAt: number | null;
  /** Epoch ms (fractional): the last response received, or the last request failed (error, timeout). */
  lastResponseAt: number | null;
  /** (lastResponseAt − firstSentAt) / 1000; 0 when nothing was answered. */
  seconds: number;
  /** Requests handed to a socket. */
  sent: number;
  responses: number;
  ok: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Over every response, ms: closed loop from the actual send, open loop from the scheduled send. */
  latency: Percentiles | null;
  /** Responses per second over `seconds`. */
  rps: number;
  /** autocannon's own summary (closed loop only). */
  autocannon: { p50: number; p97_5: number; p99: number; mean: number; reqPerSecMean: number; non2xx: number } | null;
  /** Items the generator handed out (items mode). */
  issued?: number;
  stoppedByDeadline: boolean;
  /** Open loop only. */
  openLoop?: OpenLoopStats;
  /** Open loop with keepRecords. */
  records?: RequestRecord[];
}

/** What a run reports while it goes: every 5 s, and once more the moment every item is answered. */
export interface LoadProgress {
  responses: number;
  ok: number;
  seconds: number;
  /**
   * Items mode: every item has been answered (or has failed). Sent as soon as that happens, before
   * the run returns (autocannon only returns on its next one-second tick), so that the orchestrator
   * can start watching the read models at once.
   */
  allAnswered?: boolean;
}

export type ProgressSink = (progress: LoadProgress) => void;

export function runLoadSpec(spec: LoadSpec, progress: ProgressSink = () => {}): Promise<LoadResult> {
  return spec.arrivalRate ? runOpenLoop(spec, spec.arrivalRate, progress) : runClosedLoop(spec, progress);
}

async function runClosedLoop(spec: LoadSpec, progress: ProgressSink): Promise<LoadResult> {
  const clock = epochClock();
  const startedAt = Date.now();
  const base = { method: spec.method, headers: spec.headers };
  let issued = 0;
  let requests: AutocannonRequest[];
  let amount: number | undefined;
  if (spec.items) {
    const items = spec.items;
    amount = items.length;
    requests = [
      {
        ...base,
        setupRequest: (req) => {
          // Shared across connections (one process): item i is handed out exactly once.
          const item = items[issued++ % items.length];
          return { ...req, path: item.path, body: item.body ?? spec.body };
        },
      },
    ];
  } else if (spec.paths) {
    const paths = spec.paths;
    requests = [{ ...base, setupRequest: (req) => ({ ...req, path: paths[Math.floor(Math.random() * paths.length)], body: spec.body }) }];
  } else {
    requests = [{ ...base, path: spec.path, body: spec.body }];
  }

  const latencies = new Float64Array(amount ?? Math.max(1000, Math.ceil((spec.durationSec ?? 10) * 20_000)));
  let sent = 0;
  let responses = 0;
  let ok = 0;
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let stoppedByDeadline = false;
  let firstSent: number | undefined;
  let lastAnswer: number | undefined;
  const answered = () => {
    lastAnswer = clock.now();
    if (amount !== undefined && responses + errors === amount)
      progress({ responses, ok, seconds: (lastAnswer - (firstSent ?? lastAnswer)) / 1000, allAnswered: true });
  };

  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        pipelining: 1,
        ...(amount ? { amount } : { duration: spec.durationSec ?? 10 }),
        ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
        timeout: spec.timeoutSec ?? 30,
        // A dead server makes connection errors spin: stop after this many.
        bailout: 1000,
        requests,
        // The first request's send time. Each autocannon client emits `request` synchronously
        // just before it stamps the request's start (what its own latency is measured from) and
        // writes it to its socket. A client sends its first request from its constructor, before
        // the tracker's `start` event and before any listener added from outside could see it
        // ("we will miss the initial request emits", autocannon's lib/run.js); setupClient is the
        // one hook that runs in that constructor, before that first send. That first write goes
        // to a socket still connecting: the bytes leave when it connects, after autocannon has
        // built every client (synchronously, several ms for 50) and the event loop turned, so the
        // send time is the socket's `connect` then, else the `request` event itself.
        // Rejected: setupRequest (not called per request for a fixed path, whose request is built
        // once; for items called for each connection's first request while the client is built,
        // before its socket exists); the tracker's `start` event (after the first sends); timing
        // from just before autocannon() is called (counts its set-up, which is not load).
        setupClient: (client: EventEmitter) =>
          client.on('request', () => {
            sent++;
            if (firstSent !== undefined) return;
            const conn = (client as EventEmitter & { conn?: Socket }).conn;
            if (conn?.connecting) conn.once('connect', () => (firstSent ??= clock.now()));
            else firstSent = clock.now();
          }),
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (responses < latencies.length) latencies[responses] = responseTime;
      responses++;
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) ok++;
      answered();
    });
    instance.on('reqError', (error: Error) => {
      errors++;
      if (/timed out/.test(String(error?.message))) timeouts++;
      answered();
    });
    const ticker = setInterval(() => progress({ responses, ok, seconds: firstSent === undefined ? 0 : (clock.now() - firstSent) / 1000 }), 5000);
    const deadline = setTimeout(() => {
      stoppedByDeadline = true;
      instance.stop();
    }, spec.deadlineSec * 1000);
    instance.once('done', () => {
      clearInterval(ticker);
      clearTimeout(deadline);
    });
  });
  const span = runSpan(clock, firstSent, lastAnswer);
  const { seconds } = span;
  return {
    mode: 'closed',
    startedAt,
    finishedAt: Date.now(),
    ...span,
    sent,
    responses,
    ok,
    statusCodes,
    errors,
    timeouts,
    latency: percentiles(latencies.subarray(0, Math.min(responses, latencies.length))),
    rps: seconds > 0 ? Math.round((responses / seconds) * 10) / 10 : 0,
    autocannon: {
      p50: result.latency.p50,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      mean: result.latency.mean,
      reqPerSecMean: result.requests.mean,
      non2xx: result.non2xx,
    },
    issued: spec.items ? issued : undefined,
    stoppedByDeadline,
  };
}
