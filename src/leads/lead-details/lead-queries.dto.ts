import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { LEAD_SOURCES, RATINGS } from '../lead.events.js';

/** Every query takes minPosition (read-your-writes); the interceptor acts on it. */
export class ReadQueryDto {
  @ApiPropertyOptional({ description: 'a position from a command response' }) @IsOptional() @Matches(/^\d{1,20}$/) minPosition?: string;
}

/** A query that can also answer CSV: `?format=csv` for a plain download link, same as `Accept: text/csv`. */
export class ExportableQueryDto extends ReadQueryDto {
  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'csv: the same as Accept: text/csv (a download link needs no header); json: JSON whatever Accept says' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

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
