import { Controller, Get, Query as QueryParams } from '@nestjs/common';
import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsISO8601 } from 'class-validator';
import { CanRead } from '../../auth/roles.decorator.js';
import { Database } from '../../database/database.js';
import { placeholder } from '../../database/sql.js';
import { ApiProblems } from '../../http/api-problems.decorator.js';
import { ReadQueryDto } from '../../http/read-query.dto.js';
import { ProjectionGate } from '../../projections/projection-gate.js';
import { ReadsProjections } from '../../projections/reads-projections.js';
import { DomainError } from '../../shared/domain-error.js';
import { initialSetting } from '../qualify-lead-setting.decider.js';
import { SettingAsOfDto, SettingHistoryDto } from './setting-change.dto.js';
import { SETTING_HISTORY } from './setting-history.projection.js';

interface SettingChange {
  version: number;
  createRecordsByDefault: boolean;
  previousValue: boolean;
  changedBy: string;
  changedAt: string;
}

/** A row of qualify_setting_history as SQL returns it (booleans are 0/1 on SQLite). */
interface SettingHistoryRecord {
  version: number | string;
  create_records_by_default: boolean | number;
  previous_value: boolean | number;
  changed_by: string;
  changed_at: string;
}

const toChange = (r: SettingHistoryRecord): SettingChange => ({
  version: Number(r.version),
  createRecordsByDefault: r.create_records_by_default === true || r.create_records_by_default === 1,
  previousValue: r.previous_value === true || r.previous_value === 1,
  changedBy: r.changed_by,
  changedAt: r.changed_at,
});

export class GetSettingHistory extends Query<{ items: SettingChange[]; nextCursor: null }> {}

export class GetSettingAsOf extends Query<{
  createRecordsByDefault: boolean;
  version: number;
  changedAt: string | null;
  changedBy: string | null;
  at: string;
}> {
  constructor(readonly at: string) {
    super();
  }
}

@QueryHandler(GetSettingHistory)
export class GetSettingHistoryHandler implements IQueryHandler<GetSettingHistory> {
  constructor(private readonly gate: ProjectionGate) {}
  async execute() {
    // A handful of rows (one per change): one page always.
    const rows = await this.gate.consistentQuery<SettingHistoryRecord>([SETTING_HISTORY], 'SELECT * FROM qualify_setting_history ORDER BY version');
    return { items: rows.map(toChange), nextCursor: null };
  }
}

@QueryHandler(GetSettingAsOf)
export class GetSettingAsOfHandler implements IQueryHandler<GetSettingAsOf> {
  constructor(
    private readonly db: Database,
    private readonly gate: ProjectionGate,
  ) {}
  async execute({ at }: GetSettingAsOf) {
    const date = new Date(at);
    // ISO 8601 also allows forms Date cannot read (2020-W05): bad input, not a 500.
    if (Number.isNaN(date.getTime()))
      throw new DomainError('VALIDATION_FAILED', 'at is not a time', { errors: [{ field: 'at', message: 'must be an ISO 8601 time' }] });
    const when = date.toISOString();
    const rows = await this.gate.consistentQuery<SettingHistoryRecord>(
      [SETTING_HISTORY],
      `SELECT * FROM qualify_setting_history WHERE changed_at <= ${placeholder(this.db.kind, 1)} ORDER BY version DESC LIMIT 1`,
      [when],
    );
    if (!rows.length) return { createRecordsByDefault: initialSetting.createRecordsByDefault, version: 0, changedAt: null, changedBy: null, at: when };
    const change = toChange(rows[0]);
    return {
      createRecordsByDefault: change.createRecordsByDefault,
      version: change.version,
      changedAt: change.changedAt,
      changedBy: change.changedBy,
      at: when,
    };
  }
}

export class AsOfDto extends ReadQueryDto {
  @ApiProperty({ format: 'date-time' }) @IsISO8601({ strict: true }) at: string;
}

@ApiTags('settings')
@ApiBearerAuth()
@CanRead()
@Controller('settings/qualify-lead')
export class SettingHistoryController {
  constructor(private readonly queries: QueryBus) {}

  @Get('history')
  @ReadsProjections(SETTING_HISTORY)
  @ApiOperation({ summary: 'Every change of the setting, oldest first' })
  @ApiOkResponse({ type: SettingHistoryDto })
  @ApiProblems(400, 401, 403)
  history(@QueryParams() _q: ReadQueryDto) {
    return this.queries.execute(new GetSettingHistory());
  }

  @Get('as-of')
  @ReadsProjections(SETTING_HISTORY)
  @ApiOperation({ summary: 'The value and version in force at a time' })
  @ApiOkResponse({ type: SettingAsOfDto })
  @ApiProblems(400, 401, 403)
  asOf(@QueryParams() query: AsOfDto) {
    return this.queries.execute(new GetSettingAsOf(query.at));
  }
}
