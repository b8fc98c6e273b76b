import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config/config.js';

/**
 * The real databases every suite runs against. PostgreSQL comes from TEST_POSTGRES_URL (default:
 * the local server with trust auth). When it is unreachable the PostgreSQL suites are skipped with
 * one visible line, unless REQUIRE_POSTGRES=1 (CI sets it): then they fail.
 */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const requirePostgres = process.env.REQUIRE_POSTGRES === '1' || process.env.CI === 'true';

export interface TestDatabase {
  name: string;
  config: DatabaseConfig;
  /** Drops what create() made. */
  drop(): Promise<void>;
}

export interface TestDatabaseKind {
  name: 'sqlite-file' | 'sqlite-memory' | 'postgres';
  available: boolean;
  create(): Promise<TestDatabase>;
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (requirePostgres) {
      throw new Error(`PostgreSQL is required (CI/REQUIRE_POSTGRES) but unreachable at ${POSTGRES_ADMIN_URL}: ${(error as Error).message}`);
    }
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let reachable: Promise<boolean> | undefined;
let warned = false;

export async function testDatabaseKinds(options: { memory?: boolean } = {}): Promise<TestDatabaseKind[]> {
  reachable ??= postgresReachable();
  const pgUp = await reachable;
  if (!pgUp && !warned) {
    warned = true;
    process.stderr.write(`SKIPPED: PostgreSQL suites (no server at ${POSTGRES_ADMIN_URL}; set REQUIRE_POSTGRES=1 to fail instead)\n`);
  }
  const kinds: TestDatabaseKind[] = [
    { name: 'sqlite-file', available: true, create: createSqliteFile },
    { name: 'postgres', available: pgUp, create: createPostgres },
  ];
  if (options.memory)
    kinds.splice(1, 0, {
      name: 'sqlite-memory',
      available: true,
      create: async () => ({ name: 'sqlite-memory', config: { kind: 'sqlite', path: ':memory:' }, drop: async () => undefined }),
    });
  return kinds;
}

async function createSqliteFile(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'lq-test-'));
  return {
    name: 'sqlite-file',
    config: { kind: 'sqlite', path: join(dir, 'test.sqlite') },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function createPostgres(): Promise<TestDatabase> {
  const database = `lq_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  return {
    name: 'postgres',
    config: { kind: 'postgres', url: url.toString() },
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * The environment that puts a test app's events on EventStoreDB (read models stay on the test
 * database), when EVENTSTORE_URL is set; otherwise undefined, and one visible line says that
 * `suite` did not run there.
 */
export function eventStoreDbEnv(suite: string): Record<string, string> | undefined {
  const url = process.env.EVENTSTORE_URL;
  if (url) return { EVENT_STORE: 'esdb', EVENTSTORE_URL: url };
  process.stderr.write(`SKIPPED: ${suite} on EventStoreDB (EVENTSTORE_URL not set)\n`);
  return undefined;
}
