import { DomainError } from '../shared/domain-error.js';
import { placeholder, type Dialect } from '../database/sql.js';

/**
 * Keyset pagination: the cursor is the sort value and id of the last row of a page, so a page
 * costs one index range scan however deep it is, and rows inserted meanwhile shift nothing.
 */
export interface Sort {
  column: string;
  descending: boolean;
}

export function encodeCursor(value: unknown, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

export function decodeCursor(cursor: string): [unknown, string] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[1] === 'string' && ['string', 'number'].includes(typeof parsed[0])) {
      return parsed as [unknown, string];
    }
  } catch {
    // fall through
  }
  throw new DomainError(400, 'VALIDATION_FAILED', 'cursor is not one this service issued', { errors: [{ field: 'cursor', message: 'invalid cursor' }] });
}

/** A WHERE fragment builder that numbers placeholders for either dialect. */
export class Where {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];
  constructor(private readonly dialect: Dialect) {}

  add(sql: (p: () => string) => string, ...values: unknown[]): this {
    let i = 0;
    this.clauses.push(sql(() => placeholder(this.dialect, this.params.length + ++i)));
    this.params.push(...values);
    return this;
  }

  after(sort: Sort, cursor: [unknown, string]): this {
    const op = sort.descending ? '<' : '>';
    return this.add((p) => `(${sort.column} ${op} ${p()} OR (${sort.column} = ${p()} AND id ${op} ${p()}))`, cursor[0], cursor[0], cursor[1]);
  }

  toString(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}

export function orderBy(sort: Sort): string {
  const dir = sort.descending ? 'DESC' : 'ASC';
  return `ORDER BY ${sort.column} ${dir}, id ${dir}`;
}
