import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { attachDatabase, Database } from '../database/database.js';
import { EVENT_STORE_ENTITIES } from './entities.js';
import { EVENT_STORE, type EventStore } from './event-store.port.js';
import type { Processor } from './processor.js';
import { DEFAULT_RUNNER_OPTIONS, ProcessorRunner } from './processor-runner.js';
import { SqlEventStore } from './sql/sql-event-store.js';

/**
 * Wraps the configured store (createApp's `wrapEventStore`): tests put a store there that fails
 * between two streams, to show the invariants hold where appends are not atomic.
 */
export const EVENT_STORE_WRAPPER = Symbol('EVENT_STORE_WRAPPER');
export type EventStoreWrapper = (store: EventStore) => EventStore;

/**
 * Every processor (projection, saga) registers here from its module's onModuleInit; all start
 * once the application has bootstrapped and stop, checkpoints saved, on shutdown.
 */
@Injectable()
export class Processors implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Processors.name);
  private readonly runners = new Map<string, ProcessorRunner>();
  private started = false;
  /** Lease owner name of this application instance (two apps in one process are two owners). */
  private readonly instanceId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  register(processor: Processor): ProcessorRunner {
    if (this.runners.has(processor.name)) throw new Error(`processor ${processor.name} registered twice`);
    const runner = new ProcessorRunner(processor, this.store, this.db, { ...DEFAULT_RUNNER_OPTIONS, ...this.config.processors, instanceId: this.instanceId });
    this.runners.set(processor.name, runner);
    if (this.started) runner.start();
    return runner;
  }

  get(name: string): ProcessorRunner | undefined {
    return this.runners.get(name);
  }

  all(): ProcessorRunner[] {
    return [...this.runners.values()];
  }

  onApplicationBootstrap(): void {
    this.started = true;
    for (const runner of this.runners.values()) runner.start();
    this.logger.log(`started ${this.runners.size} processors: ${[...this.runners.keys()].join(', ')}`);
  }

  /**
   * Before the database closes: each runner finishes its batch, commits its checkpoint and
   * releases its lease so that another instance takes over at once.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.logger.log('processors stopped, checkpoints saved');
  }
}

@Injectable()
class EventStoreCloser implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly db: Database,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    await this.db.stopBackgroundWork();
  }
}

@Global()
@Module({
  imports: [TypeOrmModule.forFeature(EVENT_STORE_ENTITIES)],
  providers: [
    {
      provide: Database,
      inject: [DataSource, APP_CONFIG],
      // The service's own connection, with WAL checkpoints on a worker thread on a SQLite file.
      useFactory: (dataSource: DataSource, config: AppConfig) => attachDatabase(dataSource, config.database),
    },
    {
      provide: EVENT_STORE,
      inject: [Database, APP_CONFIG, { token: EVENT_STORE_WRAPPER, optional: true }],
      useFactory: async (db: Database, config: AppConfig, wrap?: EventStoreWrapper | null): Promise<EventStore> => {
        let store: EventStore;
        if (config.eventStore === 'esdb') {
          const { EsdbEventStore } = await import('./esdb/esdb-event-store.js');
          store = new EsdbEventStore(config.eventStoreUrl!);
        } else {
          store = new SqlEventStore(db);
        }
        return wrap ? wrap(store) : store;
      },
    },
    Processors,
    EventStoreCloser,
  ],
  exports: [Database, EVENT_STORE, Processors],
})
export class EventStoreModule {}
