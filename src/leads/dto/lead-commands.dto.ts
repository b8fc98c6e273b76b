import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsDefined, IsIn, IsInt, IsUUID, Min, ValidateIf } from 'class-validator';
import { DISQUALIFY_REASONS, OPPORTUNITY_CUSTOMER_TYPES, type DisqualifyReason, type OpportunityCustomerType } from '../lead.events.js';
import { ProblemFieldErrorDto, ProblemSettingDto } from '../../http/api-problems.decorator.js';
import { BodyOptional } from '../../http/validation.js';
import { DuplicateMatchesDto } from '../../http/duplicate-matches.dto.js';
import { OmittableNotNull } from './lead-fields.dto.js';
import { QualificationAcceptedDto, QualificationOutcomeDto } from './qualification-accepted.dto.js';

@BodyOptional()
export class QualifyLeadDto {
  @ApiPropertyOptional({ description: 'required (all three) when the setting is No', example: true }) @OmittableNotNull() @IsBoolean() createAccount?: boolean;
  @ApiPropertyOptional({ example: true }) @OmittableNotNull() @IsBoolean() createContact?: boolean;
  @ApiPropertyOptional({ example: false }) @OmittableNotNull() @IsBoolean() createOpportunity?: boolean;
  @ApiPropertyOptional({ format: 'uuid', description: 'link this account instead of creating one' }) @OmittableNotNull() @IsUUID() existingAccountId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'link this contact instead of creating one' }) @OmittableNotNull() @IsUUID() existingContactId?: string;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    example: 0,
    description: 'the setting version the front-end rendered; 409 QUALIFY_SETTING_CHANGED when stale',
  })
  @OmittableNotNull()
  @IsInt()
  @Min(0)
  expectedSettingVersion?: number;
  @ApiPropertyOptional({ example: false, description: 'create lookalike records anyway (409 DUPLICATES_FOUND otherwise); the event records the override' })
  @OmittableNotNull()
  @IsBoolean()
  ignoreDuplicates?: boolean;
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      "the new opportunity's customer instead of the lead's account (else contact); with opportunityCustomerType. Must name an existing or planned account or contact (422 RECORD_NOT_FOUND). Sets only the opportunity's customer: the account and contact are still linked or created. Ignored when no opportunity is created",
  })
  @CustomerPart('opportunityCustomerType')
  @IsUUID()
  opportunityCustomerId?: string;
  @ApiPropertyOptional({ enum: OPPORTUNITY_CUSTOMER_TYPES, description: 'what opportunityCustomerId names; required with it, and only with it' })
  @CustomerPart('opportunityCustomerId')
  @IsIn(OPPORTUNITY_CUSTOMER_TYPES)
  opportunityCustomerType?: OpportunityCustomerType;
  @ApiPropertyOptional({
    format: 'uuid',
    description: "the new opportunity's currency, stored lower-cased and not checked: this service keeps no currencies. Ignored when no opportunity is created",
  })
  @OmittableNotNull()
  @IsUUID()
  opportunityCurrencyId?: string;
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'the campaign the new opportunity came from, stored lower-cased and not checked: this service keeps no campaigns. Ignored when no opportunity is created',
  })
  @OmittableNotNull()
  @IsUUID()
  sourceCampaignId?: string;
}

/** One of the opportunity customer's two fields: validated when given, and required when the other one is. */
function CustomerPart(other: 'opportunityCustomerId' | 'opportunityCustomerType'): PropertyDecorator {
  return (target, property) => {
    ValidateIf((body: Record<string, unknown>, value) => value !== undefined || body[other] !== undefined)(target, property);
    IsDefined({ message: `${String(property)} is required with ${other}` })(target, property);
  };
}

@BodyOptional()
export class ReactivateLeadDto {
  @ApiPropertyOptional({ description: 'reopen it even when another open lead now has its e-mail (409 DUPLICATES_FOUND otherwise)', example: false })
  @OmittableNotNull()
  @IsBoolean()
  ignoreDuplicates?: boolean;
}

