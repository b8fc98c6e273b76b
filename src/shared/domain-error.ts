/**
 * A rule of the domain or of the API said no. Carries the HTTP status and the SPEC's error code;
 * the problem-details filter turns it into application/problem+json. One error type for every
 * refusal, so that handlers throw and never return error values.
 */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra members of the problem document (e.g. the current setting, duplicate matches). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: string) => new DomainError(404, 'NOT_FOUND', `${what} ${id} does not exist`);
