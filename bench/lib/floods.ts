/**
 * The hostile scenario's instruments: paced /health/live probes from this process, floods of
 * deeply nested bodies from another (bench/flood-worker.ts), and the CPU each process used.
 */
import { Agent, request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { forkTracked, log, percentiles, round, sleep, type Child } from '../common.js';
import type { FloodResult, FloodSpec } from '../flood-worker.js';
import { ROOT } from './paths.js';
import type { Server } from './servers.js';
import type { Session } from './session.js';
import { runOnWorker, workerReady } from './worker-rpc.js';

export interface LiveProbe {
  /** Epoch ms (performance.timeOrigin + performance.now(), as the flood worker's times). */
  sentAt: number;
  ms: number;
  ok: boolean;
}

/** Probes waiting for an answer at most; the agent has as many keep-alive connections. */
export const MAX_PROBES_IN_FLIGHT = 16;

/**
 * GET /health/live every `intervalMs` until stop() is called, over keep-alive connections
 * (up to MAX_PROBES_IN_FLIGHT, so that a slow answer does not hold back the probes after it).
 * Paced rather than back to back: a stall of S ms is then seen by up to S / intervalMs
 * probes, not by one probe that waited S ms among hundreds of fast ones, and the p99 shows it.
 * A tick that finds MAX_PROBES_IN_FLIGHT probes waiting is skipped and counted, not queued: a queue
 * in this process would grow without bound whenever the service answers fewer than 200 probes a
 * second, and time that queue rather than the service. So each probe is written at once on a
 * free connection, and its time runs from request() to the end of its answer; 30 s timeout each.
 */
export function probeLive(base: string, agent: Agent, intervalMs: number): { stop: () => Promise<{ probes: LiveProbe[]; skipped: number }> } {
  const probes: LiveProbe[] = [];
  const inFlight = new Set<Promise<void>>();
  const url = new URL('/health/live', base);
  let skipped = 0;
  const one = () => {
    if (inFlight.size >= MAX_PROBES_IN_FLIGHT) {
      skipped++;
      return;
    }
    const sentAt = performance.timeOrigin + performance.now();
    const t = performance.now();
    const p = new Promise<void>((resolvePromise) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        probes.push({ sentAt, ms: performance.now() - t, ok });
        resolvePromise();
      };
      const req = httpRequest(url, { agent, headers: { accept: 'application/json' } }, (res) => {
        res.resume();
        res.on('error', () => done(false));
        res.on('end', () => done(res.statusCode === 200));
      });
      const timer = setTimeout(() => req.destroy(new Error('timeout')), 30_000);
      req.on('error', () => done(false));
      req.end();
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  one();
  const timer = setInterval(one, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return { probes: probes.sort((a, b) => a.sentAt - b.sentAt), skipped };
    },
  };
}

/** CPU time (user + system) a process has used, ms, from /proc/<pid>/stat (10 ms ticks); null when unreadable. */
export function cpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime), counted from the state field (3).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

export const diff = (after: number | null, before: number | null) => (after == null || before == null ? null : after - before);

/** The flood sender: a child process of its own (bench/flood-worker.ts), ready once started. */
export async function startFloodWorker(): Promise<Child> {
  const w = forkTracked('flood worker', join(ROOT, 'bench/flood-worker.ts'), { execArgv: ['--import', 'tsx'], env: { ...process.env } });
  await workerReady(w, 60_000);
  return w;
}

