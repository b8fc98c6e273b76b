import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { Processors } from '../event-store/event-store.module.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { LapsedClaimsProcessor } from './lapsed-claims.processor.js';

/**
 * Keeps the uniqueness claims whole where appends are not atomic: the repair of lapsed claims. (The
 * one-off backfill reads lead and record events, so it lives with the leads: LeadsModule.)
 */
@Module({})
export class UniquenessModule implements OnModuleInit {
  constructor(
    private readonly processors: Processors,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  onModuleInit(): void {
    if (!this.store.atomicMultiStreamAppends) this.processors.register(new LapsedClaimsProcessor(this.store));
  }
}
