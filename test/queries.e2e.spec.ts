import { randomUUID } from 'node:crypto';
import { ANY, comparePositions, EVENT_STORE, type EventStore, type NewEvent } from '../src/event-store/event-store.port.js';
import { startTestApp, type Response, type TestApp } from './support/app.js';
import { testDatabaseKinds } from './support/databases.js';
import { eventually } from './support/events.js';

const kinds = await testDatabaseKinds();
const POSITION = /^\d+$/;
const NO_RECORDS = { account: { action: 'none', id: null }, contact: { action: 'none', id: null }, opportunity: { action: 'none', id: null } };

function expectProblem(res: Response, status: number, code: string): void {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
}

/** RFC 4180: rows of cells, quotes and doubled quotes undone. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') ((cell += '"'), i++);
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') (row.push(cell), (cell = ''));
    else if (c === '\r' && text[i + 1] === '\n') {
      (row.push(cell), rows.push(row), (row = []), (cell = ''), i++);
    } else cell += c;
  }
  if (cell || row.length) (row.push(cell), rows.push(row));
  return rows;
}

function csvRecords(text: string): Record<string, string>[] {
  const [header, ...lines] = parseCsv(text);
  return lines.map((line) => Object.fromEntries(header.map((h, i) => [h, line[i]])));
}

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`queries over HTTP on ${kind.name}`, () => {
    let t: TestApp;
    let store: EventStore;
    beforeAll(async () => {
      t = await startTestApp(kind);
      store = t.app.get(EVENT_STORE);
    });
    afterAll(async () => t?.close());

    const get = (url: string, as = 'analyst', headers: Record<string, string> = {}) => t.request('GET', url, { as, headers });

    async function createLead(fields: Record<string, unknown> = {}): Promise<{ id: string; position: string }> {
      const id = randomUUID();
      const res = await t.request('POST', '/leads', { as: 'salesperson', body: { id, topic: 'Fleet renewal', lastName: 'Doe', ...fields } });
      expect(res.status).toBe(201);
      return { id, position: res.body.position };
    }

    const event = (type: string, data: Record<string, unknown>, at: string, userId = 'seeder'): NewEvent => {
      const id = randomUUID();
      return { id, type, data, metadata: { userId, correlationId: id, causationId: id, at } };
    };

    interface Seed {
      fields?: Record<string, unknown>;
      createdAt?: string;
      updatedAt?: string;
      qualifiedAt?: string;
      settingVersion?: number;
      decidedBy?: 'setting' | 'salesperson';
      disqualifiedAt?: string;
    }

    /**
     * Writes a lead's events straight to the event store with the times a test needs (commands
     * stamp the present). Returns the id and the position of its last event.
     */
    async function seedLead(seed: Seed = {}): Promise<{ id: string; position: string }> {
      const id = randomUUID();
      const fields = { topic: 'Seeded', lastName: 'Seed', ...seed.fields };
      const createdAt = seed.createdAt ?? new Date().toISOString();
      const events = [event('LeadCreated', { leadId: id, ...fields }, createdAt)];
      if (seed.updatedAt) events.push(event('LeadUpdated', { leadId: id, description: 'touched' }, seed.updatedAt));
      if (seed.qualifiedAt) {
        const decidedBy = seed.decidedBy ?? 'setting';
        events.push(
          event(
            'LeadQualified',
            {
              leadId: id,
              qualificationId: randomUUID(),
              plan: NO_RECORDS,
              decidedBy,
              settingVersion: seed.settingVersion ?? 0,
              createRecordsByDefault: decidedBy === 'setting',
              qualifiedBy: 'seeder',
              qualifiedAt: seed.qualifiedAt,
              lead: fields,
            },
            seed.qualifiedAt,
          ),
        );
      }
      if (seed.disqualifiedAt) events.push(event('LeadDisqualified', { leadId: id, statusReason: 'Lost' }, seed.disqualifiedAt));
      const { position } = await store.appendToStream(`lead-${id}`, events, { expectedRevision: ANY });
      return { id, position };
    }

    async function seedRecord(type: 'AccountCreated' | 'ContactCreated' | 'OpportunityCreated', leadId: string, at: string): Promise<string> {
      const id = randomUUID();
      const stream = `${type.replace('Created', '').toLowerCase()}-${id}`;
      const { position } = await store.appendToStream(
        stream,
        [event(type, { id, name: 'Seeded', lastName: 'Seed', originatingLeadId: leadId, qualificationId: randomUUID() }, at)],
        { expectedRevision: ANY },
      );
      return position;
    }

    const lastOf = (positions: string[]) => positions.reduce((a, b) => (comparePositions(a, b) >= 0 ? a : b));
    /** A word only this test's leads contain, for q= (the database is shared by the file's tests). */
    const freshToken = () => `tok${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const ids = (res: Response) => res.body.items.map((l: { id: string }) => l.id);

    describe('read-your-writes', () => {
      it('a GET with the position a create returned sees the new lead, for 20 creates in a row', async () => {
        const token = freshToken();
        const created: string[] = [];
        for (let i = 0; i < 20; i++) {
          const { id, position } = await createLead({ companyName: `${token} ${i}` });
          created.push(id);
          const one = await get(`/leads/${id}?minPosition=${position}`, 'salesperson');
          expect({ i, status: one.status, id: one.body.id }).toEqual({ i, status: 200, id });
          expect(comparePositions(one.headers['x-projection-position'], position)).toBeGreaterThanOrEqual(0);
          const list = await get(`/leads?q=${token}&limit=500&minPosition=${position}`, 'salesperson');
          expect({ i, count: list.body.items.length }).toEqual({ i, count: i + 1 });
        }
      });

      it('every query answers X-Projection-Position, a log position', async () => {
        const { id, position } = await createLead();
        const urls = [
          '/leads',
          `/leads?minPosition=${position}`,
          `/leads/${id}`,
          `/leads/${id}/history`,
          '/settings/qualify-lead',
          '/settings/qualify-lead/history',
          '/settings/qualify-lead/as-of?at=2020-01-01T00:00:00Z',
          '/analytics/qualifications',
          '/analytics/qualifications?groupBy=leadSource',
        ];
        for (const url of urls) {
          const res = await get(url);
          expect({ url, status: res.status, position: res.headers['x-projection-position'] }).toEqual({
            url,
            status: 200,
            position: expect.stringMatching(POSITION),
          });
        }
        const csv = await get('/leads?limit=1', 'analyst', { accept: 'text/csv' });
        expect(csv.headers['x-projection-position']).toMatch(POSITION);
      });

      it('a minPosition the projections do not reach in time: 503 PROJECTION_BEHIND with Retry-After', async () => {
        const head = await store.headPosition();
        const ahead = (BigInt(head) + 1_000_000n).toString();
        const res = await get(`/leads?minPosition=${ahead}`);
        expectProblem(res, 503, 'PROJECTION_BEHIND');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }, 15_000);

      it.each(['abc', '-1', '1.5', '12345678901234567890123', ''])('minPosition=%j that is not a position: 400 VALIDATION_FAILED', async (bad) => {
        expectProblem(await get(`/leads?minPosition=${encodeURIComponent(bad)}`), 400, 'VALIDATION_FAILED');
      });
    });

    describe('GET /leads filters and sort', () => {
      it('status keeps the leads in that state', async () => {
        const token = freshToken();
        const open = await seedLead({ fields: { companyName: token } });
        const qualified = await seedLead({ fields: { companyName: token }, qualifiedAt: '2001-01-02T10:00:00.000Z' });
        const disqualified = await seedLead({ fields: { companyName: token }, disqualifiedAt: '2001-01-02T10:00:00.000Z' });
        const min = lastOf([open.position, qualified.position, disqualified.position]);
        for (const [status, expected] of [
          ['Open', open.id],
          ['Qualified', qualified.id],
          ['Disqualified', disqualified.id],
        ]) {
          const res = await get(`/leads?q=${token}&status=${status}&minPosition=${min}`);
          expect({ status, ids: ids(res), statuses: res.body.items.map((l: any) => l.status) }).toEqual({ status, ids: [expected], statuses: [status] });
        }
      });

      it('leadSource and rating keep the matching leads, together or apart', async () => {
        const token = freshToken();
        const webHot = await seedLead({ fields: { companyName: token, leadSource: 'Web', rating: 'Hot' } });
        const webCold = await seedLead({ fields: { companyName: token, leadSource: 'Web', rating: 'Cold' } });
        const partnerHot = await seedLead({ fields: { companyName: token, leadSource: 'Partner', rating: 'Hot' } });
        const min = lastOf([webHot.position, webCold.position, partnerHot.position]);
        const query = async (filter: string) => ids(await get(`/leads?q=${token}&${filter}&sort=createdAt&minPosition=${min}`)).sort();
        expect(await query('leadSource=Web')).toEqual([webHot.id, webCold.id].sort());
        expect(await query('rating=Hot')).toEqual([webHot.id, partnerHot.id].sort());
        expect(await query('leadSource=Web&rating=Hot')).toEqual([webHot.id]);
        expect(await query('leadSource=Seminar')).toEqual([]);
      });

      it('q finds its text in first name, last name, company or email, case-insensitively, and nowhere else', async () => {
        const token = freshToken();
        const upper = token.toUpperCase();
        const byFirstName = await seedLead({ fields: { firstName: `Ann${upper}` } });
        const byLastName = await seedLead({ fields: { lastName: `${upper}son` } });
        const byCompany = await seedLead({ fields: { companyName: `The ${upper} Company` } });
        const byEmail = await seedLead({ fields: { email: `sales.${upper}@example.com` } });
        const byTopicOnly = await seedLead({ fields: { topic: `About ${token}` } });
        const min = lastOf([byFirstName, byLastName, byCompany, byEmail, byTopicOnly].map((s) => s.position));
        const found = ids(await get(`/leads?q=${token}&limit=500&minPosition=${min}`)).sort();
        expect(found).toEqual([byFirstName.id, byLastName.id, byCompany.id, byEmail.id].sort());
        expect(ids(await get(`/leads?q=${encodeURIComponent(`${upper.slice(0, 8)}`)}&limit=500&minPosition=${min}`)).sort()).toEqual(found);
        // LIKE wildcards in q are plain characters.
        expect(ids(await get(`/leads?q=${encodeURIComponent(`${token.slice(0, 6)}%${token.slice(7)}`)}&minPosition=${min}`))).toEqual([]);
        expect(ids(await get(`/leads?q=${encodeURIComponent(`${token.slice(0, 6)}_${token.slice(7)}`)}&minPosition=${min}`))).toEqual([]);
      });

      it('createdFrom is inclusive, createdTo exclusive, offsets are honoured', async () => {
        const token = freshToken();
        const seeded = [];
        for (const day of ['2001-05-01', '2001-05-02', '2001-05-03'])
          seeded.push(await seedLead({ fields: { companyName: token }, createdAt: `${day}T10:00:00.000Z` }));
        const min = lastOf(seeded.map((s) => s.position));
        const query = async (filter: string) => ids(await get(`/leads?q=${token}&sort=createdAt&${filter}&minPosition=${min}`));
        expect(await query('createdFrom=2001-05-02T10:00:00.000Z&createdTo=2001-05-03T10:00:00.000Z')).toEqual([seeded[1].id]);
        expect(await query(`createdFrom=${encodeURIComponent('2001-05-02T12:00:00+02:00')}`)).toEqual([seeded[1].id, seeded[2].id]);
        expect(await query('createdTo=2001-05-02T10:00:00.001Z')).toEqual([seeded[0].id, seeded[1].id]);
      });

      it('qualifiedFrom/qualifiedTo keep the leads qualified in that range, never the unqualified', async () => {
        const token = freshToken();
        const first = await seedLead({ fields: { companyName: token }, qualifiedAt: '2001-06-01T10:00:00.000Z' });
        const second = await seedLead({ fields: { companyName: token }, qualifiedAt: '2001-06-02T10:00:00.000Z' });
        const never = await seedLead({ fields: { companyName: token } });
        const min = lastOf([first.position, second.position, never.position]);
        const query = async (filter: string) => ids(await get(`/leads?q=${token}&${filter}&minPosition=${min}`));
        expect(await query('qualifiedFrom=2001-06-02T00:00:00Z')).toEqual([second.id]);
        expect(await query('qualifiedTo=2001-06-02T00:00:00Z')).toEqual([first.id]);
        expect(await query('qualifiedFrom=2001-06-01T10:00:00Z&qualifiedTo=2001-06-02T10:00:00Z')).toEqual([first.id]);
      });

      it('sorts by createdAt, updatedAt, lastName and topic, either way (default: newest first)', async () => {
        const token = freshToken();
        const a = await seedLead({
          fields: { companyName: token, lastName: 'Brown', topic: 'Delta' },
          createdAt: '2001-07-01T10:00:00.000Z',
          updatedAt: '2001-07-09T10:00:00.000Z',
        });
        const b = await seedLead({
          fields: { companyName: token, lastName: 'Adams', topic: 'Charlie' },
          createdAt: '2001-07-02T10:00:00.000Z',
          updatedAt: '2001-07-08T10:00:00.000Z',
        });
        const c = await seedLead({ fields: { companyName: token, lastName: 'Davis', topic: 'Alpha' }, createdAt: '2001-07-03T10:00:00.000Z' });
        const d = await seedLead({
          fields: { companyName: token, lastName: 'Clark', topic: 'Bravo' },
          createdAt: '2001-07-04T10:00:00.000Z',
          updatedAt: '2001-07-10T10:00:00.000Z',
        });
        const min = lastOf([a, b, c, d].map((s) => s.position));
        const sorted = async (sort?: string) => ids(await get(`/leads?q=${token}${sort ? `&sort=${sort}` : ''}&minPosition=${min}`));
        const expected: Record<string, string[]> = {
          createdAt: [a.id, b.id, c.id, d.id],
          updatedAt: [c.id, b.id, a.id, d.id],
          lastName: [b.id, a.id, d.id, c.id],
          topic: [c.id, d.id, b.id, a.id],
        };
        for (const [sort, order] of Object.entries(expected)) {
          expect({ sort, order: await sorted(sort) }).toEqual({ sort, order });
          expect({ sort: `-${sort}`, order: await sorted(`-${sort}`) }).toEqual({ sort: `-${sort}`, order: [...order].reverse() });
        }
        expect(await sorted()).toEqual([d.id, c.id, b.id, a.id]);
      });

      it.each([
        ['status=Lost'],
        ['leadSource=Radio'],
        ['rating=Lukewarm'],
        ['createdFrom=yesterday'],
        ['qualifiedTo=2001-13-45'],
        ['createdTo=2001-W05'],
        ['qualifiedFrom=20010301'],
        ['sort=email'],
        ['q=' + 'x'.repeat(101)],
      ])('a bad filter (%s): 400 VALIDATION_FAILED', async (filter) => {
        expectProblem(await get(`/leads?${filter}`), 400, 'VALIDATION_FAILED');
      });
    });

    describe('GET /leads pagination', () => {
      it('no match: {items: [], nextCursor: null}', async () => {
        const { position } = await createLead();
        const res = await get(`/leads?q=${freshToken()}&minPosition=${position}`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ items: [], nextCursor: null });
      });

      it('a last page that is exactly full has nextCursor null', async () => {
        const token = freshToken();
        const seeded = [];
        for (let i = 0; i < 4; i++) seeded.push(await seedLead({ fields: { companyName: token } }));
        const min = lastOf(seeded.map((s) => s.position));
        const first = await get(`/leads?q=${token}&limit=2&minPosition=${min}`);
        expect(first.body.items).toHaveLength(2);
        expect(first.body.nextCursor).toEqual(expect.any(String));
        const second = await get(`/leads?q=${token}&limit=2&cursor=${first.body.nextCursor}`);
        expect(second.body.items).toHaveLength(2);
        expect(second.body.nextCursor).toBeNull();
        const whole = await get(`/leads?q=${token}&limit=4`);
        expect(whole.body.items).toHaveLength(4);
        expect(whole.body.nextCursor).toBeNull();
      });

      it('walking every page with limit 2 yields each lead once, in sort order, ties broken by id', async () => {
        const token = freshToken();
        const seeded: { id: string; position: string; createdAt: string }[] = [];
        // Three leads share a creation time: the id decides between them.
        const times = [
          '2001-08-01T10:00:00.000Z',
          '2001-08-02T10:00:00.000Z',
          '2001-08-02T10:00:00.000Z',
          '2001-08-02T10:00:00.000Z',
          '2001-08-03T10:00:00.000Z',
          '2001-08-04T10:00:00.000Z',
          '2001-08-05T10:00:00.000Z',
        ];
        for (const createdAt of times) seeded.push({ ...(await seedLead({ fields: { companyName: token }, createdAt })), createdAt });
        const min = lastOf(seeded.map((s) => s.position));
        for (const sort of ['createdAt', '-createdAt']) {
          const sign = sort.startsWith('-') ? -1 : 1;
          const expected = [...seeded].sort((x, y) => sign * (x.createdAt.localeCompare(y.createdAt) || (x.id < y.id ? -1 : 1))).map((s) => s.id);
          const walked: string[] = [];
          let cursor: string | null = null;
          let pages = 0;
          do {
            const res: Response = await get(`/leads?q=${token}&limit=2&sort=${sort}&minPosition=${min}${cursor ? `&cursor=${cursor}` : ''}`);
            expect(res.status).toBe(200);
            walked.push(...ids(res));
            cursor = res.body.nextCursor;
            pages++;
          } while (cursor && pages < 10);
          expect({ sort, walked, pages }).toEqual({ sort, walked: expected, pages: 4 });
        }
      });

      it.each([['limit=501'], ['limit=0'], ['limit=-1'], ['limit=two']])('%s: 400 VALIDATION_FAILED', async (limit) => {
        expectProblem(await get(`/leads?${limit}`), 400, 'VALIDATION_FAILED');
      });

      it.each([
        ['not base64 JSON', 'garbage!!'],
        ['JSON that is not a cursor', Buffer.from(JSON.stringify({ a: 1 })).toString('base64url')],
        ['a cursor with a wrong id type', Buffer.from(JSON.stringify(['2001-01-01', 5])).toString('base64url')],
        ['a well-formed but unsigned [value, id]', Buffer.from(JSON.stringify(['2001-01-01T00:00:00.000Z', randomUUID()])).toString('base64url')],
      ])('a bad cursor (%s): 400 INVALID_CURSOR', async (_what, cursor) => {
        expectProblem(await get(`/leads?cursor=${encodeURIComponent(cursor)}`), 400, 'INVALID_CURSOR');
      });

      describe('cursors are tamper-evident', () => {
        let issued: string;
        beforeAll(async () => {
          const token = freshToken();
          const seeded = [];
          for (let i = 0; i < 3; i++) seeded.push(await seedLead({ fields: { companyName: token } }));
          const first = await get(`/leads?q=${token}&limit=1&minPosition=${lastOf(seeded.map((s) => s.position))}`);
          issued = first.body.nextCursor;
          expect(issued).toEqual(expect.any(String));
          // The cursor as issued works: the refusals below are about what was changed.
          expect((await get(`/leads?q=${token}&limit=1&cursor=${issued}`)).status).toBe(200);
        });

        const reSigned = (cursor: string, change: (content: unknown[]) => unknown[]) => {
          const [content, mac] = cursor.split('.');
          const decoded = JSON.parse(Buffer.from(content, 'base64url').toString('utf8')) as unknown[];
          return `${Buffer.from(JSON.stringify(change(decoded))).toString('base64url')}.${mac}`;
        };

        it.each([
          ['its content changed (another id), signature kept', (c: string) => reSigned(c, ([scope, value]) => [scope, value, randomUUID()])],
          ['its sort value moved, signature kept', (c: string) => reSigned(c, ([scope, , id]) => [scope, '1970-01-01T00:00:00.000Z', id])],
          ['its signature removed', (c: string) => c.split('.')[0]],
          ['its signature altered', (c: string) => `${c.split('.')[0]}.${Buffer.alloc(16).toString('base64url')}`],
        ])('a cursor with %s: 400 INVALID_CURSOR', async (_what, tamper) => {
          expectProblem(await get(`/leads?limit=1&cursor=${encodeURIComponent(tamper(issued))}`), 400, 'INVALID_CURSOR');
        });

        it('a cursor issued for another sort: 400 INVALID_CURSOR', async () => {
          expectProblem(await get(`/leads?limit=1&sort=lastName&cursor=${issued}`), 400, 'INVALID_CURSOR');
        });

        it('a leads cursor on /accounts: 400 INVALID_CURSOR', async () => {
          expectProblem(await get(`/accounts?limit=1&cursor=${issued}`), 400, 'INVALID_CURSOR');
        });
      });
    });

    describe('GET /leads/:id', () => {
      it('after qualify: status Qualified and the qualification block of the decision, conversion pending until the saga completes it', async () => {
        const { id } = await createLead({ companyName: `Acme ${randomUUID()}`, email: `${randomUUID()}@example.com`, leadSource: 'Web' });
        const qualified = await t.request('POST', `/leads/${id}/qualify`, {
          as: 'salesperson',
          body: { createAccount: true, createContact: true, createOpportunity: true, ignoreDuplicates: true },
        });
        expect(qualified.status).toBe(202);
        const res = await get(`/leads/${id}?minPosition=${qualified.body.position}`);
        expect(res.status).toBe(200);
        const current = (await get('/settings/qualify-lead')).body;
        expect(res.body).toMatchObject({ id, status: 'Qualified', statusReason: 'Qualified', leadSource: 'Web', version: expect.any(Number) });
        expect(res.body.qualification).toEqual({
          qualificationId: qualified.body.qualificationId,
          plan: qualified.body.plan,
          decidedBy: qualified.body.decidedBy,
          settingVersion: qualified.body.settingVersion,
          createRecordsByDefault: current.createRecordsByDefault,
          qualifiedBy: 'user-salesperson',
          qualifiedAt: expect.any(String),
          // The saga may already have finished by the time the read runs.
          conversion: expect.stringMatching(/^(pending|completed)$/),
          failureReason: null,
          accountId: res.body.qualification.conversion === 'completed' ? qualified.body.plan.account.id : null,
          contactId: res.body.qualification.conversion === 'completed' ? qualified.body.plan.contact.id : null,
          opportunityId: res.body.qualification.conversion === 'completed' ? qualified.body.plan.opportunity.id : null,
        });
        const completed = await eventually(async () => {
          const lead = (await get(`/leads/${id}`)).body;
          return lead.qualification.conversion === 'completed' && lead;
        }, 'the conversion to complete');
        expect(completed.qualification).toMatchObject({
          accountId: qualified.body.plan.account.id,
          contactId: qualified.body.plan.contact.id,
          opportunityId: qualified.body.plan.opportunity.id,
        });
      });

      it('an open lead has every field, status Open/New, version 0 and qualification null', async () => {
        const fields = {
          topic: 'Vans',
          firstName: 'Ann',
          lastName: 'Lee',
          companyName: 'Lee & Co',
          email: 'ann@lee.example',
          leadSource: 'Seminar',
          rating: 'Warm',
          budgetAmount: 1000.5,
        };
        const { id, position } = await createLead(fields);
        const res = await get(`/leads/${id}?minPosition=${position}`, 'salesperson');
        expect(res.body).toMatchObject({
          id,
          ...fields,
          jobTitle: null,
          status: 'Open',
          statusReason: 'New',
          version: 0,
          createdBy: 'user-salesperson',
          qualification: null,
        });
        expect(res.body.createdAt).toBe(res.body.updatedAt);
      });

      it('an unknown id: 404 NOT_FOUND', async () => {
        const { position } = await createLead();
        expectProblem(await get(`/leads/${randomUUID()}?minPosition=${position}`), 404, 'NOT_FOUND');
        expectProblem(await get('/leads/not-a-uuid'), 404, 'NOT_FOUND');
      });
    });

    describe('GET /leads/:id/history', () => {
      it("lists the lead's events oldest first with type, data, userId, time and position", async () => {
        const sub = `sp-${randomUUID()}`;
        const as = { token: t.token('salesperson', sub) };
        const id = randomUUID();
        const positions: string[] = [];
        const send = async (method: string, url: string, body: unknown) => {
          const res = await t.request(method, url, { ...as, body });
          expect(res.status).toBeLessThan(300);
          positions.push(res.body.position);
        };
        await send('POST', '/leads', { id, topic: 'History', lastName: 'Doe' });
        await send('PATCH', `/leads/${id}`, { rating: 'Hot' });
        await send('POST', `/leads/${id}/disqualify`, { statusReason: 'Lost' });
        await send('POST', `/leads/${id}/reactivate`, {});
        const res = await get(`/leads/${id}/history?minPosition=${positions.at(-1)}`);
        expect(res.status).toBe(200);
        expect(res.body.items.map((e: any) => ({ type: e.type, userId: e.userId, position: e.position }))).toEqual([
          { type: 'LeadCreated', userId: sub, position: positions[0] },
          { type: 'LeadUpdated', userId: sub, position: positions[1] },
          { type: 'LeadDisqualified', userId: sub, position: positions[2] },
          { type: 'LeadReactivated', userId: sub, position: positions[3] },
        ]);
        expect(res.body.items[1].data).toEqual({ leadId: id, rating: 'Hot' });
        expect(res.body.items[2].data).toEqual({ leadId: id, statusReason: 'Lost' });
        const times = res.body.items.map((e: any) => e.time);
        expect(times.every((time: string) => !Number.isNaN(Date.parse(time)))).toBe(true);
        expect([...times].sort()).toEqual(times);
      });

      it('an unknown lead: 404 NOT_FOUND', async () => {
        expectProblem(await get(`/leads/${randomUUID()}/history`), 404, 'NOT_FOUND');
      });
    });

    describe('setting history and as-of', () => {
      const put = async (createRecordsByDefault: boolean, sub: string) => {
        const res = await t.request('PUT', '/settings/qualify-lead', { token: t.token('admin', sub), body: { createRecordsByDefault } });
        expect(res.status).toBe(200);
        return res.body;
      };

      it('as-of before the first change: Yes at version 0', async () => {
        const res = await get('/settings/qualify-lead/as-of?at=2000-01-01T00:00:00Z');
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ createRecordsByDefault: true, version: 0 });
      });

      it('history lists every change oldest first; as-of between changes answers the version then in force', async () => {
        const sub = `admin-${randomUUID()}`;
        const start = (await get('/settings/qualify-lead')).body;
        const first = await put(!start.createRecordsByDefault, sub);
        // The second change must come at a later millisecond than the first for as-of to tell them apart.
        await eventually(() => Date.now() > Date.parse(first.updatedAt) + 1, 'the clock to move on');
        const second = await put(start.createRecordsByDefault, sub);

        const history = await get(`/settings/qualify-lead/history?minPosition=${second.position}`);
        expect(history.status).toBe(200);
        const items = history.body.items;
        expect(items.map((c: any) => c.version)).toEqual(Array.from({ length: second.version }, (_, i) => i + 1));
        expect(items.slice(-2)).toEqual([
          {
            version: first.version,
            createRecordsByDefault: !start.createRecordsByDefault,
            previousValue: start.createRecordsByDefault,
            changedBy: sub,
            changedAt: first.updatedAt,
          },
          {
            version: second.version,
            createRecordsByDefault: start.createRecordsByDefault,
            previousValue: !start.createRecordsByDefault,
            changedBy: sub,
            changedAt: second.updatedAt,
          },
        ]);

        const asOf = async (at: string) => (await get(`/settings/qualify-lead/as-of?at=${encodeURIComponent(at)}&minPosition=${second.position}`)).body;
        const ms = (iso: string, delta: number) => new Date(Date.parse(iso) + delta).toISOString();
        expect(await asOf(ms(first.updatedAt, -1))).toMatchObject({ version: start.version, createRecordsByDefault: start.createRecordsByDefault });
        expect(await asOf(first.updatedAt)).toMatchObject({ version: first.version, createRecordsByDefault: !start.createRecordsByDefault, changedBy: sub });
        expect(await asOf(ms(second.updatedAt, -1))).toMatchObject({ version: first.version, createRecordsByDefault: !start.createRecordsByDefault });
        expect(await asOf(second.updatedAt)).toMatchObject({ version: second.version, createRecordsByDefault: start.createRecordsByDefault });
        expect(await asOf(new Date(Date.now() + 86_400_000).toISOString())).toMatchObject({ version: second.version });
      });

      it.each([['at=yesterday'], ['at=2020-02-30T00:00:00Z'], ['at=2020-W05'], ['']])(
        'as-of with a bad or missing time (%s): 400 VALIDATION_FAILED',
        async (query) => {
          expectProblem(await get(`/settings/qualify-lead/as-of?${query}`), 400, 'VALIDATION_FAILED');
        },
      );
    });

    describe('GET /analytics/qualifications', () => {
      /**
       * Five leads in March–April 2003 (a range no other test writes to):
       * L1 Web: created Mon 03-03, qualified 03-04 (v1, setting), account+contact+opportunity 03-04
       * L2 Web: created 03-03, disqualified 03-05
       * L3 Partner: created Sun 03-09, qualified Mon 03-10 (v2, salesperson), contact 03-10
       * L4 no source: created Tue 04-01, qualified 04-02 (v2, salesperson)
       * L5 Partner: created 04-01, disqualified 04-01
       */
      let min: string;
      const range = 'from=2003-03-01&to=2003-05-01';
      beforeAll(async () => {
        const positions: string[] = [];
        const l1 = await seedLead({
          fields: { leadSource: 'Web' },
          createdAt: '2003-03-03T09:00:00.000Z',
          qualifiedAt: '2003-03-04T09:00:00.000Z',
          settingVersion: 1,
          decidedBy: 'setting',
        });
        for (const type of ['AccountCreated', 'ContactCreated', 'OpportunityCreated'] as const)
          positions.push(await seedRecord(type, l1.id, '2003-03-04T09:00:01.000Z'));
        const l2 = await seedLead({ fields: { leadSource: 'Web' }, createdAt: '2003-03-03T23:59:59.999Z', disqualifiedAt: '2003-03-05T00:00:00.000Z' });
        const l3 = await seedLead({
          fields: { leadSource: 'Partner' },
          createdAt: '2003-03-09T12:00:00.000Z',
          qualifiedAt: '2003-03-10T12:00:00.000Z',
          settingVersion: 2,
          decidedBy: 'salesperson',
        });
        positions.push(await seedRecord('ContactCreated', l3.id, '2003-03-10T12:00:01.000Z'));
        const l4 = await seedLead({
          createdAt: '2003-04-01T08:00:00.000Z',
          qualifiedAt: '2003-04-02T08:00:00.000Z',
          settingVersion: 2,
          decidedBy: 'salesperson',
        });
        const l5 = await seedLead({ fields: { leadSource: 'Partner' }, createdAt: '2003-04-01T09:00:00.000Z', disqualifiedAt: '2003-04-01T10:00:00.000Z' });
        min = lastOf([...positions, l1.position, l2.position, l3.position, l4.position, l5.position]);
      });

      const zero = { leadsCreated: 0, qualified: 0, disqualified: 0, accountsCreated: 0, contactsCreated: 0, opportunitiesCreated: 0 };
      const EXPECTED: Record<string, unknown[]> = {
        day: [
          { ...zero, group: '2003-03-03', leadsCreated: 2, qualificationRate: null },
          { ...zero, group: '2003-03-04', qualified: 1, accountsCreated: 1, contactsCreated: 1, opportunitiesCreated: 1, qualificationRate: 1 },
          { ...zero, group: '2003-03-05', disqualified: 1, qualificationRate: 0 },
          { ...zero, group: '2003-03-09', leadsCreated: 1, qualificationRate: null },
          { ...zero, group: '2003-03-10', qualified: 1, contactsCreated: 1, qualificationRate: 1 },
          { ...zero, group: '2003-04-01', leadsCreated: 2, disqualified: 1, qualificationRate: 0 },
          { ...zero, group: '2003-04-02', qualified: 1, qualificationRate: 1 },
        ],
        week: [
          {
            group: '2003-03-03',
            leadsCreated: 3,
            qualified: 1,
            disqualified: 1,
            accountsCreated: 1,
            contactsCreated: 1,
            opportunitiesCreated: 1,
            qualificationRate: 0.5,
          },
          { ...zero, group: '2003-03-10', qualified: 1, contactsCreated: 1, qualificationRate: 1 },
          { ...zero, group: '2003-03-31', leadsCreated: 2, qualified: 1, disqualified: 1, qualificationRate: 0.5 },
        ],
        month: [
          {
            group: '2003-03',
            leadsCreated: 3,
            qualified: 2,
            disqualified: 1,
            accountsCreated: 1,
            contactsCreated: 2,
            opportunitiesCreated: 1,
            qualificationRate: 0.6667,
          },
          { ...zero, group: '2003-04', leadsCreated: 2, qualified: 1, disqualified: 1, qualificationRate: 0.5 },
        ],
        leadSource: [
          { ...zero, group: null, leadsCreated: 1, qualified: 1, qualificationRate: 1 },
          { ...zero, group: 'Partner', leadsCreated: 2, qualified: 1, disqualified: 1, contactsCreated: 1, qualificationRate: 0.5 },
          {
            group: 'Web',
            leadsCreated: 2,
            qualified: 1,
            disqualified: 1,
            accountsCreated: 1,
            contactsCreated: 1,
            opportunitiesCreated: 1,
            qualificationRate: 0.5,
          },
        ],
        settingVersion: [
          { ...zero, group: null, leadsCreated: 5, disqualified: 2, qualificationRate: 0 },
          { ...zero, group: 1, qualified: 1, accountsCreated: 1, contactsCreated: 1, opportunitiesCreated: 1, qualificationRate: 1 },
          { ...zero, group: 2, qualified: 2, contactsCreated: 1, qualificationRate: 1 },
        ],
        decidedBy: [
          { ...zero, group: null, leadsCreated: 5, disqualified: 2, qualificationRate: 0 },
          { ...zero, group: 'salesperson', qualified: 2, contactsCreated: 1, qualificationRate: 1 },
          { ...zero, group: 'setting', qualified: 1, accountsCreated: 1, contactsCreated: 1, opportunitiesCreated: 1, qualificationRate: 1 },
        ],
      };

      it.each(Object.keys(EXPECTED))('groupBy=%s counts each group and its qualificationRate', async (groupBy) => {
        const res = await get(`/analytics/qualifications?${range}&groupBy=${groupBy}&minPosition=${min}`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ items: EXPECTED[groupBy], nextCursor: null });
      });

      it('answers the same query anew once the projection moved on (answers are cached per checkpoint only)', async () => {
        const june = 'from=2004-06-01&to=2004-07-01';
        const first = await seedLead({ fields: { leadSource: 'Web' }, createdAt: '2004-06-07T09:00:00.000Z' });
        const before = await get(`/analytics/qualifications?${june}&minPosition=${first.position}`);
        expect(before.body.items).toEqual([{ ...zero, group: '2004-06-07', leadsCreated: 1, qualificationRate: null }]);
        const second = await seedLead({ fields: { leadSource: 'Web' }, createdAt: '2004-06-07T10:00:00.000Z' });
        const after = await get(`/analytics/qualifications?${june}&minPosition=${second.position}`);
        expect(after.body.items).toEqual([{ ...zero, group: '2004-06-07', leadsCreated: 2, qualificationRate: null }]);
      });

      it('from is inclusive and to exclusive, by UTC day; groupBy defaults to day', async () => {
        const res = await get(`/analytics/qualifications?from=2003-03-04&to=2003-03-10&minPosition=${min}`);
        expect(res.body.items.map((s: any) => s.group)).toEqual(['2003-03-04', '2003-03-05', '2003-03-09']);
      });

      it('Accept: text/csv answers the same groups as CSV', async () => {
        const res = await get(`/analytics/qualifications?${range}&groupBy=leadSource&minPosition=${min}`, 'analyst', { accept: 'text/csv' });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/csv/);
        expect(parseCsv(res.text)).toEqual([
          ['group', 'leadsCreated', 'qualified', 'disqualified', 'accountsCreated', 'contactsCreated', 'opportunitiesCreated', 'qualificationRate'],
          ['', '1', '1', '0', '0', '0', '0', '1'],
          ['Partner', '2', '1', '1', '0', '1', '0', '0.5'],
          ['Web', '2', '1', '1', '1', '1', '1', '0.5'],
        ]);
      });

      it.each([['groupBy=year'], ['from=soon'], ['from=2003-W05'], ['to=2003-050']])('a bad parameter (%s): 400 VALIDATION_FAILED', async (query) => {
        expectProblem(await get(`/analytics/qualifications?${query}`), 400, 'VALIDATION_FAILED');
      });
    });

    describe('CSV export of GET /leads', () => {
      it('Accept: text/csv streams a header row and one line per matching lead, across pages of 500', async () => {
        const token = freshToken();
        const leads = await Promise.all(
          Array.from({ length: 503 }, (_, i) => seedLead({ fields: { companyName: `${token} ${i}`, lastName: i === 0 ? 'O"Brien, Jr' : `Lead${i}` } })),
        );
        const seeded = leads.map((l) => l.id);
        const min = lastOf(leads.map((l) => l.position));
        const res = await get(`/leads?q=${token}&minPosition=${min}`, 'analyst', { accept: 'text/csv' });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/csv/);
        const records = csvRecords(res.text);
        expect(parseCsv(res.text)[0]).toEqual(expect.arrayContaining(['id', 'topic', 'lastName', 'companyName', 'status', 'qualificationId', 'conversion']));
        expect(records.map((r) => r.id).sort()).toEqual([...seeded].sort());
        expect(records.find((r) => r.id === seeded[0])).toMatchObject({ lastName: 'O"Brien, Jr', companyName: `${token} 0`, status: 'Open' });
      });

      it('prefixes with a quote every cell a spreadsheet would read as a formula, and nothing else', async () => {
        const token = freshToken();
        const formulas = [
          '=1+1',
          '+1+1',
          '-1+1',
          '@SUM(A1)',
          ';=1+1',
          ' =1+1',
          '\t=1+1',
          '\n=1+1',
          '\r\n=1',
          '\uff1d1+1',
          '\uff0b1',
          '\u3000=1+1',
          '\u00a0=1+1',
        ];
        const plain = ['-42', '3.5', 'Contoso; Ltd', 'a=b', "O'Brien"];
        const seeded = await Promise.all([...formulas, ...plain].map((topic) => seedLead({ fields: { companyName: token, topic } })));
        const res = await get(`/leads?q=${token}&minPosition=${lastOf(seeded.map((l) => l.position))}`, 'analyst', { accept: 'text/csv' });
        const topics = Object.fromEntries(csvRecords(res.text).map((r) => [r.id, r.topic]));
        const exported = seeded.map((l) => topics[l.id]);
        expect(exported).toEqual([...formulas.map((f) => `'${f}`), ...plain]);
      });

      it('?format=csv answers what Accept: text/csv does, as an attachment, on every route that offers CSV; ?format=json wins over Accept', async () => {
        const token = freshToken();
        const seeded = await Promise.all([0, 1, 2].map((i) => seedLead({ fields: { companyName: `${token} ${i}` } })));
        const min = lastOf(seeded.map((l) => l.position));
        for (const path of [
          `/leads?q=${token}&minPosition=${min}`,
          `/accounts?minPosition=${min}`,
          `/contacts?minPosition=${min}`,
          `/opportunities?minPosition=${min}`,
          `/analytics/qualifications?groupBy=leadSource&minPosition=${min}`,
        ]) {
          const byHeader = await get(path, 'analyst', { accept: 'text/csv' });
          const byLink = await get(`${path}&format=csv`);
          expect({
            path,
            status: byLink.status,
            type: byLink.headers['content-type'],
            disposition: byLink.headers['content-disposition'],
            text: byLink.text,
          }).toEqual({
            path,
            status: 200,
            type: expect.stringMatching(/^text\/csv/),
            disposition: expect.stringMatching(/^attachment; filename="[a-z]+\.csv"$/),
            text: byHeader.text,
          });
          const json = await get(`${path}&format=json`, 'analyst', { accept: 'text/csv' });
          expect({ path, type: json.headers['content-type'] }).toEqual({ path, type: expect.stringMatching(/^application\/json/) });
        }
        expect(
          csvRecords((await get(`/leads?q=${token}&minPosition=${min}&format=csv`)).text)
            .map((r) => r.id)
            .sort(),
        ).toEqual(seeded.map((l) => l.id).sort());
        expectProblem(await get(`/leads?format=xml`), 400, 'VALIDATION_FAILED');
      });

      it('honours the filters and limit of the JSON list', async () => {
        const token = freshToken();
        const web = await seedLead({ fields: { companyName: token, leadSource: 'Web' } });
        const partner = await seedLead({ fields: { companyName: token, leadSource: 'Partner' } });
        const min = lastOf([web.position, partner.position]);
        const res = await get(`/leads?q=${token}&leadSource=Web&minPosition=${min}`, 'salesperson', { accept: 'text/csv' });
        expect(csvRecords(res.text).map((r) => r.id)).toEqual([web.id]);
        const limited = await get(`/leads?q=${token}&limit=1&minPosition=${min}`, 'salesperson', { accept: 'text/csv' });
        expect(csvRecords(limited.text)).toHaveLength(1);
      });
    });

    describe('who may read', () => {
      const reads = [
        '/leads',
        '/settings/qualify-lead/history',
        '/settings/qualify-lead/as-of?at=2020-01-01T00:00:00Z',
        '/analytics/qualifications',
        '/projections',
      ];

      it.each(['analyst', 'salesperson'])('%s may read every query', async (role) => {
        const { id } = await createLead();
        for (const url of [...reads, `/leads/${id}`, `/leads/${id}/history`])
          expect({ url, status: (await get(url, role)).status }).toEqual({ url, status: 200 });
      });

      it('no token: 401 on every query', async () => {
        for (const url of [...reads, `/leads/${randomUUID()}`]) {
          const res = await t.request('GET', url);
          expect({ url, status: res.status, code: res.body.code }).toEqual({ url, status: 401, code: 'UNAUTHORIZED' });
        }
      });

      it.each(['salesperson', 'analyst'])('POST /projections/:name/rebuild as %s: 403 FORBIDDEN', async (role) => {
        expectProblem(await t.request('POST', '/projections/lead-details/rebuild', { as: role }), 403, 'FORBIDDEN');
      });
    });
  });
}
