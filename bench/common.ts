/**
 * Plumbing shared by the benchmark's orchestrator (run.ts) and its servers: child processes that
 * are always killed, bounded waits, percentiles, peak RSS, tokens.
 */
import { spawn, fork, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { JwtService } from '@nestjs/jwt';

const started = Date.now();

/** Progress goes to stderr (stdout carries only the final markdown table). */
export function log(message: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Child processes: every one is registered, and killed on exit, error or signal.

export interface Child {
  name: string;
  child: ChildProcess;
  /** The last 64 kB of its output (stdout + stderr). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
}

const children = new Set<Child>();

function track(name: string, child: ChildProcess): Child {
  let output = '';
  const keep = (d: Buffer) => {
    output += d.toString();
    if (output.length > 65_536) output = output.slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      children.delete(handle);
      resolve({ code, signal });
    }),
  );
  const handle: Child = { name, child, output: () => output, exited, hasExited: () => done };
  children.add(handle);
  return handle;
}

export function spawnTracked(name: string, command: string, args: string[], options: SpawnOptions): Child {
  return track(name, spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
}

export function forkTracked(name: string, modulePath: string, options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): Child {
  return track(name, fork(modulePath, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], ...options }));
}

/** SIGTERM, then SIGKILL after graceMs. Resolves when the process is gone. */
export async function stopChild(handle: Child, graceMs = 10_000): Promise<void> {
  if (handle.hasExited()) return;
  handle.child.kill('SIGTERM');
  const timer = setTimeout(() => handle.child.kill('SIGKILL'), graceMs);
  await handle.exited;
  clearTimeout(timer);
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every child still running. */
export function killAllChildren(): void {
  for (const handle of children) {
    try {
      handle.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

export function liveChildren(): Child[] {
  return [...children];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls url until it answers 2xx; fails if the child exits first or after timeoutMs. */
export async function waitForHttp(url: string, handle: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (handle.hasExited()) throw new Error(`${handle.name} exited before it was ready:\n${handle.output().slice(-4000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${handle.name} not ready after ${timeoutMs} ms:\n${handle.output().slice(-4000)}`);
}

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * One HTTP request (node:http: unlike fetch, no built-in 300 s headers timeout, and a service that
 * replays a projection may not answer for minutes). Bounded by timeoutMs.
 */
export function http<T = unknown>(
  method: string,
  url: string,
  options: { token?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON
        }
        // The service's answer: the caller names its shape (T).
        resolve({ status: res.statusCode ?? 0, body: body as T });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${url}: no answer after ${options.timeoutMs ?? 30_000} ms`)), options.timeoutMs ?? 30_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(payload);
  });
}

/** Runs fn over items with at most `concurrency` in flight. */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

export function mintToken(secret: string, sub = 'bench'): string {
  return new JwtService({ secret }).sign({ sub, roles: ['admin'] }, { algorithm: 'HS256', expiresIn: '12h' });
}

// ---------------------------------------------------------------------------------------------
// Figures

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Exact percentiles (nearest rank) of a sample; null when the sample is empty. */
export function percentiles(values: ArrayLike<number>): Percentiles | null {
  const n = values.length;
  if (!n) return null;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
  return { count: n, mean: round(sum / n), p50: round(at(50)), p95: round(at(95)), p99: round(at(99)), max: round(sorted[n - 1]) };
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Peak resident set size (VmHWM) of a process, in MB; null when it cannot be read. */
export function peakRssMb(pid: number | undefined): number | null {
  return procStatusMb(pid, 'VmHWM');
}

/** Current resident set size (VmRSS) of a process, in MB. */
export function rssMb(pid: number | undefined): number | null {
  return procStatusMb(pid, 'VmRSS');
}

function procStatusMb(pid: number | undefined, field: string): number | null {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status);
    return match ? round(Number(match[1]) / 1024, 1) : null;
  } catch {
    return null;
  }
}
