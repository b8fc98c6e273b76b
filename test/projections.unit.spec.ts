import { randomUUID } from 'node:crypto';
import { AnalyticsLeadRow, AnalyticsRecordRow, QualificationStatsDailyRow } from '../src/analytics/analytics.entities.js';
import { AnalyticsProjection } from '../src/analytics/analytics.projection.js';
import { openDatabase, type Database } from '../src/database/database.js';
import { placeholder } from '../src/database/sql.js';
import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import type { Processor } from '../src/event-store/processor.js';
import { LeadDetailsRow } from '../src/leads/lead-details/lead-details.entity.js';
import { LeadDetailsProjection } from '../src/leads/lead-details/lead-details.projection.js';
import { SettingHistoryRow } from '../src/qualify-setting/setting-history/setting-history.entity.js';
import { SettingHistoryProjection } from '../src/qualify-setting/setting-history/setting-history.projection.js';
import { testDatabaseKinds, type TestDatabase } from './support/databases.js';
import { aFullLead } from './support/fixtures.js';

const kinds = await testDatabaseKinds();
const READ_MODEL_ENTITIES = [LeadDetailsRow, SettingHistoryRow, QualificationStatsDailyRow, AnalyticsLeadRow, AnalyticsRecordRow];

/** Global positions only grow, across every test of the file, as in a real log. */
let lastPosition = 1000;

function recorded(streamId: string, revision: number, type: string, data: Record<string, unknown>, at: string, userId = 'sally'): RecordedEvent {
  const id = randomUUID();
  return {
    id,
    type,
    streamId,
    revision,
    position: String(++lastPosition),
    data,
    metadata: { userId, correlationId: id, causationId: id, at },
    createdAt: new Date(at),
  };
}

/** A lead's stream as the decider would write it: revisions count up from 0. */
function leadStream(leadId = randomUUID()) {
  let revision = 0;
  return {
    leadId,
    next: (type: string, data: Record<string, unknown>, at: string, userId?: string) =>
      recorded(`lead-${leadId}`, revision++, type, { leadId, ...data }, at, userId),
  };
}

const plan = (accountId: string | null, contactId: string | null, opportunityId: string | null) => ({
  account: { action: accountId ? 'create' : 'none', id: accountId },
  contact: { action: contactId ? 'create' : 'none', id: contactId },
  opportunity: { action: opportunityId ? 'create' : 'none', id: opportunityId },
});

const ALL_FIELDS = aFullLead({ companyName: '  Acme Corp ', email: 'Jane.Doe@Acme.example', existingAccountId: null, existingContactId: null });

