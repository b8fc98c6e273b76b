import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';

/** Every query takes minPosition (read-your-writes); the interceptor acts on it. */
export class ReadQueryDto {
  @ApiPropertyOptional({ description: 'a position from a command response' }) @IsOptional() @Matches(/^\d{1,20}$/) minPosition?: string;
}

/** A query that can also answer CSV: `?format=csv` for a plain download link, same as `Accept: text/csv`. */
export class ExportableQueryDto extends ReadQueryDto {
  @ApiPropertyOptional({
    enum: ['json', 'csv'],
    description: 'csv: the same as Accept: text/csv (a download link needs no header); json: JSON whatever Accept says',
  })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}
