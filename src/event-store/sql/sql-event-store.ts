import { EventEmitter } from 'node:events';
import type { Database, SqlRunner } from '../../database/database.js';
import {
  ANY,
  NO_STREAM,
  comparePositions,
  START,
  STREAM_EXISTS,
  WrongExpectedRevisionError,
  type AllSubscription,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type RecordedEvent,
  type StreamAppend,
  type SubscriptionPage,
} from '../event-store.port.js';
import { AppendBatches, type QueuedAppend } from './append-batches.js';
import { SqlAllSubscription } from './sql-all-subscription.js';
import { StreamReads } from './stream-reads.js';

/** Arbitrary constant naming the PostgreSQL advisory lock that serialises appends. */
const APPEND_LOCK_KEY = 727_100_001;

/** Events of one PostgreSQL batch: 7 parameters a row stays well under the protocol's 65,535. */
const MAX_BATCH_EVENTS = 2_000;

/** Stream reads at once on PostgreSQL, of the pool's 16 connections; more queue and go together. */
const READS_IN_FLIGHT = 4;

/** An append's outcome; `replayed`: a retry found its events stored already, nothing was written. */
interface Appended extends AppendResult {
  replayed: boolean;
}

interface EventRecordRow {
  global_position: string | number;
  event_id: string;
  stream_id: string;
  stream_revision: number;
  type: string;
  /** Text on SQLite, already parsed JSONB on PostgreSQL. */
  data: string | object;
  metadata: string | EventMetadata;
  created_at: string | Date;
}

/**
 * Event store on the service's SQL database (SQLite or PostgreSQL).
 *
 * Ordering: a reader that follows `global_position > checkpoint` must never see position n+1
 * before n is committed, or it skips n forever. Appends are therefore serialised: on PostgreSQL
 * by a transaction-scoped advisory lock taken before the position is allocated (it is released
 * only at commit), on SQLite by the single writer (BEGIN IMMEDIATE). Position order is commit order.
 */
export class SqlEventStore implements EventStore {
  private readonly appended = new EventEmitter().setMaxListeners(0);
  /** appendToStreams is one transaction. */
  readonly atomicMultiStreamAppends = true;

  /** PostgreSQL: appends that arrive together commit together (append-batches.ts); SQLite's Database groups commits itself. */
  private readonly batches?: AppendBatches<Appended>;

  /** PostgreSQL: stream reads that queue up go together (stream-reads.ts); SQLite reads in process. */
  private readonly reads?: StreamReads<RecordedEvent>;

  constructor(private readonly db: Database) {
    if (db.isSqlite) return;
    this.batches = new AppendBatches(MAX_BATCH_EVENTS, (batch) => this.commitBatch(batch));
    this.reads = new StreamReads(READS_IN_FLIGHT, 500, async (streamIds) =>
      (
        await db.query<EventRecordRow>(
          // One index lookup a stream, whatever the statistics: `stream_id = ANY($1)` on a log without
          // them was planned as a scan of the whole log once the batches grew, and an end-to-end run
          // slowed from 150 to 47 qualifications/s as the log grew.
          'SELECT e.* FROM unnest($1::text[]) AS s(stream_id) CROSS JOIN LATERAL (SELECT * FROM events WHERE events.stream_id = s.stream_id ORDER BY stream_revision) AS e',
          [streamIds],
        )
      ).map(toRecorded),
    );
  }

  async appendToStream(streamId: string, events: NewEvent[], { expectedRevision }: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    const [result] = await this.appendToStreams([{ streamId, events, expectedRevision }]);
    return result;
  }

  /** All or nothing: one transaction, so a conflict on any stream appends nothing anywhere. */
  async appendToStreams(appends: StreamAppend[]): Promise<AppendResult[]> {
    if (appends.length === 0) return [];
    if (appends.some((a) => a.events.length === 0)) throw new Error('an append needs at least one event');
    const results = this.batches ? await this.batches.submit(appends) : await this.appendAlone(appends);
    return results.map(({ nextRevision, position }) => ({ nextRevision, position }));
  }

  async readStream(streamId: string, options: { fromRevision?: number } = {}): Promise<RecordedEvent[]> {
    if (this.reads) return this.reads.read(streamId, options.fromRevision ?? 0);
    const rows: EventRecordRow[] = await this.db.query(
      `SELECT * FROM events WHERE stream_id = ${this.p(1)} AND stream_revision >= ${this.p(2)} ORDER BY stream_revision`,
      [streamId, options.fromRevision ?? 0],
    );
    return rows.map(toRecorded);
  }