for (const kind of kinds) {
  (kind.available ? describe : describe.skip)(`projections applied directly on ${kind.name}`, () => {
    let testDb: TestDatabase;
    let db: Database;
    beforeAll(async () => {
      testDb = await kind.create();
      db = await openDatabase(testDb.config, READ_MODEL_ENTITIES);
    });
    afterAll(async () => {
      await db?.close();
      await testDb?.drop();
    });

    const apply = (projection: Processor, events: RecordedEvent[]) => db.transactionSql((sql) => projection.apply!(events, sql));
    const p = (n: number) => placeholder(db.kind, n);
    /** Rows with SQLite's 0/1 booleans and PostgreSQL's numeric strings made comparable. */
    const normalise = (row: Record<string, any>, booleans: string[], numbers: string[]) => {
      const out = { ...row };
      for (const c of booleans) if (out[c] !== null && out[c] !== undefined) out[c] = out[c] === true || out[c] === 1;
      for (const c of numbers) if (out[c] !== null && out[c] !== undefined) out[c] = Number(out[c]);
      return out;
    };

    describe('LeadDetailsProjection', () => {
      let projection: LeadDetailsProjection;
      beforeAll(() => {
        projection = new LeadDetailsProjection(db);
      });
      const leadRow = async (id: string) => {
        const rows = await db.query(`SELECT * FROM lead_details WHERE id = ${p(1)}`, [id]);
        return rows.length ? normalise(rows[0], ['create_records_by_default'], ['version', 'setting_version', 'budget_amount', 'estimated_value']) : undefined;
      };

      it('LeadCreated inserts a row with every field, Open/New, version 0, search keys and no qualification', async () => {
        const lead = leadStream();
        const created = lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z', 'sally');
        await apply(projection, [created]);
        expect(await leadRow(lead.leadId)).toEqual({
          id: lead.leadId,
          topic: 'Fleet renewal',
          first_name: 'Jane',
          last_name: 'Doe',
          job_title: 'Buyer',
          company_name: '  Acme Corp ',
          company_key: 'acme corp',
          email: 'Jane.Doe@Acme.example',
          email_key: 'jane.doe@acme.example',
          business_phone: '+33 1 23 45 67 89',
          mobile_phone: '+33 6 12 34 56 78',
          website: 'https://acme.example',
          street: '1 rue de la Paix',
          city: 'Paris',
          state_or_province: 'IDF',
          postal_code: '75002',
          country: 'France',
          lead_source: 'TradeShow',
          rating: 'Hot',
          budget_amount: 12000.5,
          estimated_value: 30000,
          purchase_timeframe: 'ThisQuarter',
          description: 'Wants 40 vans',
          existing_account_id: null,
          existing_contact_id: null,
          search_text: 'jane doe   acme corp  jane.doe@acme.example',
          status: 'Open',
          status_reason: 'New',
          version: 0,
          position: created.position,
          created_at: '2026-03-02T09:00:00.000Z',
          created_by: 'sally',
          updated_at: '2026-03-02T09:00:00.000Z',
          qualification_id: null,
          plan: null,
          decided_by: null,
          setting_version: null,
          create_records_by_default: null,
          qualified_by: null,
          qualified_at: null,
          disqualified_at: null,
          conversion: null,
          conversion_failure_reason: null,
          account_id: null,
          contact_id: null,
          opportunity_id: null,
        });
      });

      it('LeadUpdated changes only the given fields (null clears), recomputes the search keys and takes a statusReason', async () => {
        const lead = leadStream();
        await apply(projection, [lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z')]);
        const updated = lead.next(
          'LeadUpdated',
          { email: 'J@NEW.example', companyName: 'Globex', rating: null, statusReason: 'Contacted' },
          '2026-03-03T10:00:00.000Z',
        );
        await apply(projection, [updated]);
        const row = await leadRow(lead.leadId);
        expect(row).toMatchObject({
          email: 'J@NEW.example',
          company_name: 'Globex',
          rating: null,
          topic: 'Fleet renewal',
          lead_source: 'TradeShow',
          search_text: 'jane doe globex j@new.example',
          status: 'Open',
          status_reason: 'Contacted',
          version: 1,
          position: updated.position,
          created_at: '2026-03-02T09:00:00.000Z',
          updated_at: '2026-03-03T10:00:00.000Z',
        });
      });

      it('LeadQualified records the qualification with conversion pending; LeadConversionCompleted fills the record ids', async () => {
        const lead = leadStream();
        const [accountId, contactId, opportunityId, qualificationId] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
        const created = lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z');
        const qualified = lead.next(
          'LeadQualified',
          {
            qualificationId,
            plan: plan(accountId, contactId, opportunityId),
            decidedBy: 'setting',
            settingVersion: 4,
            createRecordsByDefault: true,
            qualifiedBy: 'sally',
            qualifiedAt: '2026-03-04T11:00:00.000Z',
            lead: ALL_FIELDS,
          },
          '2026-03-04T11:00:00.000Z',
        );
        await apply(projection, [created, qualified]);
        const pending = await leadRow(lead.leadId);
        expect({ ...pending, plan: JSON.parse(pending!.plan) }).toMatchObject({
          status: 'Qualified',
          status_reason: 'Qualified',
          qualification_id: qualificationId,
          plan: plan(accountId, contactId, opportunityId),
          decided_by: 'setting',
          setting_version: 4,
          create_records_by_default: true,
          qualified_by: 'sally',
          qualified_at: '2026-03-04T11:00:00.000Z',
          conversion: 'pending',
          account_id: null,
          contact_id: null,
          opportunity_id: null,
          version: 1,
        });

        const completed = lead.next('LeadConversionCompleted', { qualificationId, accountId, contactId, opportunityId: null }, '2026-03-04T11:00:01.000Z');
        await apply(projection, [completed]);
        expect(await leadRow(lead.leadId)).toMatchObject({
          conversion: 'completed',
          account_id: accountId,
          contact_id: contactId,
          opportunity_id: null,
          version: 2,
          position: completed.position,
        });
      });

      it('LeadConversionFailed marks the conversion failed with its reason', async () => {
        const lead = leadStream();
        const qualificationId = randomUUID();
        await apply(projection, [
          lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z'),
          lead.next(
            'LeadQualified',
            {
              qualificationId,
              plan: plan(null, randomUUID(), null),
              decidedBy: 'salesperson',
              settingVersion: 5,
              createRecordsByDefault: false,
              qualifiedBy: 'sam',
              qualifiedAt: '2026-03-04T11:00:00.000Z',
              lead: ALL_FIELDS,
            },
            '2026-03-04T11:00:00.000Z',
          ),
          lead.next('LeadConversionFailed', { qualificationId, reason: 'contact store down' }, '2026-03-04T11:05:00.000Z'),
        ]);
        expect(await leadRow(lead.leadId)).toMatchObject({
          status: 'Qualified',
          decided_by: 'salesperson',
          create_records_by_default: false,
          conversion: 'failed',
          conversion_failure_reason: 'contact store down',
          version: 2,
        });
      });

      it('a conversion outcome of an earlier qualification leaves the latest one as it is', async () => {
        const lead = leadStream();
        const [first, second] = [randomUUID(), randomUUID()];
        const qualify = (qualificationId: string) =>
          lead.next(
            'LeadQualified',
            {
              qualificationId,
              plan: plan(null, null, null),
              decidedBy: 'setting',
              settingVersion: 0,
              createRecordsByDefault: true,
              qualifiedBy: 'sally',
              qualifiedAt: '2026-03-04T11:00:00.000Z',
              lead: ALL_FIELDS,
            },
            '2026-03-04T11:00:00.000Z',
          );
        await apply(projection, [
          lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z'),
          qualify(first),
          lead.next('LeadReactivated', {}, '2026-03-05T09:00:00.000Z'),
          qualify(second),
          lead.next(
            'LeadConversionCompleted',
            { qualificationId: first, accountId: randomUUID(), contactId: null, opportunityId: null },
            '2026-03-05T10:00:00.000Z',
          ),
        ]);
        expect(await leadRow(lead.leadId)).toMatchObject({ qualification_id: second, conversion: 'pending', account_id: null, version: 4 });
      });

      it('LeadDisqualified sets Disqualified with its reason and time; LeadReactivated reopens it as Open/New', async () => {
        const lead = leadStream();
        await apply(projection, [
          lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z'),
          lead.next('LeadDisqualified', { statusReason: 'CannotContact' }, '2026-03-06T08:00:00.000Z'),
        ]);
        expect(await leadRow(lead.leadId)).toMatchObject({
          status: 'Disqualified',
          status_reason: 'CannotContact',
          disqualified_at: '2026-03-06T08:00:00.000Z',
          version: 1,
        });
        const reactivated = lead.next('LeadReactivated', {}, '2026-03-07T08:00:00.000Z');
        await apply(projection, [reactivated]);
        expect(await leadRow(lead.leadId)).toMatchObject({
          status: 'Open',
          status_reason: 'New',
          version: 2,
          position: reactivated.position,
          updated_at: '2026-03-07T08:00:00.000Z',
        });
      });

      it('an event of a lead whose creation it never saw adds no row', async () => {
        const lead = leadStream();
        lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z');
        await apply(projection, [lead.next('LeadDisqualified', { statusReason: 'Lost' }, '2026-03-06T08:00:00.000Z')]);
        expect(await leadRow(lead.leadId)).toBeUndefined();
      });

      it('the same events twice in one batch give the same row as once', async () => {
        const once = leadStream();
        const twice = leadStream();
        const events = (lead: ReturnType<typeof leadStream>) => [
          lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z'),
          lead.next('LeadUpdated', { topic: 'Fleet renewal 2' }, '2026-03-03T09:00:00.000Z'),
          lead.next('LeadDisqualified', { statusReason: 'Lost' }, '2026-03-04T09:00:00.000Z'),
        ];
        const onceEvents = events(once);
        const twiceEvents = events(twice);
        await apply(projection, onceEvents);
        await apply(projection, [twiceEvents[0], twiceEvents[0], twiceEvents[1], twiceEvents[0], twiceEvents[1], twiceEvents[2], twiceEvents[2]]);
        const { id: _a, position: _pa, ...expected } = (await leadRow(once.leadId))!;
        const { id: _b, position, ...actual } = (await leadRow(twice.leadId))!;
        expect(actual).toEqual(expected);
        expect(position).toBe(twiceEvents[2].position);
      });

      it('a creation delivered again after later events leaves the newer row as it is (the upsert never goes back a version)', async () => {
        const lead = leadStream();
        const created = lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z');
        await apply(projection, [created, lead.next('LeadUpdated', { firstName: 'Janet' }, '2026-03-03T09:00:00.000Z')]);
        const before = await leadRow(lead.leadId);
        await apply(projection, [created]);
        expect(await leadRow(lead.leadId)).toEqual(before);
      });

      it('an event delivered again in a later batch changes nothing, not even after later events', async () => {
        const lead = leadStream();
        const events = [
          lead.next('LeadCreated', ALL_FIELDS, '2026-03-02T09:00:00.000Z'),
          lead.next('LeadUpdated', { firstName: 'Janet' }, '2026-03-03T09:00:00.000Z'),
          lead.next(
            'LeadQualified',
            {
              qualificationId: randomUUID(),
              plan: plan(null, null, null),
              decidedBy: 'setting',
              settingVersion: 0,
              createRecordsByDefault: true,
              qualifiedBy: 'sally',
              qualifiedAt: '2026-03-04T11:00:00.000Z',
              lead: ALL_FIELDS,
            },
            '2026-03-04T11:00:00.000Z',
          ),
        ];
        await apply(projection, events);
        const before = await leadRow(lead.leadId);
        for (const event of events) await apply(projection, [event]);
        await apply(projection, events);
        expect(await leadRow(lead.leadId)).toEqual(before);
      });
    });

    describe('SettingHistoryProjection', () => {
      let projection: SettingHistoryProjection;
      /** Versions are the table's key: each test takes its own range. */
      let nextVersion = 1;
      beforeAll(() => {
        projection = new SettingHistoryProjection(db);
      });
      const changes = async (versions: number[]) =>
        (
          await db.query(`SELECT * FROM qualify_setting_history WHERE version IN (${versions.map((_, i) => p(i + 1)).join(', ')}) ORDER BY version`, versions)
        ).map((r: any) => normalise(r, ['create_records_by_default', 'previous_value'], ['version']));
      const settingUpdated = (version: number, createRecordsByDefault: boolean, at: string, userId = 'root') =>
        recorded(
          'settings-qualify-lead',
          version - 1,
          'QualifyLeadSettingUpdated',
          { createRecordsByDefault, previousValue: !createRecordsByDefault, version },
          at,
          userId,
        );

      it('QualifyLeadSettingUpdated adds one row per version: value, previous value, who and when', async () => {
        const [v1, v2] = [nextVersion++, nextVersion++];
        const first = settingUpdated(v1, false, '2026-01-10T08:00:00.000Z', 'alice');
        const second = settingUpdated(v2, true, '2026-01-11T08:00:00.000Z', 'bob');
        await apply(projection, [first, second]);
        expect(await changes([v1, v2])).toEqual([
          {
            version: v1,
            create_records_by_default: false,
            previous_value: true,
            changed_by: 'alice',
            changed_at: '2026-01-10T08:00:00.000Z',
            position: first.position,
          },
          {
            version: v2,
            create_records_by_default: true,
            previous_value: false,
            changed_by: 'bob',
            changed_at: '2026-01-11T08:00:00.000Z',
            position: second.position,
          },
        ]);
      });

      it('the same change twice in one batch gives one row', async () => {
        const v = nextVersion++;
        const change = settingUpdated(v, false, '2026-01-12T08:00:00.000Z');
        await apply(projection, [change, change]);
        expect(await changes([v])).toEqual([expect.objectContaining({ version: v, create_records_by_default: false, position: change.position })]);
      });

      it('the same change again in a later batch changes nothing', async () => {
        const v = nextVersion++;
        const change = settingUpdated(v, true, '2026-01-13T08:00:00.000Z');
        await apply(projection, [change]);
        const before = await changes([v]);
        await apply(projection, [change]);
        expect(await changes([v])).toEqual(before);
      });
    });

    describe('AnalyticsProjection', () => {
      let projection: AnalyticsProjection;
      /** Counters are keyed by day: each test counts on days of its own. */
      let nextDay = Date.parse('1990-01-01T00:00:00.000Z');
      const freshDay = () => {
        const day = new Date(nextDay).toISOString().slice(0, 10);
        nextDay += 86_400_000;
        return day;
      };
      beforeAll(() => {
        projection = new AnalyticsProjection(db);
      });
      const COUNTER_COLUMNS = [
        'setting_version',
        'leads_created',
        'qualified',
        'disqualified',
        'accounts_created',
        'contacts_created',
        'opportunities_created',
      ];
      const counters = async (...days: string[]) =>
        (
          await db.query(
            `SELECT * FROM qualification_stats_daily WHERE day IN (${days.map((_, i) => p(i + 1)).join(', ')}) ORDER BY day, lead_source, setting_version, decided_by`,
            days,
          )
        ).map((r: any) => normalise(r, [], COUNTER_COLUMNS));
      const zero = { leads_created: 0, qualified: 0, disqualified: 0, accounts_created: 0, contacts_created: 0, opportunities_created: 0 };
      const qualifiedData = (settingVersion: number, decidedBy: string) => ({
        qualificationId: randomUUID(),
        plan: plan(randomUUID(), randomUUID(), randomUUID()),
        decidedBy,
        settingVersion,
        createRecordsByDefault: decidedBy === 'setting',
        qualifiedBy: 'sally',
        qualifiedAt: '1990-01-01T00:00:00.000Z',
        lead: ALL_FIELDS,
      });
      const recordCreated = (type: 'AccountCreated' | 'ContactCreated' | 'OpportunityCreated', leadId: string, at: string) =>
        recorded(
          `${type.replace('Created', '').toLowerCase()}-${randomUUID()}`,
          0,
          type,
          { name: 'x', originatingLeadId: leadId, qualificationId: randomUUID() },
          at,
        );

      it('LeadCreated counts a created lead under its day and source, with no setting version or decision', async () => {
        const day = freshDay();
        const [web, none] = [leadStream(), leadStream()];
        await apply(projection, [
          web.next('LeadCreated', { ...ALL_FIELDS, leadSource: 'Web' }, `${day}T10:00:00.000Z`),
          none.next('LeadCreated', { ...ALL_FIELDS, leadSource: null }, `${day}T23:59:59.999Z`),
        ]);
        expect(await counters(day)).toEqual([
          { day, lead_source: '', setting_version: -1, decided_by: '', ...zero, leads_created: 1 },
          { day, lead_source: 'Web', setting_version: -1, decided_by: '', ...zero, leads_created: 1 },
        ]);
        const marks = await db.query(`SELECT * FROM analytics_leads WHERE lead_id = ${p(1)}`, [web.leadId]);
        expect(marks.map((m: any) => normalise(m, [], ['revision']))).toEqual([
          { lead_id: web.leadId, lead_source: 'Web', revision: 0, setting_version: null, decided_by: null },
        ]);
      });

      it('LeadQualified counts under the source the lead has then (after LeadUpdated), its setting version and decision', async () => {
        const [createdDay, qualifiedDay] = [freshDay(), freshDay()];
        const lead = leadStream();
        await apply(projection, [
          lead.next('LeadCreated', { ...ALL_FIELDS, leadSource: 'Web' }, `${createdDay}T10:00:00.000Z`),
          lead.next('LeadUpdated', { leadSource: 'Partner' }, `${createdDay}T11:00:00.000Z`),
          lead.next('LeadQualified', qualifiedData(7, 'salesperson'), `${qualifiedDay}T12:00:00.000Z`),
        ]);
        expect(await counters(createdDay, qualifiedDay)).toEqual([
          { day: createdDay, lead_source: 'Web', setting_version: -1, decided_by: '', ...zero, leads_created: 1 },
          { day: qualifiedDay, lead_source: 'Partner', setting_version: 7, decided_by: 'salesperson', ...zero, qualified: 1 },
        ]);
      });

      it('LeadDisqualified counts a disqualification under its day and source', async () => {
        const day = freshDay();
        const lead = leadStream();
        await apply(projection, [
          lead.next('LeadCreated', { ...ALL_FIELDS, leadSource: 'Seminar' }, `${day}T10:00:00.000Z`),
          lead.next('LeadDisqualified', { statusReason: 'Lost' }, `${day}T11:00:00.000Z`),
        ]);
        expect(await counters(day)).toEqual([{ day, lead_source: 'Seminar', setting_version: -1, decided_by: '', ...zero, leads_created: 1, disqualified: 1 }]);
      });

      it('AccountCreated, ContactCreated and OpportunityCreated count under the originating lead’s source, setting version and decision', async () => {
        const [createdDay, qualifiedDay, recordsDay] = [freshDay(), freshDay(), freshDay()];
        const lead = leadStream();
        await apply(projection, [
          lead.next('LeadCreated', { ...ALL_FIELDS, leadSource: 'Web' }, `${createdDay}T10:00:00.000Z`),
          lead.next('LeadQualified', qualifiedData(2, 'setting'), `${qualifiedDay}T10:00:00.000Z`),
        ]);
        const records = [
          recordCreated('AccountCreated', lead.leadId, `${recordsDay}T10:00:00.000Z`),
          recordCreated('ContactCreated', lead.leadId, `${recordsDay}T10:00:01.000Z`),
          recordCreated('OpportunityCreated', lead.leadId, `${recordsDay}T10:00:02.000Z`),
        ];
        await apply(projection, records);
        expect(await counters(recordsDay)).toEqual([
          {
            day: recordsDay,
            lead_source: 'Web',
            setting_version: 2,
            decided_by: 'setting',
            ...zero,
            accounts_created: 1,
            contacts_created: 1,
            opportunities_created: 1,
          },
        ]);
        const ids = records.map((r) => r.streamId.slice(r.streamId.indexOf('-') + 1));
        const counted = await db.query(`SELECT record_id FROM analytics_records WHERE record_id IN (${p(1)}, ${p(2)}, ${p(3)})`, ids);
        expect(counted.map((r: any) => r.record_id).sort()).toEqual([...ids].sort());
      });

      it('the same events twice in one batch count once', async () => {
        const day = freshDay();
        const lead = leadStream();
        const created = lead.next('LeadCreated', { ...ALL_FIELDS, leadSource: 'Web' }, `${day}T10:00:00.000Z`);
        const qualified = lead.next('LeadQualified', qualifiedData(1, 'setting'), `${day}T11:00:00.000Z`);
        const account = recordCreated('AccountCreated', lead.leadId, `${day}T12:00:00.000Z`);
        await apply(projection, [created, created, qualified, created, qualified, account, account]);
        expect(await counters(day)).toEqual([
          { day, lead_source: 'Web', setting_version: -1, decided_by: '', ...zero, leads_created: 1 },
          { day, lead_source: 'Web', setting_version: 1, decided_by: 'setting', ...zero, qualified: 1, accounts_created: 1 },
        ]);
      });

      it('the same events again in later batches change no counter', async () => {
        const day = freshDay();
        const lead = leadStream();
        const events = [
          lead.next('LeadCreated', { ...ALL_FIELDS, leadSource: 'Web' }, `${day}T10:00:00.000Z`),
          lead.next('LeadDisqualified', { statusReason: 'Lost' }, `${day}T10:30:00.000Z`),
          lead.next('LeadReactivated', {}, `${day}T10:40:00.000Z`),
          lead.next('LeadQualified', qualifiedData(3, 'salesperson'), `${day}T11:00:00.000Z`),
        ];
        const records = [
          recordCreated('ContactCreated', lead.leadId, `${day}T12:00:00.000Z`),
          recordCreated('OpportunityCreated', lead.leadId, `${day}T12:00:00.000Z`),
        ];
        await apply(projection, [...events, ...records]);
        const before = await counters(day);
        for (const event of [...events, ...records]) await apply(projection, [event]);
        await apply(projection, [...records, ...events]);
        expect(await counters(day)).toEqual(before);
        expect(before).toEqual([
          { day, lead_source: 'Web', setting_version: -1, decided_by: '', ...zero, leads_created: 1, disqualified: 1 },
          { day, lead_source: 'Web', setting_version: 3, decided_by: 'salesperson', ...zero, qualified: 1, contacts_created: 1, opportunities_created: 1 },
        ]);
      });
    });

    // Last: reset() empties the tables every other test of this file wrote to.
    describe('reset()', () => {
      it('empties each projection’s tables', async () => {
        const lead = leadStream();
        const day = '1989-06-01';
        const leadDetails = new LeadDetailsProjection(db);
        const settingHistory = new SettingHistoryProjection(db);
        const analytics = new AnalyticsProjection(db);
        const created = lead.next('LeadCreated', ALL_FIELDS, `${day}T10:00:00.000Z`);
        await apply(leadDetails, [created]);
        await apply(analytics, [
          created,
          recorded(`account-${randomUUID()}`, 0, 'AccountCreated', { originatingLeadId: lead.leadId, qualificationId: randomUUID() }, `${day}T11:00:00.000Z`),
        ]);
        await apply(settingHistory, [
          recorded(
            'settings-qualify-lead',
            999,
            'QualifyLeadSettingUpdated',
            { createRecordsByDefault: false, previousValue: true, version: 1000 },
            `${day}T10:00:00.000Z`,
          ),
        ]);
        const count = async (table: string) => Number((await db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
        const tables = ['lead_details', 'qualify_setting_history', 'qualification_stats_daily', 'analytics_leads', 'analytics_records'];
        for (const table of tables) expect(await count(table)).toBeGreaterThan(0);

        for (const projection of [leadDetails, settingHistory, analytics]) await db.transactionSql((sql) => projection.reset(sql));
        expect(Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(t)])))).toEqual(Object.fromEntries(tables.map((t) => [t, 0])));
      });
    });
  });
}
