import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ERROR_STATUS } from '../src/http/error-status.js';

/**
 * The code → status table is the only place a domain error gets its HTTP status, so it must agree
 * with the product contract (docs/api.md, Errors) and know every code the sources throw. The type
 * system already rejects a code missing from the table; this catches a wrong status, and a code
 * that reaches `new DomainError` through a cast.
 */

/** Codes that never leave the process over HTTP, hence absent from docs/api.md. */
const NOT_ANSWERED_OVER_HTTP = ['RECORD_EXISTS'];

/** `| 409 | `LEAD_EXISTS` | …` rows of the Errors table. */
function documentedStatuses(): Map<string, number> {
  const doc = readFileSync(resolve('docs/api.md'), 'utf8');
  const errors = doc.slice(doc.indexOf('\n## Errors'), doc.indexOf('\n## ', doc.indexOf('\n## Errors') + 1));
  return new Map([...errors.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)].map(([, status, code]) => [code, Number(status)]));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * Codes passed as a literal first argument to `new DomainError(…)` or to a helper named `…Error(…)`
 * (lead.decider's settingError), in the files that use DomainError.
 */
function thrownCodes(): Map<string, string[]> {
  const codes = new Map<string, string[]>();
  for (const file of sourceFiles(resolve('src'))) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('DomainError')) continue;
    for (const [, code] of text.matchAll(/\b\w*Error\(\s*'([A-Z][A-Z_]*)'/g)) codes.set(code, [...(codes.get(code) ?? []), file]);
  }
  return codes;
}

describe('the code → status table (src/http/error-status.ts)', () => {
  it('gives every code the status docs/api.md lists for it', () => {
    const documented = documentedStatuses();
    expect(documented.size).toBeGreaterThan(20);
    const table = Object.entries(ERROR_STATUS).filter(([code]) => !NOT_ANSWERED_OVER_HTTP.includes(code));
    expect(table.map(([code, status]) => [code, status])).toEqual(table.map(([code]) => [code, documented.get(code)]));
  });

  it('lists a code as internal only if docs/api.md indeed leaves it out', () => {
    const documented = documentedStatuses();
    for (const code of NOT_ANSWERED_OVER_HTTP)
      expect({ code, inTable: code in ERROR_STATUS, documented: documented.has(code) }).toEqual({ code, inTable: true, documented: false });
  });

  it('has a status for every code thrown in src', () => {
    const thrown = thrownCodes();
    expect(thrown.size).toBeGreaterThan(15);
    const missing = [...thrown].filter(([code]) => !(code in ERROR_STATUS)).map(([code, files]) => `${code} (${files.join(', ')})`);
    expect(missing).toEqual([]);
  });
});
