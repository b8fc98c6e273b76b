import { ApiProperty, ApiSchema } from '@nestjs/swagger';

/** The answers of the projections routes (projections.controller.ts), for the OpenAPI document. */
@ApiSchema({ name: 'Projection', description: 'A projection or the saga, as this instance sees it.' })
export class ProjectionDto {
  @ApiProperty({ example: 'lead-details' }) name: string;
  @ApiProperty({ enum: ['projection', 'saga'] }) kind: 'projection' | 'saga';
  @ApiProperty({ description: 'the last log position it processed' }) checkpoint: string;
  @ApiProperty({ description: 'the head of the log' }) head: string;
  @ApiProperty({ description: 'positions behind the head' }) lag: string;
  @ApiProperty({
    enum: ['starting', 'running', 'running elsewhere', 'retrying', 'stopped', 'rebuilding'],
    description: 'running elsewhere: another instance holds the lease',
  })
  status: string;
  @ApiProperty({ type: String, nullable: true, description: 'the instance holding the lease' }) owner: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'while rebuilding: the position the replay must reach' }) rebuildTarget: string | null;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'events set aside after failing every attempt' }) deadLetters: number;
  @ApiProperty({ type: String, nullable: true, description: 'the last failure of this instance, while it persists' }) lastError: string | null;
}

@ApiSchema({ name: 'ProjectionList' })
export class ProjectionListDto {
  @ApiProperty({ type: [ProjectionDto] }) items: ProjectionDto[];
  @ApiProperty({ type: String, nullable: true, description: 'always null: the answer is one page' }) nextCursor: string | null;
}

@ApiSchema({ name: 'ProjectionRebuild' })
export class ProjectionRebuildDto {
  @ApiProperty({ example: 'lead-details' }) name: string;
  @ApiProperty({ enum: ['rebuilding'] }) status: 'rebuilding';
  @ApiProperty({ description: 'the head of the log when asked: its queries answer 503 PROJECTION_REBUILDING until the replay reaches it' }) target: string;
}
