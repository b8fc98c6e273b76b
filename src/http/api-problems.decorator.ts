import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';

export class ProblemDto {
  @ApiProperty() type: string;
  @ApiProperty() title: string;
  @ApiProperty() status: number;
  @ApiProperty() detail: string;
  @ApiProperty({ description: 'machine-readable error code (SPEC §8)' }) code: string;
  @ApiProperty({ required: false, description: 'per-field validation errors', type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } })
  errors?: { field: string; message: string }[];
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_FAILED, RECORD_SELECTION_REQUIRED, INVALID_CURSOR',
  401: 'UNAUTHORIZED: missing, malformed, expired or badly signed token',
  403: 'FORBIDDEN: the token lacks the role',
  404: 'NOT_FOUND',
  409: 'LEAD_EXISTS, LEAD_NOT_OPEN, LEAD_ALREADY_OPEN, QUALIFY_SETTING_CHANGED, DUPLICATES_FOUND, CONCURRENCY_CONFLICT',
  412: 'VERSION_MISMATCH',
  413: 'PAYLOAD_TOO_LARGE: body over 100 kB',
  422: 'COMPANY_NAME_REQUIRED, RECORD_NOT_FOUND (with field)',
  503: 'PROJECTION_BEHIND, PROJECTION_REBUILDING, DATABASE_UNAVAILABLE (with Retry-After)',
};

/** Documents the problem+json answers a route can give. */
export const ApiProblems = (...statuses: number[]) =>
  applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status], content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } } }),
    ),
  );
