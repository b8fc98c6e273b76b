import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsIn, IsNotEmpty, IsNumber, IsString, IsUrl, IsUUID, MaxLength, Min, ValidateIf } from 'class-validator';
import { LEAD_SOURCES, PURCHASE_TIMEFRAMES, RATINGS, type LeadSource, type PurchaseTimeframe, type Rating } from '../lead.events.js';

/** null clears an optional field on update; absent leaves it alone. */
const Nullable = () => ValidateIf((_, value) => value !== null && value !== undefined);
/** May be absent but never null: a required field cannot be cleared (IsOptional would let null through). */
export const OmittableNotNull = () => ValidateIf((_, value) => value !== undefined);
const money = { allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 };

/** The optional lead fields (docs/events.md, Lead fields), shared by create and update. */
export class OptionalLeadFieldsDto {
  @ApiPropertyOptional({ type: String, maxLength: 100, nullable: true, example: 'Ada' }) @Nullable() @IsString() @MaxLength(100) firstName?: string | null;
  @ApiPropertyOptional({ type: String, maxLength: 100, nullable: true, example: 'CTO' }) @Nullable() @IsString() @MaxLength(100) jobTitle?: string | null;
  @ApiPropertyOptional({ type: String, maxLength: 160, nullable: true, example: 'Analytical Engines Ltd' })
  @Nullable()
  @IsString()
  @MaxLength(160)
  companyName?: string | null;
  @ApiPropertyOptional({ type: String, maxLength: 254, format: 'email', nullable: true, example: 'ada@example.com' })
  @Nullable()
  @IsEmail()
  @MaxLength(254)
  email?: string | null;
  @ApiPropertyOptional({ type: String, maxLength: 50, nullable: true, example: '+44 20 7946 0000' }) @Nullable() @IsString() @MaxLength(50) businessPhone?:
    string | null;
  @ApiPropertyOptional({ type: String, maxLength: 50, nullable: true }) @Nullable() @IsString() @MaxLength(50) mobilePhone?: string | null;
  @ApiPropertyOptional({
    type: String,
    maxLength: 200,
    nullable: true,
    description: 'an http(s) URL; the scheme may be left out',
    example: 'https://example.com',
  })
  @Nullable()
  @IsUrl({ require_protocol: false, protocols: ['http', 'https'] })
  @MaxLength(200)
  website?: string | null;
  @ApiPropertyOptional({ type: String, maxLength: 250, nullable: true }) @Nullable() @IsString() @MaxLength(250) street?: string | null;
  @ApiPropertyOptional({ type: String, maxLength: 80, nullable: true }) @Nullable() @IsString() @MaxLength(80) city?: string | null;
  @ApiPropertyOptional({ type: String, maxLength: 50, nullable: true }) @Nullable() @IsString() @MaxLength(50) stateOrProvince?: string | null;
  @ApiPropertyOptional({ type: String, maxLength: 20, nullable: true }) @Nullable() @IsString() @MaxLength(20) postalCode?: string | null;
  @ApiPropertyOptional({ type: String, maxLength: 80, nullable: true }) @Nullable() @IsString() @MaxLength(80) country?: string | null;
  @ApiPropertyOptional({ enum: LEAD_SOURCES, nullable: true, example: 'Web' }) @Nullable() @IsIn(LEAD_SOURCES) leadSource?: LeadSource | null;
  @ApiPropertyOptional({ enum: RATINGS, nullable: true, example: 'Warm' }) @Nullable() @IsIn(RATINGS) rating?: Rating | null;
  @ApiPropertyOptional({ type: Number, minimum: 0, nullable: true, example: 25000 }) @Nullable() @IsNumber(money) @Min(0) budgetAmount?: number | null;
  @ApiPropertyOptional({ type: Number, minimum: 0, nullable: true }) @Nullable() @IsNumber(money) @Min(0) estimatedValue?: number | null;
  @ApiPropertyOptional({ enum: PURCHASE_TIMEFRAMES, nullable: true }) @Nullable() @IsIn(PURCHASE_TIMEFRAMES) purchaseTimeframe?: PurchaseTimeframe | null;
  @ApiPropertyOptional({ type: String, maxLength: 2000, nullable: true }) @Nullable() @IsString() @MaxLength(2000) description?: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) @Nullable() @IsUUID() existingAccountId?: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) @Nullable() @IsUUID() existingContactId?: string | null;
}

export class CreateLeadDto extends OptionalLeadFieldsDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'client-chosen id; a new one is generated when absent' })
  @OmittableNotNull()
  @IsUUID()
  id?: string;

  @ApiProperty({ maxLength: 200, example: '100 laptops' }) @IsString() @IsNotEmpty() @MaxLength(200) topic: string;
  @ApiProperty({ maxLength: 100, example: 'Lovelace' }) @IsString() @IsNotEmpty() @MaxLength(100) lastName: string;
  @ApiPropertyOptional({ description: 'create it even when an open lead has the same e-mail (409 DUPLICATES_FOUND otherwise); the event records the override' })
  @OmittableNotNull()
  @IsBoolean()
  ignoreDuplicates?: boolean;
}

export class UpdateLeadDto extends OptionalLeadFieldsDto {
  @ApiPropertyOptional({ maxLength: 200 }) @OmittableNotNull() @IsString() @IsNotEmpty() @MaxLength(200) topic?: string;
  @ApiPropertyOptional({ maxLength: 100 }) @OmittableNotNull() @IsString() @IsNotEmpty() @MaxLength(100) lastName?: string;
  @ApiPropertyOptional({ enum: ['New', 'Contacted'], example: 'Contacted' }) @OmittableNotNull() @IsIn(['New', 'Contacted']) statusReason?: 'New' | 'Contacted';
  @ApiPropertyOptional({
    description: 'change the e-mail even when another open lead has the same e-mail (409 DUPLICATES_FOUND otherwise); the event records the override',
  })
  @OmittableNotNull()
  @IsBoolean()
  ignoreDuplicates?: boolean;
}
