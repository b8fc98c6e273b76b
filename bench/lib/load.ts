/** Load runs, driven from a separate process (bench/load-worker.ts, autocannon) kept for the whole run. */
import { join } from 'node:path';
import { forkTracked, log, round, type Child } from '../common.js';
import type { LoadResult, LoadSpec } from '../load-worker.js';
import { ROOT } from './paths.js';
import type { Session } from './session.js';
import { runOnWorker } from './worker-rpc.js';

let worker: Child | undefined;

function loadWorker(): Child {
  if (!worker || worker.hasExited())
    worker = forkTracked('load worker', join(ROOT, 'bench/load-worker.ts'), { execArgv: ['--import', 'tsx'], env: { ...process.env } });
  return worker;
}

export type LoadRun = Omit<LoadSpec, 'headers'> & { headers?: Record<string, string> };

/** One load run with the session's admin token (and a JSON content type on POSTs). */
export function runLoad(session: Session, label: string, spec: LoadRun): Promise<LoadResult> {
  const headers = { authorization: `Bearer ${session.token}`, ...(spec.method === 'POST' ? { 'content-type': 'application/json' } : {}), ...spec.headers };
  return runOnWorker<LoadSpec, LoadResult>(loadWorker(), label, { ...spec, headers }, (p) =>
    log(`  ${label}: ${p.responses.toLocaleString('en')} responses (${p.ok.toLocaleString('en')} 2xx) in ${p.seconds.toFixed(0)} s`),
  );
}

export function loadSummary(r: LoadResult) {
  return {
    requests: r.responses,
    ok: r.ok,
    statusCodes: r.statusCodes,
    errors: r.errors,
    timeouts: r.timeouts,
    seconds: round(r.seconds, 3),
    rps: r.rps,
    latencyMs: r.latency,
    autocannonLatencyMs: r.autocannon,
  };
}

export type LoadSummary = ReturnType<typeof loadSummary>;

export function checkOk(label: string, r: LoadResult, expected: number): void {
  if (r.ok !== expected)
    log(
      `  WARNING ${label}: ${r.ok} of ${expected} requests answered 2xx (status codes ${JSON.stringify(r.statusCodes)}, errors ${r.errors}, timeouts ${r.timeouts})`,
    );
}
