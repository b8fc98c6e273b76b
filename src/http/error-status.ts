import type { DomainError, DomainErrorCode } from '../shared/domain-error.js';

/**
 * The HTTP status of every domain error code, fixed by the product contract (docs/api.md, Errors;
 * test/error-status.spec.ts holds the two together). It lives at the HTTP edge so that deciders
 * say which rule refused and never how a transport answers; a `Record` over the closed code union
 * so that a code without a status is a compile error rather than a guess at run time.
 */
export const ERROR_STATUS: Readonly<Record<DomainErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  RECORD_SELECTION_REQUIRED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  LEAD_EXISTS: 409,
  LEAD_NOT_OPEN: 409,
  LEAD_ALREADY_OPEN: 409,
  QUALIFY_SETTING_CHANGED: 409,
  DUPLICATES_FOUND: 409,
  CONCURRENCY_CONFLICT: 409,
  NOT_REBUILDABLE: 409,
  // Raised inside the conversion saga only (a record created by another qualification); not in
  // docs/api.md because no request answers with it, but it still needs a status to be a DomainError.
  RECORD_EXISTS: 409,
  VERSION_MISMATCH: 412,
  COMPANY_NAME_REQUIRED: 422,
  RECORD_NOT_FOUND: 422,
  PROJECTION_BEHIND: 503,
  PROJECTION_REBUILDING: 503,
};

/**
 * The status of a domain error, or undefined when its code has none: the type rules that out, but
 * a code forced through a cast must become a logged 500, not an arbitrary 4xx.
 */
export function statusOf(error: DomainError): number | undefined {
  return Object.hasOwn(ERROR_STATUS, error.code) ? ERROR_STATUS[error.code] : undefined;
}
