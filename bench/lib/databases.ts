/**
 * The databases the run creates (a temporary SQLite file each, or a fresh PostgreSQL database each,
 * dropped at the end) and read-only SQL on them: the bench reads the service's documented tables
 * (docs/read-models.md) and never writes them.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Session } from './session.js';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface Target {
  name: string;
  kind: 'sqlite' | 'postgres';
  url: string;
  /** SQLite file. */
  path?: string;
}

/** The database whose event store bench/generate-events.ts appends to (through the port). */
export type EventsTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export function eventsTarget(target: Target): EventsTarget {
  return target.kind === 'sqlite' ? { kind: 'sqlite', path: target.path! } : { kind: 'postgres', url: target.url };
}

export async function pgAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function newDatabase(session: Session, name: string): Promise<Target> {
  if (session.opts.db === 'sqlite') {
    const path = join(session.tmp, `${name}.sqlite`);
    return { name, kind: 'sqlite', url: `sqlite:${path}`, path };
  }
  const db = `lq_bench_${process.pid}_${Date.now().toString(36)}_${name}`;
  await pgAdmin(`CREATE DATABASE "${db}"`);
  session.pgDatabases.add(db);
  return { name, kind: 'postgres', url: `postgres://postgres@127.0.0.1:5432/${db}` };
}

/** Read-only SQL on a target (`?` placeholders on both databases). */
export interface Sql {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function openSql(target: Target): Promise<Sql> {
  if (target.kind === 'sqlite') {
    const db = new Database(target.path, { readonly: true, fileMustExist: true, timeout: 10_000 });
    return {
      all: async <T>(sql: string, params: unknown[] = []) => db.prepare(sql).all(...params) as T[],
      close: async () => void db.close(),
    };
  }
  // JIT off, as in the service (src/database/data-source.ts).
  const client = new pg.Client({ connectionString: target.url, options: '-c jit=off' });
  await client.connect();
  // A read-only session: the database refuses any write the bench might attempt.
  await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
  return {
    all: async <T>(sql: string, params: unknown[] = []) => {
      let i = 0;
      return (
        await client.query(
          sql.replace(/\?/g, () => `$${++i}`),
          params,
        )
      ).rows as T[];
    },
    close: () => client.end(),
  };
}
