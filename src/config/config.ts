/**
 * Configuration from the environment (docs/operations.md, Settings). Parsed once at start-up; a bad value stops the
 * process with one line naming the variable, because a half-configured service that starts
 * anyway fails later in ways that are much harder to trace.
 */
export type DatabaseConfig =
  | { kind: 'sqlite'; path: string } // ':memory:' for the in-memory database
  | { kind: 'postgres'; url: string };

export interface AppConfig {
  port: number;
  host: string;
  database: DatabaseConfig;
  eventStore: 'sql' | 'esdb';
  eventStoreUrl?: string;
  jwtSecret: string;
  production: boolean;
  logLevel: string;
  /** Tuning of projections and the saga (rarely changed; see docs/operations.md). */
  processors: { maxAttempts: number; retryDelayMs: number; leaseMs: number };
  /** Commands (non-GET requests) a token may send per minute; 0 disables the limit. */
  rateLimitPerMinute: number;
  /** How long a client may take to send a whole request (headers and body); the answer is not limited. */
  requestTimeoutMs: number;
  /** Origins (scheme://host[:port]) whose browser pages may call the API (CORS); empty: same-origin only. */
  corsOrigins: string[];
  /** How long the Dataverse surface's QualifyLead waits for the records before its 503 (docs/dataverse.md, QualifyLead). */
  dataverseQualifyWaitMs: number;
}

export const DEV_JWT_SECRET = 'dev-only-insecure-secret-change-me';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

export function parseDatabaseUrl(raw: string, variable = 'DATABASE_URL'): DatabaseConfig {
  if (raw === 'sqlite::memory:') return { kind: 'sqlite', path: ':memory:' };
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length);
    if (!path) throw new ConfigError(variable, `"${raw}" names no file (use sqlite:<path> or sqlite::memory:)`);
    return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError(variable, `"${redact(raw)}" is not a valid postgres:// URL`);
    }
    return { kind: 'postgres', url: raw };
  }
  throw new ConfigError(variable, `"${redact(raw)}" must start with sqlite: or postgres://`);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const production = env.NODE_ENV === 'production';

  const portRaw = env.PORT ?? '3000';
  const port = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || port < 0 || port > 65535) {
    throw new ConfigError('PORT', `"${portRaw}" is not a port number (0-65535)`);
  }

  const host = env.HOST ?? '127.0.0.1';
  if (!host.trim()) throw new ConfigError('HOST', 'must not be empty');

  const database = parseDatabaseUrl(env.DATABASE_URL ?? 'sqlite:data/leads.sqlite');

  const eventStore = env.EVENT_STORE ?? 'sql';
  if (eventStore !== 'sql' && eventStore !== 'esdb') {
    throw new ConfigError('EVENT_STORE', `"${eventStore}" must be "sql" or "esdb"`);
  }
  const eventStoreUrl = env.EVENTSTORE_URL || undefined;
  if (eventStore === 'esdb') {
    if (!eventStoreUrl) throw new ConfigError('EVENTSTORE_URL', 'is required when EVENT_STORE=esdb');
    if (!/^(esdb|esdb\+discover|kurrentdb|kdb):\/\//.test(eventStoreUrl)) {
      throw new ConfigError('EVENTSTORE_URL', `"${eventStoreUrl}" must start with esdb://`);
    }
  }

  let jwtSecret = env.JWT_SECRET;
  if (jwtSecret === undefined || jwtSecret === '') {
    if (production) throw new ConfigError('JWT_SECRET', 'is required when NODE_ENV=production');
    jwtSecret = DEV_JWT_SECRET;
  } else if (production && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters when NODE_ENV=production');
  }

  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `"${logLevel}" must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const processors = {
    maxAttempts: intFrom(env, 'PROCESSOR_MAX_ATTEMPTS', 5, 1, 100),
    retryDelayMs: intFrom(env, 'PROCESSOR_RETRY_DELAY_MS', 100, 1, 60_000),
    leaseMs: intFrom(env, 'PROCESSOR_LEASE_MS', 10_000, 200, 600_000),
  };

  const rateLimitPerMinute = intFrom(env, 'RATE_LIMIT_PER_MINUTE', 6000, 0, 10_000_000);
  const requestTimeoutMs = intFrom(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);

  const corsOrigins = parseOrigins(env.CORS_ORIGINS ?? '', 'CORS_ORIGINS');
  const dataverseQualifyWaitMs = intFrom(env, 'DATAVERSE_QUALIFY_WAIT_MS', 30_000, 100, 120_000);

  return {
    port,
    host,
    database,
    eventStore,
    eventStoreUrl,
    jwtSecret,
    production,
    logLevel,
    processors,
    rateLimitPerMinute,
    requestTimeoutMs,
    corsOrigins,
    dataverseQualifyWaitMs,
  };
}

/**
 * Comma-separated origins, each exactly as a browser sends it in `Origin` (http or https, host,
 * port when not the default; no path, no `*`), since that is what they are compared with. Blank
 * items are ignored, so an empty value means none.
 */
export function parseOrigins(raw: string, variable: string): string[] {
  const origins: string[] = [];
  for (const item of raw.split(',').map((part) => part.trim())) {
    if (!item) continue;
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== item || item.includes('*')) {
      const hint = url && (url.protocol === 'http:' || url.protocol === 'https:') && !item.includes('*') ? ` (did you mean "${url.origin}"?)` : '';
      throw new ConfigError(variable, `"${item}" is not an origin: use scheme://host[:port] with http or https, no path and no *${hint}`);
    }
    if (!origins.includes(item)) origins.push(item);
  }
  return origins;
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(name, `"${raw}" must be a whole number from ${min} to ${max}`);
  return value;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
