import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsUUID, Min } from 'class-validator';
import { DISQUALIFY_REASONS, type DisqualifyReason } from '../lead.events.js';

export class QualifyLeadDto {
  @ApiPropertyOptional({ description: 'required (all three) when the setting is No' }) @IsOptional() @IsBoolean() createAccount?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() createContact?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() createOpportunity?: boolean;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() existingAccountId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() existingContactId?: string;
  @ApiPropertyOptional({ description: 'the setting version the front-end rendered; 409 QUALIFY_SETTING_CHANGED when stale' })
  @IsOptional()
  @IsInt()
  @Min(0)
  expectedSettingVersion?: number;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() ignoreDuplicates?: boolean;
}

export class DisqualifyLeadDto {
  @ApiProperty({ enum: DISQUALIFY_REASONS }) @IsIn(DISQUALIFY_REASONS) statusReason: DisqualifyReason;
}

export class CommandAcceptedDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'stream revision of the lead after the command' }) version: number;
  @ApiProperty({ description: 'global log position of the last event, as a string; pass as minPosition to read your write' }) position: string;
}
