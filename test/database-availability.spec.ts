import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../src/database/availability.js';
import { DomainError } from '../src/shared/domain-error.js';
import { POSTGRES_ADMIN_URL, testDatabaseKinds } from './support/databases.js';
import { TcpProxy } from './support/tcp-proxy.js';

/**
 * Which failures are an outage of the database (503 DATABASE_UNAVAILABLE, processors wait) and
 * which are not (500, attempts counted). Every error here is produced by the real driver.
 */
const postgres = (await testDatabaseKinds()).find((k) => k.name === 'postgres')!;

/** The error `work` fails with. */
async function failure(work: () => Promise<unknown> | unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

const admin = () => new pg.Client({ connectionString: POSTGRES_ADMIN_URL });

(postgres.available ? describe : describe.skip)('database unavailable on PostgreSQL', () => {
  it('a refused connection (ECONNREFUSED), also wrapped as the cause of another error', async () => {
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: 5432 });
    const { port } = proxy.address;
    await proxy.close();
    const error = await failure(async () => {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      await client.connect();
    });
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isDatabaseUnavailable(new Error('the append failed', { cause: error }))).toBe(true);
  });

  it('a connection that breaks under a running query (Connection terminated unexpectedly), through TypeORM too', async () => {
    const url = new URL(POSTGRES_ADMIN_URL);
    const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.address.port);
    url.hostname = '127.0.0.1';
    const dataSource = await new DataSource({ type: 'postgres', url: url.toString(), extra: { max: 1 } }).initialize();
    try {
      const running = failure(() => dataSource.query('SELECT pg_sleep(5)'));
      // The query is on the wire once the server shows it.
      const look = admin();
      await look.connect();
      try {
        for (let seen = false; !seen;) {
          seen = (await look.query(`SELECT 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' AND state = 'active'`)).rowCount! > 0;
        }
      } finally {
        await look.end();
      }
      await proxy.cut('reset');
      const error = await running;
      expect((error as Error).constructor.name).toBe('QueryFailedError');
      expect(isDatabaseUnavailable(error)).toBe(true);
      // The pool's next connection is reset at once: also unavailable.
      expect(isDatabaseUnavailable(await failure(() => dataSource.query('SELECT 1')))).toBe(true);
    } finally {
      await dataSource.destroy().catch(() => undefined);
      await proxy.close();
    }
  });

  it('a session the server ends (57P01 admin_shutdown, as in a fast shutdown)', async () => {
    const victim = admin();
    await victim.connect();
    victim.on('error', () => undefined);
    const { pid } = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0];
    const running = failure(() => victim.query('SELECT pg_sleep(5)'));
    const killer = admin();
    await killer.connect();
    try {
      for (let killed = false; !killed;)
        killed = (await killer.query(`SELECT pg_terminate_backend($1) AS ok FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [pid])).rowCount! > 0;
    } finally {
      await killer.end();
    }
    const error = await running;
    expect(error).toMatchObject({ code: '57P01' });
    expect(isDatabaseUnavailable(error)).toBe(true);
    await victim.end().catch(() => undefined);
  });

  it('no connection left (53300 too_many_connections) and a pool that cannot hand one out in time', async () => {
    const role = `lq_test_limited_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const setup = admin();
    await setup.connect();
    try {
      await setup.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
      const url = new URL(POSTGRES_ADMIN_URL);
      url.username = role;
      const error = await failure(async () => {
        const client = new pg.Client({ connectionString: url.toString() });
        await client.connect();
      });
      expect(error).toMatchObject({ code: '53300' });
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await setup.query(`DROP ROLE IF EXISTS ${role}`);
      await setup.end();
    }

    const pool = new pg.Pool({ connectionString: POSTGRES_ADMIN_URL, max: 1, connectionTimeoutMillis: 1_000 });
    const held = await pool.connect();
    try {
      const error = await failure(() => pool.connect());
      expect((error as Error).message).toMatch(/timeout exceeded when trying to connect/);
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      held.release();
      await pool.end();
    }
  });

  it('is not: a constraint, a syntax error, a conflict of the domain, a bug', async () => {
    const client = admin();
    await client.connect();
    try {
      await client.query('CREATE TEMP TABLE t (id int PRIMARY KEY)');
      await client.query('INSERT INTO t VALUES (1)');
      const duplicate = await failure(() => client.query('INSERT INTO t VALUES (1)'));
      expect(duplicate).toMatchObject({ code: '23505' });
      const syntax = await failure(() => client.query('SELEC 1'));
      expect(syntax).toMatchObject({ code: '42601' });
      for (const error of [
        duplicate,
        syntax,
        new DomainError('CONCURRENCY_CONFLICT', 'lead-1 was changed'),
        new Error('injected crash before appending'),
        new TypeError('x is undefined'),
        undefined,
        'text',
      ]) {
        expect(isDatabaseUnavailable(error)).toBe(false);
      }
    } finally {
      await client.end();
    }
  });
});

describe('database unavailable on SQLite', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lq-availability-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the write lock still held by another process after the busy timeout (SQLITE_BUSY)', () => {
    const path = join(dir, 'busy.sqlite');
    const holder = new Sqlite(path);
    const waiter = new Sqlite(path, { timeout: 10 });
    try {
      holder.pragma('journal_mode = WAL');
      holder.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      holder.exec('BEGIN IMMEDIATE');
      const error = (() => {
        try {
          waiter.exec('BEGIN IMMEDIATE');
        } catch (e) {
          return e;
        }
      })();
      expect(error).toMatchObject({ code: expect.stringMatching(/^SQLITE_BUSY/) });
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      holder.exec('ROLLBACK');
      waiter.close();
      holder.close();
    }
  });

  it('a file that cannot be opened (SQLITE_CANTOPEN); a constraint is not unavailable', () => {
    // A path that is a directory.
    const error = (() => {
      try {
        new Sqlite(dir).close();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: 'SQLITE_CANTOPEN' });
    expect(isDatabaseUnavailable(error)).toBe(true);

    const db = new Sqlite(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    db.exec('INSERT INTO t VALUES (1)');
    const constraint = (() => {
      try {
        db.exec('INSERT INTO t VALUES (1)');
      } catch (e) {
        return e;
      }
    })();
    db.close();
    expect(constraint).toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) });
    expect(isDatabaseUnavailable(constraint)).toBe(false);
  });
});