export class DisqualifyLeadDto {
  @ApiProperty({ enum: DISQUALIFY_REASONS, example: 'NoLongerInterested' }) @IsIn(DISQUALIFY_REASONS) statusReason: DisqualifyReason;
}

export class CommandAcceptedDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: 'integer', description: 'stream revision of the lead after the command' }) version: number;
  @ApiProperty({ description: 'global log position of the last event, as a string; pass as minPosition to read your write' }) position: string;
}

export class BulkQualifyLeadsDto extends QualifyLeadDto {
  @ApiProperty({
    type: [String],
    format: 'uuid',
    minItems: 1,
    maxItems: 100,
    example: ['0190a0a4-6b0e-7c39-9c1e-2f6a7d1b9e10', '0190a0a4-6b0f-7d02-8a55-0c4f1e2b3a21'],
  })
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

/** A lead of the bulk request that was qualified: status 202 and the single qualify's answer. */
@ApiSchema({ name: 'BulkQualifyAccepted' })
export class BulkQualifyAcceptedDto extends QualificationAcceptedDto {
  @ApiProperty({ enum: [202], description: 'the status the single qualify would have had' }) status: 202;
}

/** A lead of the bulk request that was qualified and converted within `Prefer: wait=N`: status 200 and its outcome. */
@ApiSchema({ name: 'BulkQualifyConverted' })
export class BulkQualifyConvertedDto extends QualificationOutcomeDto {
  @ApiProperty({ enum: [200], description: 'its conversion ended within the wait (Prefer: wait=N)' }) status: 200;
}

/** A lead of the bulk request that was not: the problem the single qualify would have answered. */
@ApiSchema({ name: 'BulkQualifyFailed' })
export class BulkQualifyFailedDto {
  @ApiProperty({ format: 'uuid' }) leadId: string;
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, description: 'the status the single qualify would have had', example: 409 }) status: number;
  @ApiProperty({ description: 'the problem code', example: 'LEAD_NOT_OPEN' }) code: string;
  @ApiProperty() detail: string;
  @ApiPropertyOptional({ type: [ProblemFieldErrorDto] }) errors?: ProblemFieldErrorDto[];
  @ApiPropertyOptional({ type: 'integer', description: 'CONCURRENCY_CONFLICT: the version now' }) currentVersion?: number;
  @ApiPropertyOptional({ description: 'RECORD_NOT_FOUND: the property naming the missing record' }) field?: string;
  @ApiPropertyOptional({ description: 'RECORD_NOT_FOUND: the id that names no record' }) id?: string;
  @ApiPropertyOptional({ enum: ['Qualified', 'Disqualified'], description: "LEAD_NOT_OPEN: the lead's status" }) leadStatus?: string;
  @ApiPropertyOptional({ type: ProblemSettingDto, description: 'QUALIFY_SETTING_CHANGED, RECORD_SELECTION_REQUIRED: the setting in force' })
  setting?: ProblemSettingDto;
  @ApiPropertyOptional({ type: DuplicateMatchesDto, description: 'DUPLICATES_FOUND: every match' }) duplicates?: DuplicateMatchesDto;
}

@ApiSchema({ name: 'BulkResult' })
@ApiExtraModels(BulkQualifyAcceptedDto, BulkQualifyConvertedDto, BulkQualifyFailedDto)
export class BulkQualifyResultDto {
  @ApiProperty({
    description: 'one per lead id, in request order',
    type: 'array',
    items: {
      oneOf: [{ $ref: getSchemaPath(BulkQualifyAcceptedDto) }, { $ref: getSchemaPath(BulkQualifyConvertedDto) }, { $ref: getSchemaPath(BulkQualifyFailedDto) }],
    },
  })
  results: BulkQualifyOutcome[];
}
