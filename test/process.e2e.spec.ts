import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { TEST_JWT_SECRET } from './support/app.js';
import { startScriptNodeFlags } from '../scripts/start-script-flags.js';
import { dockerfileNodeFlags, SERVICE_ENTRY, startService, waitUntilReady, type ServiceProcess } from './support/process.js';

/** The service as a real process, the way `npm start` and the Dockerfile run it. */
describe('the service process', () => {
  let dir: string;
  const running: ServiceProcess[] = [];
  const token = new JwtService({ secret: TEST_JWT_SECRET }).sign({ sub: 'sally', roles: ['salesperson'] }, { algorithm: 'HS256', expiresIn: '1h' });
  const post = (s: ServiceProcess, path: string, body: unknown) =>
    fetch(`${s.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lq-process-'));
  });
  afterAll(() => {
    for (const s of running) s.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  // The young generation size bounds peak memory (docs/operations.md, "Memory"): the image must run
  // node exactly as `npm start` does, and these tests start the service with those flags too.
  it('runs node with the same flags in the image as in npm start, young generation size included', () => {
    expect(startScriptNodeFlags()).toContain('--max-semi-space-size=32');
    expect(dockerfileNodeFlags()).toEqual(startScriptNodeFlags());
  });

  it('starts on the embedded default with no other service and serves health and the API docs', async () => {
    const service = await startService({ DATABASE_URL: `sqlite:${join(dir, 'boot.sqlite')}` });
    running.push(service);
    await waitUntilReady(service);
    expect((await fetch(`${service.baseUrl}/health/live`)).status).toBe(200);
    const docs = await fetch(`${service.baseUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('Swagger UI');
    service.child.kill('SIGKILL');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://nope' }, 'DATABASE_URL'],
    [{ NODE_ENV: 'production', JWT_SECRET: '' }, 'JWT_SECRET'],
  ])('refuses to start with %j in one line naming %s', (env, variable) => {
    const result = spawnSync(process.execPath, [SERVICE_ENTRY], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
  });

  it('shuts down on SIGTERM with its work done and checkpoints saved, and restarts where it stopped', async () => {
    const database = `sqlite:${join(dir, 'graceful.sqlite')}`;
    const first = await startService({ DATABASE_URL: database });
    running.push(first);
    await waitUntilReady(first);
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(first, '/leads', { topic: `t${i}`, lastName: 'L', companyName: `Co ${i}` }).then((r) => r.json())),
    );
    const qualified = await Promise.all(created.map((c: any) => post(first, `/leads/${c.id}/qualify`, {})));
    expect(qualified.every((r) => r.status === 202)).toBe(true);

    first.child.kill('SIGTERM');
    const exit = await first.exited;
    expect(exit).toEqual(expect.objectContaining({ code: 0 }));
    expect(first.output()).toContain('processors stopped, checkpoints saved');

    const second = await startService({ DATABASE_URL: database });
    running.push(second);
    await waitUntilReady(second);
    const admin = new JwtService({ secret: TEST_JWT_SECRET }).sign({ sub: 'ops', roles: ['admin'] }, { algorithm: 'HS256', expiresIn: '1h' });
    const leads = await Promise.all(
      created.map((c: any) => fetch(`${second.baseUrl}/leads/${c.id}`, { headers: { authorization: `Bearer ${admin}` } }).then((r) => r.json())),
    );
    // Conversions finish (before or after the restart) and nothing was lost.
    expect(leads.every((l: any) => l.status === 'Qualified')).toBe(true);
    second.child.kill('SIGTERM');
    await second.exited;
    expect(second.output()).toContain('processors stopped, checkpoints saved');
  });
});
