/**
 * Sub-millisecond timestamps that other processes can compare with `Date.now()`.
 *
 * A run is timed with `performance.now()` (monotonic, sub-millisecond); its figures are reported
 * as epoch milliseconds so that the orchestrator, in another process, can relate them to its own
 * clock (e.g. "first command sent" → "read models complete"). `Date.now()` alone only has whole
 * milliseconds, and `performance.timeOrigin` is fixed at process start, so a long-lived worker
 * would carry any step of the wall clock since. Hence an anchor taken per run: `Date.now()` read
 * at the instant its millisecond ticks over (a spin of at most ~1 ms), paired with
 * `performance.now()` read right then, so the offset between the two clocks is known to a few µs.
 */
import { performance } from 'node:perf_hooks';

export interface EpochClock {
  /** `performance.now()` of this process, ms. */
  now(): number;
  /** An earlier or later `now()` reading as epoch ms (fractional). */
  epoch(perfMs: number): number;
  /** The current time as epoch ms (fractional). */
  nowEpoch(): number;
}

export function epochClock(): EpochClock {
  const first = Date.now();
  let wall = first;
  let perf = performance.now();
  const giveUpAt = perf + 5;
  // Bounded: Date.now() ticks every millisecond; 5 ms covers a descheduled process.
  while (wall === first && perf < giveUpAt) {
    wall = Date.now();
    perf = performance.now();
  }
  // If the tick was not seen (it always is, short of a stalled machine), fall back to ±1 ms.
  const offset = wall === first ? Date.now() - performance.now() : wall - perf;
  return {
    now: () => performance.now(),
    epoch: (perfMs) => perfMs + offset,
    nowEpoch: () => performance.now() + offset,
  };
}

/** A run's span from its own readings (first request sent → last answer), as LoadResult reports it. */
export function runSpan(clock: EpochClock, firstSent: number | undefined, lastAnswer: number | undefined) {
  return {
    firstSentAt: firstSent === undefined ? null : clock.epoch(firstSent),
    lastResponseAt: lastAnswer === undefined ? null : clock.epoch(lastAnswer),
    seconds: firstSent !== undefined && lastAnswer !== undefined ? (lastAnswer - firstSent) / 1000 : 0,
  };
}
