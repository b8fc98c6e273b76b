/**
 * Appends realistic lead streams to the service's log through its event store port
 * (EventStore.appendToStreams of src/event-store/sql/sql-event-store.ts, on the service's own
 * Database), for the rebuild and query scenarios: the bench writes no table of the service itself.
 * Every event is produced by the service's own pure deciders and saga steps (lead.decider.ts,
 * lead-conversion.saga.ts, record.decider.ts), so the shapes are exactly what the service appends.
 * Per lead: LeadCreated; 2 % are then qualified (LeadQualified, AccountCreated, ContactCreated,
 * OpportunityCreated, LeadConversionCompleted), 1 % disqualified, 2 % updated (status reason
 * Contacted): 1.13 events per lead (1,000,000 leads: 1,130,000 events).
 * Times spread over the past 365 days. Event, lead and qualification ids are UUIDv7 of the event's
 * time, as the service makes them (a lead created with a client-chosen id keeps that id instead).
 *
 * Appends are batched: one appendToStreams call per block of 1,000 leads (one transaction on the
 * SQL store, ~1,130 events in ~1,060 new streams, each appended at NO_STREAM), timed on their own,
 * which gives the rate of the port's batched append on this database and machine. Each stream's
 * events are contiguous in the log (a lead's, then the records of its qualification, lead by
 * lead); the events themselves, their ids, metadata and times (metadata.at, which the projections
 * read) are those of the generator that wrote rows itself. `events.created_at` is the store's: the
 * time of the append.
 *
 * On PostgreSQL the store reads the revisions of the ~1,060 streams of a call with one index probe
 * a stream; it used `IN (…) GROUP BY`, which without statistics on `events` (autovacuum off) was a
 * scan of the whole log, and 1,000,000 leads took 11.5 min to append, against 5.2 min since on a
 * loaded 2-core host (under a minute on SQLite).
 */
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { DatabaseConfig } from '../src/config/config.js';
import { openDatabase } from '../src/database/database.js';
import { NO_STREAM, type EventStore, type NewEvent, type StreamAppend } from '../src/event-store/event-store.port.js';
import { SqlEventStore } from '../src/event-store/sql/sql-event-store.js';
import { conversionSteps } from '../src/lead-conversion/lead-conversion.saga.js';
import { decideLead, evolveLead, initialLead, type LeadCommand, type LeadState } from '../src/leads/lead.decider.js';
import { leadStream, type LeadEvent, type LeadFields, type LeadQualified } from '../src/leads/lead.events.js';
import { recordStream } from '../src/records/record-kinds.js';
import { decideRecord, initialRecord, type CreateRecord } from '../src/records/record.decider.js';
import { log } from './common.js';
import { leadFields } from './data.js';
import type { EventsTarget } from './lib/databases.js';

