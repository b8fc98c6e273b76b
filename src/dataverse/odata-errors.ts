import { NotFoundException } from '@nestjs/common';
import type { ErrorShape } from '../http/framework-errors.js';
import type { Problem } from '../http/problem.js';

/**
 * Errors of the Dataverse surface (docs/dataverse.md, Errors): `{"error": {"code": "0x…", "message": "…"}}`
 * with `Content-Type: application/json`, the Dataverse error code where Dataverse has one. The
 * service's own errors (DomainError codes, statuses of the HTTP layer) are translated here; errors
 * only this surface raises are ODataError.
 */
export const ODATA_JSON = 'application/json; odata.metadata=minimal; charset=utf-8';

/**
 * Dataverse error codes used here, with their Dataverse names: Microsoft's "Web service error
 * codes" list, else its "Troubleshoot Dataverse Web API client errors" page where that is where
 * the code is documented (docs/dataverse.md, Errors).
 */
export const DATAVERSE_CODES = {
  /** ObjectDoesNotExist: "The specified object was not found." (we say "<entity> With Id = <id> Does Not Exist"). */
  objectDoesNotExist: '0x80040217',
  /** DuplicateRecordsFound: "A record was not created or updated because a duplicate of the current record already exists." */
  duplicateRecordsFound: '0x80040333',
  /** PrivilegeDenied: "The user does not hold the necessary privileges." */
  privilegeDenied: '0x80040220',
  /** AccessTokenExpired: "The requested resource requires authentication." */
  authenticationRequired: '0x8005F101',
  /** InvalidArgument: "Invalid argument." */
  invalidArgument: '0x80040203',
  /** In a query option: "Could not find a property named 'x' on type '…'."; the troubleshooting page shows code 0x0 (no named code). */
  unknownProperty: '0x0',
  /**
   * In a request body: OData's "The property 'x' does not exist on type '…'", which Dataverse
   * answers with 0x80060888 (the code its clients see for a misspelt attribute; not in Microsoft's list).
   */
  unknownBodyProperty: '0x80060888',
  /** "Resource not found for the segment 'x'." (troubleshooting page; not in the list). */
  resourceNotFound: '0x8006088a',
  /** "No HTTP resource was found that matches the request URI": the troubleshooting page shows an empty code. */
  noRoute: '',
  /** DuplicateRecord: "Operation failed due to a SQL integrity violation." (Dataverse's "Cannot insert duplicate key"). */
  duplicateRecord: '0x80040237',
  /** ConcurrencyVersionMismatch: "The version of the existing record doesn't match the RowVersion property provided." */
  versionMismatch: '0x80060882',
  /** ThrottlingBurstRequestLimitExceededError: "Number of requests exceeded the limit of {0} over time window of {1} seconds." */
  rateLimited: '0x80072322',
  /**
   * -2147204783, "SQL timeout expired" in Microsoft's troubleshooting articles (not in the list).
   * Dataverse has no code for QualifyLead's wait running out; clients retry this one as transient.
   */
  timeout: '0x80044151',
  /** UnExpected: "An unexpected error occurred." */
  unexpected: '0x80040216',
} as const;

/**
 * Our error code → the Dataverse code and status this surface answers. The status follows
 * Dataverse except where Dataverse answers 5xx for a client's problem (a duplicate: 409 here, 500
 * there) or the rule is ours alone; docs/dataverse.md lists every difference.
 */
