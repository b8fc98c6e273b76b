import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { DuplicateMatchesDto } from './duplicate-matches.dto.js';
import { ReadinessChecksDto } from './readiness.dto.js';
import { RATE_LIMIT_HEADERS, RETRY_AFTER_HEADER, type ResponseHeaders } from './api-headers.js';

@ApiSchema({ name: 'ProblemFieldError' })
export class ProblemFieldErrorDto {
  @ApiProperty({ description: 'the body property, query parameter or header at fault ("body" for the body as a whole)', example: 'email' }) field: string;
  @ApiProperty({ example: 'email must be an email' }) message: string;
}

@ApiSchema({ name: 'ProblemSetting' })
export class ProblemSettingDto {
  @ApiProperty() createRecordsByDefault: boolean;
  @ApiProperty({ type: 'integer' }) version: number;
}

/**
 * An error answer, application/problem+json (RFC 9457) with the API's `code` (src/http/problem.ts).
 * The members after `code` are the extensions some codes add (docs/api.md, Errors).
 */
@ApiSchema({ name: 'ProblemDetails' })
export class ProblemDetailsDto {
  @ApiProperty({ format: 'uri', example: 'https://lead-qualification.example/problems/validation-failed' }) type: string;
  @ApiProperty({ description: 'the HTTP reason phrase', example: 'Bad Request' }) title: string;
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400 }) status: number;
  @ApiProperty({ example: 'the request is invalid' }) detail: string;
  @ApiProperty({ description: 'machine-readable error code (docs/api.md, Errors)', example: 'VALIDATION_FAILED' }) code: string;
  @ApiPropertyOptional({ type: [ProblemFieldErrorDto], description: 'VALIDATION_FAILED, INVALID_CURSOR: one per field at fault' })
  errors?: ProblemFieldErrorDto[];
  @ApiPropertyOptional({ type: 'integer', description: 'VERSION_MISMATCH, CONCURRENCY_CONFLICT: the version now (-1: no stream)' }) currentVersion?: number;
  @ApiPropertyOptional({ description: 'RECORD_NOT_FOUND: the property naming the missing record', example: 'existingAccountId' }) field?: string;
  @ApiPropertyOptional({ description: 'RECORD_NOT_FOUND: the id that names no record' }) id?: string;
  @ApiPropertyOptional({ enum: ['Qualified', 'Disqualified'], description: "LEAD_NOT_OPEN: the lead's status" }) leadStatus?: string;
  @ApiPropertyOptional({ type: ProblemSettingDto, description: 'QUALIFY_SETTING_CHANGED, RECORD_SELECTION_REQUIRED: the setting in force' })
  setting?: ProblemSettingDto;
  @ApiPropertyOptional({ type: DuplicateMatchesDto, description: 'DUPLICATES_FOUND: every match' }) duplicates?: DuplicateMatchesDto;
  @ApiPropertyOptional({ description: 'PROJECTION_BEHIND, PROJECTION_REBUILDING: the projection', example: 'lead-details' }) projection?: string;
  @ApiPropertyOptional({ description: 'PROJECTION_BEHIND, PROJECTION_REBUILDING: its checkpoint' }) checkpoint?: string;
  @ApiPropertyOptional({ description: 'PROJECTION_REBUILDING: the position the rebuild must reach' }) target?: string;
  @ApiPropertyOptional({ type: ReadinessChecksDto, description: 'NOT_READY: the checks that are up (Terminus)' }) info?: ReadinessChecksDto;
  @ApiPropertyOptional({ type: ReadinessChecksDto, description: 'NOT_READY: the checks that are down (Terminus)' }) error?: ReadinessChecksDto;
  @ApiPropertyOptional({ type: ReadinessChecksDto, description: 'NOT_READY: every check (Terminus)' }) details?: ReadinessChecksDto;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_FAILED, RECORD_SELECTION_REQUIRED, INVALID_CURSOR',
  401: 'UNAUTHORIZED: missing, malformed, expired or badly signed token',
  403: 'FORBIDDEN: the token lacks the role',
  404: 'NOT_FOUND',
  409: 'LEAD_EXISTS, LEAD_NOT_OPEN, LEAD_ALREADY_OPEN, QUALIFY_SETTING_CHANGED, DUPLICATES_FOUND, CONCURRENCY_CONFLICT, NOT_REBUILDABLE',
  412: 'VERSION_MISMATCH',
  413: 'PAYLOAD_TOO_LARGE: body over 100 kB',
  415: 'UNSUPPORTED_MEDIA_TYPE: a body that is not application/json',
  422: 'COMPANY_NAME_REQUIRED, RECORD_NOT_FOUND (with field)',
  429: 'RATE_LIMITED: too many commands this minute (with Retry-After)',
  503: 'PROJECTION_BEHIND, PROJECTION_REBUILDING, DATABASE_UNAVAILABLE (with Retry-After)',
};

/** Headers that come with some problems. */
const PROBLEM_HEADERS: Record<number, ResponseHeaders> = {
  429: { ...RETRY_AFTER_HEADER, ...RATE_LIMIT_HEADERS },
  503: RETRY_AFTER_HEADER,
};

/** The problem+json answer of `status`, as a response object of the OpenAPI document. */
export const problemResponse = (status: number, description = DESCRIPTIONS[status] ?? '', headers = PROBLEM_HEADERS[status]) => ({
  description,
  ...(headers && Object.keys(headers).length ? { headers } : {}),
  content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDto) } } },
});

/** Documents the problem+json answers a route can give. */
export const ApiProblems = (...statuses: number[]) =>
  applyDecorators(ApiExtraModels(ProblemDetailsDto), ...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) })));
