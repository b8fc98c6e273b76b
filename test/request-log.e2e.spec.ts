import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { TEST_JWT_SECRET } from './support/app.js';
import { eventually } from './support/events.js';
import { startService, waitUntilReady, type ServiceProcess } from './support/process.js';

/** The request lines a service printed so far (its stdout is pino JSON, one object a line). */
function requestLines(service: ServiceProcess): Record<string, unknown>[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === 'request');
}

describe('request logs at the default LOG_LEVEL', () => {
  let dir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lq-log-'));
    // startService runs at LOG_LEVEL=info, the default operators get.
    service = await startService({ DATABASE_URL: `sqlite:${join(dir, 'log.sqlite')}` });
    await waitUntilReady(service);
  });
  afterAll(async () => {
    service?.child.kill('SIGKILL');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one JSON line per request with method, route pattern, status, duration, correlation id and user; never the token or the body', async () => {
    const token = new JwtService({ secret: TEST_JWT_SECRET }).sign({ sub: 'sally', roles: ['salesperson'] }, { expiresIn: '1h' });
    const secretTopic = `topic-${Date.now()}-not-for-logs`;
    const send = (method: string, path: string, correlationId: string, body?: unknown, auth = true) =>
      fetch(service.baseUrl + path, {
        method,
        headers: {
          'x-correlation-id': correlationId,
          ...(auth ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
    const before = requestLines(service).length;
    const created = await send('POST', '/leads', 'log-create', { topic: secretTopic, lastName: 'Doe' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await send('GET', `/leads/${id}`, 'log-read')).status).toBeLessThan(500);
    expect((await send('GET', '/leads', 'log-anonymous', undefined, false)).status).toBe(401);
    expect((await send('GET', '/nowhere', 'log-missing')).status).toBe(404);
    expect((await send('GET', '/health/live', 'log-probe')).status).toBe(200);

    const lines = await eventually(() => {
      const all = requestLines(service).slice(before);
      return all.length >= 4 && all;
    }, 'four request lines');
    const byId = Object.fromEntries(lines.map((line) => [line.correlationId, line]));
    expect(lines.map((l) => l.correlationId).sort()).toEqual(['log-anonymous', 'log-create', 'log-missing', 'log-read']);
    expect(byId['log-create']).toEqual(
      expect.objectContaining({ level: 30, method: 'POST', route: '/leads', status: 201, durationMs: expect.any(Number), userId: 'sally' }),
    );
    expect(byId['log-read']).toEqual(expect.objectContaining({ method: 'GET', route: '/leads/:id', userId: 'sally' }));
    expect(byId['log-anonymous']).toEqual(expect.objectContaining({ route: '/leads', status: 401, userId: null }));
    expect(byId['log-missing']).toEqual(expect.objectContaining({ status: 404, route: null }));
    // Probes are logged at debug: not at the default level.
    expect(byId['log-probe']).toBeUndefined();
    expect(service.output()).not.toContain(token);
    expect(service.output()).not.toContain(token.split('.')[2]);
    expect(service.output()).not.toContain(secretTopic);
  });
});
