/**
 * Hostile input (issue 14, item 1): /health/live latency, probed from this process, idle and
 * while another process (bench/flood-worker.ts) sends floods of deeply nested 90 kB JSON bodies.
 */
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { log, peakRssMb, percentiles, round, sleep, stopChild, type Child } from '../common.js';
import { newDatabase } from '../lib/databases.js';
import { cpuMs, diff, floodsWithProbes, logFloods, MAX_PROBES_IN_FLIGHT, probeLive, startFloodWorker } from '../lib/floods.js';
import type { Results } from '../lib/results.js';
import { startService, stopServer } from '../lib/servers.js';
import type { Session } from '../lib/session.js';

export async function runHostile(session: Session, results: Results): Promise<void> {
  const h = session.opts.hostile;
  log(
    `== hostile input: GET /health/live every ${h.probeIntervalMs} ms, idle for ${h.idleSeconds} s, then while another process sends floods of ${h.bodiesPerFlood} × ${((2 * h.nesting + 1) / 1000).toFixed(0)} kB bodies of ${h.nesting.toLocaleString('en')} nested arrays (≥ ${h.floodSeconds} s)`,
  );
  const target = await newDatabase(session, 'hostile');
  const server = await startService(session, target, 'hostile');
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_PROBES_IN_FLIGHT });
  let flooder: Child | undefined;
  try {
    flooder = await startFloodWorker();
    // Warm-up, as for the other scenarios (a fresh process has never answered POST /leads nor an
    // error): 0.3 s of probes, then a few floods, recorded but not in the target.
    const warmProbes = probeLive(server.base, agent, h.probeIntervalMs);
    await sleep(300);
    await warmProbes.stop();
    const warm = await floodsWithProbes(session, server, agent, flooder, h.warmupFloods, 0);
    logFloods('warm-up (not in the target)', warm);
    await sleep(500);

    const idleCpuBefore = { ms: cpuMs(server.child.child.pid), at: performance.now() };
    const idleProbe = probeLive(server.base, agent, h.probeIntervalMs);
    await sleep(h.idleSeconds * 1000);
    const { probes: idle, skipped: idleSkipped } = await idleProbe.stop();
    const idleCpu = diff(cpuMs(server.child.child.pid), idleCpuBefore.ms);
    // The service's CPU per second while only probed (probes, processors' polling, WAL checkpointer),
    // to take that share out of its CPU per body during the floods.
    const idleCpuPerSec = idleCpu == null ? null : (idleCpu * 1000) / (performance.now() - idleCpuBefore.at);
    const idleStats = percentiles(idle.map((p) => p.ms));
    const targetMs = idleStats ? round(idleStats.p50 + 100, 2) : null;
    log(`  idle: ${idle.length} probes, p50 ${idleStats?.p50} ms, p99 ${idleStats?.p99} ms, max ${idleStats?.max} ms`);

    const run = await floodsWithProbes(session, server, agent, flooder, 5, h.floodSeconds);
    logFloods('during floods', run, targetMs);
    const servicePerBodyNet =
      run.cpuMs.service == null || idleCpuPerSec == null || !run.floods.bodies
        ? null
        : round(Math.max(0, run.cpuMs.service - (idleCpuPerSec * run.cpuMs.wallMs) / 1000) / run.floods.bodies, 3);
    log(
      `    service CPU when only probed ${idleCpuPerSec == null ? '—' : Math.round(idleCpuPerSec)} ms/s; per body, that share taken out, ≈ ${servicePerBodyNet} ms`,
    );
    const failedProbes = warm.failedProbes + run.failedProbes + idle.filter((p) => !p.ok).length;
    results.hostile = {
      bodiesPerFlood: h.bodiesPerFlood,
      nesting: h.nesting,
      bodyBytes: run.bodyBytes,
      probeIntervalMs: h.probeIntervalMs,
      sender: 'bench/flood-worker.ts (a separate process), keep-alive agent, 50 sockets',
      idle: {
        seconds: h.idleSeconds,
        probes: idle.length,
        skippedTicks: idleSkipped,
        latencyMs: idleStats,
        serviceCpuMs: idleCpu,
        serviceCpuMsPerSec: idleCpuPerSec == null ? null : round(idleCpuPerSec, 1),
      },
      duringFloods: run.live,
      targetMs,
      failedProbes,
      floods: run.floods,
      cpuMs: { ...run.cpuMs, servicePerBodyNet },
      perFlood: run.perFlood,
      warmup: { live: warm.live, floods: warm.floods, cpuMs: warm.cpuMs, perFlood: warm.perFlood },
      peakRssMb: peakRssMb(server.child.child.pid),
    };
    const wrong = warm.floods.notAnswered400 + run.floods.notAnswered400;
    if (wrong || failedProbes) {
      throw new Error(
        `hostile: ${wrong} of ${warm.floods.bodies + run.floods.bodies} nested bodies not answered 400 (${JSON.stringify(run.floods.statusCodes)}, ${warm.floods.connectionErrors + run.floods.connectionErrors} without an answer); ${failedProbes} /health/live probes failed`,
      );
    }
  } finally {
    if (flooder) await stopChild(flooder, 5_000);
    agent.destroy();
    await stopServer(server);
  }
}
