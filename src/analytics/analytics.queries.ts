import { Controller, Get, Headers, Query as QueryParams } from '@nestjs/common';
import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';
import { CanRead } from '../auth/roles.decorator.js';
import { Database } from '../database/database.js';
import { placeholder } from '../database/sql.js';
import { ApiJsonOrCsvResponse } from '../http/api-headers.js';
import { ApiProblems } from '../http/api-problems.decorator.js';
import { csvStream, wantsCsv } from '../http/csv.js';
import { ExportableQueryDto } from '../http/read-query.dto.js';
import { ProjectionGate } from '../projections/projection-gate.js';
import { ReadsProjections } from '../projections/reads-projections.js';
import { DomainError } from '../shared/domain-error.js';
import { AnalyticsReportDto } from './analytics-row.dto.js';
import { ANALYTICS } from './analytics.projection.js';

export const GROUPS = ['day', 'week', 'month', 'leadSource', 'settingVersion', 'decidedBy'] as const;
type GroupBy = (typeof GROUPS)[number];

export class AnalyticsQueryDto extends ExportableQueryDto {
  @ApiPropertyOptional({ format: 'date', description: 'first day included (UTC)' }) @IsOptional() @IsISO8601() from?: string;
  @ApiPropertyOptional({ format: 'date', description: 'first day excluded (UTC)' }) @IsOptional() @IsISO8601() to?: string;
  @ApiPropertyOptional({ enum: GROUPS, default: 'day' }) @IsOptional() @IsIn(GROUPS) groupBy?: GroupBy;
}

export interface QualificationStats {
  group: string | number | null;
  leadsCreated: number;
  qualified: number;
  disqualified: number;
  accountsCreated: number;
  contactsCreated: number;
  opportunitiesCreated: number;
  /** qualified / (qualified + disqualified): the share of closed leads that were qualified; null when none closed. */
  qualificationRate: number | null;
}

export class GetQualificationStats extends Query<{ items: QualificationStats[]; nextCursor: null }> {
  constructor(readonly query: AnalyticsQueryDto) {
    super();
  }
}

const SQL_GROUP: Record<GroupBy, string> = {
  day: 'day',
  week: 'day',
  month: 'day',
  leadSource: 'lead_source',
  settingVersion: 'setting_version',
  decidedBy: 'decided_by',
};

/** Answers kept per handler: distinct (query, checkpoint) pairs, oldest dropped first. */
const CACHED_ANSWERS = 64;

@QueryHandler(GetQualificationStats)
export class GetQualificationStatsHandler implements IQueryHandler<GetQualificationStats> {
  /**
   * The statistics are a function of the projection's checkpoint: until it moves, the same query
   * has the same answer. Keyed by checkpoint (read on the query's snapshot), a cached answer is
   * never stale, and dashboards polling between commands skip the aggregation over every counter
   * row. A rebuild refuses queries until done and then ends at the same checkpoint with the same rows.
   */
  private readonly answers = new Map<string, StatsRow[]>();

  constructor(
    private readonly db: Database,
    private readonly gate: ProjectionGate,
  ) {}

