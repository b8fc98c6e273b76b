import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ExecuteLeadCommandHandler } from './lead.commands.js';
import { LeadsController } from './leads.controller.js';

@Module({ imports: [CqrsModule], controllers: [LeadsController], providers: [ExecuteLeadCommandHandler] })
export class LeadsModule {}
