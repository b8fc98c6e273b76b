import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ALL_ENTITIES } from '../src/all-entities.js';
import { dataSourceOptions } from '../src/database/data-source.js';
import { Database, openDatabase } from '../src/database/database.js';
import { ANY, comparePositions, EVENT_STORE, type EventStore } from '../src/event-store/event-store.port.js';
import { recordSearchQuery } from '../src/records/record-search.js';
import { prefixUpperBound, searchPrefix } from '../src/records/search-keys.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';
import { explain } from './support/query-plans.js';
import { newEvent } from './support/events.js';
import { restoreRelease } from './support/release-fixture.js';

const kinds = await testDatabaseKinds();

function expectProblem(res: Response, status: number, code: string): void {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
}

describe('search prefixes', () => {
  it('what was typed: leading space dropped, runs collapsed, lower-cased; a trailing space kept as one', () => {
    expect(searchPrefix('  ACME \t  Co  ')).toBe('acme co ');
    expect(searchPrefix(' \t ')).toBeNull();
  });

  it('the upper bound is the least string above every extension of the prefix, in code point order', () => {
    expect(prefixUpperBound('acme')).toBe('acmf');
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('\u{10ffff}')).toBeNull();
    expect(prefixUpperBound('x\ud7ff')).toBe('x\ue000');
    // Above the BMP: compared by code point, not by UTF-16 unit.
    expect(prefixUpperBound('🦄')).toBe('🦅');
  });
});

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`finding records to link on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    let last = '0';
    beforeAll(async () => {
      t = await startTestApp(kind);
      store = t.app.get(EVENT_STORE);
    });
    afterAll(async () => t?.close());

    /** A prefix no other test's records start with (the database is shared by the file's tests). */
    const freshToken = () => `q${randomBytes(5).toString('hex')}`;

    async function seed(type: 'AccountCreated' | 'ContactCreated', data: Record<string, unknown>): Promise<string> {
      const id = randomUUID();
      const stream = `${type === 'AccountCreated' ? 'account' : 'contact'}-${id}`;
      const { position } = await store.appendToStream(
        stream,
        [newEvent(type, { id, originatingLeadId: randomUUID(), qualificationId: randomUUID(), ...data })],
        { expectedRevision: ANY },
      );
      if (comparePositions(position, last) > 0) last = position;
      return id;
    }
    const account = (name: string, extra: Record<string, unknown> = {}) => seed('AccountCreated', { name, ...extra });
    const contact = (firstName: string | null, lastName: string, email: string | null) => seed('ContactCreated', { firstName, lastName, email });

    /** GET at the position of the last seeded record, so the projection has it. */
    const get = (path: string) => t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${last}`, { as: 'salesperson' });
    const ids = (res: Response) => {
      expect(res.status).toBe(200);
      return res.body.items.map((r: { id: string }) => r.id);
    };
    const q = encodeURIComponent;

    async function allPages(path: string, limit: number): Promise<string[]> {
      const found: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(`${path}&limit=${limit}${cursor ? `&cursor=${q(cursor)}` : ''}`);
        expect(res.body.items.length).toBeLessThanOrEqual(limit);
        found.push(...ids(res));
        cursor = res.body.nextCursor;
      } while (cursor);
      return found;
    }

    it('accounts: a prefix of the name, case and spacing ignored, ordered by name; text inside the name does not match', async () => {
      const T = freshToken();
      const beta = await account(`${T}Beta Ltd`);
      const corp = await account(`${T}alpha   Corp`);
      const industries = await account(`  ${T.toUpperCase()}ALPHA Industries`);
      const alphabet = await account(`${T}Alphabet`);
      await account(`Not ${T} at the start`);
      expect(ids(await get(`/accounts?q=${T}`))).toEqual([corp, industries, alphabet, beta]);
      expect(ids(await get(`/accounts?q=${q(`  ${T.toUpperCase()}ALPHA \t c`)}`))).toEqual([corp]);
      // A trailing space ends the word: "alpha " is not "alphabet".
      expect(ids(await get(`/accounts?q=${q(`${T}alpha `)}`))).toEqual([corp, industries]);
      expect(ids(await get(`/accounts?q=${T}alphax`))).toEqual([]);
      expect(ids(await get(`/accounts?q=${q(`at the start`)}&limit=500`))).not.toContain(beta);
      const view = (await get(`/accounts?q=${T}b`)).body.items[0];
      expect(view).toEqual(expect.objectContaining({ id: beta, name: `${T}Beta Ltd` }));
      expect(view).not.toHaveProperty('search_key');
    });

    it('accounts: beyond ASCII, lower and upper case find the same; characters above the BMP bound the prefix', async () => {
      const T = freshToken();
      const eclair = await account(`${T}Éclair Bakery`);
      const unicorns = await account(`${T}🦄 Unicorns`);
      const after = await account(`${T}🦅 Eagles`);
      expect(ids(await get(`/accounts?q=${q(`${T}écl`)}`))).toEqual([eclair]);
      expect(ids(await get(`/accounts?q=${q(`${T.toUpperCase()}ÉCLAIR`)}`))).toEqual([eclair]);
      expect(ids(await get(`/accounts?q=${q(`${T}🦄`)}`))).toEqual([unicorns]);
      expect(ids(await get(`/accounts?q=${T}`))).toEqual([eclair, unicorns, after]);
    });

    it('contacts: by "first last", by last name or by e-mail; listed once under the first key that matches, in key order', async () => {
      const T = freshToken();
      const ann = await contact(`${T}Ann`, 'Zed', 'ann@example.com');
      const bob = await contact('Bob', `${T}Bobson`, 'bob@example.com');
      const cy = await contact('Cy', 'Cee', `${T.toUpperCase()}Cy@Example.com`);
      const dee = await contact(`${T}Dee`, `${T}Dee`, `${T}dee@example.com`);
      const noFirst = await contact(null, `${T}Solo`, null);
      // Keys: "<T>ann zed", "<T>bobson" (last name), "<T>cy@example.com", "<T>dee <T>dee", "<T>solo".
      expect(ids(await get(`/contacts?q=${T}`))).toEqual([ann, bob, cy, dee, noFirst]);
      expect(ids(await get(`/contacts?q=${q(`bob ${T}b`)}`))).toEqual([bob]);
      expect(ids(await get(`/contacts?q=${q(`${T}ann  z`)}`))).toEqual([ann]);
      expect(ids(await get(`/contacts?q=${q(`${T}cy@`)}`))).toEqual([cy]);
      expect(ids(await get(`/contacts?q=${q(`${T}DEE`)}`))).toEqual([dee]);
      expect(ids(await get(`/contacts?q=${q(`${T}dee@`)}`))).toEqual([dee]);
      const view = (await get(`/contacts?q=${T}bob`)).body.items[0];
      expect(view).toEqual(expect.objectContaining({ id: bob, firstName: 'Bob', lastName: `${T}Bobson`, email: 'bob@example.com' }));
    });

    it('keyset pages: every match once, in order, whatever the page size; the last page has no cursor', async () => {
      const T = freshToken();
      const accounts: string[] = [];
      for (const name of ['d', 'a', 'c', 'b', 'b', 'e', 'a']) accounts.push(await account(`${T}${name}`));
      const contacts: string[] = [];
      for (let i = 0; i < 4; i++) {
        contacts.push(await contact(`${T}first${i}`, 'Z', null));
        contacts.push(await contact('A', `${T}last${i}`, null));
        contacts.push(await contact('A', 'Z', `${T}mail${i}@example.com`));
        contacts.push(await contact(`${T}x${i}`, `${T}x${i}`, `${T}x${i}@example.com`));
      }
      for (const [path, count] of [
        [`/accounts?q=${T}`, accounts.length],
        [`/contacts?q=${T}`, contacts.length],
      ] as const) {
        const whole = ids(await get(`${path}&limit=500`));
        expect(whole).toHaveLength(count);
        expect(new Set(whole).size).toBe(count);
        for (const limit of [1, 2, 3, 5]) expect({ path, limit, pages: await allPages(path, limit) }).toEqual({ path, limit, pages: whole });
      }
    });

    it('narrows by originatingLeadId; CSV (?format=csv) lists every match in the same order', async () => {
      const T = freshToken();
      const lead = randomUUID();
      const a = await account(`${T}a`, { originatingLeadId: lead });
      const b = await account(`${T}b`);
      const c = await account(`${T}c`, { originatingLeadId: lead });
      expect(ids(await get(`/accounts?q=${T}&originatingLeadId=${lead}`))).toEqual([a, c]);
      const csv = await get(`/accounts?q=${T}&format=csv&limit=1`);
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const rows = csv.text.trim().split('\r\n').slice(1);
      expect(rows.map((line) => line.split(',')[0])).toEqual([a, b, c]);
    });

    it('a cursor resumes only the search it came from: 400 INVALID_CURSOR for another prefix or the plain list', async () => {
      const T = freshToken();
      await account(`${T}a1`);
      await account(`${T}a2`);
      const cursor = (await get(`/accounts?q=${T}&limit=1`)).body.nextCursor;
      expect(typeof cursor).toBe('string');
      expectProblem(await get(`/accounts?q=${T}a&limit=1&cursor=${q(cursor)}`), 400, 'INVALID_CURSOR');
      expectProblem(await get(`/accounts?limit=1&cursor=${q(cursor)}`), 400, 'INVALID_CURSOR');
      expectProblem(await get(`/contacts?q=${T}&limit=1&cursor=${q(cursor)}`), 400, 'INVALID_CURSOR');
      const listCursor = (await get(`/accounts?limit=1`)).body.nextCursor;
      expectProblem(await get(`/accounts?q=${T}&limit=1&cursor=${q(listCursor)}`), 400, 'INVALID_CURSOR');
    });

    it.each([
      ['blank', '/accounts?q=%20%20'],
      ['empty', '/contacts?q='],
      ['with NUL', `/accounts?q=${q('acme\u0000')}`],
      ['with another control character', `/accounts?q=${q('acme\u0007')}`],
      ['over 254 characters', `/contacts?q=${'a'.repeat(255)}`],
      ['on opportunities, which are not searched', '/opportunities?q=acme'],
    ])('q %s: 400 VALIDATION_FAILED on q', async (_what, path) => {
      const res = await get(path);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(res.body.errors)).toContain('q');
    });

    it("each search key's branch is a range scan of its own index (no table scan, no other index)", async () => {
      const db = t.app.get(Database);
      const cases = [
        ['account', ['ix_accounts_name_search']],
        ['contact', ['ix_contacts_name_search', 'ix_contacts_last_name_search', 'ix_contacts_email_search']],
      ] as const;
      for (const [recordKind, indexes] of cases) {
        for (const after of [undefined, ['acme', randomUUID()] as [string, string]]) {
          const { sql, params } = recordSearchQuery(db.kind, recordKind, { prefix: 'acme', after, limit: 51 });
          const plan = await explain(db, sql, params);
          for (const index of indexes) expect({ recordKind, plan }).toEqual({ recordKind, plan: expect.stringContaining(index) });
          expect(plan).not.toMatch(db.isSqlite ? /SCAN (accounts|contacts)\b/ : /Seq Scan/);
        }
      }
    });
  });
}

