import { ApiProperty, ApiSchema } from '@nestjs/swagger';

/**
 * The matches a 409 DUPLICATES_FOUND names (unique-key.events.ts), for the OpenAPI document. In
 * http/ because ProblemDetailsDto names them, and the HTTP edge imports no feature folder.
 */
@ApiSchema({ name: 'AccountMatch' })
export class AccountMatchDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'its record is not created yet (an accepted qualification is creating it)' }) pending: boolean;
}

@ApiSchema({ name: 'ContactMatch' })
export class ContactMatchDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: String, nullable: true }) firstName: string | null;
  @ApiProperty() lastName: string;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
  @ApiProperty() pending: boolean;
}

@ApiSchema({ name: 'LeadMatch' })
export class LeadMatchDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: String, nullable: true }) firstName: string | null;
  @ApiProperty() lastName: string;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
  @ApiProperty({ type: String, nullable: true }) companyName: string | null;
  @ApiProperty() pending: boolean;
}

@ApiSchema({ name: 'DuplicateMatches' })
export class DuplicateMatchesDto {
  @ApiProperty({ type: [AccountMatchDto] }) accounts: AccountMatchDto[];
  @ApiProperty({ type: [ContactMatchDto] }) contacts: ContactMatchDto[];
  @ApiProperty({ type: [LeadMatchDto], description: 'open leads with the e-mail (lead commands)' }) leads: LeadMatchDto[];
}
