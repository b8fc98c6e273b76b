/**
 * Writes realistic lead streams straight into the event store's tables (events), for
 * the rebuild and query scenarios. Every event is produced by the service's own pure deciders and
 * saga steps (lead.decider.ts, lead-conversion.saga.ts, record.decider.ts), so the shapes are
 * exactly what the service appends. Per lead: LeadCreated; 2 % are then qualified (LeadQualified,
 * AccountCreated, ContactCreated, OpportunityCreated, LeadConversionCompleted), 1 % disqualified,
 * 2 % updated (status reason Contacted): 1.13 events per lead (1,000,000 leads: 1,130,000 events).
 * Times spread over the past 365 days. Event, lead and qualification ids are UUIDv7 of the event's
 * time, as the service makes them (a lead created with a client-chosen id keeps that id instead).
 *
 * Inserts are batched (one transaction per block of 1,000 leads, ~1,130 events) and timed on their
 * own, which gives the raw batched insert rate of this database on this machine.
 */
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import Database from 'better-sqlite3';
import pg from 'pg';
import { conversionSteps } from '../src/lead-conversion/lead-conversion.saga.js';
import { decideLead, evolveLead, initialLead, type LeadCommand, type LeadState } from '../src/leads/lead.decider.js';
import { leadStream, type LeadEvent } from '../src/leads/lead.events.js';
import { recordStream } from '../src/records/record-kinds.js';
import { decideRecord, initialRecord, type CreateRecord } from '../src/records/record.decider.js';
import { log } from './common.js';
import { leadFields } from './data.js';

type EventRow = [eventId: string, streamId: string, revision: number, type: string, data: string, metadata: string, createdAt: string];

export interface GenerateResult {
  leads: number;
  events: number;
  streams: number;
  qualified: number;
  /** Seconds spent inside the event-insert transactions only. */
  eventInsertSeconds: number;
  eventRowsPerSec: number;
  totalSeconds: number;
  /** Up to ~20,000 lead ids spread over the whole set, for random lookups. */
  sampleLeadIds: string[];
  /** About SEARCH_SAMPLES prefixes of account names (3 characters), spread over the whole set, for GET /accounts?q=. */
  sampleAccountPrefixes: string[];
  /** About SEARCH_SAMPLES prefixes (2–4 characters) of contacts' last names and e-mail local parts, alternately, for GET /contacts?q=. */
  sampleContactPrefixes: string[];
}

const SEARCH_SAMPLES = 200;

/**
 * Search prefixes out of the records a qualification creates, as their tables will hold them.
 * The choices (which field, how long, lower-cased or as written, as people type either) come from
 * the record id's last byte: random, yet the same on every run, and unrelated to the sampling's
 * stride, which would otherwise pick the same few combinations every time.
 */
function samplePrefixes(creates: CreateRecord[], accounts: string[], contacts: string[]): void {
  for (const { kind, id, data } of creates) {
    const r = parseInt(id.slice(-2), 16);
    const cased = (prefix: string) => (r & 1 ? prefix.toLowerCase() : prefix);
    if (kind === 'account' && typeof data.name === 'string') accounts.push(cased(data.name.slice(0, 3)));
    if (kind !== 'contact') continue;
    const source = r & 2 ? data.lastName : typeof data.email === 'string' ? data.email.split('@')[0] : undefined;
    if (typeof source === 'string') contacts.push(cased(source.slice(0, 2 + ((r >> 2) % 3))));
  }
}

interface Sink {
  events(rows: EventRow[]): Promise<void>;
  close(): Promise<void>;
}

function sqliteSink(path: string, cacheMb: number | undefined): Sink {
  const db = new Database(path, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  if (cacheMb) db.pragma(`cache_size = -${cacheMb * 1024}`);
  const insertEvent = db.prepare('INSERT INTO events (event_id, stream_id, stream_revision, type, data, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const events = db.transaction((rows: EventRow[]) => {
    for (const r of rows) insertEvent.run(r);
  });
  return {
    events: async (rows) => void events.immediate(rows),
    close: async () => void db.close(),
  };
}

async function postgresSink(url: string, appendLock = false): Promise<Sink> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const column = (rows: unknown[][], i: number) => rows.map((r) => r[i]);
  return {
    async events(rows) {
      // Next to a running service, take its append lock (sql-event-store.ts) so positions commit in order.
      if (appendLock) await client.query('BEGIN; SELECT pg_advisory_xact_lock(727100001)');
      await client.query(
        `INSERT INTO events (event_id, stream_id, stream_revision, type, data, metadata, created_at)
         SELECT a, b, c, d, e::jsonb, f::jsonb, g::timestamptz
         FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS t(a, b, c, d, e, f, g, n)
         ORDER BY n`,
        [0, 1, 2, 3, 4, 5, 6].map((i) => column(rows, i)),
      );
      if (appendLock) await client.query('COMMIT');
    },
    close: () => client.end(),
  };
}

const DAY = 86_400_000;

