import { Module, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Database } from '../database/database.js';
import { Processors } from '../event-store/event-store.module.js';
import { AnalyticsLeadRow, AnalyticsRecordRow, QualificationStatsDailyRow } from './analytics.entities.js';
import { AnalyticsProjection } from './analytics.projection.js';
import { AnalyticsController, GetQualificationStatsHandler } from './analytics.queries.js';

@Module({
  imports: [CqrsModule, TypeOrmModule.forFeature([QualificationStatsDailyRow, AnalyticsLeadRow, AnalyticsRecordRow])],
  controllers: [AnalyticsController],
  providers: [GetQualificationStatsHandler],
})
export class AnalyticsModule implements OnModuleInit {
  constructor(
    private readonly processors: Processors,
    private readonly db: Database,
  ) {}
  onModuleInit(): void {
    this.processors.register(new AnalyticsProjection(this.db));
  }
}
