import { Module, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Database } from '../database/database.js';
import { Processors } from '../event-store/event-store.module.js';
import { ClaimsBackfill } from './claims-backfill.js';
import { ConversionOutcomes } from './conversion-outcomes.js';
import { ExecuteLeadCommandHandler } from './lead.commands.js';
import { LeadDetailsRow } from './lead-details/lead-details.entity.js';
import { LeadDetailsProjection } from './lead-details/lead-details.projection.js';
import { GetLeadHandler, GetLeadHistoryHandler, ListLeadsHandler } from './lead-details/lead-details.queries.js';
import { LeadQueriesController } from './lead-details/lead-queries.controller.js';
import { LeadsController } from './leads.controller.js';
import { QualificationOutcome } from './qualification-outcome.js';

@Module({
  imports: [CqrsModule, TypeOrmModule.forFeature([LeadDetailsRow])],
  controllers: [LeadsController, LeadQueriesController],
  providers: [ExecuteLeadCommandHandler, GetLeadHandler, ListLeadsHandler, GetLeadHistoryHandler, ConversionOutcomes, QualificationOutcome, ClaimsBackfill],
  // Waiting for a conversion, for the Dataverse surface's QualifyLead.
  exports: [QualificationOutcome],
})
export class LeadsModule implements OnModuleInit {
  constructor(
    private readonly processors: Processors,
    private readonly db: Database,
  ) {}
  onModuleInit(): void {
    this.processors.register(new LeadDetailsProjection(this.db));
  }
}
