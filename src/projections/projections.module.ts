import { Global, Module } from '@nestjs/common';
import { ProjectionGate } from './projection-gate.js';
import { ProjectionsController } from './projections.controller.js';
import { ProjectionPositionInterceptor } from './reads-projections.js';

@Global()
@Module({
  controllers: [ProjectionsController],
  providers: [ProjectionGate, ProjectionPositionInterceptor],
  exports: [ProjectionGate, ProjectionPositionInterceptor],
})
export class ProjectionsModule {}
