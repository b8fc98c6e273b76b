import { ApiProperty, ApiSchema } from '@nestjs/swagger';

/** The answers of GET /analytics/qualifications (analytics.queries.ts), for the OpenAPI document. */
@ApiSchema({ name: 'AnalyticsRow', description: 'The figures of one group.' })
export class AnalyticsRowDto {
  @ApiProperty({
    // null within the string branch: OpenAPI 3.0 has no null type, and nullable needs a type beside it.
    oneOf: [{ type: 'string', nullable: true }, { type: 'integer' }],
    description:
      'day (YYYY-MM-DD), week (its Monday, YYYY-MM-DD), month (YYYY-MM), lead source, decision (strings) or setting version (integer); null: leads created or disqualified, which have no setting version or decision',
    example: '2026-10-05',
  })
  group: string | number | null;
  @ApiProperty({ type: 'integer', minimum: 0 }) leadsCreated: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) qualified: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) disqualified: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) accountsCreated: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) contactsCreated: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) opportunitiesCreated: number;
  @ApiProperty({
    type: Number,
    minimum: 0,
    maximum: 1,
    nullable: true,
    description: 'qualified / (qualified + disqualified), 4 decimals; null when both are 0',
  })
  qualificationRate: number | null;
}

@ApiSchema({ name: 'AnalyticsReport' })
export class AnalyticsReportDto {
  @ApiProperty({ type: [AnalyticsRowDto] }) items: AnalyticsRowDto[];
  @ApiProperty({ type: String, nullable: true, description: 'always null: the answer is one page' }) nextCursor: string | null;
}