/** One run of floods with /health/live probed throughout, and the CPU each process used meanwhile. */
export async function floodsWithProbes(session: Session, server: Server, agent: Agent, flooder: Child, minFloods: number, seconds: number) {
  const { bodiesPerFlood, nesting, probeIntervalMs } = session.opts.hostile;
  const probing = probeLive(server.base, agent, probeIntervalMs);
  await sleep(100);
  // CPU each process used over the floods. The service's, per body, says what a refused body
  // costs; the machine's other load inflates it too, but less than the latencies, which include
  // waiting for a core.
  const before = { service: cpuMs(server.child.child.pid), sender: cpuMs(flooder.child.pid), bench: process.cpuUsage(), at: performance.now() };
  const spec: FloodSpec = {
    url: server.base,
    path: '/leads',
    token: session.token,
    bodies: bodiesPerFlood,
    depth: nesting,
    minFloods,
    maxFloods: 10_000,
    seconds,
    requestTimeoutMs: 60_000,
    deadlineSec: seconds + 120,
  };
  const flood = await runOnWorker<FloodSpec, FloodResult>(flooder, 'floods', spec);
  const benchCpu = process.cpuUsage(before.bench);
  const wallMs = performance.now() - before.at;
  const serviceMs = diff(cpuMs(server.child.child.pid), before.service);
  const senderMs = diff(cpuMs(flooder.child.pid), before.sender);
  await sleep(100);
  const { probes: all, skipped } = await probing.stop();

  // A probe is "during" a flood when its wait overlaps the flood (first request sent → last answer).
  const floods = flood.floods;
  const overlaps = (p: LiveProbe, f: (typeof floods)[number]) => p.sentAt <= f.finishedAt && p.sentAt + p.ms >= f.startedAt;
  const during = all.filter((p) => floods.some((f) => overlaps(p, f)));
  const statusCodes: Record<string, number> = {};
  const problemCodes: Record<string, number> = {};
  for (const f of floods) {
    for (const [k, v] of Object.entries(f.statusCodes)) statusCodes[k] = (statusCodes[k] ?? 0) + v;
    for (const [k, v] of Object.entries(f.problemCodes)) problemCodes[k] = (problemCodes[k] ?? 0) + v;
  }
  const sent = floods.length * bodiesPerFlood;
  const floodSeconds = floods.length ? (floods[floods.length - 1].finishedAt - floods[0].startedAt) / 1000 : 0;
  return {
    bodyBytes: flood.bodyBytes,
    // skippedTicks: probe ticks not sent because MAX_PROBES_IN_FLIGHT probes were waiting (the service was stalled).
    live: { probes: during.length, latencyMs: percentiles(during.map((p) => p.ms)), probesOutsideFloods: all.length - during.length, skippedTicks: skipped },
    failedProbes: all.filter((p) => !p.ok).length,
    floods: {
      count: floods.length,
      seconds: round(floodSeconds, 3),
      bodies: sent,
      bodiesPerSec: floodSeconds ? round(sent / floodSeconds, 1) : null,
      msPerFlood: percentiles(floods.map((f) => f.ms)),
      statusCodes,
      problemCodes,
      connectionErrors: floods.reduce((n, f) => n + f.errors, 0),
      // Requests sent on a new connection: the service closes the connection after a body it refuses (Fastify does, for any parser error).
      newConnections: floods.reduce((n, f) => n + f.newConnections, 0),
      notAnswered400: sent - (statusCodes['400'] ?? 0),
      stoppedByDeadline: flood.stoppedByDeadline,
    },
    // CPU time used while the floods ran (10 ms ticks).
    cpuMs: {
      wallMs: round(wallMs, 0),
      service: serviceMs,
      sender: senderMs,
      bench: round((benchCpu.user + benchCpu.system) / 1000, 0),
      servicePerBody: serviceMs == null || !sent ? null : round(serviceMs / sent, 3),
    },
    // Per flood: its duration and the slowest probe that overlapped it (the first 200 floods).
    perFlood: floods.slice(0, 200).map((f) => {
      const probes = during.filter((p) => overlaps(p, f));
      return { ms: round(f.ms, 1), probes: probes.length, liveMaxMs: probes.length ? round(Math.max(...probes.map((p) => p.ms)), 2) : null };
    }),
  };
}

export type FloodRun = Awaited<ReturnType<typeof floodsWithProbes>>;

export function logFloods(label: string, r: FloodRun, targetMs?: number | null): void {
  const l = r.live.latencyMs;
  const f = r.floods;
  log(
    `  ${label}: ${f.count} floods (${f.bodies.toLocaleString('en')} bodies in ${f.seconds.toFixed(1)} s; a flood took p50 ${f.msPerFlood?.p50} ms, max ${f.msPerFlood?.max} ms): /health/live ${r.live.probes} probes (${r.live.skippedTicks} ticks skipped, ${MAX_PROBES_IN_FLIGHT} waiting), p50 ${l?.p50} ms, p99 ${l?.p99} ms, max ${l?.max} ms${targetMs == null ? '' : ` (target p99 ≤ ${targetMs} ms)`}`,
  );
  log(
    `    answers ${JSON.stringify(f.statusCodes)}, codes ${JSON.stringify(f.problemCodes)}, no answer ${f.connectionErrors}, on a new connection ${f.newConnections}; CPU: service ${r.cpuMs.service} ms (${r.cpuMs.servicePerBody} ms per body), sender ${r.cpuMs.sender} ms, bench ${r.cpuMs.bench} ms; load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
}
