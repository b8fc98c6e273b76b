import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

const STATUS = { enum: ['up', 'down'] };
const DOWN = { description: 'why it is down' };

@ApiSchema({ name: 'DatabaseCheck' })
export class DatabaseCheckDto {
  @ApiProperty(STATUS) status: 'up' | 'down';
  @ApiPropertyOptional(DOWN) message?: string;
}

@ApiSchema({ name: 'EventStoreCheck' })
export class EventStoreCheckDto {
  @ApiProperty(STATUS) status: 'up' | 'down';
  @ApiPropertyOptional({ description: 'the head of the log' }) head?: string;
  @ApiPropertyOptional(DOWN) message?: string;
}

/** One member per processor (its name) with its state, beside `status`. */
const PROCESSORS = {
  type: 'object' as const,
  properties: { status: { type: 'string' as const, enum: ['up', 'down'] } },
  required: ['status'],
  additionalProperties: { type: 'string' as const, enum: ['starting', 'running', 'standby', 'retrying', 'stopped'] },
  description: "status, and each processor's state by name (down while one is stopped or starting)",
  example: { status: 'up', 'lead-details': 'running', 'lead-conversion': 'standby' },
};

/**
 * The checks of /health/ready as @nestjs/terminus reports them (each present when run). In http/
 * because a 503 NOT_READY problem carries them too (ProblemDetailsDto), and the HTTP edge imports
 * no feature folder.
 */
@ApiSchema({ name: 'ReadinessChecks' })
export class ReadinessChecksDto {
  @ApiPropertyOptional({ type: DatabaseCheckDto }) database?: DatabaseCheckDto;
  @ApiPropertyOptional({ type: EventStoreCheckDto }) eventStore?: EventStoreCheckDto;
  @ApiPropertyOptional(PROCESSORS) processors?: Record<string, string>;
}

/** The 200 of /health/ready (@nestjs/terminus), for the OpenAPI document. */
@ApiSchema({ name: 'Readiness' })
export class ReadinessDto {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
  @ApiProperty({ type: ReadinessChecksDto, description: 'the checks that are up' }) info: ReadinessChecksDto;
  @ApiProperty({ type: ReadinessChecksDto, description: 'the checks that are down: none' }) error: ReadinessChecksDto;
  @ApiProperty({ type: ReadinessChecksDto, description: 'every check' }) details: ReadinessChecksDto;
}
