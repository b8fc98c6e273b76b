/**
 * A wait profile of PostgreSQL, the counterpart of `--count-sql` on SQLite: samples
 * `pg_stat_activity` every 5 ms for the sessions of the databases whose name matches a LIKE
 * pattern and prints, per (state, wait event, statement), the mean number of sessions found so.
 * "idle in transaction | Client:ClientRead" is time the database waited for the service's next
 * statement; "Lock:advisory" waits for the append lock; "CPU:" work in the database itself.
 *
 *   node --import tsx bench/pg-activity.ts 'lq_bench%e2e' 10     # during a bench's e2e scenario
 */
import pg from 'pg';
import { PG_ADMIN_URL } from './lib/databases.js';

const pattern = process.argv[2] ?? 'lq_bench%';
const seconds = Number(process.argv[3] ?? 10);
const client = new pg.Client({ connectionString: PG_ADMIN_URL });
await client.connect();
const counts = new Map<string, number>();
let samples = 0;
let busy = 0;
const end = Date.now() + seconds * 1000;
try {
  while (Date.now() < end) {
    const { rows } = await client.query<{ state: string; wait_event_type: string | null; wait_event: string | null; q: string }>(
      `SELECT state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS q
         FROM pg_stat_activity WHERE datname LIKE $1 AND pid <> pg_backend_pid()`,
      [pattern],
    );
    if (rows.length) samples++;
    for (const r of rows) {
      if (r.state === 'idle') continue;
      busy++;
      const key = `${r.state} | ${r.wait_event_type ?? 'CPU'}:${r.wait_event ?? ''} | ${r.q}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
} finally {
  await client.end();
}
const per = (n: number) => (n / Math.max(samples, 1)).toFixed(3);
console.log(`${samples} samples; sessions not idle, on average: ${per(busy)}`);
for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${per(n).padStart(7)}  ${key}`);
