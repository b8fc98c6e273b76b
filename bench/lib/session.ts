/**
 * One run's shared state (options, token, temporary directory, databases created) and its
 * clean-up: children, temporary files, PostgreSQL databases and the build are removed on success,
 * error, signal, or when the watchdog fires.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllChildren, liveChildren, log, mintToken, stopChild } from '../common.js';
import { pgAdmin } from './databases.js';
import type { Options } from './options.js';
import { DIST, RESULTS } from './paths.js';

export interface Session {
  opts: Options;
  jwtSecret: string;
  /** An admin token for the service (rebuilds need the role). */
  token: string;
  tmp: string;
  /** --profile: where the servers' CPU profiles go. */
  profileDir: string;
  pgDatabases: Set<string>;
}

let cleaning: Promise<void> | undefined;

export function openSession(opts: Options): Session {
  const jwtSecret = `bench-${randomUUID()}-secret-of-sufficient-length`;
  const session: Session = {
    opts,
    jwtSecret,
    token: mintToken(jwtSecret),
    tmp: mkdtempSync(join(tmpdir(), 'lq-bench-')),
    profileDir: join(RESULTS, 'profiles', new Date().toISOString().replace(/[:.]/g, '-')),
    pgDatabases: new Set(),
  };
  process.on('exit', () => {
    killAllChildren();
    rmSync(session.tmp, { recursive: true, force: true });
    rmSync(DIST, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping every child process and cleaning up`);
      const force = setTimeout(() => process.exit(130), 20_000);
      void cleanup(session).finally(() => {
        clearTimeout(force);
        process.exit(130);
      });
    });
  }
  const watchdog = setTimeout(() => {
    log(`the run exceeded its bound of ${opts.runBoundMs / 60_000} minutes: aborting`);
    void cleanup(session).finally(() => process.exit(3));
  }, opts.runBoundMs);
  watchdog.unref();
  return session;
}

export function cleanup(session: Session): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(liveChildren().map((c) => stopChild(c, 5_000).catch(() => undefined)));
    killAllChildren();
    for (const name of session.pgDatabases) {
      await pgAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((e: Error) => log(`could not drop ${name}: ${e.message}`));
    }
    session.pgDatabases.clear();
    rmSync(session.tmp, { recursive: true, force: true });
    rmSync(DIST, { recursive: true, force: true });
  })();
  return cleaning;
}
