/** Calibration: how much this (shared) machine serves right now, at the start and at the end of the run. */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { log, round } from '../common.js';
import { runLoad } from '../lib/load.js';
import type { Results } from '../lib/results.js';
import { startBaseline, type Server } from '../lib/servers.js';
import type { Session } from '../lib/session.js';

/** A bare Fastify server (the raw ceiling's, on a throwaway database) kept for calibration. */
export function startCalibrationServer(session: Session): Promise<Server> {
  const path = join(session.tmp, 'calibration.sqlite');
  return startBaseline(session, 'raw', { name: 'calibration', kind: 'sqlite', url: `sqlite:${path}`, path });
}

/** Bare Fastify hello world at c=50. */
export async function calibrate(session: Session, server: Promise<Server>, when: 'start' | 'end', results: Results): Promise<void> {
  const { opts } = session;
  const r = await runLoad(session, `calibration (${when})`, {
    url: (await server).base,
    connections: opts.concurrency,
    method: 'GET',
    path: '/raw/hello',
    durationSec: opts.quick ? 2 : 5,
    deadlineSec: 30,
  });
  log(
    `  calibration (${when}): bare Fastify hello world ${r.rps.toLocaleString('en')} req/s (idle reference ≈15,600/s); load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
  results.calibration = { ...results.calibration, [when]: { helloWorldRps: r.rps, latencyMs: r.latency, loadAverage: loadavg().map((v) => round(v, 2)) } };
}
