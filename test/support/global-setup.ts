import { execFileSync } from 'node:child_process';

/**
 * Compiles the service once for the suites that run it as a real process (kill -9, SIGTERM,
 * start-up errors), into .test-dist/ so that a developer's dist/ is never touched.
 */
export default function globalSetup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', '.test-dist'], { stdio: 'inherit' });
}
