import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';

/** Whether the client asked for CSV: `?format=csv`, or `Accept: text/csv` unless `?format=json`. */
export function wantsCsv(accept: string | undefined, format?: 'json' | 'csv'): boolean {
  if (format) return format === 'csv';
  return !!accept && /(^|,)\s*text\/csv\b/i.test(accept);
}

/**
 * Whether a spreadsheet could take the cell for a formula (CSV injection): its first character
 * after any blanks and line breaks is one of = + - @ ; or a full-width ＝ ＋ － ＠ (spreadsheets
 * skip the blanks and fold the full-width forms), or it opens with a tab or a line break. Such a
 * cell is prefixed with `'`, which spreadsheets show as text. A plain number stays as it is.
 */
export function readsAsFormula(text: string): boolean {
  if (/^-?\d+(\.\d+)?$/.test(text)) return false;
  return /^[\s\u00a0\u3000]*[=+\-@;\uff1d\uff0b\uff0d\uff20]/.test(text) || /^[\t\r\n]/.test(text);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects took the first branch: String() gets a primitive
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const safe = readsAsFormula(text) ? `'${text}` : text;
  // RFC 4180 quoting.
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Streams rows as CSV page by page, so an export of a million rows never sits in memory. */
export function csvStream<T extends object>(
  columns: readonly (keyof T & string)[],
  pages: AsyncIterable<T[]> | Iterable<T[]>,
  filename: string,
): StreamableFile {
  async function* lines() {
    yield columns.join(',') + '\r\n';
    for await (const page of pages) {
      if (page.length) yield page.map((row) => columns.map((c) => cell(row[c])).join(',')).join('\r\n') + '\r\n';
    }
  }
  return new StreamableFile(Readable.from(lines()), { type: 'text/csv; charset=utf-8', disposition: `attachment; filename="${filename}"` });
}