  async execute({ query }: GetQualificationStats) {
    const groupBy = query.groupBy ?? 'day';
    const column = SQL_GROUP[groupBy];
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.from) where.push(`day >= ${placeholder(this.db.kind, params.push(dayOf(query.from, 'from')))}`);
    if (query.to) where.push(`day < ${placeholder(this.db.kind, params.push(dayOf(query.to, 'to')))}`);
    const sql = `SELECT ${column} AS g, SUM(leads_created) AS leads_created, SUM(qualified) AS qualified, SUM(disqualified) AS disqualified,
              SUM(accounts_created) AS accounts_created, SUM(contacts_created) AS contacts_created, SUM(opportunities_created) AS opportunities_created
         FROM qualification_stats_daily ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY ${column} ORDER BY ${column}`;
    const rows = await this.gate.consistentRead([ANALYTICS], async (m, [checkpoint]) => {
      const key = `${checkpoint} ${sql} ${params.join(' ')}`;
      let answer = this.answers.get(key);
      if (!answer) {
        answer = await m.query<StatsRow>(sql, params);
        if (this.answers.size >= CACHED_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
        this.answers.set(key, answer);
      }
      return answer;
    });
    const groups = new Map<string, QualificationStats>();
    for (const row of rows) {
      const group = bucket(groupBy, row.g);
      const key = String(group);
      const stats = groups.get(key) ?? {
        group,
        leadsCreated: 0,
        qualified: 0,
        disqualified: 0,
        accountsCreated: 0,
        contactsCreated: 0,
        opportunitiesCreated: 0,
        qualificationRate: null,
      };
      stats.leadsCreated += Number(row.leads_created);
      stats.qualified += Number(row.qualified);
      stats.disqualified += Number(row.disqualified);
      stats.accountsCreated += Number(row.accounts_created);
      stats.contactsCreated += Number(row.contacts_created);
      stats.opportunitiesCreated += Number(row.opportunities_created);
      groups.set(key, stats);
    }
    const items = [...groups.values()].map((s) => {
      const closed = s.qualified + s.disqualified;
      return { ...s, qualificationRate: closed ? Math.round((s.qualified / closed) * 10_000) / 10_000 : null };
    });
    return { items, nextCursor: null };
  }
}

/** A row of the aggregation: SUM() comes back as a string on PostgreSQL (numeric), a number on SQLite. */
interface StatsRow {
  /** The group: a day (YYYY-MM-DD), a lead source, a setting version or a decision. */
  g: string | number;
  leads_created: string | number;
  qualified: string | number;
  disqualified: string | number;
  accounts_created: string | number;
  contacts_created: string | number;
  opportunities_created: string | number;
}

/** Week buckets are ISO weeks named by their Monday; "not applicable" dimensions are null. */
function bucket(groupBy: GroupBy, value: string | number): string | number | null {
  switch (groupBy) {
    case 'week': {
      const date = new Date(`${value}T00:00:00Z`);
      date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
      return date.toISOString().slice(0, 10);
    }
    case 'month':
      return String(value).slice(0, 7);
    case 'settingVersion':
      return Number(value) < 0 ? null : Number(value);
    case 'leadSource':
    case 'decidedBy':
      return value === '' ? null : String(value);
    default:
      return String(value);
  }
}

/** ISO 8601 also allows forms Date cannot read (2003-W05, 2003-050): those are bad input, not a 500. */
function dayOf(value: string, field: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new DomainError('VALIDATION_FAILED', `${field} is not a date`, { errors: [{ field, message: 'must be an ISO 8601 date or time' }] });
  return date.toISOString().slice(0, 10);
}

const CSV_COLUMNS: (keyof QualificationStats)[] = [
  'group',
  'leadsCreated',
  'qualified',
  'disqualified',
  'accountsCreated',
  'contactsCreated',
  'opportunitiesCreated',
  'qualificationRate',
];

@ApiTags('analytics')
@ApiBearerAuth()
@CanRead()
@Controller('analytics')
export class AnalyticsController {
  constructor(private readonly queries: QueryBus) {}

  @Get('qualifications')
  @ReadsProjections(ANALYTICS)
  @ApiOperation({
    summary: 'Qualification figures grouped by day, week, month, lead source, setting version or decision',
    description:
      'Leads created and disqualified have no setting version or decision: they count in the null group of those groupings. qualificationRate = qualified / (qualified + disqualified).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiJsonOrCsvResponse(AnalyticsReportDto, 'one row per group, in group order')
  @ApiProblems(400, 401, 403)
  async qualifications(@QueryParams() query: AnalyticsQueryDto, @Headers('accept') accept?: string) {
    const result = await this.queries.execute(new GetQualificationStats(query));
    if (!wantsCsv(accept, query.format)) return result;
    return csvStream(CSV_COLUMNS, [result.items], 'qualifications.csv');
  }
}
