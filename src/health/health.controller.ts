import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Database } from '../database/database.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { Processors } from '../event-store/event-store.module.js';
import { Public } from '../auth/public.decorator.js';

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly db: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly processors: Processors,
  ) {}

  /** The process is up and its event loop answers. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.indicators.check('process').up({ pid: process.pid })]);
  }

  /** Ready to take traffic: the event store and the database answer, and every processor runs somewhere. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.probe('database', () => this.db.query('SELECT 1')),
      () => this.probe('eventStore', async () => ({ head: await this.store.headPosition() })),
      () => {
        const statuses = this.processors.all().map((r) => r.status());
        const stopped = statuses.filter((s) => s.state === 'stopped' || s.state === 'starting');
        const session = this.indicators.check('processors');
        const data = Object.fromEntries(statuses.map((s) => [s.name, s.state]));
        return stopped.length ? session.down(data) : session.up(data);
      },
    ]);
  }

  private async probe(key: string, check: () => Promise<unknown>) {
    const session = this.indicators.check(key);
    try {
      const data = await check();
      return session.up(typeof data === 'object' && data && !Array.isArray(data) ? (data as Record<string, unknown>) : {});
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
  }
}
