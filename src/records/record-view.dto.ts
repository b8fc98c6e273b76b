import type { Type } from '@nestjs/common';
import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { PURCHASE_TIMEFRAMES } from '../shared/purchase-timeframes.js';
import type { RecordKind } from './record-kinds.js';

/**
 * The records the queries answer (records.queries.ts, toView: `{id, …event fields, createdAt}`),
 * for the OpenAPI document: every member is always present, `null` when unset.
 */
const nullableString = { type: String, nullable: true };
const nullableId = { type: String, format: 'uuid', nullable: true };

class RecordOrigin {
  @ApiProperty({ format: 'uuid', description: 'the lead whose qualification created the record' }) originatingLeadId: string;
  @ApiProperty({ format: 'uuid' }) qualificationId: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
}

@ApiSchema({ name: 'Account' })
export class AccountDto extends RecordOrigin {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: "the lead's company name" }) name: string;
  @ApiProperty(nullableString) website: string | null;
  @ApiProperty(nullableString) telephone: string | null;
  @ApiProperty(nullableString) street: string | null;
  @ApiProperty(nullableString) city: string | null;
  @ApiProperty(nullableString) stateOrProvince: string | null;
  @ApiProperty(nullableString) postalCode: string | null;
  @ApiProperty(nullableString) country: string | null;
  @ApiProperty({ ...nullableId, description: 'the contact the same qualification created or linked' }) primaryContactId: string | null;
}

@ApiSchema({ name: 'Contact' })
export class ContactDto extends RecordOrigin {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty(nullableString) firstName: string | null;
  @ApiProperty() lastName: string;
  @ApiProperty(nullableString) jobTitle: string | null;
  @ApiProperty(nullableString) email: string | null;
  @ApiProperty(nullableString) businessPhone: string | null;
  @ApiProperty(nullableString) mobilePhone: string | null;
  @ApiProperty(nullableString) street: string | null;
  @ApiProperty(nullableString) city: string | null;
  @ApiProperty(nullableString) stateOrProvince: string | null;
  @ApiProperty(nullableString) postalCode: string | null;
  @ApiProperty(nullableString) country: string | null;
  @ApiProperty({ ...nullableId, description: 'the account the same qualification created or linked' }) parentAccountId: string | null;
}

@ApiSchema({ name: 'Opportunity' })
export class OpportunityDto extends RecordOrigin {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: "the lead's topic" }) name: string;
  @ApiProperty({ ...nullableId, description: "the customer given at qualification (opportunityCustomerId), else the lead's account, else its contact" })
  customerId: string | null;
  @ApiProperty({ enum: ['account', 'contact'], nullable: true }) customerType: 'account' | 'contact' | null;
  @ApiProperty(nullableId) parentAccountId: string | null;
  @ApiProperty(nullableId) parentContactId: string | null;
  @ApiProperty({ type: Number, nullable: true }) budgetAmount: number | null;
  @ApiProperty({ type: Number, nullable: true }) estimatedValue: number | null;
  @ApiProperty({ enum: PURCHASE_TIMEFRAMES, nullable: true }) purchaseTimeframe: string | null;
  @ApiProperty(nullableString) description: string | null;
  @ApiProperty({
    ...nullableId,
    description: 'opportunityCurrencyId given at qualification, lower-cased, not checked (this service keeps no currencies); null when none was given',
  })
  currencyId: string | null;
  @ApiProperty({
    ...nullableId,
    description: 'sourceCampaignId given at qualification, lower-cased, not checked (this service keeps no campaigns); null when none was given',
  })
  sourceCampaignId: string | null;
  @ApiProperty({ example: 'Open', description: 'Open when created' }) status: string;
}

@ApiSchema({ name: 'AccountPage' })
export class AccountPageDto {
  @ApiProperty({ type: [AccountDto] }) items: AccountDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as cursor for the next page; null on the last page' }) nextCursor: string | null;
}

@ApiSchema({ name: 'ContactPage' })
export class ContactPageDto {
  @ApiProperty({ type: [ContactDto] }) items: ContactDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as cursor for the next page; null on the last page' }) nextCursor: string | null;
}

@ApiSchema({ name: 'OpportunityPage' })
export class OpportunityPageDto {
  @ApiProperty({ type: [OpportunityDto] }) items: OpportunityDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as cursor for the next page; null on the last page' }) nextCursor: string | null;
}

/** Each kind's record and page, for its controller's documented answers. */
export const RECORD_VIEWS: Record<RecordKind, { record: Type<unknown>; page: Type<unknown> }> = {
  account: { record: AccountDto, page: AccountPageDto },
  contact: { record: ContactDto, page: ContactPageDto },
  opportunity: { record: OpportunityDto, page: OpportunityPageDto },
};