  async readAll(after: string, limit: number): Promise<RecordedEvent[]> {
    const rows: EventRecordRow[] = await this.db.query(
      `SELECT * FROM events WHERE global_position > ${this.p(1)} ORDER BY global_position LIMIT ${this.p(2)}`,
      [this.db.isSqlite ? Number(after) : after, limit],
    );
    return rows.map(toRecorded);
  }

  async headPosition(): Promise<string> {
    const rows: { head: string | number | null }[] = await this.db.query('SELECT MAX(global_position) AS head FROM events');
    return rows[0]?.head == null ? START : String(rows[0].head);
  }

  subscribeToAll({ after, eventTypes }: { after: string; eventTypes?: readonly string[] }): AllSubscription {
    return new SqlAllSubscription(this, this.appended, after, eventTypes, !this.db.isSqlite);
  }

  /**
   * The matching events after `after`, at most `limit`, and the position they cover: the head when
   * the page is not full, else its last event. The head is read first and bounds the events: appends
   * are serialised (class comment), so once the head is visible every position below it is
   * committed, and nothing can still appear in the range the page claims to cover.
   */
  async readPage(after: string, limit: number, eventTypes?: readonly string[], sparse = false): Promise<SubscriptionPage> {
    const head = await this.headPosition();
    if (comparePositions(head, after) <= 0) return { events: [], position: after };
    if (eventTypes?.length === 0) return { events: [], position: head };
    const rows = this.db.isSqlite
      ? await this.readPageSqlite(after, head, limit, eventTypes, sparse)
      : await this.readPagePostgres(after, head, limit, eventTypes);
    const events = rows.map(toRecorded);
    return { events, position: events.length > 0 && events.length === limit ? events[events.length - 1].position : head };
  }

  /**
   * SQLite without statistics always picks ix_events_type and sorts the matches of every type in
   * the range: 1.8× slower than walking the log for types that make up most of it (a replay of
   * lead-details), 2× faster for rare ones. The subscription knows which case it is in (`sparse`);
   * the unary + keeps the planner off the index.
   */
  private readPageSqlite(after: string, head: string, limit: number, eventTypes: readonly string[] | undefined, sparse: boolean): Promise<EventRecordRow[]> {
    const typeColumn = sparse ? 'type' : '+type';
    const types = eventTypes ? ` AND ${typeColumn} IN (${eventTypes.map(() => '?').join(', ')})` : '';
    const params = [Number(after), Number(head), ...(eventTypes ?? []), limit];
    return this.db.query<EventRecordRow>(
      `SELECT * FROM events WHERE global_position > ? AND global_position <= ?${types} ORDER BY global_position LIMIT ?`,
      params,
    );
  }

  /**
   * One ordered scan of ix_events_type (type, global_position) per type, each stopping after
   * `limit` rows, merged by position: the page reads at most `limit` rows a type whatever the
   * statistics say. With `type IN (…)` a PostgreSQL without statistics (a freshly loaded table,
   * autovacuum off) fetched and sorted every match after the position (216 ms a page with 500k
   * left, so a replay cost O(N²)), and with statistics a page of rare types walked the primary key
   * filtering tens of thousands of rows (60 ms).
   */
  private readPagePostgres(after: string, head: string, limit: number, eventTypes: readonly string[] | undefined): Promise<EventRecordRow[]> {
    const range = 'global_position > $1 AND global_position <= $2';
    if (!eventTypes) return this.db.query(`SELECT * FROM events WHERE ${range} ORDER BY global_position LIMIT $3`, [after, head, limit]);
    const branches = eventTypes.map((_, i) => `(SELECT * FROM events WHERE type = $${i + 4} AND ${range} ORDER BY global_position LIMIT $3)`);
    const sql = branches.length === 1 ? branches[0].slice(1, -1) : `SELECT * FROM (${branches.join(' UNION ALL ')}) AS page ORDER BY global_position LIMIT $3`;
    return this.db.query(sql, [after, head, limit, ...eventTypes]);
  }

  /** Ends the subscriptions; the database is the caller's to close. */
  async close(): Promise<void> {
    this.appended.emit('closed');
    this.appended.removeAllListeners();
  }

