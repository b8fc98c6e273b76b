import { Database, openDatabase } from '../src/database/database.js';
import type { Processors } from '../src/event-store/event-store.module.js';
import type { EventStore } from '../src/event-store/event-store.port.js';
import { ProjectionGate } from '../src/projections/projection-gate.js';
import { DomainError } from '../src/shared/domain-error.js';
import { testDatabaseKinds, type TestDatabase } from './support/databases.js';

/**
 * ProjectionGate.consistentQuery: on PostgreSQL the read and the projections' checkpoints are one
 * statement (one snapshot, one round trip). These pin what the wrapping must not change: the
 * read's rows, columns and order, and the 503 while a model is rebuilt, rows or no rows.
 */
const kinds = await testDatabaseKinds();

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`ProjectionGate.consistentQuery on ${kind.name}`, () => {
    let testDb: TestDatabase;
    let db: Database;
    let gate: ProjectionGate;
    const p = (n: number) => (db.isSqlite ? '?' : `$${n}`);

    beforeEach(async () => {
      testDb = await kind.create();
      db = await openDatabase(testDb.config, []);
      await db.query('CREATE TABLE things (id INTEGER PRIMARY KEY, name VARCHAR(20), position VARCHAR(40))');
      for (let i = 1; i <= 30; i++)
        await db.query(`INSERT INTO things (id, name, position) VALUES (${p(1)}, ${p(2)}, ${p(3)})`, [i, `n${(i * 7) % 30}`, `p${i}`]);
      // The checkpoints table comes with the schema (openDatabase migrates).
      await db.query(`INSERT INTO checkpoints (processor, position, updated_at) VALUES ('things', '42', 'now'), ('others', '7', 'now')`);
      // The gate's reads use the database alone; the runners and the store serve ready().
      gate = new ProjectionGate(undefined as unknown as Processors, db, undefined as unknown as EventStore);
    });

    afterEach(async () => {
      await db.close();
      await testDb.drop();
    });

    it("returns the read's rows in the read's order, with the read's columns only", async () => {
      const rows = await gate.consistentQuery<{ id: number; name: string; position: string }>(
        ['things', 'others'],
        `SELECT * FROM things WHERE id > ${p(1)} ORDER BY name DESC, id LIMIT ${p(2)}`,
        [3, 10],
      );
      const expected = await db.query<{ id: number; name: string; position: string }>(
        `SELECT * FROM things WHERE id > ${p(1)} ORDER BY name DESC, id LIMIT ${p(2)}`,
        [3, 10],
      );
      expect(rows.map((r) => Number(r.id))).toEqual(expected.map((r) => Number(r.id)));
      expect(rows.length).toBe(10);
      expect(Object.keys(rows[0]).sort()).toEqual(['id', 'name', 'position']);
      expect(rows[0].position).toMatch(/^p\d+$/);
    });

    it('returns no rows when the read finds none', async () => {
      await expect(gate.consistentQuery(['things'], `SELECT * FROM things WHERE id < 0`)).resolves.toEqual([]);
    });

    it('reads a projection that has no checkpoint yet as not rebuilding', async () => {
      await expect(gate.consistentQuery(['never-ran'], `SELECT id FROM things WHERE id = 1`)).resolves.toHaveLength(1);
    });

    it.each([
      ['with rows', 'SELECT * FROM things', 30],
      ['without rows', 'SELECT * FROM things WHERE id < 0', 0],
    ])('refuses with PROJECTION_REBUILDING while any of its projections is being rebuilt, %s', async (_, sql, count) => {
      await db.query(`UPDATE checkpoints SET rebuild_target = '99' WHERE processor = 'others'`);
      const error: unknown = await gate.consistentQuery(['things', 'others'], sql).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'PROJECTION_REBUILDING', details: { projection: 'others', checkpoint: '7', target: '99' } });
      await expect(gate.consistentQuery(['things'], sql)).resolves.toHaveLength(count);
    });
  });
}
