import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import { Processors } from '../event-store/event-store.module.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { CreateConversionRecordsHandler } from './lead-conversion.commands.js';
import { LeadConversionProcessor } from './lead-conversion.processor.js';

@Module({ imports: [CqrsModule], providers: [CreateConversionRecordsHandler] })
export class LeadConversionModule implements OnModuleInit {
  constructor(
    private readonly processors: Processors,
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}
  onModuleInit(): void {
    this.processors.register(new LeadConversionProcessor(this.commands, this.store));
  }
}
