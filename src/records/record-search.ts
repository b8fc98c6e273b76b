import { placeholder, type Dialect } from '../database/sql.js';
import { RECORD_KINDS, type RecordKind } from './record-kinds.js';
import { prefixUpperBound } from './search-keys.js';

export interface RecordSearch {
  /** Normalised (searchPrefix). */
  prefix: string;
  /** The matched key and id of the last row of the previous page. */
  after?: [unknown, string];
  limit: number;
  originatingLeadId?: string;
}

/**
 * Prefix search on a kind's search keys, ordered by the matched key then id; the rows carry the
 * key they matched as `search_key`. One branch per key, each a range scan of that key's index
 * from the cursor on, LIMIT n; a record is listed under the first key that matches (later branches
 * leave out what an earlier one matched), so it appears once and the merged order is a total
 * order a cursor can resume.
 */
export function recordSearchQuery(dialect: Dialect, kind: RecordKind, search: RecordSearch): { sql: string; params: unknown[] } {
  const { prefix, after, limit } = search;
  const upper = prefixUpperBound(prefix);
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return placeholder(dialect, params.length);
  };
  // The indexes are in code point order, the order that bounds a prefix: SQLite's default; on
  // PostgreSQL the columns' collation is linguistic, so each comparison names "C" (as the index does).
  const c = dialect === 'postgres' ? ' COLLATE "C"' : '';
  const inRange = (key: string) => `${key}${c} >= ${p(prefix)}${upper === null ? '' : ` AND ${key}${c} < ${p(upper)}`}`;
  const keys = RECORD_KINDS[kind].searchKeys ?? [];
  const branches = keys.map((key, i) => {
    // After a cursor, its key (never below the prefix: it was issued for this prefix) starts the scan.
    const where = [after ? `${key}${c} >= ${p(after[0])}` : `${key}${c} >= ${p(prefix)}`];
    if (upper !== null) where.push(`${key}${c} < ${p(upper)}`);
    if (after) where.push(`(${key}${c} > ${p(after[0])} OR id${c} > ${p(after[1])})`);
    for (const earlier of keys.slice(0, i)) where.push(`NOT COALESCE(${inRange(earlier)}, FALSE)`);
    if (search.originatingLeadId) where.push(`originating_lead_id = ${p(search.originatingLeadId)}`);
    return `SELECT * FROM (SELECT *, ${key} AS search_key FROM ${RECORD_KINDS[kind].table} WHERE ${where.join(' AND ')} ORDER BY ${key}${c}, id${c} LIMIT ${limit}) b${i}`;
  });
  return { sql: `SELECT * FROM (${branches.join(' UNION ALL ')}) found ORDER BY search_key${c}, id${c} LIMIT ${limit}`, params };
}
