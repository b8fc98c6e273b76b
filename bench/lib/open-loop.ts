/**
 * Open-loop load at a fixed arrival rate (LoadSpec.arrivalRate), for latency at a given offered
 * load. Request i is issued at t0 + i / rate whether or not the earlier ones are answered, and its
 * latency is measured from that scheduled time, not from when it actually went out: a stalled
 * server (or a generator that fell behind, or a request that waited for a free connection) shows
 * in the latency of every request that should have gone out meanwhile. That is the correction for
 * coordinated omission; a closed loop, autocannon's `overallRate` included, sends its next
 * request only once a connection is free and measures from that send, so a stall delays the
 * sending and hides the queueing.
 *
 * Requests go over node:http with a keep-alive Agent of at most `connections` sockets (undici is
 * not a dependency here; Node's bundled copy is not importable): a socket per request in flight,
 * opened on demand and reused. A request that finds them all busy waits in the Agent's queue; it
 * is counted (`waitedForConnection`) and its wait is in its latency.
 *
 * The scheduler is a timer re-armed for the next due time; every request due when it fires is
 * sent then. Node's timers have millisecond granularity, so sends are typically 0–1.5 ms after
 * their scheduled time; `late` counts those more than LATE_AFTER_MS after it (the generator itself
 * fell behind: its lag is in the latencies, which is the conservative side), with the largest lag.
 *
 * Bounded: by the items (each once) or rate × durationSec requests, a per-request timeout, and
 * `deadlineSec`, after which everything outstanding is abandoned and the run returns.
 */
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { percentiles, round, type Percentiles } from '../common.js';
import { epochClock, runSpan } from './clock.js';
import type { LoadResult, LoadSpec, ProgressSink } from './load-run.js';

/** A send more than this after its scheduled time counts as late. */
export const LATE_AFTER_MS = 2;

export interface OpenLoopStats {
  /** Requests per second the schedule offered. */
  offeredRate: number;
  /** Requests on the schedule: the items, or rate × durationSec. */
  scheduled: number;
  sent: number;
  /**
   * The rate the generator achieved: sent / (last send − first scheduled send + 1 / offeredRate),
   * i.e. over the schedule's window as it went; the offered rate when every request went out on
   * time, less when the generator fell behind (never more).
   */
  achievedRate: number | null;
  lateAfterMs: number;
  /** Sends more than lateAfterMs after their scheduled time. */
  late: number;
  /** The largest scheduler lag (issued − scheduled), ms. */
  maxLagMs: number | null;
  lagMs: Percentiles | null;
  /** Latency from the actual send (the request written to its socket) instead of the scheduled one: no coordinated-omission correction, for comparison. */
  latencyFromSendMs: Percentiles | null;
  maxConnections: number;
  connectionsOpened: number;
  /** Requests written more than 1 ms after they were issued: they waited for a connection (all `maxConnections` busy, or one being opened). */
  waitedForConnection: number;
  maxInFlight: number;
}

/** One request's timings (LoadSpec.keepRecords), ms; `scheduledMs` from the first scheduled send. */
export interface RequestRecord {
  index: number;
  /** Epoch ms (fractional). */
  scheduledAt: number;
  scheduledMs: number;
  lagMs: number;
  /** From the scheduled send to the response; null when the request failed. */
  latencyMs: number | null;
  /** From the actual send (written to its socket) to the response. */
  fromSendMs: number | null;
  status: number | null;
}

