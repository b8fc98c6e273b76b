import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ExportableQueryDto } from '../../http/read-query.dto.js';
import { LEAD_SOURCES, RATINGS } from '../lead.events.js';

export const LEAD_SORTS = ['createdAt', '-createdAt', 'updatedAt', '-updatedAt', 'lastName', '-lastName', 'topic', '-topic'] as const;

export class ListLeadsDto extends ExportableQueryDto {
  @ApiPropertyOptional({ enum: ['Open', 'Qualified', 'Disqualified'] }) @IsOptional() @IsIn(['Open', 'Qualified', 'Disqualified']) status?: string;
  @ApiPropertyOptional({ enum: LEAD_SOURCES }) @IsOptional() @IsIn(LEAD_SOURCES) leadSource?: string;
  @ApiPropertyOptional({ enum: RATINGS }) @IsOptional() @IsIn(RATINGS) rating?: string;
  @ApiPropertyOptional({ description: 'contained in first name, last name, company or email (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601() createdFrom?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'exclusive' }) @IsOptional() @IsISO8601() createdTo?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601() qualifiedFrom?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'exclusive' }) @IsOptional() @IsISO8601() qualifiedTo?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) cursor?: string;
  @ApiPropertyOptional({ enum: LEAD_SORTS, default: '-createdAt' }) @IsOptional() @IsIn(LEAD_SORTS) sort?: (typeof LEAD_SORTS)[number];
}
