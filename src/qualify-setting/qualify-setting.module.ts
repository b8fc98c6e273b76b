import { Module, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Database } from '../database/database.js';
import { Processors } from '../event-store/event-store.module.js';
import { UpdateQualifyLeadSettingHandler } from './qualify-lead-setting.commands.js';
import { QualifyLeadSettingController } from './qualify-lead-setting.controller.js';
import { SettingHistoryRow } from './setting-history/setting-history.entity.js';
import { SettingHistoryProjection } from './setting-history/setting-history.projection.js';
import { GetSettingAsOfHandler, GetSettingHistoryHandler, SettingHistoryController } from './setting-history/setting-history.queries.js';

@Module({
  imports: [CqrsModule, TypeOrmModule.forFeature([SettingHistoryRow])],
  controllers: [QualifyLeadSettingController, SettingHistoryController],
  providers: [UpdateQualifyLeadSettingHandler, GetSettingHistoryHandler, GetSettingAsOfHandler],
})
export class QualifySettingModule implements OnModuleInit {
  constructor(
    private readonly processors: Processors,
    private readonly db: Database,
  ) {}
  onModuleInit(): void {
    this.processors.register(new SettingHistoryProjection(this.db));
  }
}
