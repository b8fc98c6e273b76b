import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JwtService } from '@nestjs/jwt';
import { createApp, type CreateAppOptions } from '../../src/app.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import type { TestDatabase, TestDatabaseKind } from './databases.js';

export const TEST_JWT_SECRET = 'test-secret-0123456789-0123456789-abcdef';

export interface Response {
  status: number;
  headers: Record<string, string>;
  body: any;
  text: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  config: AppConfig;
  db: TestDatabase;
  token(role: string | string[], sub?: string): string;
  /** Sends a request through Fastify's inject (no socket); `as` mints a token for that role. */
  request(
    method: string,
    url: string,
    options?: { as?: string; token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string },
  ): Promise<Response>;
  close(): Promise<void>;
}

/** The whole service on a fresh database of the given kind, as main.ts builds it. */
export async function startTestApp(
  kind: TestDatabaseKind,
  env: Record<string, string> = {},
  options: Pick<CreateAppOptions, 'wrapEventStore'> = {},
): Promise<TestApp> {
  return startOn(await kind.create(), env, options);
}

/**
 * `count` instances of the service sharing one fresh database, as a scaled-out deployment runs;
 * closing the last one drops the database.
 */
export async function startInstances(
  kind: TestDatabaseKind,
  count: number,
  env: Record<string, string> = {},
  options: Pick<CreateAppOptions, 'wrapEventStore'> = {},
): Promise<TestApp[]> {
  const db = await kind.create();
  let open = count;
  const shared: TestDatabase = { ...db, drop: async () => (--open === 0 ? db.drop() : undefined) };
  const apps: TestApp[] = [];
  for (let i = 0; i < count; i++) apps.push(await startOn(shared, env, options));
  return apps;
}

async function startOn(db: TestDatabase, env: Record<string, string>, options: Pick<CreateAppOptions, 'wrapEventStore'> = {}): Promise<TestApp> {
  const url = db.config.kind === 'sqlite' ? `sqlite:${db.config.path}` : db.config.url;
  const config = loadConfig({ DATABASE_URL: url, JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent', ...env });
  const app = await createApp(config, { logger: false, docsUi: false, ...options });
  await app.init();
  // Real sockets on loopback: Fastify's inject() pulls an ESM-only dependency Jest cannot load on Node 20.
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const base = `http://127.0.0.1:${address.port}`;
  const jwt = new JwtService({ secret: TEST_JWT_SECRET });
  const token = (role: string | string[], sub = `user-${Array.isArray(role) ? role.join('+') : role}`) =>
    jwt.sign({ sub, roles: Array.isArray(role) ? role : [role] }, { algorithm: 'HS256', expiresIn: '1h' });

  return {
    app,
    baseUrl: base,
    config,
    db,
    token,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      const bearer = options.token ?? (options.as ? token(options.as) : undefined);
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      let payload: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        payload = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(base + path, { method, headers, body: payload });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      const body = type.includes('json') && text ? JSON.parse(text) : text;
      return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body, text };
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