describe.each(kinds.filter((k) => k.available && k.name !== 'sqlite-memory'))('the search-keys migration on a database of release 447e3e8 ($name)', (kind) => {
  it("fills the contacts' name keys and collapses the white space of old account keys, with the code the projection uses", async () => {
    const db = await restoreRelease(kind, '447e3e8');
    try {
      // Rows as that release wrote them: its account key was lower(trim(name)).
      const old = await new DataSource(dataSourceOptions(db.config, [])).initialize();
      const p = (n: number) => (kind.name === 'postgres' ? `$${n}` : '?');
      const accountId = randomUUID();
      const contactId = randomUUID();
      try {
        await old.query(
          `INSERT INTO accounts (id, name, name_key, originating_lead_id, qualification_id, created_at, position) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, '2026-01-01T00:00:00.000Z', '1')`,
          [accountId, ' Spaced \t Out   Co ', 'spaced \t out   co', randomUUID(), randomUUID()],
        );
        await old.query(
          `INSERT INTO contacts (id, first_name, last_name, email, email_key, originating_lead_id, qualification_id, created_at, position) VALUES (${p(1)}, ${p(2)}, ${p(3)}, NULL, NULL, ${p(4)}, ${p(5)}, '2026-01-01T00:00:00.000Z', '1')`,
          [contactId, 'ÉLODIE', '  Van   Der Berg', randomUUID(), randomUUID()],
        );
      } finally {
        await old.destroy();
      }
      const migrated = await openDatabase(db.config, ALL_ENTITIES);
      try {
        const ph = (n: number) => (migrated.isSqlite ? '?' : `$${n}`);
        const [a] = await migrated.query(`SELECT name_key FROM accounts WHERE id = ${ph(1)}`, [accountId]);
        expect(a.name_key).toBe('spaced out co');
        const [c] = await migrated.query(`SELECT name_key, last_name_key FROM contacts WHERE id = ${ph(1)}`, [contactId]);
        expect(c).toEqual({ name_key: 'élodie van der berg', last_name_key: 'van der berg' });
        // The release's own contact (Carl, carl@legacy.example) got its keys too.
        const keys = await migrated.query(`SELECT name_key, last_name_key, email_key FROM contacts WHERE email_key = 'carl@legacy.example'`);
        expect(keys).toEqual([{ name_key: expect.stringMatching(/^carl /), last_name_key: expect.any(String), email_key: 'carl@legacy.example' }]);
      } finally {
        await migrated.close();
      }
    } finally {
      await db.drop();
    }
  });
});
