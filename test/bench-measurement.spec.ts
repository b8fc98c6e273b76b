import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { epochClock } from '../bench/lib/clock.js';
import { runLoadSpec, type LoadProgress, type LoadResult } from '../bench/lib/load-run.js';
import type { RequestRecord } from '../bench/lib/open-loop.js';

/**
 * The benchmark's load runs (bench/lib/load-run.ts, what bench/load-worker.ts runs for the
 * orchestrator), driven against a local server whose answers take a known time, in this process:
 * the server's timestamps and the run's are on the same clock.
 */

interface TimedServer {
  url: string;
  /** performance.now() when each request arrived, in order. */
  arrivals: number[];
  close(): Promise<void>;
}

/**
 * `delayMs(k, arrivedAt)`: how long after it arrived request k (0-based) is answered. `onWrite`
 * gets performance.now() just after each response is written.
 */
async function timedServer(
  delayMs: (k: number, arrivedAt: number) => number,
  hooks: { onFirstArrival?: () => void; onWrite?: (at: number) => void } = {},
): Promise<TimedServer> {
  const state: Omit<TimedServer, 'url' | 'close'> = { arrivals: [] };
  const server: Server = createServer((req, res) => {
    const arrivedAt = performance.now();
    const k = state.arrivals.length;
    state.arrivals.push(arrivedAt);
    if (k === 0) hooks.onFirstArrival?.();
    const delay = delayMs(k, arrivedAt);
    const answer = () => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{}');
      hooks.onWrite?.(performance.now());
    };
    req.resume();
    req.on('end', () => (delay > 0 ? setTimeout(answer, delay) : answer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

describe('closed loop (autocannon): 40 requests at c=4, each answered 25 ms after it arrives', () => {
  interface Measured {
    result: LoadResult;
    /** performance.now() / epoch ms of the server's first arrival and last write, and of the all-answered report. */
    firstArrival: number;
    firstArrivalAt: number;
    lastWrite: number;
    allAnswered?: number;
    /** |measured − server span|, ms. */
    error: number;
  }
  let m: Measured;

  const measure = async (): Promise<Measured> => {
    let firstArrivalAt: number | undefined;
    let lastWrite = 0;
    const server = await timedServer(() => 25, {
      onFirstArrival: () => (firstArrivalAt = Date.now()),
      onWrite: (t) => (lastWrite = t),
    });
    try {
      let allAnswered: number | undefined;
      const items = Array.from({ length: 40 }, (_, i) => ({ path: `/leads/${i}/qualify`, body: '{}' }));
      const result = await runLoadSpec(
        { url: server.url, connections: 4, method: 'POST', headers: { 'content-type': 'application/json' }, items, deadlineSec: 20 },
        (p: LoadProgress) => {
          if (p.allAnswered) allAnswered = performance.now();
        },
      );
      const span = lastWrite - server.arrivals[0];
      return {
        result,
        firstArrival: server.arrivals[0],
        firstArrivalAt: firstArrivalAt!,
        lastWrite,
        allAnswered,
        error: Math.abs(result.seconds * 1000 - span),
      };
    } finally {
      await server.close();
    }
  };

  beforeAll(async () => {
    // Warm-up, not measured: the server and autocannon share this process, so their first,
    // JIT-cold requests would delay each other (in the benchmark they are separate processes).
    const warm = await timedServer(() => 0);
    await runLoadSpec({ url: warm.url, connections: 4, method: 'GET', headers: {}, items: Array.from({ length: 8 }, () => ({ path: '/' })), deadlineSec: 20 });
    await warm.close();
    // Up to three runs, the first within 15 ms kept. A busy machine can deschedule this process
    // for tens of ms between a send and the server's handler, which no method can tell apart from
    // an error in one run; an error of the method (a duration taken on autocannon's one-second
    // tick, or with its wind-down) shows in every run.
    m = await measure();
    for (let attempt = 1; attempt < 3 && m.error > 15; attempt++) m = await measure();
  });

  it('measures first request sent → last response received to within 15 ms of the span the server saw', () => {
    expect(m.result.ok).toBe(40);
    expect(m.result.sent).toBe(40);
    // 10 rounds of 25 ms: the server's own span is at least 250 ms.
    expect(m.lastWrite - m.firstArrival).toBeGreaterThanOrEqual(250);
    expect(m.error).toBeLessThanOrEqual(15);
    expect(m.result.seconds).toBeCloseTo((m.result.lastResponseAt! - m.result.firstSentAt!) / 1000, 5);
  });

  it('is not rounded to whole seconds: a ≈0.25 s run is not reported as 1 s, though autocannon itself ends on its one-second tick', () => {
    expect(m.result.seconds).toBeGreaterThan(0.24);
    expect(m.result.seconds).toBeLessThan(0.5);
    expect(m.result.rps).toBeGreaterThan(40 / 0.5);
    // What durations used to be taken from: the run returns only on autocannon's next tick.
    expect(m.result.finishedAt - m.result.startedAt).toBeGreaterThanOrEqual(900);
  });

  it('gives firstSentAt as epoch ms, comparable with Date.now()', () => {
    // Date.now() has whole milliseconds.
    expect(Math.abs(m.result.firstSentAt! - m.firstArrivalAt)).toBeLessThanOrEqual(15);
    expect(m.result.lastResponseAt! - m.result.firstSentAt!).toBeCloseTo(m.result.seconds * 1000, 2);
  });

  it('reports every item answered the moment the last response arrives, not on autocannon’s tick', () => {
    expect(m.allAnswered).toBeDefined();
    expect(m.allAnswered! - m.lastWrite).toBeGreaterThanOrEqual(0);
    expect(m.allAnswered! - m.lastWrite).toBeLessThanOrEqual(15);
  });
});

describe('open loop at 100 requests per second', () => {
  it('sends rate × duration requests (± 1) on the schedule t0 + i / rate, whatever is outstanding', async () => {
    // Every answer takes 35 ms, longer than the 10 ms between sends: several are always in flight.
    const server = await timedServer(() => 35);
    try {
      const r = await runLoadSpec({
        url: server.url,
        connections: 50,
        method: 'GET',
        headers: {},
        path: '/health',
        durationSec: 1,
        arrivalRate: 100,
        deadlineSec: 20,
      });
      expect(Math.abs(r.sent - 100)).toBeLessThanOrEqual(1);
      expect(server.arrivals).toHaveLength(r.sent);
      expect(r.ok).toBe(r.sent);
      expect(r.openLoop!.maxInFlight).toBeGreaterThanOrEqual(3);
      // The server saw request k in slot k × 10 ms, the slots placed where most arrivals are (their
      // median offset); a few may be off by a descheduling of this process on a busy machine.
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const offsets = server.arrivals.map((t, k) => t - k * 10);
      const center = median(offsets);
      const offSlot = offsets.map((o) => Math.abs(o - center));
      expect(median(offSlot)).toBeLessThanOrEqual(3);
      expect(offSlot.filter((o) => o <= 10).length).toBeGreaterThanOrEqual(80);
      // sent / (last send − first scheduled send + 10 ms): 100 when all went out on time, never more.
      expect(r.openLoop!.achievedRate!).toBeGreaterThan(95);
      expect(r.openLoop!.achievedRate!).toBeLessThanOrEqual(100);
    } finally {
      await server.close();
    }
  });

  /** The server holds every answer from the 31st request's arrival until 200 ms later (epoch ms, for the records); otherwise it answers at once. */
  const stallingServer = async () => {
    const clock = epochClock();
    let stallStart = Infinity;
    let stallEnd = -Infinity;
    const server = await timedServer((k, arrivedAt) => {
      if (k === 30) {
        stallStart = arrivedAt;
        stallEnd = arrivedAt + 200;
      }
      return arrivedAt < stallEnd ? stallEnd - arrivedAt : 0;
    });
    return { server, stall: () => ({ start: stallStart, end: stallEnd, endAt: clock.epoch(stallEnd) }) };
  };

  /** The requests scheduled from the stalled one (index 30) until the stall ended: none could be answered before its end. */
  const dueDuringStall = (records: RequestRecord[], stallEndAt: number) => records.filter((rec) => rec.index >= 30 && rec.scheduledAt < stallEndAt);

  /** One second at 100 requests/s over at most `connections` connections, every request's timings kept. */
  const openLoopAt100 = (connections: number, url: string) =>
    ({ url, connections, method: 'GET', headers: {}, path: '/x', durationSec: 1, arrivalRate: 100, deadlineSec: 20, keepRecords: true }) as const;

  /** Node's timers may fire up to a millisecond before the time asked, by performance.now(). */
  const TIMER_SLACK_MS = 2;

  it('keeps sending on schedule through a 200 ms stall, and the requests queued at the server count their wait', async () => {
    const { server, stall } = await stallingServer();
    try {
      const r = await runLoadSpec(openLoopAt100(50, server.url));
      expect(r.ok).toBe(r.sent);
      const { start, end, endAt } = stall();
      // ≈ 20 requests went out while the server answered nothing: the generator did not wait for it
      // (a few may reach the server after the stall if this process is descheduled meanwhile).
      expect(r.openLoop!.maxInFlight).toBeGreaterThanOrEqual(15);
      expect(server.arrivals.filter((t) => t > start && t < end).length).toBeGreaterThanOrEqual(10);
      const due = dueDuringStall(r.records!, endAt);
      expect(due.length).toBeGreaterThanOrEqual(19);
      // Each one's latency holds its wait at the server: at least stall end − its scheduled send (200, 190, 180, … ms).
      for (const rec of due) expect(rec.latencyMs!).toBeGreaterThanOrEqual(endAt - rec.scheduledAt - TIMER_SLACK_MS);
      expect(r.records!.filter((rec) => rec.latencyMs! >= 100).length).toBeGreaterThanOrEqual(10);
    } finally {
      await server.close();
    }
  });

  it('measures latency from the scheduled send, not the actual one: requests that wait for the one connection count their wait (coordinated omission corrected)', async () => {
    const { server, stall } = await stallingServer();
    try {
      const r = await runLoadSpec(openLoopAt100(1, server.url));
      expect(r.ok).toBe(r.sent);
      expect(Math.abs(r.sent - 100)).toBeLessThanOrEqual(1);
      const { start, end, endAt } = stall();
      // One connection: the requests due during the stall waited in the generator, not at the server…
      expect(server.arrivals.filter((t) => t > start && t < end)).toHaveLength(0);
      expect(r.openLoop!.waitedForConnection).toBeGreaterThanOrEqual(15);
      const queued = dueDuringStall(r.records!, endAt).filter((rec) => rec.index > 30);
      expect(queued.length).toBeGreaterThanOrEqual(18);
      for (const rec of queued) {
        // …and went out only after it: the time before the actual send is at least stall end − scheduled,
        expect(rec.latencyMs! - rec.fromSendMs!).toBeGreaterThanOrEqual(endAt - rec.scheduledAt - TIMER_SLACK_MS);
        // and the latency, from the scheduled send, holds it.
        expect(rec.latencyMs!).toBeGreaterThanOrEqual(endAt - rec.scheduledAt - TIMER_SLACK_MS);
      }
      // From the actual send, only the stalled request itself would have looked slow.
      expect(r.records!.filter((rec) => rec.latencyMs! >= 100).length).toBeGreaterThanOrEqual(10);
      expect(r.latency!.p95).toBeGreaterThanOrEqual(100);
      expect(r.openLoop!.latencyFromSendMs!.p95).toBeLessThan(r.latency!.p95);
    } finally {
      await server.close();
    }
  });
});
