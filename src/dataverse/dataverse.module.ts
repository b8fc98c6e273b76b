import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { registerErrorShape } from '../http/framework-errors.js';
import { DataverseController } from './dataverse.controller.js';
import { ListLeadsByAttributesHandler } from './lead-filter.query.js';
import { DATAVERSE_PREFIX, ODATA_ERROR_SHAPE } from './odata-errors.js';

/**
 * The Dataverse Web API surface (docs/dataverse.md): /api/data/v9.2/ on the native commands and
 * queries. Every error under /api/data/ is OData-shaped (odata-errors.ts), whoever raises it.
 */
@Module({
  imports: [CqrsModule],
  controllers: [DataverseController],
  providers: [ListLeadsByAttributesHandler],
})
export class DataverseModule {
  constructor() {
    registerErrorShape(DATAVERSE_PREFIX, ODATA_ERROR_SHAPE);
  }
}
