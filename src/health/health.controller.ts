import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Database } from '../database/database.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { Processors } from '../event-store/event-store.module.js';
import { Public } from '../auth/public.decorator.js';
import { problemResponse } from '../http/api-problems.decorator.js';
import { ReadinessDto } from '../http/readiness.dto.js';

/** How long /health/ready waits for each dependency before it calls it down. */
const PROBE_TIMEOUT_MS = 2_000;

@ApiTags('operations')
@Public()
// Refusals of the HTTP layer, before any route runs (docs/api.md): these routes take no input otherwise.
@ApiResponse({ ...problemResponse(400, "the HTTP layer's refusals: 408 REQUEST_TIMEOUT, 431 HEADERS_TOO_LARGE", {}), status: '4XX' })
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly db: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly processors: Processors,
  ) {}

  /** The process is up and its event loop answers. Nothing else: no dependency, nothing about the process. */
  @Get('live')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({ summary: 'Liveness: the process runs and its event loop answers; nothing else is checked' })
  @ApiOkResponse({
    description: 'The process runs',
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready to take traffic: the event store and the database answer, and every processor runs somewhere. */
  @Get('ready')
  // Documented here: Terminus documents its 503 as JSON, and it leaves as problem+json (NOT_READY).
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness: the database and the event store answer and every processor runs somewhere (each check given 2 s)' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiResponse({ status: 503, ...problemResponse(503, 'NOT_READY: a check is down (info, error, details say which)', {}) })
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

  /**
   * One dependency's check, bounded: while the database is unreachable a connection attempt can
   * hang for as long as the operating system lets it, and a load balancer needs an answer.
   */
  private async probe(key: string, check: () => Promise<unknown>) {
    const session = this.indicators.check(key);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
    });
    const attempt = check();
    // The check may still fail after the timeout has answered: nobody awaits it then.
    attempt.catch(() => undefined);
    try {
      const data = await Promise.race([attempt, timeout]);
      return session.up(typeof data === 'object' && data && !Array.isArray(data) ? (data as Record<string, unknown>) : {});
    } catch (error) {
      return session.down({ message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
