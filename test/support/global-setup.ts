import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';

/**
 * Compiles the service once for the suites that run it as a real process (kill -9, SIGTERM,
 * start-up errors), into .test-dist/ so that a developer's dist/ is never touched.
 */
export default function globalSetup(): void {
  // Built aside and swapped in, so that a suite of another Jest run never starts a half-written build.
  const building = `.test-dist-${process.pid}`;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', building], { stdio: 'inherit' });
  const old = `${building}-old`;
  if (existsSync('.test-dist')) renameSync('.test-dist', old);
  renameSync(building, '.test-dist');
  rmSync(old, { recursive: true, force: true });
}
