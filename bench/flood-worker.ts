/**
 * Hostile-input flood, run as a child process of bench/run.ts (scenario `hostile`): sends floods
 * of `bodies` POST requests in parallel, each a deeply nested JSON body, back to back until at
 * least `minFloods` floods and `seconds` have passed. It runs in its own process so that the
 * orchestrator, which probes /health/live meanwhile, does not share its event loop with the
 * sending (building, writing and reading 4.5 MB per flood would delay the probes' own timers and
 * callbacks, and be counted against the service). Receives FloodSpecs over IPC, one at a time
 * (warm-up, then the measured floods), and sends back a FloodResult for each. Bounded: per-request
 * timeout, `maxFloods`, and a hard deadline.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { serveRuns } from './lib/worker-rpc.js';

export interface FloodSpec {
  url: string;
  path: string;
  token: string;
  /** Requests per flood, all sent at once. */
  bodies: number;
  /** The body is `[`×depth + `1` + `]`×depth. */
  depth: number;
  minFloods: number;
  maxFloods: number;
  seconds: number;
  requestTimeoutMs: number;
  deadlineSec: number;
}

export interface Flood {
  /** Epoch ms (performance.timeOrigin + performance.now(): comparable with the orchestrator's). */
  startedAt: number;
  finishedAt: number;
  ms: number;
  statusCodes: Record<string, number>;
  /** The `code` of the problem documents answered (VALIDATION_FAILED expected). */
  problemCodes: Record<string, number>;
  errors: number;
  /** Requests that had to open a connection (the service closed the previous one, or the first flood). */
  newConnections: number;
}

export interface FloodResult {
  bodyBytes: number;
  floods: Flood[];
  stoppedByDeadline: boolean;
}

const now = () => performance.timeOrigin + performance.now();

// Ready once started: the orchestrator measures idle latency only once this process's start-up is over.
serveRuns(run, { ready: true });

async function run(spec: FloodSpec): Promise<FloodResult> {
  const body = Buffer.from('['.repeat(spec.depth) + '1' + ']'.repeat(spec.depth));
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length), authorization: `Bearer ${spec.token}` };
  // Keep-alive: each flood reuses the previous flood's connections, as a client that floods would.
  const agent = new Agent({ keepAlive: true, maxSockets: spec.bodies });
  const target = new URL(spec.path, spec.url);
  const one = () =>
    new Promise<{ status: number; code?: string; reused: boolean } | null>((resolve) => {
      const req = request(target, { method: 'POST', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => resolve(null));
        res.on('end', () => {
          clearTimeout(timer);
          let code: string | undefined;
          try {
            code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: string } | null)?.code;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, code, reused: req.reusedSocket });
        });
      });
      const timer = setTimeout(() => req.destroy(new Error('timeout')), spec.requestTimeoutMs);
      req.on('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
      req.end(body);
    });

  const floods: Flood[] = [];
  const t0 = now();
  const deadline = t0 + spec.deadlineSec * 1000;
  let stoppedByDeadline = false;
  while (floods.length < spec.maxFloods && (floods.length < spec.minFloods || now() - t0 < spec.seconds * 1000)) {
    if (now() > deadline) {
      stoppedByDeadline = true;
      break;
    }
    const startedAt = now();
    const answers = await Promise.all(Array.from({ length: spec.bodies }, one));
    const finishedAt = now();
    const statusCodes: Record<string, number> = {};
    const problemCodes: Record<string, number> = {};
    let errors = 0;
    let newConnections = 0;
    for (const a of answers) {
      if (!a) {
        errors++;
        continue;
      }
      if (!a.reused) newConnections++;
      statusCodes[a.status] = (statusCodes[a.status] ?? 0) + 1;
      const code = a.code ?? '(none)';
      problemCodes[code] = (problemCodes[code] ?? 0) + 1;
    }
    floods.push({ startedAt, finishedAt, ms: finishedAt - startedAt, statusCodes, problemCodes, errors, newConnections });
  }
  agent.destroy();
  return { bodyBytes: body.length, floods, stoppedByDeadline };
}
