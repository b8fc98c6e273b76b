import Sqlite from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config/config.js';

/** Runs one read-only SQL statement (no parameters) against the service's database. */
export type Sql = (sql: string) => Promise<any[]>;

/** A connection of the test's own to a database a service (maybe another process) writes. */
export async function inspect(config: DatabaseConfig): Promise<{ sql: Sql; close(): Promise<void> }> {
  if (config.kind === 'sqlite') {
    const db = new Sqlite(config.path, { readonly: true, fileMustExist: true, timeout: 10_000 });
    return { sql: async (sql) => db.prepare(sql).all(), close: async () => void db.close() };
  }
  const client = new pg.Client({ connectionString: config.url });
  await client.connect();
  return { sql: async (sql) => (await client.query(sql)).rows, close: () => client.end() };
}

const RECORD_TYPES: Record<string, { kind: 'account' | 'contact' | 'opportunity'; table: string }> = {
  AccountCreated: { kind: 'account', table: 'accounts' },
  ContactCreated: { kind: 'contact', table: 'contacts' },
  OpportunityCreated: { kind: 'opportunity', table: 'opportunities' },
};

export interface ConversionAudit {
  qualifications: number;
  completed: number;
  failed: number;
  /** Qualifications without an outcome yet. */
  pending: number;
  plannedRecords: number;
  recordEvents: number;
  recordRows: number;
  /** Everything that breaks "exactly the planned records, exactly once". Empty when all is well. */
  problems: string[];
}

const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);

/**
 * Compares the whole log and read models with the plans recorded on every LeadQualified: each
 * 'create' exists once as a stream with one creation event and once as a row, with the
 * qualification's id; nothing else was created; each qualification has exactly one outcome.
 * `tolerate` names record ids created outside any plan on purpose (a test's own setup).
 */
