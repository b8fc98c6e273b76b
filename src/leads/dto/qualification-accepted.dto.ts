import { ApiProperty } from '@nestjs/swagger';

class PlannedRecordDto {
  @ApiProperty({ enum: ['create', 'existing', 'none'] }) action: 'create' | 'existing' | 'none';
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) id: string | null;
}

export class QualificationPlanDto {
  @ApiProperty({ type: PlannedRecordDto }) account: PlannedRecordDto;
  @ApiProperty({ type: PlannedRecordDto }) contact: PlannedRecordDto;
  @ApiProperty({ type: PlannedRecordDto }) opportunity: PlannedRecordDto;
}

export class QualificationAcceptedDto {
  @ApiProperty({ format: 'uuid' }) leadId: string;
  @ApiProperty({ format: 'uuid' }) qualificationId: string;
  @ApiProperty({ type: QualificationPlanDto }) plan: QualificationPlanDto;
  @ApiProperty({ enum: ['setting', 'salesperson'] }) decidedBy: 'setting' | 'salesperson';
  @ApiProperty() settingVersion: number;
  @ApiProperty() position: string;
}

/** 200 to a qualify that waited (`Prefer: wait=N`) and saw its conversion end: the records can be read at once. */
export class QualificationOutcomeDto extends QualificationAcceptedDto {
  @ApiProperty({ enum: ['completed', 'failed'] }) conversion: 'completed' | 'failed';
  @ApiProperty({ type: String, nullable: true, description: 'why the conversion failed; null when it completed' }) failureReason: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'the account created or linked' }) accountId: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'the contact created or linked' }) contactId: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'the opportunity created' }) opportunityId: string | null;
}
