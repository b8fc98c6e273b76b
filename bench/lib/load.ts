/** Load runs, driven from a separate process (bench/load-worker.ts → bench/lib/load-run.ts) kept for the whole run. */
import { join } from 'node:path';
import { forkTracked, log, round, type Child } from '../common.js';
import type { LoadResult, LoadSpec } from './load-run.js';
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

export interface LoadHooks {
  /**
   * Items mode: called the moment the worker reports every item answered, with the 2xx count. The
   * run's result follows later (a closed-loop run returns on autocannon's next one-second tick), so
   * a scenario that times what happens after the load (the read models catching up) starts
   * watching here, not when runLoad resolves.
   */
  onAllAnswered?: (ok: number) => void;
}

/** One load run with the session's admin token (and a JSON content type on POSTs). */
export function runLoad(session: Session, label: string, spec: LoadRun, hooks: LoadHooks = {}): Promise<LoadResult> {
  const headers = { authorization: `Bearer ${session.token}`, ...(spec.method === 'POST' ? { 'content-type': 'application/json' } : {}), ...spec.headers };
  return runOnWorker<LoadSpec, LoadResult>(loadWorker(), label, { ...spec, headers }, (p) => {
    if (p.allAnswered) hooks.onAllAnswered?.(p.ok);
    else log(`  ${label}: ${p.responses.toLocaleString('en')} responses (${p.ok.toLocaleString('en')} 2xx) in ${p.seconds.toFixed(0)} s`);
  });
}

/**
 * Runs an items-mode load and resolves, with the number of 2xx answers, as soon as every item is
 * answered (or when the run ends without that, e.g. stopped by its deadline). `result` is the run.
 */
export function runLoadUntilAnswered(session: Session, label: string, spec: LoadRun): { answered: Promise<number>; result: Promise<LoadResult> } {
  let onAnswered!: (ok: number) => void;
  const signalled = new Promise<number>((resolve) => (onAnswered = resolve));
  const result = runLoad(session, label, spec, { onAllAnswered: (ok) => onAnswered(ok) });
  return { answered: Promise.race([signalled, result.then((r) => r.ok)]), result };
}

export function loadSummary(r: LoadResult) {
  return {
    requests: r.responses,
    ok: r.ok,
    statusCodes: r.statusCodes,
    errors: r.errors,
    timeouts: r.timeouts,
    /** First request sent → last response received (the load worker's own timestamps). */
    seconds: round(r.seconds, 4),
    rps: r.rps,
    latencyMs: r.latency,
    autocannonLatencyMs: r.autocannon,
    mode: r.mode,
    sent: r.sent,
    /** Epoch ms, fractional. */
    firstSentAt: r.firstSentAt,
    lastResponseAt: r.lastResponseAt,
    ...(r.openLoop ? { openLoop: r.openLoop } : {}),
  };
}

export type LoadSummary = ReturnType<typeof loadSummary>;

export function checkOk(label: string, r: LoadResult, expected: number): void {
  if (r.ok !== expected)
    log(
      `  WARNING ${label}: ${r.ok} of ${expected} requests answered 2xx (status codes ${JSON.stringify(r.statusCodes)}, errors ${r.errors}, timeouts ${r.timeouts})`,
    );
}
