/**
 * The figures of docs/sqlite.md (index builds after a rebuild): a SQLite lead_details filled with N
 * rows as the replay writes them (LeadDetailsProjection#apply, the benchmark's leads), then each of
 * the rebuild's index builds and its reset, timed through Database#buildIndex and transactionSql,
 * while a timer every 5 ms runs `SELECT 1` through the queue: the longest gap between two of its
 * answers is the stall a request met.
 *
 *   node --import tsx bench/index-build-pauses.ts [rows, default 1,000,000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { openDatabase } from '../src/database/database.js';
import { EVENT_STORE_ENTITIES } from '../src/event-store/entities.js';
import type { RecordedEvent } from '../src/event-store/event-store.port.js';
import { LeadDetailsProjection } from '../src/leads/lead-details/lead-details.projection.js';
import { leadFields } from './data.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'index-build-pauses-'));
const db = await openDatabase({ kind: 'sqlite', path: join(dir, 'pauses.sqlite') }, EVENT_STORE_ENTITIES);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
try {
  const projection = new LeadDetailsProjection(db);
  await db.transactionSql((sql) => projection.suspendIndexes(sql));
  const start = Date.now() - 365 * 86_400_000;
  for (let first = 0; first < rows; first += 1000) {
    const events: RecordedEvent[] = [];
    for (let i = first; i < Math.min(rows, first + 1000); i++) {
      const at = start + i * 30_000;
      const leadId = uuidv7({ msecs: at });
      events.push({
        id: uuidv7({ msecs: at }),
        type: 'LeadCreated',
        data: { leadId, ...leadFields(i, leadId) },
        metadata: { userId: 'bench', correlationId: leadId, causationId: leadId, at: new Date(at).toISOString() },
        streamId: `lead-${leadId}`,
        revision: 0,
        position: String(i + 1),
        createdAt: new Date(at),
      });
    }
    await db.transactionSql((sql) => projection.apply(events, sql));
  }
  let probing = true;
  let longest = 0;
  let previous = performance.now();
  const probe = (async () => {
    while (probing) {
      await pause(5);
      await db.query('SELECT 1');
      longest = Math.max(longest, performance.now() - previous);
      previous = performance.now();
    }
  })();
  const timed = async (what: string, work: () => Promise<unknown>) => {
    await pause(50);
    longest = 0;
    const begun = performance.now();
    const cpu = process.cpuUsage();
    await work();
    const ms = performance.now() - begun;
    const { user, system } = process.cpuUsage(cpu);
    await pause(30);
    console.log(`${what.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms (CPU ${((user + system) / 1000).toFixed(0)} ms), longest stall ${longest.toFixed(0)} ms`);
    return ms;
  };
  const builds: number[] = [];
  for (const statement of projection.restoreIndexes()) builds.push(await timed(statement.split(' ')[5], () => db.buildIndex(statement)));
  await timed(`reset (DELETE, then DROP INDEX x${builds.length})`, () =>
    db.transactionSql(async (sql) => {
      await projection.reset(sql);
      await projection.suspendIndexes(sql);
    }),
  );
  probing = false;
  await probe;
  console.log(`${rows} rows: index builds ${builds.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, the longest ${Math.max(...builds).toFixed(0)} ms`);
} finally {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
