import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { DISQUALIFY_REASONS, LEAD_EVENT_TYPES, LEAD_SOURCES, OPEN_REASONS, PURCHASE_TIMEFRAMES, RATINGS } from '../lead.events.js';
import { QualificationPlanDto } from './qualification-accepted.dto.js';

/**
 * The answers of the lead queries (lead-details/lead-view.ts builds them), for the OpenAPI
 * document: every member is always present, `null` when unset.
 */
const nullableString = (maxLength: number) => ({ type: String, nullable: true, maxLength });
const time = { type: String, format: 'date-time' };

@ApiSchema({ name: 'LeadQualification', description: 'The latest qualification of the lead (kept after reactivation).' })
export class LeadQualificationDto {
  @ApiProperty({ format: 'uuid' }) qualificationId: string;
  @ApiProperty({ type: QualificationPlanDto }) plan: QualificationPlanDto;
  @ApiProperty({ enum: ['setting', 'salesperson'] }) decidedBy: 'setting' | 'salesperson';
  @ApiProperty({ type: 'integer', description: 'the qualify-lead setting version in force' }) settingVersion: number;
  @ApiProperty({ description: 'the setting value in force' }) createRecordsByDefault: boolean;
  @ApiProperty({ description: 'the user who qualified the lead' }) qualifiedBy: string;
  @ApiProperty(time) qualifiedAt: string;
  @ApiProperty({ enum: ['pending', 'completed', 'failed'], description: 'the conversion saga creating the records' }) conversion:
    'pending' | 'completed' | 'failed';
  @ApiProperty({ type: String, nullable: true, description: 'why the conversion failed' }) failureReason: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'the account created or linked, once the conversion completed' }) accountId:
    string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'the contact created or linked, once the conversion completed' }) contactId:
    string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'the opportunity created, once the conversion completed' }) opportunityId:
    string | null;
}

@ApiSchema({ name: 'Lead' })
export class LeadDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ maxLength: 200 }) topic: string;
  @ApiProperty(nullableString(100)) firstName: string | null;
  @ApiProperty({ maxLength: 100 }) lastName: string;
  @ApiProperty(nullableString(100)) jobTitle: string | null;
  @ApiProperty(nullableString(160)) companyName: string | null;
  @ApiProperty(nullableString(254)) email: string | null;
  @ApiProperty(nullableString(50)) businessPhone: string | null;
  @ApiProperty(nullableString(50)) mobilePhone: string | null;
  @ApiProperty(nullableString(200)) website: string | null;
  @ApiProperty(nullableString(250)) street: string | null;
  @ApiProperty(nullableString(80)) city: string | null;
  @ApiProperty(nullableString(50)) stateOrProvince: string | null;
  @ApiProperty(nullableString(20)) postalCode: string | null;
  @ApiProperty(nullableString(80)) country: string | null;
  @ApiProperty({ enum: LEAD_SOURCES, nullable: true }) leadSource: string | null;
  @ApiProperty({ enum: RATINGS, nullable: true }) rating: string | null;
  @ApiProperty({ type: Number, minimum: 0, nullable: true }) budgetAmount: number | null;
  @ApiProperty({ type: Number, minimum: 0, nullable: true }) estimatedValue: number | null;
  @ApiProperty({ enum: PURCHASE_TIMEFRAMES, nullable: true }) purchaseTimeframe: string | null;
  @ApiProperty(nullableString(2000)) description: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) existingAccountId: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) existingContactId: string | null;
  @ApiProperty({ enum: ['Open', 'Qualified', 'Disqualified'] }) status: 'Open' | 'Qualified' | 'Disqualified';
  @ApiProperty({ enum: [...OPEN_REASONS, 'Qualified', ...DISQUALIFY_REASONS] }) statusReason: string;
  @ApiProperty({ type: 'integer', description: "the lead stream's revision (0 after creation); its ETag" }) version: number;
  @ApiProperty(time) createdAt: string;
  @ApiProperty({ description: 'the user who created the lead' }) createdBy: string;
  @ApiProperty(time) updatedAt: string;
  @ApiProperty({ ...time, nullable: true }) disqualifiedAt: string | null;
  @ApiProperty({ type: LeadQualificationDto, nullable: true, description: 'null until the lead is first qualified' })
  qualification: LeadQualificationDto | null;
}

@ApiSchema({ name: 'LeadPage' })
export class LeadPageDto {
  @ApiProperty({ type: [LeadDto] }) items: LeadDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as cursor for the next page; null on the last page' }) nextCursor: string | null;
}

@ApiSchema({ name: 'LeadHistoryEvent' })
export class LeadHistoryEventDto {
  @ApiProperty({ enum: LEAD_EVENT_TYPES }) type: string;
  @ApiProperty({ type: 'integer', description: "the lead stream's revision after this event" }) version: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "the event's data, as docs/events.md describes each type (upcast to the current version)",
  })
  data: Record<string, unknown>;
  @ApiProperty({ description: 'the user whose command caused the event' }) userId: string;
  @ApiProperty() correlationId: string;
  @ApiProperty() causationId: string;
  @ApiProperty({ ...time, description: 'when the command that caused it was accepted' }) time: string;
  @ApiProperty({ description: 'global log position, as a string' }) position: string;
}

@ApiSchema({ name: 'LeadHistory', description: "The lead's events, oldest first, read from the event store." })
export class LeadHistoryDto {
  @ApiProperty({ type: [LeadHistoryEventDto] }) items: LeadHistoryEventDto[];
}
