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
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      database: { kind: 'sqlite', path: 'data/leads.sqlite' },
      eventStore: 'sql',
      jwtSecret: DEV_JWT_SECRET,
    });
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
    [{ CORS_ORIGINS: '*' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://*.example.com' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://app.example.com/' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://app.example.com/ui' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'app.example.com' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'ftp://app.example.com' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'null' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://App.example.com' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://app.example.com:443' }, 'CORS_ORIGINS'],
    [{ CORS_ORIGINS: 'https://app.example.com,http://localhost:5173/' }, 'CORS_ORIGINS'],
    [{ DATAVERSE_QUALIFY_WAIT_MS: '99' }, 'DATAVERSE_QUALIFY_WAIT_MS'],
    [{ DATAVERSE_QUALIFY_WAIT_MS: '120001' }, 'DATAVERSE_QUALIFY_WAIT_MS'],
    [{ DATAVERSE_QUALIFY_WAIT_MS: '30s' }, 'DATAVERSE_QUALIFY_WAIT_MS'],
    [{ DATAVERSE_QUALIFY_WAIT_MS: '-1' }, 'DATAVERSE_QUALIFY_WAIT_MS'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(refusal(env as Record<string, string>)).toBe(variable);
  });

  it('reads CORS_ORIGINS as a list of origins, none by default', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: '' }).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com' }).corsOrigins).toEqual(['https://app.example.com']);
    expect(loadConfig({ CORS_ORIGINS: ' https://app.example.com, http://localhost:5173 ,http://[::1]:8080,' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
      'http://[::1]:8080',
    ]);
  });

  it('says which CORS origin is wrong and what was probably meant', () => {
    expect(() => loadConfig({ CORS_ORIGINS: 'https://ok.example.com,https://App.example.com/' })).toThrow(
      'CORS_ORIGINS: "https://App.example.com/" is not an origin: use scheme://host[:port] with http or https, no path and no * (did you mean "https://app.example.com"?)',
    );
  });

  it('reads how long the Dataverse QualifyLead waits: 30 s by default, 100 ms to 2 minutes', () => {
    expect(loadConfig({}).dataverseQualifyWaitMs).toBe(30_000);
    expect(loadConfig({ DATAVERSE_QUALIFY_WAIT_MS: '' }).dataverseQualifyWaitMs).toBe(30_000);
    expect(loadConfig({ DATAVERSE_QUALIFY_WAIT_MS: '100' }).dataverseQualifyWaitMs).toBe(100);
    expect(loadConfig({ DATAVERSE_QUALIFY_WAIT_MS: '120000' }).dataverseQualifyWaitMs).toBe(120_000);
  });

  it('accepts EventStoreDB with a connection string and production with a long secret', () => {
    expect(loadConfig({ EVENT_STORE: 'esdb', EVENTSTORE_URL: 'esdb://localhost:2113?tls=false' }).eventStore).toBe('esdb');
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).production).toBe(true);
  });
});
