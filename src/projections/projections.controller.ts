import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, CanRead } from '../auth/roles.decorator.js';
import { Database } from '../database/database.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { Processors } from '../event-store/event-store.module.js';
import { CheckpointRow, DeadLetterRow } from '../event-store/processor.entities.js';
import { isSaga } from '../event-store/processor.js';
import { ApiProblems } from '../http/api-problems.decorator.js';
import { BodyOptional } from '../http/validation.js';
import { DomainError } from '../shared/domain-error.js';
import { ProjectionListDto, ProjectionRebuildDto } from './projection.dto.js';

/** A rebuild takes no options: a body, when sent, must be `{}` (an unknown key is a mistake worth a 400). */
@BodyOptional()
export class RebuildProjectionDto {}

@ApiTags('operations')
@ApiBearerAuth()
@Controller('projections')
export class ProjectionsController {
  constructor(
    private readonly processors: Processors,
    private readonly db: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Get()
  @CanRead()
  @ApiOperation({ summary: 'Every projection and the saga: checkpoint, lag (positions behind the head), status, dead letters' })
  @ApiOkResponse({ type: ProjectionListDto })
  @ApiProblems(401, 403)
  async list() {
    const head = await this.store.headPosition();
    const [checkpoints, letters] = await Promise.all([
      this.db.read((m) => m.find(CheckpointRow)),
      this.db.read((m) =>
        m
          .createQueryBuilder(DeadLetterRow, 'd')
          .select('d.processor', 'processor')
          .addSelect('COUNT(*)', 'count')
          .groupBy('d.processor')
          .getRawMany<{ processor: string; count: string | number }>(),
      ),
    ]);
    const items = this.processors.all().map((runner) => {
      const row = checkpoints.find((c) => c.processor === runner.name);
      const checkpoint = row?.position ?? '0';
      const local = runner.status();
      const rebuilding = !!row?.rebuildTarget;
      return {
        name: runner.name,
        kind: isSaga(runner.processor) ? 'saga' : 'projection',
        checkpoint,
        head,
        lag: (BigInt(head) > BigInt(checkpoint) ? BigInt(head) - BigInt(checkpoint) : 0n).toString(),
        status: rebuilding ? 'rebuilding' : local.state === 'standby' ? 'running elsewhere' : local.state,
        owner: row?.owner ?? null,
        rebuildTarget: rebuilding ? row.rebuildTarget : null,
        deadLetters: Number(letters.find((l) => l.processor === runner.name)?.count ?? 0),
        lastError: local.lastError,
      };
    });
    return { items, nextCursor: null };
  }

  @Post(':name/rebuild')
  @HttpCode(202)
  @AdminOnly()
  @ApiOperation({
    summary: 'Rebuild a read model from the event store while the service keeps serving',
    description: 'Its queries answer 503 PROJECTION_REBUILDING (with Retry-After) until the replay reaches the head of the log at the time of the request.',
  })
  @ApiBody({ type: RebuildProjectionDto, required: false })
  @ApiAcceptedResponse({ type: ProjectionRebuildDto })
  @ApiProblems(400, 401, 403, 404, 409)
  async rebuild(@Param('name') name: string, @Body() _options: RebuildProjectionDto) {
    const runner = this.processors.get(name);
    if (!runner) throw new DomainError('NOT_FOUND', `no projection named ${name}`);
    if (isSaga(runner.processor)) throw new DomainError('NOT_REBUILDABLE', `${name} is not a projection; it cannot be rebuilt`);
    const head = await this.store.headPosition();
    await runner.rebuild(head);
    return { name, status: 'rebuilding', target: head };
  }
}
