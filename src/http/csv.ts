import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';

/** Whether the client asked for CSV (Accept: text/csv). */
export function wantsCsv(accept: string | undefined): boolean {
  return !!accept && /(^|,)\s*text\/csv\b/i.test(accept);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // RFC 4180 quoting; a leading = + - @ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Streams rows as CSV page by page, so an export of a million rows never sits in memory. */
export function csvStream<T extends Record<string, unknown>>(columns: readonly string[], pages: AsyncIterable<T[]>, filename: string): StreamableFile {
  async function* lines() {
    yield columns.join(',') + '\r\n';
    for await (const page of pages) {
      if (page.length) yield page.map((row) => columns.map((c) => cell(row[c])).join(',')).join('\r\n') + '\r\n';
    }
  }
  return new StreamableFile(Readable.from(lines()), { type: 'text/csv; charset=utf-8', disposition: `attachment; filename="${filename}"` });
}
