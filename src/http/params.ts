import { Injectable, type PipeTransform } from '@nestjs/common';
import { DomainError } from '../shared/domain-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id that is not a UUID names nothing that exists: 404, like any other unknown id. */
@Injectable()
export class RecordIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw new DomainError('NOT_FOUND', `no record has the id ${JSON.stringify(value).slice(0, 60)}`);
    return value.toLowerCase();
  }
}

/** If-Match: 3 or If-Match: "3" (an ETag). Absent: undefined. `of` names whose version it is. */
export function parseIfMatch(header: string | undefined, of = 'lead'): number | undefined {
  if (header === undefined || header === '') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) {
    throw new DomainError('VALIDATION_FAILED', `If-Match must be a ${of} version number`, {
      errors: [{ field: 'If-Match', message: 'must be a version number, e.g. 3 or "3"' }],
    });
  }
  return Number(match[1]);
}

/** The ETag of a version: strong and quoted, so that it reads back through parseIfMatch. */
export const versionETag = (version: number): string => `"${version}"`;