export async function generateEvents(
  target: { kind: 'sqlite'; path: string; cacheMb?: number } | { kind: 'postgres'; url: string },
  leads: number,
  deadlineMs: number,
): Promise<GenerateResult> {
  const sink = target.kind === 'sqlite' ? sqliteSink(target.path, target.cacheMb) : await postgresSink(target.url);
  const started = performance.now();
  const start = Date.now() - 365 * DAY;
  const step = (365 * DAY) / leads;
  const sampleEvery = Math.max(1, Math.floor(leads / 20_000));
  const sampleLeadIds: string[] = [];
  // Every so many qualifications (2 % of leads), so that the samples spread over the whole set as
  // the lead ids do. Odd: qualified leads come in pairs (i % 100 = 0, 1) whose names differ, and
  // an even stride would sample only the first of each pair.
  const searchSampleEvery = Math.max(1, Math.floor(leads / 50 / SEARCH_SAMPLES)) | 1;
  const sampleAccountPrefixes: string[] = [];
  const sampleContactPrefixes: string[] = [];
  let events = 0;
  let streams = 0;
  let qualified = 0;
  let eventMs = 0;
  let lastLog = Date.now();
  const BLOCK = 1000;
  try {
    for (let blockStart = 0; blockStart < leads; blockStart += BLOCK) {
      if (Date.now() > deadlineMs) throw new Error(`event generation exceeded its time bound after ${blockStart} leads`);
      const rows: EventRow[] = [];
      const streamRows: [string, number][] = [];
      const states: { id: string; state: LeadState; at: number; i: number }[] = [];
      const end = Math.min(leads, blockStart + BLOCK);
      // 1. every lead of the block is created...
      for (let i = blockStart; i < end; i++) {
        const at = start + i * step;
        // Ids as the service makes them: UUIDv7 of the moment (decider.ts, leads.controller.ts).
        const id = uuidv7({ msecs: at });
        if (i % sampleEvery === 0) sampleLeadIds.push(id);
        const state = append(rows, leadStream(id), initialLead, { type: 'CreateLead', leadId: id, fields: leadFields(i, id) }, at, 'sales-rep');
        states.push({ id, state, at, i });
      }
      // 2. ...then some are worked on.
      for (const lead of states) {
        const stream = leadStream(lead.id);
        const at = lead.at + 3_600_000;
        const pick = lead.i % 100;
        if (pick < 2) {
          qualified++;
          const qualificationId = uuidv7({ msecs: at });
          const afterQualify = append(rows, stream, lead.state, { type: 'QualifyLead', leadId: lead.id, qualificationId, setting: { createRecordsByDefault: true, version: 0 } }, at, 'sales-rep');
          const qualifiedEvent = JSON.parse(rows[rows.length - 1][4]);
          const steps = conversionSteps(qualifiedEvent);
          if ((qualified - 1) % searchSampleEvery === 0) samplePrefixes(steps.creates, sampleAccountPrefixes, sampleContactPrefixes);
          steps.creates.forEach((create, k) => {
            const [event] = decideRecord(create, initialRecord);
            const recordStreamId = recordStream(create.kind, create.id);
            rows.push(row(recordStreamId, 0, event, at + 50 * (k + 1), 'system:lead-conversion'));
            streamRows.push([recordStreamId, 0]);
          });
          lead.state = append(rows, stream, afterQualify, { type: 'RecordConversionCompleted', ...steps.completed }, at + 200, 'system:lead-conversion');
        } else if (pick === 2) {
          lead.state = append(rows, stream, lead.state, { type: 'DisqualifyLead', leadId: lead.id, statusReason: 'Lost' }, at, 'sales-rep');
        } else if (pick === 3 || pick === 4) {
          lead.state = append(rows, stream, lead.state, { type: 'UpdateLead', leadId: lead.id, changes: { statusReason: 'Contacted' } }, at, 'sales-rep');
        }
        streamRows.push([stream, lead.state.revision]);
      }
      let t = performance.now();
      await sink.events(rows);
      eventMs += performance.now() - t;
      events += rows.length;
      streams += streamRows.length;
      if (Date.now() - lastLog > 3000) {
        lastLog = Date.now();
        log(`  generated ${end.toLocaleString('en')} / ${leads.toLocaleString('en')} leads, ${events.toLocaleString('en')} events (${Math.round(events / (eventMs / 1000)).toLocaleString('en')} event rows/s inserting)`);
      }
    }
  } finally {
    await sink.close();
  }
  const totalSeconds = (performance.now() - started) / 1000;
  return {
    leads,
    events,
    streams,
    qualified,
    eventInsertSeconds: eventMs / 1000,
    eventRowsPerSec: Math.round(events / (eventMs / 1000)),
    totalSeconds,
    sampleLeadIds,
    sampleAccountPrefixes,
    sampleContactPrefixes,
  };
}

/**
 * Creates leads the fast way: their LeadCreated events (from the service's decider) appended
 * straight to the log, in one transaction, next to a running idle service, whose processors pick
 * them up on their next poll. Returns the seconds the append took.
 */
export async function appendLeads(target: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string }, leads: { id: string; fields: Record<string, unknown> }[]): Promise<number> {
  const sink = target.kind === 'sqlite' ? sqliteSink(target.path, undefined) : await postgresSink(target.url, true);
  const started = performance.now();
  try {
    const rows: EventRow[] = [];
    const now = Date.now();
    for (const lead of leads) {
      const { id: _id, ...fields } = lead.fields;
      append(rows, leadStream(lead.id), initialLead, { type: 'CreateLead', leadId: lead.id, fields: fields as any }, now, 'bench');
    }
    await sink.events(rows);
  } finally {
    await sink.close();
  }
  return (performance.now() - started) / 1000;
}

/** Decides a lead command on `state` with the service's decider, appends the events as rows, returns the new state. */
function append(rows: EventRow[], stream: string, state: LeadState, command: LeadCommand, at: number, userId: string): LeadState {
  const events = decideLead(command, state, { userId, now: new Date(at) });
  let next = state;
  for (const event of events) {
    next = evolveLead(next, event);
    rows.push(row(stream, next.revision, event, at, userId));
  }
  return next;
}

function row(stream: string, revision: number, event: LeadEvent | { type: string; data: unknown }, at: number, userId: string): EventRow {
  const iso = new Date(at).toISOString();
  const correlationId = randomUUID();
  const metadata = { userId, correlationId, causationId: correlationId, at: iso };
  return [uuidv7({ msecs: at }), stream, revision, event.type, JSON.stringify(event.data), JSON.stringify(metadata), iso];
}
