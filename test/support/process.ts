import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { startScriptNodeFlags } from '../../scripts/start-script-flags.js';
import { TEST_JWT_SECRET } from './app.js';

export const SERVICE_ENTRY = resolve('.test-dist/main.js');

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The node flags of the Dockerfile's exec-form CMD. */
export function dockerfileNodeFlags(): string[] {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(resolve('Dockerfile'), 'utf8'));
  if (!cmd) throw new Error('the Dockerfile has no exec-form CMD');
  const words: string[] = JSON.parse(cmd[1]);
  return words.slice(1).filter((word) => word.startsWith('--'));
}

/** Starts the compiled service (globalSetup builds it) as `npm start` would, after its build. */
export async function startService(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...startScriptNodeFlags(), SERVICE_ENTRY], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  return { child, baseUrl: `http://127.0.0.1:${port}`, output: () => output, exited };
}

/** Resolves once /health/ready answers 200; fails if the process exits first or after timeoutMs. */
export async function waitUntilReady(service: ServiceProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void service.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`service exited before it was ready:\n${service.output()}`);
    try {
      const res = await fetch(`${service.baseUrl}/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`service not ready after ${timeoutMs} ms:\n${service.output()}`);
}
