import type { MigrationInterface, QueryRunner } from 'typeorm';
import { accountNameKey, contactNameKey, lastNameKey } from '../../shared/normalised-keys.js';

/**
 * GET /accounts?q= and /contacts?q= find records to link by a prefix of their name (contacts: or
 * of their e-mail address). Contacts get the two name keys; each key gets an index whose order is
 * code point order, so a prefix is one range scan and the keyset pages walk the index. On
 * PostgreSQL that needs COLLATE "C": under a linguistic collation `>=`/`<` do not bound a prefix.
 *
 * The keys are computed here by the code the projection uses (accountNameKey, contactNameKey), not
 * by SQL's lower(), which differs from JavaScript's beyond ASCII (SQLite's lowers ASCII only).
 */
export class RecordSearchKeys1796007600000 implements MigrationInterface {
  name = 'RecordSearchKeys1796007600000';

  async up(runner: QueryRunner): Promise<void> {
    const postgres = runner.connection.options.type === 'postgres';
    const p = (n: number) => (postgres ? `$${n}` : '?');
    const varchar = postgres ? 'character varying' : 'varchar';
    await runner.query(`ALTER TABLE "contacts" ADD "name_key" ${varchar}(201)`);
    await runner.query(`ALTER TABLE "contacts" ADD "last_name_key" ${varchar}(100)`);

    const PAGE = 1000;
    for (let after = ''; ;) {
      // TypeORM's query() answers `any`: these are the rows selected.
      const rows = (await runner.query(`SELECT id, first_name, last_name FROM contacts WHERE id > ${p(1)} ORDER BY id LIMIT ${PAGE}`, [after])) as {
        id: string;
        first_name: string | null;
        last_name: string | null;
      }[];
      if (!rows.length) break;
      const values = rows.map((_, i) => `(${p(3 * i + 1)}, ${p(3 * i + 2)}, ${p(3 * i + 3)})`).join(', ');
      const params = rows.flatMap((r) => [r.id, contactNameKey(r.first_name, r.last_name), lastNameKey(r.last_name)]);
      // VALUES names its columns column1..3 on both databases.
      await runner.query(
        `UPDATE contacts SET name_key = v.column2, last_name_key = v.column3 FROM (VALUES ${values}) AS v WHERE contacts.id = v.column1`,
        params,
      );
      after = rows[rows.length - 1].id;
    }

    // Accounts written before uniqueness claims have `lower(trim(name))` as name_key: inner white
    // space not collapsed, so "acme  corp" would not be found by "acme corp". Only keys holding
    // such white space can differ; find those, recompute them.
    const blank = postgres ? (code: number) => `strpos(name_key, chr(${code})) > 0` : (code: number) => `instr(name_key, char(${code})) > 0`;
    const suspect = [`${postgres ? 'strpos' : 'instr'}(name_key, '  ') > 0`, ...OTHER_WHITE_SPACE.map(blank)].join(' OR ');
    const legacy = (await runner.query(`SELECT id, name, name_key FROM accounts WHERE ${suspect}`)) as { id: string; name: string; name_key: string }[];
    for (const row of legacy) {
      const key = accountNameKey(row.name);
      if (key && key !== row.name_key) await runner.query(`UPDATE accounts SET name_key = ${p(1)} WHERE id = ${p(2)}`, [key, row.id]);
    }

    const c = postgres ? ' COLLATE "C"' : '';
    await runner.query(`CREATE INDEX "ix_accounts_name_search" ON "accounts" ("name_key"${c}, "id"${c})`);
    await runner.query(`CREATE INDEX "ix_contacts_name_search" ON "contacts" ("name_key"${c}, "id"${c})`);
    // A contact matched by an earlier key is skipped by the later keys' scans, which test the
    // earlier keys: carried in the index, SQLite tests them without reading the row (at 200,000
    // contacts a 2-letter prefix that first names and e-mails share took 26 ms, 2.5 ms covered).
    await runner.query(`CREATE INDEX "ix_contacts_last_name_search" ON "contacts" ("last_name_key"${c}, "id"${c}, "name_key"${c})`);
    await runner.query(`CREATE INDEX "ix_contacts_email_search" ON "contacts" ("email_key"${c}, "id"${c}, "name_key"${c}, "last_name_key"${c})`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only: restore the backup taken before upgrading');
  }
}

/** What JavaScript's \s matches besides the space itself. */
const OTHER_WHITE_SPACE = [
  0x09,
  0x0a,
  0x0b,
  0x0c,
  0x0d,
  0xa0,
  0x1680,
  ...Array.from({ length: 11 }, (_, i) => 0x2000 + i),
  0x2028,
  0x2029,
  0x202f,
  0x205f,
  0x3000,
  0xfeff,
];
