import { DomainError } from '../shared/domain-error.js';

/**
 * Tells an outage of the database (unreachable, restarting, refusing connections, locked past the
 * busy timeout) from every other failure. Such an error is no bug of the request: the HTTP layer
 * answers it 503 DATABASE_UNAVAILABLE with Retry-After, and the processors retry it for as long
 * as it lasts instead of counting it against an event's attempts.
 *
 * Errors reach the callers in several wrappings: TypeORM's QueryFailedError (`driverError`),
 * a pg DatabaseError (SQLSTATE in `code`), a Node socket error (`code` = ECONNREFUSED …), an
 * AggregateError of several connection attempts (`errors`), pg and pg-pool's own errors that carry
 * only a message, better-sqlite3's SqliteError (`code` = SQLITE_BUSY …), and any of them as the
 * `cause` of another error. All of them are looked through.
 */

/** Seconds a client is asked to wait (Retry-After) before it tries again. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** Socket and DNS failures on the way to the server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * PostgreSQL SQLSTATEs: 57P01 admin_shutdown (a fast or smart shutdown ended the session),
 * 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down, in recovery),
 * 53300 too_many_connections. Class 08 (connection exception) is matched as a class.
 */
const POSTGRES_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * SQLite result codes, base or extended (SQLITE_BUSY_TIMEOUT, SQLITE_IOERR_WRITE …): the lock was
 * still held when the busy timeout ran out, or the file cannot be opened, read or written.
 */
const SQLITE_PREFIXES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR'];

/** What pg and pg-pool say, without a code, when the connection is gone or cannot be had. */
const MESSAGES = [
  /connection terminated/i, // "Connection terminated unexpectedly", "… due to connection timeout"
  /timeout exceeded when trying to connect/i,
  /is not queryable/i, // "Client has encountered a connection error and is not queryable"
  /terminating connection due to administrator command/i,
  /the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/i,
  /server closed the connection unexpectedly/i,
  /sorry, too many clients already/i,
];

/** True when `error`, or an error it wraps, says the database cannot be reached or used right now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return unavailableCause(error) !== undefined;
}

/** The innermost error that makes `error` an outage of the database, for a log line; undefined if it is none. */
export function unavailableCause(error: unknown): { code?: string; message: string } | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): { code?: string; message: string } | undefined => {
    // A refusal of the domain or the API is never an outage, whatever its message quotes.
    if (!e || typeof e !== 'object' || e instanceof DomainError || seen.has(e) || depth > 8) return undefined;
    seen.add(e);
    const { code, message, driverError, cause, errors } = e as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };
    // The wrapped error first: it carries the most precise code.
    for (const inner of [driverError, cause, ...(Array.isArray(errors) ? (errors as unknown[]) : [])]) {
      const found = visit(inner, depth + 1);
      if (found) return found;
    }
    const text = typeof message === 'string' ? message : '';
    if (typeof code === 'string' && unavailableCode(code)) return { code, message: text || code };
    if (MESSAGES.some((pattern) => pattern.test(text))) return { code: typeof code === 'string' ? code : undefined, message: text };
    return undefined;
  };
  return visit(error, 0);
}

function unavailableCode(code: string): boolean {
  if (NETWORK_CODES.has(code) || POSTGRES_CODES.has(code)) return true;
  // SQLSTATE class 08: connection exception (08000, 08003, 08006, 08001, 08004, 08P01 …).
  if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  return SQLITE_PREFIXES.some((prefix) => code === prefix || code.startsWith(`${prefix}_`));
}