  /** Serialises appends so that position order is commit order (see the class comment). */
  private async lockForAppend(sql: SqlRunner): Promise<void> {
    if (!this.db.isSqlite) await sql('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY]);
  }

  private async appendInTransaction(sql: SqlRunner, { streamId, events, expectedRevision }: StreamAppend) {
    if (events.length === 0) throw new Error('an append needs at least one event');
    // Race-free: appends are serialised (lockForAppend), so nothing moves the stream meanwhile.
    const rows = await sql(`SELECT MAX(stream_revision) AS revision FROM events WHERE stream_id = ${this.p(1)}`, [streamId]);
    const current = rows[0]?.revision == null ? -1 : Number(rows[0].revision);
    if (!matches(expectedRevision, current)) {
      // Not where the client expected: unless this is a retry of an append that already
      // happened (same event ids), it is a conflict.
      const replay = await this.findRetriedAppend(sql, streamId, events);
      if (replay) return replay;
      throw new WrongExpectedRevisionError(streamId, expectedRevision, current);
    }
    return this.insert(sql, streamId, current, events);
  }

  /**
   * Several streams in two statements, one read of their revisions and one INSERT, where stream by
   * stream costs two per stream: a qualification writes five streams and its conversion four. When
   * any stream is not at its expected revision (a conflict, or a retried append), nothing is
   * written here and the caller takes the stream-by-stream path, which sorts out which it is.
   */
  private async appendAllAtOnce(sql: SqlRunner, appends: StreamAppend[]) {
    const streams = appends.map((a) => a.streamId);
    if (new Set(streams).size !== streams.length || appends.some((a) => a.events.length === 0)) return undefined;
    const current = await this.readRevisions(sql, streams);
    const revisions = appends.map((a) => current.get(a.streamId) ?? -1);
    if (appends.some((a, i) => !matches(a.expectedRevision, revisions[i]))) return undefined;
    const inserted = await this.insertRows(
      sql,
      appends.flatMap((a, i) => a.events.map((event, j) => ({ streamId: a.streamId, revision: revisions[i] + 1 + j, event }))),
    );
    return appends.map((a, i) => {
      const last = a.events[a.events.length - 1];
      return { nextRevision: revisions[i] + a.events.length, position: inserted.get(last.id.toLowerCase())!, replayed: false };
    });
  }

  /** One caller's appends in a transaction of their own: the path of SQLite, and of a PostgreSQL batch member that could not go with the others. */
  private async appendAlone(appends: StreamAppend[]): Promise<Appended[]> {
    const results = await this.db
      .transactionSql(async (sql) => {
        await this.lockForAppend(sql);
        const batched = appends.length > 1 ? await this.appendAllAtOnce(sql, appends) : undefined;
        if (batched) return batched;
        const out = [];
        for (const append of appends) out.push(await this.appendInTransaction(sql, append));
        return out;
      })
      .catch(async (error) => {
        // An event id that is already stored, at the expected revision (ANY, or a retry racing the
        // original): answer as the original append did.
        if (!isUniqueViolation(error) || appends.length !== 1) throw error;
        const { streamId, events } = appends[0];
        const replay = await this.db.transactionSql((sql) => this.findRetriedAppend(sql, streamId, events));
        if (replay) return [replay];
        throw error;
      });
    if (results.some((r) => !r.replayed)) this.appended.emit('appended');
    return results;
  }

  /**
   * A PostgreSQL batch (append-batches.ts): the members whose every stream is at its expected
   * revision go in one INSERT; the others (a conflict, a retried append, a stream twice in one
   * append) take appendAlone afterwards, which sorts out which it is. If the batch's transaction
   * fails (an event id stored already, a lost connection, a COMMIT whose outcome is unknown), every
   * member takes appendAlone: a retried append finds its events and answers as the first time did.
   */
  private async commitBatch(batch: QueuedAppend<Appended>[]): Promise<void> {
    let committed: { member: QueuedAppend<Appended>; results: Appended[] }[] = [];
    let alone = batch;
    try {
      await this.db.transactionSql(async (sql) => {
        await this.lockForAppend(sql);
        const simple = batch.filter((m) => new Set(m.appends.map((a) => a.streamId)).size === m.appends.length);
        const current = await this.readRevisions(
          sql,
          simple.flatMap((m) => m.appends.map((a) => a.streamId)),
        );
        const fits = simple.filter((m) => m.appends.every((a) => matches(a.expectedRevision, current.get(a.streamId) ?? -1)));
        const inserted = await this.insertRows(
          sql,
          fits.flatMap((m) =>
            m.appends.flatMap((a) => a.events.map((event, j) => ({ streamId: a.streamId, revision: (current.get(a.streamId) ?? -1) + 1 + j, event }))),
          ),
        );
        committed = fits.map((member) => ({
          member,
          results: member.appends.map((a) => {
            const revision = current.get(a.streamId) ?? -1;
            return { nextRevision: revision + a.events.length, position: inserted.get(a.events[a.events.length - 1].id.toLowerCase())!, replayed: false };
          }),
        }));
        alone = batch.filter((m) => !fits.includes(m));
      });
    } catch {
      committed = [];
      alone = batch;
    }
    if (committed.length) this.appended.emit('appended');
    for (const { member, results } of committed) member.resolve(results);
    for (const member of alone)
      await this.appendAlone(member.appends).then(
        (results) => member.resolve(results),
        (error: unknown) => member.reject(error),
      );
  }

  /** The current revision of each stream that has one. */
  private async readRevisions(sql: SqlRunner, streams: string[]): Promise<Map<string, number>> {
    if (streams.length === 0) return new Map();
    const rows: { stream_id: string; revision: number | string | null }[] = this.db.isSqlite
      ? await sql(
          `SELECT stream_id, MAX(stream_revision) AS revision FROM events WHERE stream_id IN (${streams.map(() => '?').join(', ')}) GROUP BY stream_id`,
          streams,
        )
      : // One index probe a stream whatever the statistics: without them PostgreSQL planned the
        // IN … GROUP BY as a scan of the whole log (490 ms for 1,060 streams at 113k events, 2.7 ms so).
        await sql(
          'SELECT s.stream_id, (SELECT MAX(stream_revision) FROM events e WHERE e.stream_id = s.stream_id) AS revision FROM unnest($1::text[]) AS s(stream_id)',
          [streams],
        );
    return new Map(rows.filter((r) => r.revision != null).map((r) => [r.stream_id, Number(r.revision)]));
  }

  private p(n: number): string {
    return this.db.isSqlite ? '?' : `$${n}`;
  }

  /**
   * A client that retries an append whose answer it lost sends the same event ids again. When
   * those ids are already stored, in this stream and in this order, the append already happened:
   * answer as the first time did instead of appending twice or failing the retry.
   */
  private async findRetriedAppend(sql: SqlRunner, streamId: string, events: NewEvent[]) {
    const rows: EventRecordRow[] = await sql(
      `SELECT global_position, event_id, stream_id, stream_revision FROM events WHERE event_id IN (${events
        .map((_, i) => this.p(i + 1))
        .join(', ')}) ORDER BY global_position`,
      events.map((e) => e.id),
    );
    if (rows.length === 0) return undefined;
    const sameAppend =
      rows.length === events.length &&
      rows.every((r, i) => r.event_id === events[i].id && r.stream_id === streamId && r.stream_revision === rows[0].stream_revision + i);
    if (!sameAppend) {
      throw new Error(`event ids ${rows.map((r) => r.event_id).join(', ')} were already appended elsewhere`);
    }
    const last = rows[rows.length - 1];
    return { nextRevision: Number(last.stream_revision), position: String(last.global_position), replayed: true };
  }

  /** The events of one stream, after revision `current`. */
  private async insert(sql: SqlRunner, streamId: string, current: number, events: NewEvent[]) {
    const inserted = await this.insertRows(
      sql,
      events.map((event, i) => ({ streamId, revision: current + 1 + i, event })),
    );
    return { nextRevision: current + events.length, position: inserted.get(events[events.length - 1].id.toLowerCase())!, replayed: false };
  }

  /** One multi-row INSERT; the position each event got, by event id. */
  private async insertRows(sql: SqlRunner, rows: { streamId: string; revision: number; event: NewEvent }[]): Promise<Map<string, string>> {
    const now = new Date().toISOString();
    const json = this.db.isSqlite ? '' : '::jsonb';
    const params: unknown[] = [];
    // The events of one command share their metadata object: serialise it once.
    const metadata = new Map<object, string>();
    const values = rows.map(({ streamId, revision, event }) => {
      let meta = metadata.get(event.metadata);
      if (meta === undefined) metadata.set(event.metadata, (meta = JSON.stringify(event.metadata)));
      const n = params.push(event.id, streamId, revision, event.type, JSON.stringify(event.data), meta, now) - 7;
      return `(${this.p(n + 1)}, ${this.p(n + 2)}, ${this.p(n + 3)}, ${this.p(n + 4)}, ${this.p(n + 5)}${json}, ${this.p(n + 6)}${json}, ${this.p(n + 7)})`;
    });
    const inserted: { global_position: string | number; event_id: string }[] = await sql(
      `INSERT INTO events (event_id, stream_id, stream_revision, type, data, metadata, created_at) VALUES ${values.join(', ')} RETURNING global_position, event_id`,
      params,
    );
    // PostgreSQL's uuid comes back lower-case: key by the lower-cased id on both sides.
    return new Map(inserted.map((r) => [String(r.event_id).toLowerCase(), String(r.global_position)]));
  }
}

function matches(expected: ExpectedRevision, current: number): boolean {
  return (
    expected === ANY ||
    (expected === NO_STREAM && current === -1) ||
    (expected === STREAM_EXISTS && current >= 0) ||
    (typeof expected === 'number' && expected === current)
  );
}

/** A duplicate event id (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE). */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  const code = e?.code ?? e?.driverError?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function toRecorded(row: EventRecordRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    revision: Number(row.stream_revision),
    position: String(row.global_position),
    data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
    metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as EventMetadata) : row.metadata,
    createdAt: new Date(row.created_at),
  };
}
