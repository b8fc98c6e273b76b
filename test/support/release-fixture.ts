import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestDatabase, TestDatabaseKind } from './databases.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Databases written by earlier releases, with their own code (test/fixtures/release-<commit>/README.md). */
/** 5197579: before uniqueness claims; 447e3e8: claims, still before migrations (tables made by synchronize). */
export const RELEASES = ['5197579', '447e3e8'] as const;
export type Release = (typeof RELEASES)[number];

/** A fresh copy of a release's fixture on `kind`, as the database of a service that ran that release. */
export async function restoreRelease(kind: TestDatabaseKind, release: Release): Promise<TestDatabase> {
  const folder = join(FIXTURES, `release-${release}`);
  if (kind.name === 'sqlite-file') {
    const dir = mkdtempSync(join(tmpdir(), 'lq-upgrade-'));
    const path = join(dir, 'leads.sqlite');
    copyFileSync(join(folder, 'leads.sqlite'), path);
    return { name: 'sqlite-file', config: { kind: 'sqlite', path }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const db = await kind.create();
  const url = (db.config as { url: string }).url;
  const restored = spawnSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', join(folder, 'postgres.sql')], { encoding: 'utf8' });
  if (restored.status !== 0) throw new Error(`psql could not restore the fixture of ${release}: ${restored.stderr ?? restored.error}`);
  return db;
}
