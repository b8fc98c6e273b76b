import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsUUID, Min } from 'class-validator';
import { DISQUALIFY_REASONS, type DisqualifyReason } from '../lead.events.js';
import { BodyOptional } from '../../http/validation.js';
import { OmittableNotNull } from './lead-fields.dto.js';

@BodyOptional()
export class QualifyLeadDto {
  @ApiPropertyOptional({ description: 'required (all three) when the setting is No' }) @OmittableNotNull() @IsBoolean() createAccount?: boolean;
  @ApiPropertyOptional() @OmittableNotNull() @IsBoolean() createContact?: boolean;
  @ApiPropertyOptional() @OmittableNotNull() @IsBoolean() createOpportunity?: boolean;
  @ApiPropertyOptional({ format: 'uuid' }) @OmittableNotNull() @IsUUID() existingAccountId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @OmittableNotNull() @IsUUID() existingContactId?: string;
  @ApiPropertyOptional({ description: 'the setting version the front-end rendered; 409 QUALIFY_SETTING_CHANGED when stale' })
  @OmittableNotNull()
  @IsInt()
  @Min(0)
  expectedSettingVersion?: number;
  @ApiPropertyOptional() @OmittableNotNull() @IsBoolean() ignoreDuplicates?: boolean;
}

@BodyOptional()
export class ReactivateLeadDto {
  @ApiPropertyOptional({ description: 'reopen it even when another open lead now has its e-mail (409 DUPLICATES_FOUND otherwise)' })
  @OmittableNotNull()
  @IsBoolean()
  ignoreDuplicates?: boolean;
}

export class DisqualifyLeadDto {
  @ApiProperty({ enum: DISQUALIFY_REASONS }) @IsIn(DISQUALIFY_REASONS) statusReason: DisqualifyReason;
}

export class CommandAcceptedDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'stream revision of the lead after the command' }) version: number;
  @ApiProperty({ description: 'global log position of the last event, as a string; pass as minPosition to read your write' }) position: string;
}

export class BulkQualifyLeadsDto extends QualifyLeadDto {
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, maxItems: 100 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  leadIds: string[];
}

export interface BulkQualifyOutcome {
  leadId: string;
  status: number;
  code?: string;
  detail?: string;
  [key: string]: unknown;
}

export class BulkQualifyResultDto {
  @ApiProperty({
    description: 'one per lead id, in request order: {leadId, status, …the single qualify response} or {leadId, status, code, detail}',
    type: 'array',
    items: { type: 'object' },
  })
  results: BulkQualifyOutcome[];
}
