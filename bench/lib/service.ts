/**
 * The service as the bench sees it: its API (GET /projections), its event store port (LeadCreated
 * events appended through it, next to the idle service) and its documented tables, read only
 * (docs/read-models.md).
 */
import { randomUUID } from 'node:crypto';
import type { LeadFields } from '../../src/leads/lead.events.js';
import { http, log, percentiles, sleep } from '../common.js';
import { leadFields } from '../data.js';
import { appendLeads } from '../generate-events.js';
import { epochClock } from './clock.js';
import { eventsTarget, type Sql, type Target } from './databases.js';
import type { Server } from './servers.js';
import type { Session } from './session.js';

export interface ProjectionItem {
  name: string;
  kind: 'projection' | 'saga';
  checkpoint: string;
  head: string;
  lag: string;
  status: string;
  deadLetters: number;
  rebuildTarget: string | null;
}

export async function projections(session: Session, server: Server, timeoutMs = 120_000): Promise<ProjectionItem[]> {
  const res = await http<{ items: ProjectionItem[] }>('GET', `${server.base}/projections`, { token: session.token, timeoutMs }).catch(async (error: Error) => {
    await sleep(200);
    if (server.child.hasExited()) {
      const { code, signal } = await server.child.exited;
      throw new Error(`${server.child.name} exited (code ${code}, signal ${signal}):\n${server.child.output().slice(-6000)}`);
    }
    throw new Error(`GET /projections failed: ${error?.message}`);
  });
  if (res.status !== 200) throw new Error(`GET /projections answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.items;
}

/**
 * Waits until every processor has lag 0 and `done()` holds, through GET /projections every `pollMs`;
 * returns when it was first seen (to within a poll and a round trip: use waitReadModelsComplete to time an end).
 */
export async function waitCaughtUp(
  session: Session,
  server: Server,
  what: string,
  timeoutMs: number,
  done: () => Promise<boolean> = async () => true,
  pollMs = 50,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: ProjectionItem[] = [];
  let polls = 0;
  while (Date.now() < deadline) {
    polls++;
    last = await projections(session, server);
    if (last.every((p) => p.lag === '0' && p.status === 'running') && (await done())) return Date.now();
    if (polls % Math.round(5000 / pollMs) === 0) log(`  waiting for ${what}: ${last.map((p) => `${p.name} lag ${p.lag}`).join(', ')}`);
    await sleep(pollMs);
  }
  throw new Error(`${what}: not caught up after ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

export interface Completion {
  /** Epoch ms (fractional): the end of the first poll that saw the read models complete. */
  at: number;
  /** The end lies in (at − resolutionMs, at]: from the start of the last poll that saw them incomplete to `at`. */
  resolutionMs: number;
  polls: number;
}

/**
 * Waits until the read models are complete, polling the database directly every `pollMs` (5 ms),
 * so that the moment is known to within a poll and a query rather than to within an HTTP round
 * trip to the service and a coarse interval: the checkpoint of every one of `processors` (the
 * names GET /projections lists: the table may hold rows of processors the service does not run)
 * at the head of the log and none rebuilding (the checkpoints table, docs/read-models.md; the
 * same condition as GET /projections' lag 0), then `done()`. Only the cheap checkpoint query runs
 * while processors lag; `done()` (counts) runs once they do not. Returns when and how precisely it
 * was first seen.
 */
export async function waitReadModelsComplete(
  sql: Sql,
  processors: string[],
  what: string,
  timeoutMs: number,
  done: () => Promise<boolean> = async () => true,
  pollMs = 5,
): Promise<Completion> {
  if (!processors.length) throw new Error(`${what}: no processors to wait for`);
  const names = processors.map(() => '?').join(', ');
  const query = `SELECT (SELECT MAX(global_position) FROM events) AS head,
                        (SELECT MIN(CAST(position AS BIGINT)) FROM checkpoints WHERE processor IN (${names})) AS low,
                        (SELECT COUNT(*) FROM checkpoints WHERE processor IN (${names}) AND rebuild_target IS NOT NULL) AS rebuilding,
                        (SELECT COUNT(*) FROM checkpoints WHERE processor IN (${names})) AS processors`;
  const params = [...processors, ...processors, ...processors];
  const clock = epochClock();
  const deadline = clock.now() + timeoutMs;
  let lastIncompleteStart: number | undefined;
  let polls = 0;
  let lastLog = clock.now();
  let last: { head: number; low: number | null; rebuilding: number; processors: number } | undefined;
  while (clock.now() < deadline) {
    const start = clock.now();
    polls++;
    const [row] = await sql.all<{ head: unknown; low: unknown; rebuilding: unknown; processors: unknown }>(query, params);
    last = {
      head: Number(row.head ?? 0),
      low: row.low == null ? null : Number(row.low),
      rebuilding: Number(row.rebuilding),
      processors: Number(row.processors),
    };
    const caughtUp = last.processors === processors.length && last.rebuilding === 0 && last.low !== null && last.low >= last.head;
    if (caughtUp && (await done())) {
      const end = clock.now();
      return { at: clock.epoch(end), resolutionMs: end - (lastIncompleteStart ?? start), polls };
    }
    lastIncompleteStart = start;
    if (clock.now() - lastLog >= 5000) {
      lastLog = clock.now();
      log(
        `  waiting for ${what}: head ${last.head}, lowest checkpoint ${last.low}, ${last.rebuilding} rebuilding${caughtUp ? '; processors at the head, counts not yet' : ''}`,
      );
    }
    await sleep(Math.max(0, start + pollMs - clock.now()));
  }
  throw new Error(`${what}: read models not complete after ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

export interface LeadPayload {
  id: string;
  body: string;
  fields: LeadFields & { id: string };
}

export function leadPayloads(count: number, offset: number): LeadPayload[] {
  return Array.from({ length: count }, (_, k) => {
    const id = randomUUID();
    const fields = { id, ...leadFields(offset + k, id) };
    return { id, body: JSON.stringify(fields), fields };
  });
}

export interface ReadModelCounts {
  accounts: number;
  contacts: number;
  opportunities: number;
  completed: number;
  leads: number;
}

export async function readModelCounts(sql: Sql): Promise<ReadModelCounts> {
  const [row] = await sql.all(
    `SELECT (SELECT COUNT(*) FROM accounts) AS accounts, (SELECT COUNT(*) FROM contacts) AS contacts, (SELECT COUNT(*) FROM opportunities) AS opportunities,
            (SELECT COUNT(*) FROM lead_details WHERE conversion = 'completed') AS completed, (SELECT COUNT(*) FROM lead_details) AS leads`,
  );
  return {
    accounts: Number(row.accounts),
    contacts: Number(row.contacts),
    opportunities: Number(row.opportunities),
    completed: Number(row.completed),
    leads: Number(row.leads),
  };
}

export async function headPosition(sql: Sql): Promise<number> {
  const [row] = await sql.all('SELECT MAX(global_position) AS head FROM events');
  return Number(row.head ?? 0);
}

/** LeadConversionCompleted.created_at − LeadQualified.created_at per lead, for qualifications in (after, upTo]. */
export async function timeToCompleted(sql: Sql, after: number, upTo: number) {
  // Two range reads joined here: in SQL, a PostgreSQL without statistics planned the lookup of each
  // qualification's completion by walking every completion (minutes at 20,000 leads).
  const qualified = await sql.all<{ stream_id: string; created_at: string | Date }>(
    `SELECT stream_id, created_at FROM events WHERE type = 'LeadQualified' AND global_position > ? AND global_position <= ?`,
    [after, upTo],
  );
  const completions = await sql.all<{ stream_id: string; created_at: string | Date }>(
    `SELECT stream_id, created_at FROM events WHERE type = 'LeadConversionCompleted' AND global_position > ?`,
    [after],
  );
  const completedAt = new Map(completions.map((c) => [c.stream_id, new Date(c.created_at).getTime()]));
  const ms = qualified.flatMap((q) => {
    const at = completedAt.get(q.stream_id);
    return at === undefined ? [] : [at - new Date(q.created_at).getTime()];
  });
  return { qualified: qualified.length, completed: ms.length, ms: percentiles(ms) };
}

/** Leads created beforehand, the fast way: LeadCreated events appended through the event store port, next to the idle service. */
export async function createLeads(
  session: Session,
  server: Server,
  target: Target,
  sql: Sql,
  count: number,
  offset: number,
  totalAfter: number,
): Promise<string[]> {
  const leads = leadPayloads(count, offset);
  const seconds = await appendLeads(eventsTarget(target), leads);
  log(`  appended ${count.toLocaleString('en')} LeadCreated events in ${seconds.toFixed(2)} s; waiting for the projections`);
  await waitCaughtUp(session, server, 'lead creation', 300_000, async () => (await readModelCounts(sql)).leads >= totalAfter);
  return leads.map((l) => l.id);
}

/** Waits until `expected` qualifications are completed and visible: accounts, contacts, opportunities, lead_details. */
export function conversionsVisible(sql: Sql, expected: number) {
  return async () => {
    const c = await readModelCounts(sql);
    return c.accounts >= expected && c.contacts >= expected && c.opportunities >= expected && c.completed >= expected;
  };
}
