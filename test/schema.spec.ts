import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ALL_ENTITIES } from '../src/all-entities.js';
import { openDatabase, type Database } from '../src/database/database.js';
import { entityColumns } from '../src/database/entity-columns.js';
import { applyMigrations, UnknownMigrationError } from '../src/database/migrate.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from '../src/database/migrations/index.js';
import { LeadDetailsRow } from '../src/leads/lead-details/lead-details.entity.js';
import { FIELD_COLUMNS } from '../src/leads/lead-details/lead-details.projection.js';
import { RECORD_KINDS } from '../src/records/record-kinds.js';
import { AccountRow, ContactRow, OpportunityRow } from '../src/records/records.entities.js';
import { TEST_JWT_SECRET } from './support/app.js';
import { testDatabaseKinds, type TestDatabase } from './support/databases.js';
import { SERVICE_ENTRY, startService, waitUntilReady } from './support/process.js';
import { RELEASES, restoreRelease } from './support/release-fixture.js';
import { schemaSnapshot } from './support/schema-snapshot.js';

const kinds = (await testDatabaseKinds()).filter((k) => k.name !== 'sqlite-memory');
const KNOWN = MIGRATIONS.map((m) => new m().name);
const FROM_THE_FUTURE = 'AddsWhatThisCodeNeverHeardOf1899999999999';
const urlOf = (db: TestDatabase) => (db.config.kind === 'sqlite' ? `sqlite:${db.config.path}` : db.config.url);

