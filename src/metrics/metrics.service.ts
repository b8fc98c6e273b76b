import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Database } from '../database/database.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { Processors } from '../event-store/event-store.module.js';
import { DeadLetterRow } from '../event-store/processor.entities.js';
import { LEAD_CONVERSION } from '../lead-conversion/lead-conversion.processor.js';

/**
 * Prometheus metrics (prom-client) in a registry of this application's own, so that two
 * applications in one process (tests, scale-out checks) do not collide. Lag and dead letters are
 * measured when scraped, never on the hot path.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly commands = new Counter({
    name: 'lead_commands_total',
    help: 'Commands received, by command and outcome (HTTP status class or error code)',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly commandSeconds = new Histogram({
    name: 'lead_command_duration_seconds',
    help: 'Time from request to answer of a command',
    labelNames: ['command'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(
    private readonly processors: Processors,
    private readonly db: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'projection_lag_positions',
      help: 'Log positions between the head of the event store and each processor checkpoint',
      labelNames: ['processor'] as const,
      registers: [this.registry],
      async collect() {
        const head = BigInt(await store.headPosition());
        for (const runner of processors.all()) {
          const lag = head - BigInt(await runner.storedCheckpoint());
          this.set({ processor: runner.name }, Number(lag > 0n ? lag : 0n));
        }
      },
    });
    new Gauge({
      name: 'saga_backlog_positions',
      help: 'Log positions the lead conversion saga still has to process',
      registers: [this.registry],
      async collect() {
        const saga = processors.get(LEAD_CONVERSION);
        if (!saga) return;
        const lag = BigInt(await store.headPosition()) - BigInt(await saga.storedCheckpoint());
        this.set(Number(lag > 0n ? lag : 0n));
      },
    });
    new Gauge({
      name: 'processor_dead_letters',
      help: 'Events each processor gave up on',
      labelNames: ['processor'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await db.read((m) =>
          m
            .createQueryBuilder(DeadLetterRow, 'd')
            .select('d.processor', 'processor')
            .addSelect('COUNT(*)', 'count')
            .groupBy('d.processor')
            .getRawMany<{ processor: string; count: string | number }>(),
        );
        for (const runner of processors.all()) this.set({ processor: runner.name }, Number(rows.find((r) => r.processor === runner.name)?.count ?? 0));
      },
    });
  }
}
