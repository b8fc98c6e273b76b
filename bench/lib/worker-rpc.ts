/**
 * The IPC between the orchestrator and its worker processes (bench/load-worker.ts,
 * bench/flood-worker.ts): the orchestrator sends `{type: 'run', id, spec}`, the worker answers
 * `{type: 'result' | 'error', id, …}`, and may send progress meanwhile. Both sides are here so
 * that they cannot drift apart. No runtime imports: workers load this, and their start-up counts.
 */
import type { Child } from '../common.js';

export interface RunMessage<S> {
  type: 'run';
  id: number;
  spec: S;
}

export interface Progress {
  type: 'progress';
  responses: number;
  ok: number;
  seconds: number;
  /** Load worker, items mode: every item is answered (sent the moment it happens, before the run's result). */
  allAnswered?: boolean;
}

export type WorkerMessage<R> = { type: 'result'; id: number; result: R } | { type: 'error'; id: number; error: string } | Progress | { type: 'ready' };

function isMessage<R>(message: unknown): message is WorkerMessage<R> {
  return typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string';
}

// ---------------------------------------------------------------------------------------------
// Orchestrator side

let runs = 0;

/**
 * Sends one spec to a worker and waits for its answer. Bounded: a worker that has not answered
 * `deadlineSec` + 60 s later is killed (it enforces deadlineSec itself; this is the backstop).
 */
export function runOnWorker<S extends { deadlineSec: number }, R>(w: Child, label: string, spec: S, onProgress?: (p: Progress) => void): Promise<R> {
  const id = ++runs;
  return new Promise<R>((resolvePromise, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(hard);
      w.child.off('message', onMessage);
      fn();
    };
    const hard = setTimeout(
      () => {
        w.child.kill('SIGKILL');
        settle(() => reject(new Error(`${label}: ${w.name} exceeded ${spec.deadlineSec + 60} s`)));
      },
      (spec.deadlineSec + 60) * 1000,
    );
    const onMessage = (message: unknown) => {
      if (!isMessage<R>(message)) return;
      if (message.type === 'progress') onProgress?.(message);
      else if (message.type === 'ready' || message.id !== id) return;
      else if (message.type === 'result') settle(() => resolvePromise(message.result));
      else settle(() => reject(new Error(`${label}: ${message.error}`)));
    };
    w.child.on('message', onMessage);
    void w.exited.then(({ code }) => settle(() => reject(new Error(`${label}: ${w.name} exited (${code}) without a result:\n${w.output().slice(-2000)}`))));
    const run: RunMessage<S> = { type: 'run', id, spec };
    w.child.send(run);
  });
}

/** Resolves once the worker says it is ready (its start-up is over); fails if it exits first or after timeoutMs. */
export function workerReady(w: Child, timeoutMs: number): Promise<void> {
  let started = false;
  return new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      w.child.off('message', onMessage);
      reject(new Error(`${w.name} did not start in ${timeoutMs / 1000} s:\n${w.output().slice(-2000)}`));
    }, timeoutMs);
    const onMessage = (message: unknown) => {
      if (!isMessage(message) || message.type !== 'ready') return;
      started = true;
      clearTimeout(timer);
      w.child.off('message', onMessage);
      resolvePromise();
    };
    w.child.on('message', onMessage);
    void w.exited.then(({ code }) => {
      if (started) return;
      clearTimeout(timer);
      reject(new Error(`${w.name} exited (${code}) at start:\n${w.output().slice(-2000)}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Worker side

/** Serves runs, one at a time as the orchestrator sends them, until the orchestrator goes away. */
export function serveRuns<S, R>(run: (spec: S) => Promise<R>, { ready = false } = {}): void {
  const send = (message: WorkerMessage<R>) => process.send!(message);
  process.on('message', (message: RunMessage<S>) => {
    if (message?.type !== 'run') return;
    run(message.spec).then(
      (result) => send({ type: 'result', id: message.id, result }),
      (error: unknown) => send({ type: 'error', id: message.id, error: String((error as Error)?.stack ?? error) }),
    );
  });
  // The orchestrator going away must not leave this process driving load.
  process.on('disconnect', () => process.exit(1));
  if (ready) send({ type: 'ready' });
}

export function sendProgress(progress: Omit<Progress, 'type'>): void {
  process.send?.({ type: 'progress', ...progress } satisfies Progress);
}
