import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { registerErrorShape } from '../http/framework-errors.js';
import { LeadsModule } from '../leads/leads.module.js';
import { DataverseLeadsController } from './dataverse-leads.controller.js';
import { DataverseReadsController } from './dataverse-reads.controller.js';
import { ListLeadsByAttributesHandler } from './lead-filter.query.js';
import { DATAVERSE_PREFIX, ODATA_ERROR_SHAPE } from './odata-errors.js';
import { QualifyLeadController } from './qualify-lead.controller.js';

/**
 * The Dataverse Web API surface (docs/dataverse.md): /api/data/v9.2/ on the native commands and
 * queries. Three controllers on the one prefix, by job: reads (`GET :target`), lead writes
 * (`POST`/`PATCH :target`) and QualifyLead (`POST :target/:action`); LeadsModule lends the
 * conversion waiter. Every error under /api/data/ is OData-shaped (odata-errors.ts), whoever
 * raises it.
 */
@Module({
  imports: [CqrsModule, LeadsModule],
  controllers: [DataverseReadsController, DataverseLeadsController, QualifyLeadController],
  providers: [ListLeadsByAttributesHandler],
})
export class DataverseModule {
  constructor() {
    registerErrorShape(DATAVERSE_PREFIX, ODATA_ERROR_SHAPE);
  }
}
