import { ConfigError, DEV_JWT_SECRET, loadConfig } from './config.js';

const refusal = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).variable;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('runs with no variables at all on the embedded default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', database: { kind: 'sqlite', path: 'data/leads.sqlite' }, eventStore: 'sql', jwtSecret: DEV_JWT_SECRET });
  });

  it('reads sqlite files, sqlite memory and postgres URLs', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).database).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({ kind: 'sqlite', path: '/tmp/x.db' });
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/leads' }).database).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/leads' });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'sqlite:' }, 'DATABASE_URL'],
    [{ EVENT_STORE: 'kafka' }, 'EVENT_STORE'],
    [{ EVENT_STORE: 'esdb' }, 'EVENTSTORE_URL'],
    [{ EVENT_STORE: 'esdb', EVENTSTORE_URL: 'http://x' }, 'EVENTSTORE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ PROCESSOR_MAX_ATTEMPTS: '0' }, 'PROCESSOR_MAX_ATTEMPTS'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'production', JWT_SECRET: 'short' }, 'JWT_SECRET'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(refusal(env as Record<string, string>)).toBe(variable);
  });

  it('accepts EventStoreDB with a connection string and production with a long secret', () => {
    expect(loadConfig({ EVENT_STORE: 'esdb', EVENTSTORE_URL: 'esdb://localhost:2113?tls=false' }).eventStore).toBe('esdb');
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).production).toBe(true);
  });
});