export async function auditConversions(sql: Sql, { tolerate = [] as string[] } = {}): Promise<ConversionAudit> {
  const problems: string[] = [];
  const qualified = (await sql(`SELECT data FROM events WHERE type = 'LeadQualified' ORDER BY global_position`)).map((r) => json(r.data));
  const outcomes = await sql(`SELECT type, data FROM events WHERE type IN ('LeadConversionCompleted', 'LeadConversionFailed')`);
  const records = await sql(`SELECT stream_id, type, data FROM events WHERE type IN ('AccountCreated', 'ContactCreated', 'OpportunityCreated')`);

  const planned = new Map<string, { kind: string; qualificationId: string; leadId: string }>();
  for (const q of qualified) {
    for (const kind of ['account', 'contact', 'opportunity'] as const) {
      const step = q.plan[kind];
      if (step.action !== 'create') continue;
      if (planned.has(step.id)) problems.push(`${kind} ${step.id} planned by two qualifications`);
      planned.set(step.id, { kind, qualificationId: q.qualificationId, leadId: q.leadId });
    }
  }

  const outcomesOf = new Map<string, string[]>();
  for (const o of outcomes) {
    const id = json(o.data).qualificationId;
    outcomesOf.set(id, [...(outcomesOf.get(id) ?? []), o.type]);
  }
  let completed = 0;
  let failed = 0;
  let pending = 0;
  for (const q of qualified) {
    const got = outcomesOf.get(q.qualificationId) ?? [];
    if (got.length === 0) pending++;
    if (got.length > 1) problems.push(`qualification ${q.qualificationId} has ${got.length} outcomes: ${got.join(', ')}`);
    if (got[0] === 'LeadConversionCompleted') completed++;
    if (got[0] === 'LeadConversionFailed') failed++;
  }

  const eventsPerStream = new Map<string, number>();
  for (const r of records) {
    const data = json(r.data);
    const { kind } = RECORD_TYPES[r.type];
    eventsPerStream.set(r.stream_id, (eventsPerStream.get(r.stream_id) ?? 0) + 1);
    if (r.stream_id !== `${kind}-${data.id}`) problems.push(`${r.type} of ${data.id} on stream ${r.stream_id}`);
    if (tolerate.includes(data.id)) continue;
    const plan = planned.get(data.id);
    if (!plan) problems.push(`${kind} ${data.id} created but planned by no qualification`);
    else if (plan.kind !== kind || plan.qualificationId !== data.qualificationId || plan.leadId !== data.originatingLeadId) {
      problems.push(`${kind} ${data.id} created for qualification ${data.qualificationId}, planned as ${plan.kind} of ${plan.qualificationId}`);
    }
  }
  for (const [stream, count] of eventsPerStream) if (count !== 1) problems.push(`${stream} has ${count} creation events`);

  let recordRows = 0;
  const rowsPerId = new Map<string, number>();
  for (const { kind, table } of Object.values(RECORD_TYPES)) {
    for (const row of await sql(`SELECT id, qualification_id, originating_lead_id FROM ${table}`)) {
      recordRows++;
      rowsPerId.set(row.id, (rowsPerId.get(row.id) ?? 0) + 1);
      if (tolerate.includes(row.id)) continue;
      const plan = planned.get(row.id);
      if (!plan || plan.kind !== kind || plan.qualificationId !== row.qualification_id) problems.push(`${table} row ${row.id} matches no plan`);
    }
  }
  const outcomeOf = (qualificationId: string) => outcomesOf.get(qualificationId)?.[0];
  for (const [id, plan] of planned) {
    // A failed conversion may have created only some of its records; a completed one all of them.
    if (outcomeOf(plan.qualificationId) !== 'LeadConversionCompleted') continue;
    if (eventsPerStream.get(`${plan.kind}-${id}`) !== 1)
      problems.push(`${plan.kind} ${id} of completed qualification ${plan.qualificationId}: ${eventsPerStream.get(`${plan.kind}-${id}`) ?? 0} creation events`);
    if (rowsPerId.get(id) !== 1) problems.push(`${plan.kind} ${id} of completed qualification ${plan.qualificationId}: ${rowsPerId.get(id) ?? 0} rows`);
  }

  return {
    qualifications: qualified.length,
    completed,
    failed,
    pending,
    plannedRecords: planned.size,
    recordEvents: records.length,
    recordRows,
    problems,
  };
}

/**
 * True once every qualification has an outcome and the records read model has applied every
 * record event: the moment the audit can judge.
 */
export async function conversionsSettled(sql: Sql): Promise<boolean> {
  const [{ qualified: q, outcomes: o }] = await sql(
    `SELECT SUM(CASE WHEN type = 'LeadQualified' THEN 1 ELSE 0 END) AS qualified, SUM(CASE WHEN type <> 'LeadQualified' THEN 1 ELSE 0 END) AS outcomes
       FROM events WHERE type IN ('LeadQualified', 'LeadConversionCompleted', 'LeadConversionFailed')`,
  );
  // Cheap first: fewer outcomes than qualifications means not yet (a qualification has at most one).
  if (Number(o ?? 0) < Number(q ?? 0)) return false;
  const outcomes = new Set(
    (await sql(`SELECT data FROM events WHERE type IN ('LeadConversionCompleted', 'LeadConversionFailed')`)).map((r) => json(r.data).qualificationId),
  );
  const qualified = await sql(`SELECT data FROM events WHERE type = 'LeadQualified'`);
  if (qualified.some((r) => !outcomes.has(json(r.data).qualificationId))) return false;
  const [{ last }] = await sql(`SELECT MAX(global_position) AS last FROM events WHERE type IN ('AccountCreated', 'ContactCreated', 'OpportunityCreated')`);
  if (last === null || last === undefined) return true;
  const rows = await sql(`SELECT position FROM checkpoints WHERE processor = 'customer-records'`);
  return rows.length > 0 && BigInt(rows[0].position) >= BigInt(last);
}