export const ODATA_ERRORS: Readonly<Record<string, { code: string; status: number }>> = {
  VALIDATION_FAILED: { code: DATAVERSE_CODES.invalidArgument, status: 400 },
  INVALID_CURSOR: { code: DATAVERSE_CODES.invalidArgument, status: 400 },
  RECORD_SELECTION_REQUIRED: { code: DATAVERSE_CODES.invalidArgument, status: 400 },
  QUALIFY_SETTING_CHANGED: { code: DATAVERSE_CODES.invalidArgument, status: 400 },
  COMPANY_NAME_REQUIRED: { code: DATAVERSE_CODES.invalidArgument, status: 400 },
  UNAUTHORIZED: { code: DATAVERSE_CODES.authenticationRequired, status: 401 },
  FORBIDDEN: { code: DATAVERSE_CODES.privilegeDenied, status: 403 },
  NOT_FOUND: { code: DATAVERSE_CODES.objectDoesNotExist, status: 404 },
  RECORD_NOT_FOUND: { code: DATAVERSE_CODES.objectDoesNotExist, status: 404 },
  LEAD_EXISTS: { code: DATAVERSE_CODES.duplicateRecord, status: 409 },
  LEAD_NOT_OPEN: { code: DATAVERSE_CODES.invalidArgument, status: 409 },
  LEAD_ALREADY_OPEN: { code: DATAVERSE_CODES.invalidArgument, status: 409 },
  DUPLICATES_FOUND: { code: DATAVERSE_CODES.duplicateRecordsFound, status: 409 },
  CONCURRENCY_CONFLICT: { code: DATAVERSE_CODES.versionMismatch, status: 409 },
  VERSION_MISMATCH: { code: DATAVERSE_CODES.versionMismatch, status: 412 },
  PROJECTION_BEHIND: { code: DATAVERSE_CODES.unexpected, status: 503 },
  PROJECTION_REBUILDING: { code: DATAVERSE_CODES.unexpected, status: 503 },
  DATABASE_UNAVAILABLE: { code: DATAVERSE_CODES.unexpected, status: 503 },
  RATE_LIMITED: { code: DATAVERSE_CODES.rateLimited, status: 429 },
  INTERNAL_ERROR: { code: DATAVERSE_CODES.unexpected, status: 500 },
};

/** An error only the Dataverse surface raises, with its Dataverse code and status. */
export class ODataError extends Error {
  constructor(
    readonly status: number,
    readonly odataCode: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ODataError';
  }
}

export const unknownProperty = (property: string, type: string) =>
  new ODataError(400, DATAVERSE_CODES.unknownProperty, `Could not find a property named '${property}' on type 'Microsoft.Dynamics.CRM.${type}'.`);
/** A body attribute or action parameter the type does not have (the body's wording and code, not the query's). */
export const unknownBodyProperty = (property: string, type: string) =>
  new ODataError(
    400,
    DATAVERSE_CODES.unknownBodyProperty,
    `The property '${property}' does not exist on type 'Microsoft.Dynamics.CRM.${type}'. Make sure to only use property names that are defined by the type.`,
  );
export const invalidArgument = (message: string) => new ODataError(400, DATAVERSE_CODES.invalidArgument, message);
export const resourceNotFound = (segment: string) => new ODataError(404, DATAVERSE_CODES.resourceNotFound, `Resource not found for the segment '${segment}'.`);
export const doesNotExist = (entity: string, id: string) => new ODataError(404, DATAVERSE_CODES.objectDoesNotExist, `${entity} With Id = ${id} Does Not Exist`);

export function odataBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** What a problem (docs/api.md, Errors) becomes on this surface. */
export function fromProblem(problem: Problem): { status: number; body: string } {
  const mapped = ODATA_ERRORS[problem.code];
  const status = mapped?.status ?? problem.status;
  const code =
    mapped?.code ??
    (problem.status === 404 || problem.status === 405
      ? DATAVERSE_CODES.resourceNotFound
      : problem.status >= 500
        ? DATAVERSE_CODES.unexpected
        : DATAVERSE_CODES.invalidArgument);
  return { status, body: odataBody(code, messageOf(problem)) };
}

/** The problem's detail, with the field errors of a validation (named as the client named them). */
function messageOf(problem: Problem): string {
  const errors = problem.errors as { field: string; message: string }[] | undefined;
  if (problem.code === 'VALIDATION_FAILED' && Array.isArray(errors) && errors.length) {
    return errors.map((e) => (e.field && e.field !== 'body' ? `${e.field}: ${e.message}` : e.message)).join('; ');
  }
  return problem.detail;
}

export const ODATA_ERROR_SHAPE: ErrorShape = {
  contentType: ODATA_JSON,
  own(exception) {
    // No route: Nest's not-found handler (another version, a deeper path, another method).
    if (exception instanceof NotFoundException) {
      return { status: 404, body: odataBody(DATAVERSE_CODES.noRoute, 'No HTTP resource was found that matches the request URI.') };
    }
    if (!(exception instanceof ODataError)) return undefined;
    return { status: exception.status, body: odataBody(exception.odataCode, exception.message), headers: exception.headers };
  },
  fromProblem,
  isShaped(body) {
    try {
      const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
      return typeof parsed?.error?.code === 'string' && typeof parsed.error.message === 'string';
    } catch {
      return false;
    }
  },
};

/** Where the Dataverse surface lives; its errors are OData-shaped (any version segment). */
export const DATAVERSE_PREFIX = '/api/data/';
