/**
 * Load generator, run as a child process of bench/run.ts (so that the load does not share an
 * event loop with the orchestrator or the server). Receives one LoadSpec over IPC, drives it
 * with autocannon's programmatic API, records every response time itself (autocannon reports no
 * p95), and sends back a LoadResult. Bounded: by `amount` (each item once) or by `durationSec`,
 * and by a hard deadline after which the run is stopped.
 */
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { percentiles, type Percentiles } from './common.js';
import { sendProgress, serveRuns } from './lib/worker-rpc.js';

export interface LoadSpec {
  url: string;
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
  /** Requests per second over all connections (autocannon overallRate). */
  overallRate?: number;
  /** Stop the run after this long whatever happens. */
  deadlineSec: number;
  /** Per-request timeout (autocannon default 10 s). */
  timeoutSec?: number;
}

export interface LoadResult {
  startedAt: number;
  finishedAt: number;
  seconds: number;
  responses: number;
  ok: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Over every response, ms. */
  latency: Percentiles | null;
  /** Responses per second over the run. */
  rps: number;
  autocannon: { p50: number; p97_5: number; p99: number; mean: number; reqPerSecMean: number; non2xx: number };
  /** Items the generator handed out (items mode). */
  issued?: number;
  stoppedByDeadline: boolean;
}

// One run at a time; the orchestrator keeps this process for all its runs (no start-up per run).
serveRuns(run);

async function run(spec: LoadSpec): Promise<LoadResult> {
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
  let responses = 0;
  let ok = 0;
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let stoppedByDeadline = false;

  const startedAt = Date.now();
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
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (responses < latencies.length) latencies[responses] = responseTime;
      responses++;
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) ok++;
    });
    instance.on('reqError', (error: Error) => {
      errors++;
      if (/timed out/.test(String(error?.message))) timeouts++;
    });
    const progress = setInterval(() => sendProgress({ responses, ok, seconds: (Date.now() - startedAt) / 1000 }), 5000);
    const deadline = setTimeout(() => {
      stoppedByDeadline = true;
      instance.stop();
    }, spec.deadlineSec * 1000);
    instance.once('done', () => {
      clearInterval(progress);
      clearTimeout(deadline);
    });
  });
  const finishedAt = Date.now();
  const seconds = (finishedAt - startedAt) / 1000;
  return {
    startedAt,
    finishedAt,
    seconds,
    responses,
    ok,
    statusCodes,
    errors,
    timeouts,
    latency: percentiles(latencies.subarray(0, Math.min(responses, latencies.length))),
    rps: Math.round((responses / seconds) * 10) / 10,
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
