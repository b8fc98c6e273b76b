import { Module, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Database } from '../database/database.js';
import { Processors } from '../event-store/event-store.module.js';
import { AccountRow, ContactRow, OpportunityRow } from './records.entities.js';
import { RecordsProjection } from './records.projection.js';
import { GetRecordHandler, ListRecordsHandler, RECORD_CONTROLLERS } from './records.queries.js';

@Module({
  imports: [CqrsModule, TypeOrmModule.forFeature([AccountRow, ContactRow, OpportunityRow])],
  controllers: RECORD_CONTROLLERS,
  providers: [ListRecordsHandler, GetRecordHandler],
})
export class RecordsModule implements OnModuleInit {
  constructor(
    private readonly processors: Processors,
    private readonly db: Database,
  ) {}
  onModuleInit(): void {
    this.processors.register(new RecordsProjection(this.db));
  }
}
