/** --count-sql: the SQLite statements the service ran between two marks (written by bench/sql-counter.mjs). */
import { existsSync, readFileSync } from 'node:fs';
import { round, sleep } from '../common.js';
import type { Server } from './servers.js';

export type SqlCounts = Record<string, { calls: number; ms: number }>;

/** The counter's whole file: statements, process memory (heap vs native), prepared statements. */
export interface SqlCounterFile {
  statements: SqlCounts;
  memory?: Record<string, number>;
  prepared?: Record<string, number>;
}

export async function sqlMark(server: Server): Promise<SqlCounts | null> {
  return (await sqlFile(server))?.statements ?? null;
}

export async function sqlFile(server: Server): Promise<SqlCounterFile | null> {
  if (!server.sqlCounts) return null;
  await sleep(400); // the counter writes every 250 ms
  for (let attempt = 0; attempt < 5; attempt++) {
    if (!existsSync(server.sqlCounts)) return { statements: {} };
    try {
      return JSON.parse(readFileSync(server.sqlCounts, 'utf8')) as SqlCounterFile;
    } catch {
      await sleep(100);
    }
  }
  return null;
}

/** Statements (calls and ms) per unit of work between two marks, the costliest first. */
export function sqlPer(before: SqlCounts | null, after: SqlCounts | null, units: number) {
  if (!before || !after || !units) return undefined;
  const rows = Object.entries(after)
    .map(([key, v]) => ({ key, calls: v.calls - (before[key]?.calls ?? 0), ms: v.ms - (before[key]?.ms ?? 0) }))
    .filter((r) => r.calls > 0)
    .sort((a, b) => b.ms - a.ms);
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((n, r) => n + f(r), 0);
  const commits = rows.filter((r) => r.key === 'COMMIT').reduce((n, r) => n + r.calls, 0);
  return {
    units,
    statementsPerUnit: round(sum((r) => r.calls) / units, 2),
    commitsPerUnit: round(commits / units, 2),
    sqliteMsPerUnit: round(sum((r) => r.ms) / units, 3),
    byStatement: Object.fromEntries(rows.slice(0, 20).map((r) => [r.key, { callsPerUnit: round(r.calls / units, 3), msPerUnit: round(r.ms / units, 4) }])),
  };
}

export type SqlPer = ReturnType<typeof sqlPer>;
