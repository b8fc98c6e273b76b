/**
 * Every error code a refusal can carry (docs/api.md, Errors). A closed union rather than `string`
 * so that a new code without an HTTP status in src/http/error-status.ts fails to compile.
 */
export type DomainErrorCode =
  | 'VALIDATION_FAILED'
  | 'INVALID_CURSOR'
  | 'RECORD_SELECTION_REQUIRED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'LEAD_EXISTS'
  | 'LEAD_NOT_OPEN'
  | 'LEAD_ALREADY_OPEN'
  | 'QUALIFY_SETTING_CHANGED'
  | 'DUPLICATES_FOUND'
  | 'CONCURRENCY_CONFLICT'
  | 'NOT_REBUILDABLE'
  | 'RECORD_EXISTS'
  | 'VERSION_MISMATCH'
  | 'COMPANY_NAME_REQUIRED'
  | 'RECORD_NOT_FOUND'
  | 'PROJECTION_BEHIND'
  | 'PROJECTION_REBUILDING';

/**
 * A rule of the domain or of the API said no. It names the rule (the API's error code, docs/api.md) and not an
 * HTTP status, so that deciders stay free of transport concerns; the problem-details filter picks
 * the status. One error type for every refusal, so that handlers throw and never return error values.
 */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Extra members of the problem document (e.g. the current setting, duplicate matches). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: string) => new DomainError('NOT_FOUND', `${what} ${id} does not exist`);
