/**
 * Diagnostic preload for the service process (npm run bench -- --count-sql): counts every SQLite
 * statement the process runs through better-sqlite3 (calls and time, by statement kind and table)
 * and writes the counts to $BENCH_SQL_COUNTS every 250 ms. The service's code is not touched: the
 * native Statement and Database prototypes are wrapped before the service loads.
 *
 *   node --import ./bench/sql-counter.mjs .bench-dist/main.js
 *
 * With BENCH_SQLITE_PRAGMAS set it also applies those pragmas (what-if experiments, see below).
 */
import { createRequire } from 'node:module';
import { renameSync, writeFileSync } from 'node:fs';

const out = process.env.BENCH_SQL_COUNTS;
const require = createRequire(`${process.cwd()}/package.json`);
const Database = require('better-sqlite3');

/** statement kind + table → [calls, total ms] */
const counts = new Map();

const keys = new Map();

/** Statement kind and table of a SQL text (memoised: the hot statements are few and cached). */
function keyOf(sql) {
  let key = keys.get(sql);
  if (key === undefined) {
    key = classify(sql);
    if (keys.size < 10_000) keys.set(sql, key);
  }
  return key;
}

function classify(sql) {
  const s = String(sql).replace(/\s+/g, ' ').trim();
  const m =
    /^(SELECT|INSERT INTO|INSERT OR IGNORE INTO|UPDATE|DELETE FROM|BEGIN( IMMEDIATE| DEFERRED| TRANSACTION)?|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|CREATE|DROP)\b/i.exec(
      s,
    );
  const verb = m ? m[1].toUpperCase() : s.slice(0, 20);
  let table = '';
  if (/^SELECT/i.test(s)) table = (/\bFROM\s+"?([A-Za-z_][\w]*)/i.exec(s) ?? [])[1] ?? '';
  else if (/^(INSERT|UPDATE|DELETE)/i.test(s)) table = (/^(?:INSERT(?: OR IGNORE)? INTO|UPDATE|DELETE FROM)\s+"?([A-Za-z_][\w]*)/i.exec(s) ?? [])[1] ?? '';
  const conflict = /ON CONFLICT/i.test(s) ? ' (upsert)' : '';
  return table ? `${verb} ${table}${conflict}` : verb;
}

function record(key, ms) {
  const c = counts.get(key);
  if (c) {
    c[0]++;
    c[1] += ms;
  } else counts.set(key, [1, ms]);
}

const probe = new Database(':memory:');
const Statement = Object.getPrototypeOf(probe.prepare('SELECT 1'));
for (const method of ['run', 'all', 'get', 'iterate']) {
  const original = Statement[method];
  Statement[method] = function (...args) {
    const t = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      record(keyOf(this.source), performance.now() - t);
    }
  };
}
// What-if experiments only (npm run bench -- --count-sql --sqlite-pragmas "cache_size=-65536"):
// pragmas applied to every connection the service opens, before its first statement. Runs with
// them are marked in the results; they are not the service's settings.
const pragmas = (process.env.BENCH_SQLITE_PRAGMAS ?? '')
  .split(';')
  .map((p) => p.trim())
  .filter(Boolean);
if (pragmas.length) {
  const tuned = new WeakSet();
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (...args) {
    if (!tuned.has(this)) {
      tuned.add(this);
      for (const p of pragmas) prepare.call(this, `PRAGMA ${p}`).run();
    }
    return prepare.apply(this, args);
  };
}

// Prepared statements: how many, how many distinct SQL texts, how long (cached statements hold
// native memory proportional to their size).
const prepared = { calls: 0, distinct: new Set(), chars: 0 };
{
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (sql, ...rest) {
    prepared.calls++;
    if (!prepared.distinct.has(sql)) {
      prepared.distinct.add(sql);
      prepared.chars += String(sql).length;
    }
    return prepare.call(this, sql, ...rest);
  };
}

const exec = Database.prototype.exec;
Database.prototype.exec = function (sql) {
  const t = performance.now();
  try {
    return exec.call(this, sql);
  } finally {
    record(keyOf(sql), performance.now() - t);
  }
};
probe.close();

function dump() {
  if (!out) return;
  const rows = Object.fromEntries(
    [...counts.entries()].sort((a, b) => b[1][1] - a[1][1]).map(([k, [n, ms]]) => [k, { calls: n, ms: Math.round(ms * 10) / 10 }]),
  );
  try {
    // Written aside, then renamed: a reader never sees half a file.
    const m = process.memoryUsage();
    const mb = (n) => Math.round(n / 1048576);
    const memory = {
      rssMb: mb(m.rss),
      heapUsedMb: mb(m.heapUsed),
      heapTotalMb: mb(m.heapTotal),
      externalMb: mb(m.external),
      arrayBuffersMb: mb(m.arrayBuffers),
    };
    const statements = { prepares: prepared.calls, distinctSql: prepared.distinct.size, distinctSqlMb: Math.round((prepared.chars / 1048576) * 10) / 10 };
    writeFileSync(`${out}.tmp`, JSON.stringify({ at: Date.now(), statements: rows, memory, prepared: statements }));
    renameSync(`${out}.tmp`, out);
  } catch {
    // the orchestrator's temp dir is gone: nothing to report to
  }
}
setInterval(dump, 250).unref();
process.on('exit', dump);
