import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
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

/**
 * Cursors are opaque and tamper-evident: the content (which list and sort it belongs to, the sort
 * value and id of the last row) carries an HMAC keyed from JWT_SECRET, so a cursor this service
 * did not issue, or issued for another list or sort, is refused instead of steering the query.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    // A key of its own: a leaked cursor key must not sign tokens, nor the token secret be probed through cursors.
    this.key = Buffer.from(hkdfSync('sha256', secret, 'lead-qualification', 'pagination-cursor', 32));
  }

  encode(scope: string, value: unknown, id: string): string {
    const content = Buffer.from(JSON.stringify([scope, value, id])).toString('base64url');
    return `${content}.${this.mac(content).toString('base64url')}`;
  }

  /** `scope` names the list and sort the cursor must have been issued for. */
  decode(scope: string, cursor: string): [unknown, string] {
    const [content, mac, extra] = cursor.split('.');
    if (content && mac && extra === undefined) {
      const given = Buffer.from(mac, 'base64url');
      const expected = this.mac(content);
      if (given.length === expected.length && timingSafeEqual(given, expected)) {
        const parsed: unknown = JSON.parse(Buffer.from(content, 'base64url').toString('utf8'));
        if (
          Array.isArray(parsed) &&
          parsed.length === 3 &&
          parsed[0] === scope &&
          typeof parsed[2] === 'string' &&
          ['string', 'number'].includes(typeof parsed[1])
        ) {
          return [parsed[1], parsed[2]];
        }
      }
    }
    throw new DomainError('INVALID_CURSOR', 'cursor is not one this service issued for this list and sort', {
      errors: [{ field: 'cursor', message: 'invalid cursor' }],
    });
  }

  private mac(content: string): Buffer {
    return createHmac('sha256', this.key).update(content).digest().subarray(0, 16);
  }
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
