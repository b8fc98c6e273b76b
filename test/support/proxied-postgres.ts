import type { DatabaseConfig } from '../../src/config/config.js';
import type { TestDatabase, TestDatabaseKind } from './databases.js';
import { TcpProxy } from './tcp-proxy.js';

export interface ProxiedPostgres {
  /** A kind for startTestApp whose database the service reaches through the proxy only. */
  kind: TestDatabaseKind;
  proxy: TcpProxy;
  /** The same database, reached directly: the test's own look at it, whatever the proxy does. */
  direct: DatabaseConfig;
  /** Drops the database and closes the proxy (closing the app does it too). */
  drop(): Promise<void>;
}

/**
 * A fresh PostgreSQL database of `postgres` (a kind from testDatabaseKinds) with a TcpProxy in
 * front of it: the service gets the proxy's address in DATABASE_URL, so cutting the proxy is an
 * outage of its database.
 */
export async function proxiedPostgres(postgres: TestDatabaseKind): Promise<ProxiedPostgres> {
  if (postgres.name !== 'postgres') throw new Error(`proxiedPostgres needs the postgres kind, not ${postgres.name}`);
  const db = await postgres.create();
  if (db.config.kind !== 'postgres') throw new Error('expected a PostgreSQL database');
  const direct = db.config;
  const url = new URL(direct.url);
  const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
  url.hostname = proxy.address.host;
  url.port = String(proxy.address.port);
  let dropped: Promise<void> | undefined;
  const drop = () =>
    (dropped ??= (async () => {
      await proxy.close();
      await db.drop();
    })());
  const proxied: TestDatabase = { name: 'postgres', config: { kind: 'postgres', url: url.toString() }, drop };
  return { kind: { name: 'postgres', available: true, create: async () => proxied }, proxy, direct, drop };
}
