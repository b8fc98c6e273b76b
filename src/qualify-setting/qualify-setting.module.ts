import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { UpdateQualifyLeadSettingHandler } from './qualify-lead-setting.commands.js';
import { QualifyLeadSettingController } from './qualify-lead-setting.controller.js';

@Module({ imports: [CqrsModule], controllers: [QualifyLeadSettingController], providers: [UpdateQualifyLeadSettingHandler] })
export class QualifySettingModule {}