export interface GenerateResult {
  leads: number;
  events: number;
  streams: number;
  qualified: number;
  /** Seconds spent inside the appendToStreams calls only. */
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

/** Leads per appendToStreams call (one transaction): ~1,130 events, ~7,900 bound parameters. */
const BLOCK = 1000;

/**
 * The service's event store on the target database, as its EventStoreModule makes it: a Database
 * from openDatabase (which finds the service's migrations applied) and the SQL adapter on it. No
 * entities: the adapter runs plain SQL, and the schema is the migrations' (as in migrateDatabase).
 */
async function openEventStore(target: EventsTarget): Promise<{ store: EventStore; close: () => Promise<void> }> {
  const config: DatabaseConfig = target.kind === 'sqlite' ? { kind: 'sqlite', path: target.path } : { kind: 'postgres', url: target.url };
  const db = await openDatabase(config, []);
  const store = new SqlEventStore(db);
  return {
    store,
    close: async () => {
      await store.close();
      await db.close();
    },
  };
}

const DAY = 86_400_000;

export async function generateEvents(target: EventsTarget, leads: number, deadlineMs: number): Promise<GenerateResult> {
  const { store, close } = await openEventStore(target);
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
  try {
    for (let blockStart = 0; blockStart < leads; blockStart += BLOCK) {
      if (Date.now() > deadlineMs) throw new Error(`event generation exceeded its time bound after ${blockStart} leads`);
      const block: { id: string; events: NewEvent[]; state: LeadState; at: number; i: number }[] = [];
      const end = Math.min(leads, blockStart + BLOCK);
      // 1. every lead of the block is created...
      for (let i = blockStart; i < end; i++) {
        const at = start + i * step;
        // Ids as the service makes them: UUIDv7 of the moment (decider.ts, leads.controller.ts).
        const id = uuidv7({ msecs: at });
        if (i % sampleEvery === 0) sampleLeadIds.push(id);
        const events: NewEvent[] = [];
        const state = decide(events, initialLead, { type: 'CreateLead', leadId: id, fields: leadFields(i, id) }, at, 'sales-rep');
        block.push({ id, events, state, at, i });
      }
      // 2. ...then some are worked on. Each stream is one append at NO_STREAM: the lead's, then
      // the records its qualification created, which must follow its LeadQualified in the log
      // (qualification-analytics counts a record under its lead's source and decision).
      const appends: StreamAppend[] = [];
      for (const lead of block) {
        const at = lead.at + 3_600_000;
        const pick = lead.i % 100;
        const records: StreamAppend[] = [];
        if (pick < 2) {
          qualified++;
          const qualificationId = uuidv7({ msecs: at });
          const afterQualify = decide(
            lead.events,
            lead.state,
            { type: 'QualifyLead', leadId: lead.id, qualificationId, setting: { createRecordsByDefault: true, version: 0 } },
            at,
            'sales-rep',
          );
          // As the saga receives it: the stored event's data, read back from JSON.
          const qualifiedEvent = JSON.parse(JSON.stringify(lead.events[lead.events.length - 1].data)) as LeadQualified['data'];
          const steps = conversionSteps(qualifiedEvent);
          if ((qualified - 1) % searchSampleEvery === 0) samplePrefixes(steps.creates, sampleAccountPrefixes, sampleContactPrefixes);
          steps.creates.forEach((create, k) => {
            const [event] = decideRecord(create, initialRecord);
            records.push({
              streamId: recordStream(create.kind, create.id),
              events: [newEvent(event, at + 50 * (k + 1), 'system:lead-conversion')],
              expectedRevision: NO_STREAM,
            });
          });
          lead.state = decide(lead.events, afterQualify, { type: 'RecordConversionCompleted', ...steps.completed }, at + 200, 'system:lead-conversion');
        } else if (pick === 2) {
          lead.state = decide(lead.events, lead.state, { type: 'DisqualifyLead', leadId: lead.id, statusReason: 'Lost' }, at, 'sales-rep');
        } else if (pick === 3 || pick === 4) {
          lead.state = decide(lead.events, lead.state, { type: 'UpdateLead', leadId: lead.id, changes: { statusReason: 'Contacted' } }, at, 'sales-rep');
        }
        appends.push({ streamId: leadStream(lead.id), events: lead.events, expectedRevision: NO_STREAM }, ...records);
      }
      const t = performance.now();
      await store.appendToStreams(appends);
      eventMs += performance.now() - t;
      for (const a of appends) events += a.events.length;
      streams += appends.length;
      if (Date.now() - lastLog > 3000) {
        lastLog = Date.now();
        log(
          `  generated ${end.toLocaleString('en')} / ${leads.toLocaleString('en')} leads, ${events.toLocaleString('en')} events (${Math.round(events / (eventMs / 1000)).toLocaleString('en')} events/s appending)`,
        );
      }
    }
  } finally {
    await close();
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
 * Creates leads the fast way: their LeadCreated events (from the service's decider) appended to
 * its log through the event store port, next to a running idle service, whose processors pick
 * them up on their next poll. One appendToStreams per BLOCK leads (a transaction each: one
 * statement of them all would pass the databases' limits on bound parameters). Returns the
 * seconds the appends took.
 */
export async function appendLeads(target: EventsTarget, leads: { id: string; fields: LeadFields & { id: string } }[]): Promise<number> {
  const { store, close } = await openEventStore(target);
  const started = performance.now();
  try {
    const now = Date.now();
    for (let blockStart = 0; blockStart < leads.length; blockStart += BLOCK) {
      const appends = leads.slice(blockStart, blockStart + BLOCK).map((lead): StreamAppend => {
        const { id: _id, ...fields } = lead.fields;
        const events: NewEvent[] = [];
        decide(events, initialLead, { type: 'CreateLead', leadId: lead.id, fields }, now, 'bench');
        return { streamId: leadStream(lead.id), events, expectedRevision: NO_STREAM };
      });
      await store.appendToStreams(appends);
    }
  } finally {
    await close();
  }
  return (performance.now() - started) / 1000;
}

/** Decides a lead command on `state` with the service's decider, adds the events to `events`, returns the new state. */
function decide(events: NewEvent[], state: LeadState, command: LeadCommand, at: number, userId: string): LeadState {
  let next = state;
  for (const event of decideLead(command, state, { userId, now: new Date(at) })) {
    next = evolveLead(next, event);
    events.push(newEvent(event, at, userId));
  }
  return next;
}

/** An event as the service appends it: a UUIDv7 id of its time, metadata of a command accepted at `at`. */
function newEvent(event: LeadEvent | { type: string; data: unknown }, at: number, userId: string): NewEvent {
  const correlationId = randomUUID();
  const metadata = { userId, correlationId, causationId: correlationId, at: new Date(at).toISOString() };
  return { id: uuidv7({ msecs: at }), type: event.type, data: event.data as Record<string, unknown>, metadata };
}