export function runOpenLoop(spec: LoadSpec, rate: number, progress: ProgressSink): Promise<LoadResult> {
  if (!(rate > 0)) throw new Error(`arrivalRate must be positive, not ${rate}`);
  const clock = epochClock();
  const startedAt = Date.now();
  const target = new URL(spec.url);
  const items = spec.items;
  const total = items ? items.length : Math.max(1, Math.round(rate * (spec.durationSec ?? 10)));
  const intervalMs = 1000 / rate;
  const timeoutMs = (spec.timeoutSec ?? 30) * 1000;
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections });

  const lags = new Float64Array(total);
  const latencies = new Float64Array(total);
  const fromSend = new Float64Array(total);
  const records: RequestRecord[] | undefined = spec.keepRecords ? [] : undefined;
  const statusCodes: Record<string, number> = {};
  const sockets = new WeakSet<Socket>();
  let sent = 0;
  let responses = 0;
  let ok = 0;
  let errors = 0;
  let timeouts = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let late = 0;
  let waited = 0;
  let opened = 0;
  let firstSent: number | undefined;
  let lastSent: number | undefined;
  let lastAnswer: number | undefined;
  let stoppedByDeadline = false;
  let finished = false;
  let next = 0;

  return new Promise<LoadResult>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const t0 = clock.now();

    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      clearInterval(ticker);
      // Closes the keep-alive sockets, and abandons whatever is still in flight (deadline).
      agent.destroy();
      const span = runSpan(clock, firstSent, lastAnswer);
      const { seconds } = span;
      const windowMs = lastSent === undefined ? 0 : lastSent - t0 + intervalMs;
      const lagMs = percentiles(lags.subarray(0, sent));
      resolve({
        mode: 'open',
        startedAt,
        finishedAt: Date.now(),
        ...span,
        sent,
        responses,
        ok,
        statusCodes,
        errors,
        timeouts,
        latency: percentiles(latencies.subarray(0, responses)),
        rps: seconds > 0 ? round(responses / seconds, 1) : 0,
        autocannon: null,
        issued: items ? sent : undefined,
        stoppedByDeadline,
        openLoop: {
          offeredRate: rate,
          scheduled: total,
          sent,
          achievedRate: sent && windowMs > 0 ? round(sent / (windowMs / 1000), 2) : null,
          lateAfterMs: LATE_AFTER_MS,
          late,
          maxLagMs: lagMs?.max ?? null,
          lagMs,
          latencyFromSendMs: percentiles(fromSend.subarray(0, responses)),
          maxConnections: spec.connections,
          connectionsOpened: opened,
          waitedForConnection: waited,
          maxInFlight,
        },
        ...(records ? { records } : {}),
      });
    };

    const send = (i: number) => {
      const scheduled = t0 + i * intervalMs;
      const item = items?.[i];
      const path = item?.path ?? (spec.paths ? spec.paths[Math.floor(Math.random() * spec.paths.length)] : (spec.path ?? '/'));
      const body = item?.body ?? spec.body;
      const payload = body === undefined ? undefined : Buffer.from(body);
      const issuedAt = clock.now();
      const lag = issuedAt - scheduled;
      lags[i] = lag;
      if (lag > LATE_AFTER_MS) late++;
      lastSent = issuedAt;
      sent++;
      // When the request is written: at once on a free connected socket; when its connection is
      // established on a new one; when a connection frees up if all are busy.
      let sentAt: number | undefined;
      const written = () => {
        sentAt = clock.now();
        firstSent ??= sentAt;
        if (sentAt - issuedAt > 1) waited++;
      };
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      let done = false;
      const complete = (status: number | null, error?: Error) => {
        if (done || finished) return;
        done = true;
        inFlight--;
        const end = clock.now();
        lastAnswer = end;
        if (status !== null) {
          latencies[responses] = end - scheduled;
          fromSend[responses] = end - (sentAt ?? issuedAt);
          responses++;
          statusCodes[status] = (statusCodes[status] ?? 0) + 1;
          if (status >= 200 && status < 300) ok++;
        } else {
          errors++;
          if (/timed out/.test(String(error?.message))) timeouts++;
        }
        records?.push({
          index: i,
          scheduledAt: clock.epoch(scheduled),
          scheduledMs: scheduled - t0,
          lagMs: lag,
          latencyMs: status === null ? null : end - scheduled,
          fromSendMs: status === null ? null : end - (sentAt ?? issuedAt),
          status,
        });
        if (next >= total && inFlight === 0) {
          if (items) progress({ responses, ok, seconds: (end - (firstSent ?? end)) / 1000, allAnswered: true });
          finish();
        }
      };
      const req = request(
        {
          agent,
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: spec.method,
          path,
          headers: payload ? { ...spec.headers, 'content-length': String(payload.length) } : spec.headers,
        },
        (res) => {
          res.on('end', () => complete(res.statusCode ?? 0));
          res.on('error', (error) => complete(null, error));
          res.resume();
        },
      );
      req.on('socket', (socket: Socket) => {
        if (!sockets.has(socket)) {
          sockets.add(socket);
          opened++;
        }
        if (socket.connecting) socket.once('connect', written);
        else written();
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error('request timed out')));
      req.on('error', (error) => complete(null, error));
      req.end(payload);
    };

    const tick = () => {
      timer = undefined;
      if (finished) return;
      // Everything due by now goes out now (several per tick above ~1,000/s, or after a late timer).
      while (next < total && t0 + next * intervalMs <= clock.now()) send(next++);
      if (next < total) timer = setTimeout(tick, Math.max(0, t0 + next * intervalMs - clock.now()));
      else if (inFlight === 0) finish();
    };

    const ticker = setInterval(() => progress({ responses, ok, seconds: firstSent === undefined ? 0 : (clock.now() - firstSent) / 1000 }), 5000);
    const deadline = setTimeout(() => {
      stoppedByDeadline = true;
      finish();
    }, spec.deadlineSec * 1000);
    tick();
  });
}
