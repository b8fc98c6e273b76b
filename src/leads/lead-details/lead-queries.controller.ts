import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CanRead } from '../../auth/roles.decorator.js';
import { ApiJsonOrCsvResponse, ApiResponseHeaders, ETAG_HEADER } from '../../http/api-headers.js';
import { ApiProblems } from '../../http/api-problems.decorator.js';
import { csvStream, wantsCsv } from '../../http/csv.js';
import { RecordIdPipe, versionETag } from '../../http/params.js';
import { ReadsProjections } from '../../projections/reads-projections.js';
import { LEAD_DETAILS } from './lead-details.projection.js';
import { GetLead, GetLeadHistory, ListLeads } from './lead-details.queries.js';
import { LeadDto, LeadHistoryDto, LeadPageDto } from '../dto/lead-view.dto.js';
import { ReadQueryDto } from '../../http/read-query.dto.js';
import { ListLeadsDto } from './lead-queries.dto.js';
import { flattenLead, LEAD_CSV_COLUMNS } from './lead-view.js';

@ApiTags('leads')
@ApiBearerAuth()
@CanRead()
@Controller('leads')
export class LeadQueriesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ReadsProjections(LEAD_DETAILS)
  @ApiOperation({ summary: 'List leads: filters, keyset pagination (cursor), sort; Accept: text/csv or ?format=csv streams every matching lead' })
  @ApiProduces('application/json', 'text/csv')
  @ApiJsonOrCsvResponse(LeadPageDto, 'a page of leads; CSV: every matching lead from cursor on')
  @ApiProblems(400, 401, 403)
  async list(@Query() filter: ListLeadsDto, @Headers('accept') accept?: string) {
    if (!wantsCsv(accept, filter.format)) return this.queries.execute(new ListLeads(filter));
    const queries = this.queries;
    let left = filter.limit ?? Number.POSITIVE_INFINITY;
    const page = (cursor: string | undefined) => queries.execute(new ListLeads({ ...filter, cursor, limit: Math.min(500, left) }));
    // The first page is read before the response starts, so that a refusal (503 while the
    // projection is rebuilt) is still an error response rather than an aborted download.
    const first = await page(filter.cursor);
    async function* pages() {
      for (let current = first; ; current = await page(current.nextCursor)) {
        left -= current.items.length;
        yield current.items.map(flattenLead);
        if (!current.nextCursor || left <= 0) return;
      }
    }
    return csvStream(LEAD_CSV_COLUMNS, pages(), 'leads.csv');
  }

  @Get(':id')
  @ReadsProjections(LEAD_DETAILS)
  @ApiOperation({ summary: 'One lead with its status, version and latest qualification (plan, decision, conversion state, record ids)' })
  @ApiOkResponse({ type: LeadDto, description: 'the lead' })
  @ApiResponseHeaders(200, ETAG_HEADER('lead', 'PATCH'))
  @ApiProblems(400, 401, 403, 404)
  async get(@Param('id', RecordIdPipe) id: string, @Query() _q: ReadQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const lead = await this.queries.execute(new GetLead(id));
    reply.header('ETag', versionETag(lead.version));
    return lead;
  }

  @Get(':id/history')
  @ReadsProjections()
  @ApiOperation({ summary: "The lead's events, oldest first: the audit trail, read from the event store" })
  @ApiOkResponse({ type: LeadHistoryDto })
  @ApiProblems(400, 401, 403, 404)
  history(@Param('id', RecordIdPipe) id: string, @Query() _q: ReadQueryDto) {
    return this.queries.execute(new GetLeadHistory(id));
  }
}
