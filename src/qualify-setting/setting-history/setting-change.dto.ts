import { ApiProperty, ApiSchema } from '@nestjs/swagger';

/** The answers of the setting-history queries (setting-history.queries.ts), for the OpenAPI document. */
@ApiSchema({ name: 'SettingChange' })
export class SettingChangeDto {
  @ApiProperty({ type: 'integer', minimum: 1, description: 'the setting version this change made' }) version: number;
  @ApiProperty({ description: 'the value from this change on' }) createRecordsByDefault: boolean;
  @ApiProperty({ description: 'the value before' }) previousValue: boolean;
  @ApiProperty({ description: 'the administrator' }) changedBy: string;
  @ApiProperty({ type: String, format: 'date-time' }) changedAt: string;
}

@ApiSchema({ name: 'SettingHistory', description: 'Every change of the setting, oldest first.' })
export class SettingHistoryDto {
  @ApiProperty({ type: [SettingChangeDto] }) items: SettingChangeDto[];
  @ApiProperty({ type: String, nullable: true, description: 'always null: the answer is one page' }) nextCursor: string | null;
}

@ApiSchema({ name: 'SettingAsOf', description: 'The setting in force at a time.' })
export class SettingAsOfDto {
  @ApiProperty() createRecordsByDefault: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, description: '0 before the first change' }) version: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null before the first change' }) changedAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'null before the first change' }) changedBy: string | null;
  @ApiProperty({ type: String, format: 'date-time', description: 'the time asked about, in UTC' }) at: string;
}
