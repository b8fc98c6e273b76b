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
