import { Controller, Get, Headers, Inject, Param, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CanRead } from '../auth/roles.decorator.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { LEAD_DETAILS } from '../leads/lead-details/lead-details.projection.js';
import { ListLeads } from '../leads/lead-details/lead-details.queries.js';
import type { LeadView } from '../leads/lead-details/lead-view.js';
import { ProjectionGate } from '../projections/projection-gate.js';
import { GetRecord, ListRecords } from '../records/records.queries.js';
import { RECORDS } from '../records/records.projection.js';
import { LEAD_READ_ATTRIBUTES, LEAD_STATE_CODES, leadETag, leadToDataverse } from './lead-attributes.js';
import { ListLeadsByAttributes } from './lead-filter.query.js';
import { invalidArgument, resourceNotFound } from './odata-errors.js';
import { collection, readPage, type Page } from './odata-paging.js';
import { parseQuery, parseTarget, serviceRoot, type FilterTerm } from './odata-query.js';
import { notFoundAs, odataHeaders, onlyEntityOptions, readLead, selected } from './odata-responses.js';
import { recordFilter } from './record-filter.js';
import { ENTITY_OF_SET, recordToDataverse } from './record-attributes.js';

type Query = Record<string, unknown>;

/**
 * `GET` on the Dataverse surface (docs/dataverse.md): a lead or account, contact, opportunity
 * by id, and their collections with $select, $top, $filter and paging. Fastify cannot route on
 * `(`, so the handler takes the whole segment and parses `leads(<id>)` itself.
 */
@ApiExcludeController()
@Controller('api/data/v9.2')
export class DataverseReadsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly gate: ProjectionGate,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Get(':target')
  @CanRead()
  async read(
    @Param('target') segment: string,
    @Req() request: FastifyRequest,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const target = parseTarget(segment);
    const root = serviceRoot(request);
    const query = (request.query ?? {}) as Query;
    odataHeaders(reply);
    if (target.entitySet === 'leads') {
      const options = parseQuery(query, 'lead', LEAD_READ_ATTRIBUTES);
      reply.header('X-Projection-Position', await this.caughtUp(LEAD_DETAILS));
      if (target.id) {
        onlyEntityOptions(options);
        const lead = await readLead(this.queries, target.id);
        reply.header('ETag', leadETag(lead.version));
        return { '@odata.context': `${root}$metadata#leads${selected(options)}/$entity`, ...leadToDataverse(lead, options.select) };
      }
      const page = await readPage(options, prefer, reply, (limit, cursor) => this.leadPage(options.filter, limit, cursor));
      return collection(root, 'leads', query, options, page, (lead) => leadToDataverse(lead, options.select));
    }
    const entity = ENTITY_OF_SET[target.entitySet];
    if (!entity) throw resourceNotFound(target.entitySet);
    const options = parseQuery(query, entity.type, new Set(Object.keys(entity.attributes)));
    reply.header('X-Projection-Position', await this.caughtUp(RECORDS));
    if (target.id) {
      onlyEntityOptions(options);
      const view = await this.queries.execute(new GetRecord(entity.kind, target.id)).catch(notFoundAs(entity.type, target.id));
      return { '@odata.context': `${root}$metadata#${entity.entitySet}${selected(options)}/$entity`, ...recordToDataverse(entity, view, options.select) };
    }
    const filter = recordFilter(entity, options.filter);
    const page = await readPage(options, prefer, reply, (limit, cursor) => this.queries.execute(new ListRecords(entity.kind, { ...filter, limit, cursor })));
    return collection(root, entity.entitySet, query, options, page, (view) => recordToDataverse(entity, view, options.select));
  }

  /**
   * Dataverse reads what was written before: the read model is awaited up to the log's head
   * (≤ 5 s, then 503 like the native ?minPosition=). Returns the position it reflects.
   */
  private async caughtUp(projection: string): Promise<string> {
    return this.gate.ready([projection], await this.store.headPosition());
  }

  /** The lead list for a $filter: the native list query, or ListLeadsByAttributes for e-mail and company name. */
  private leadPage(filter: FilterTerm[], limit: number, cursor: string | undefined): Promise<Page<LeadView>> {
    const wanted: { status?: string; email?: string | null; companyName?: string | null } = {};
    const seen = new Set<string>();
    for (const term of filter) {
      if (seen.has(term.attribute)) throw invalidArgument(`$filter names ${term.attribute} more than once.`);
      seen.add(term.attribute);
      if (term.attribute === 'statecode') {
        const status = LEAD_STATE_CODES.fromNumber(term.value);
        if (!status) throw invalidArgument('statecode cannot be null.');
        wanted.status = status;
      } else if (term.attribute === 'emailaddress1' || term.attribute === 'companyname') {
        if (typeof term.value === 'number') throw invalidArgument(`${term.attribute} is text: compare it with a quoted string.`);
        wanted[term.attribute === 'emailaddress1' ? 'email' : 'companyName'] = term.value;
      } else {
        throw invalidArgument(`$filter on ${term.attribute} is not supported: filter leads on statecode, emailaddress1 or companyname.`);
      }
    }
    if (wanted.email !== undefined || wanted.companyName !== undefined) return this.queries.execute(new ListLeadsByAttributes({ ...wanted, limit, cursor }));
    return this.queries.execute(new ListLeads({ status: wanted.status, sort: 'createdAt', limit, cursor }));
  }
}
