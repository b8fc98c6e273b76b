import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { Processors } from '../event-store/event-store.module.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { ClaimsBackfill } from './claims-backfill.js';
import { LapsedClaimsProcessor } from './lapsed-claims.processor.js';

/** Keeps the uniqueness claims whole: the one-off backfill, and the repair of lapsed claims where appends are not atomic. */
@Module({ providers: [ClaimsBackfill] })
export class UniquenessModule implements OnModuleInit {
  constructor(
    private readonly processors: Processors,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  onModuleInit(): void {
    if (!this.store.atomicMultiStreamAppends) this.processors.register(new LapsedClaimsProcessor(this.store));
  }
}