describe.each(kinds.filter((k) => k.available))('schema migrations on $name', (kind) => {
  const opened: { db: Database; testDb: TestDatabase }[] = [];
  async function open(testDb?: TestDatabase): Promise<Database> {
    testDb ??= await kind.create();
    const db = await openDatabase(testDb.config, ALL_ENTITIES);
    opened.push({ db, testDb });
    return db;
  }
  afterAll(async () => {
    for (const { db, testDb } of opened) {
      if (db.dataSource.isInitialized) await db.close();
      await testDb.drop();
    }
  });
  const appliedNames = async (db: Database) => (await db.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`)).map((r: { name: string }) => r.name);

  it('gives a fresh database the whole schema from the migrations alone, each listed once; TypeORM sees nothing to change', async () => {
    const db = await open();
    expect(await appliedNames(db)).toEqual(KNOWN);
    const pending = await db.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    expect(Object.keys(await schemaSnapshot(db))).toEqual(
      expect.arrayContaining(['events', 'checkpoints', 'dead_letters', 'lead_details', 'accounts', MIGRATIONS_TABLE]),
    );
    expect(await applyMigrations(db.dataSource)).toEqual([]);
  });

  it.each(RELEASES)('upgrades a database written by release %s to exactly the schema of a fresh one', async (release) => {
    const upgraded = await open(await restoreRelease(kind, release));
    const fresh = await open();
    expect(await appliedNames(upgraded)).toEqual(KNOWN);
    expect(await schemaSnapshot(upgraded)).toEqual(await schemaSnapshot(fresh));
    expect((await upgraded.dataSource.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
  });

  it('refuses a database that applied a migration this code does not know, and changes nothing', async () => {
    const testDb = await kind.create();
    const db = await open(testDb);
    await db.query(`INSERT INTO ${MIGRATIONS_TABLE} (timestamp, name) VALUES (1899999999999, '${FROM_THE_FUTURE}')`);
    const before = await schemaSnapshot(db);
    await expect(applyMigrations(db.dataSource)).rejects.toThrow(UnknownMigrationError);
    await expect(applyMigrations(db.dataSource)).rejects.toThrow(FROM_THE_FUTURE);
    expect(await schemaSnapshot(db)).toEqual(before);

    // The service itself stops with one line naming it, and a non-zero exit.
    const result = spawnSync(process.execPath, [SERVICE_ENTRY], {
      env: { PATH: process.env.PATH, DATABASE_URL: urlOf(testDb), JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(`unknown migration ${FROM_THE_FUTURE}`)]);
  });

  it('npm run migrate applies without starting the service; --status lists applied and pending', async () => {
    const testDb = await kind.create();
    opened.push({ db: { dataSource: { isInitialized: false } } as unknown as Database, testDb });
    const migrate = (...args: string[]) =>
      spawnSync(process.execPath, [resolve('.test-dist/migrate.js'), ...args], {
        env: { PATH: process.env.PATH, DATABASE_URL: urlOf(testDb) },
        encoding: 'utf8',
        timeout: 20_000,
      });
    expect(migrate('--status').stdout.trim().split('\n')).toEqual(KNOWN.map((name) => `pending  ${name}`));
    const applied = migrate();
    expect([applied.status, applied.stdout.trim()]).toEqual([0, `applied ${KNOWN.length}: ${KNOWN.join(', ')}`]);
    expect(migrate('--status').stdout.trim().split('\n')).toEqual(KNOWN.map((name) => `applied  ${name}`));
    expect(migrate().stdout.trim()).toBe('nothing to apply: the schema is current');
  });

  if (kind.name === 'postgres') {
    it('two instances starting at the same moment on one fresh database both become ready; each migration ran once', async () => {
      const testDb = await kind.create();
      const services = await Promise.all([0, 1].map(() => startService({ DATABASE_URL: urlOf(testDb), LOG_LEVEL: 'warn' })));
      try {
        await Promise.all(services.map((s) => waitUntilReady(s)));
        const db = await open(testDb);
        expect(await appliedNames(db)).toEqual(KNOWN);
      } finally {
        for (const s of services) s.child.kill('SIGTERM');
        await Promise.all(services.map((s) => s.exited));
      }
    }, 60_000);
  }
});

describe('one definition per table', () => {
  it("lead_details' lead-field columns are the entity's", () => {
    const columnOf = new Map(entityColumns(LeadDetailsRow).map((c) => [c.property, c.column]));
    for (const [field, column] of Object.entries(FIELD_COLUMNS)) expect({ field, column }).toEqual({ field, column: columnOf.get(field) });
  });

  it("the records projection's columns are its entities'", () => {
    const entities = { accounts: AccountRow, contacts: ContactRow, opportunities: OpportunityRow };
    for (const info of Object.values(RECORD_KINDS)) {
      const declared = entityColumns(entities[info.table]).map((c) => c.column);
      const written = ['id', 'created_at', 'position', ...Object.values(info.columns), ...Object.keys(info.keys?.({}) ?? {})];
      expect({ table: info.table, missing: written.filter((c) => !declared.includes(c)) }).toEqual({ table: info.table, missing: [] });
    }
  });

  it.each(kinds.filter((k) => k.available).map((k) => k.name))(
    'docs/read-models.md documents every table and column of the migrated schema (%s)',
    async (name) => {
      const kind = kinds.find((k) => k.name === name)!;
      const testDb = await kind.create();
      const db = await openDatabase(testDb.config, ALL_ENTITIES);
      try {
        const doc = readFileSync(resolve('docs/read-models.md'), 'utf8');
        const sections = doc.split(/\n(?=## )/);
        const missing: string[] = [];
        for (const [table, shape] of Object.entries(await schemaSnapshot(db))) {
          if (table === 'sqlite_sequence') continue;
          // The section whose heading names the table, else the one with a paragraph that starts with it.
          const section = sections.find((s) => s.split('\n')[0].includes(`\`${table}\``)) ?? sections.find((s) => s.includes(`\n\`${table}\` `));
          if (!section) {
            missing.push(table);
            continue;
          }
          for (const column of shape.columns.map((c) => c.split(' ')[0])) {
            if (!section.includes(`\`${column}\``) && !section.includes(`\`${table}.${column}\``)) missing.push(`${table}.${column}`);
          }
        }
        expect(missing).toEqual([]);
      } finally {
        await db.close();
        await testDb.drop();
      }
    },
  );
});
