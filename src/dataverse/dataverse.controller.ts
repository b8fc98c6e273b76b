import { v7 as uuidv7 } from 'uuid';
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Patch, Post, Req, Res, type ArgumentMetadata } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CanCommand, CanRead } from '../auth/roles.decorator.js';
import { Processors } from '../event-store/event-store.module.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { upcast } from '../event-store/upcasting.js';
import { parseIfMatch } from '../http/params.js';
import { Ctx } from '../http/request-context.js';
import { strictValidationPipe } from '../http/validation.js';
import { ConversionOutcomes } from '../leads/conversion-outcomes.js';
import { QualifyLeadDto } from '../leads/dto/lead-commands.dto.js';
import { CreateLeadDto, UpdateLeadDto } from '../leads/dto/lead-fields.dto.js';
import { LEAD_DETAILS } from '../leads/lead-details/lead-details.projection.js';
import { GetLead, ListLeads } from '../leads/lead-details/lead-details.queries.js';
import type { LeadView } from '../leads/lead-details/lead-view.js';
import { ExecuteLeadCommand, type LeadCommandResult } from '../leads/lead.commands.js';
import { leadStream, type QualificationPlan } from '../leads/lead.events.js';
import { QualificationOutcome, type AcceptedQualification } from '../leads/qualification-outcome.js';
import { ProjectionGate } from '../projections/projection-gate.js';
import { GetRecord, ListRecords } from '../records/records.queries.js';
import { RECORDS } from '../records/records.projection.js';
import type { CommandContext } from '../shared/command-context.js';
import { DomainError } from '../shared/domain-error.js';
import { LEAD_ATTRIBUTE_OF_FIELD, LEAD_READ_ATTRIBUTES, LEAD_STATE_CODES, leadETag, leadFieldsFromBody, leadToDataverse } from './lead-attributes.js';
import { ListLeadsByAttributes } from './lead-filter.query.js';
import { DATAVERSE_CODES, doesNotExist, invalidArgument, ODataError, ODATA_JSON, resourceNotFound, unknownProperty } from './odata-errors.js';
import { DEFAULT_PAGE_SIZE, nextLink, parsePrefer, parseQuery, parseTarget, serviceRoot, type FilterTerm, type ODataQuery } from './odata-query.js';
import { ENTITY_OF_SET, recordToDataverse, RECORD_ENTITIES, type RecordEntity } from './record-attributes.js';

/** How long QualifyLead waits for the records (docs/dataverse.md, QualifyLead). */
export const QUALIFY_WAIT_MS = 30_000;
/** The native queries' largest page: a Dataverse page is read as several of them. */
const NATIVE_PAGE = 500;
const QUALIFY_ACTIONS = new Set(['Microsoft.Dynamics.CRM.QualifyLead', 'QualifyLead']);
const QUALIFY_PARAMETERS = new Set([
  'CreateAccount',
  'CreateContact',
  'CreateOpportunity',
  'Status',
  'SuppressDuplicateDetection',
  'OpportunityCurrencyId',
  'OpportunityCustomerId',
  'SourceCampaignId',
  'ProcessInstanceId',
]);

type Query = Record<string, unknown>;
type Page<T> = { items: T[]; nextCursor: string | null };

/**
 * The part of the Dataverse Web API that lead qualification needs (docs/dataverse.md), served on
 * the same commands and queries as the native API. Fastify cannot route on `(`, so each handler
 * takes whole segments and parses `leads(<id>)` itself.
 */
@ApiExcludeController()
@Controller('api/data/v9.2')
export class DataverseController {
  private readonly pipe = strictValidationPipe();
  private waiter: QualificationOutcome | undefined;

  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly processors: Processors,
    private readonly gate: ProjectionGate,
    private readonly moduleRef: ModuleRef,
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
        const lead = await this.lead(target.id);
        reply.header('ETag', leadETag(lead.version));
        return { '@odata.context': `${root}$metadata#leads${selected(options)}/$entity`, ...leadToDataverse(lead, options.select) };
      }
      const page = await this.page(options, prefer, reply, (limit, cursor) => this.leadPage(options.filter, limit, cursor));
      return this.collection(root, 'leads', query, options, page, (lead) => leadToDataverse(lead, options.select));
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
    const page = await this.page(options, prefer, reply, (limit, cursor) => this.queries.execute(new ListRecords(entity.kind, { ...filter, limit, cursor })));
    return this.collection(root, entity.entitySet, query, options, page, (view) => recordToDataverse(entity, view, options.select));
  }

  @Post(':target')
  @CanCommand()
  async create(
    @Param('target') segment: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Headers('prefer') prefer: string | undefined,
    @Headers('mscrm.suppressduplicatedetection') suppress: string | undefined,
    @Ctx() ctx: CommandContext,
    // Sent here, not returned: Nest would put the route's 201 over a 204.
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const target = parseTarget(segment);
    this.leadsOnly(target.entitySet, 'create');
    if (target.id) throw new ODataError(405, DATAVERSE_CODES.invalidArgument, 'POST to a single lead is not supported: PATCH it, or POST to leads.');
    const fields = leadFieldsFromBody(objectBody(body), 'create');
    // Like Dataverse: duplicate detection on create only when the client asks for it.
    const dto = await this.validated(CreateLeadDto, { ...fields, ignoreDuplicates: suppress?.trim().toLowerCase() !== 'false' });
    const { id, ignoreDuplicates, ...leadFields } = dto;
    const leadId = id?.toLowerCase() ?? uuidv7();
    const result = await this.leadCommand(() =>
      this.commands.execute(new ExecuteLeadCommand({ type: 'CreateLead', leadId, fields: leadFields, ignoreDuplicates }, ctx)),
    );
    await this.written(request, reply, leadId, result, prefer, 201);
  }

  @Patch(':target')
  @CanCommand()
  async update(
    @Param('target') segment: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Headers('prefer') prefer: string | undefined,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('mscrm.suppressduplicatedetection') suppress: string | undefined,
    @Ctx() ctx: CommandContext,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const target = parseTarget(segment);
    this.leadsOnly(target.entitySet, 'update');
    if (!target.id) throw new ODataError(405, DATAVERSE_CODES.invalidArgument, 'PATCH needs a lead: leads(<id>).');
    const leadId = target.id;
    // If-Match: * means "only if it exists", which every PATCH here is (no upsert): no version to check.
    const expectedVersion = ifMatch?.trim() === '*' ? undefined : parseIfMatch(ifMatch);
    const fields = leadFieldsFromBody(objectBody(body), 'update');
    const dto = await this.validated(UpdateLeadDto, { ...fields, ignoreDuplicates: suppress?.trim().toLowerCase() !== 'false' });
    const { ignoreDuplicates, ...changes } = dto;
    const result = await this.leadCommand(
      () => this.commands.execute(new ExecuteLeadCommand({ type: 'UpdateLead', leadId, changes, expectedVersion, ignoreDuplicates }, ctx)),
      (error) => {
        // Dataverse would create the lead (upsert); this service creates leads by POST only.
        if (error.code === 'NOT_FOUND') {
          return new ODataError(
            404,
            DATAVERSE_CODES.objectDoesNotExist,
            `lead With Id = ${leadId} Does Not Exist (this service does not create a lead through PATCH: POST it to leads)`,
          );
        }
        return undefined;
      },
    );
    await this.written(request, reply, leadId, result, prefer, 200);
  }

  @Post(':target/:action')
  @HttpCode(200)
  @CanCommand()
  async action(
    @Param('target') segment: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Headers('mscrm.suppressduplicatedetection') suppress: string | undefined,
    @Ctx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const target = parseTarget(segment);
    if (target.entitySet !== 'leads' && !ENTITY_OF_SET[target.entitySet]) throw resourceNotFound(target.entitySet);
    if (target.entitySet !== 'leads' || !target.id || !QUALIFY_ACTIONS.has(action)) throw resourceNotFound(action);
    const leadId = target.id;
    const options = await this.validated(QualifyLeadDto, qualifyOptions(objectBody(body ?? {}), suppress));
    let qualified: AcceptedQualification & { plan: QualificationPlan };
    try {
      const result = await this.commands.execute(new ExecuteLeadCommand({ type: 'QualifyLead', leadId, qualificationId: uuidv7(), ...options }, ctx));
      const q = result.qualified!;
      qualified = { leadId, qualificationId: q.qualificationId, plan: q.plan, position: result.position };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // The same QualifyLead again (its answer was lost, or it timed out): that qualification's records.
      const earlier = error.code === 'LEAD_NOT_OPEN' ? await this.sameQualification(leadId, options) : undefined;
      if (!earlier) throw this.translated(error, leadId);
      qualified = earlier;
    }
    const outcome = await this.qualificationOutcome().wait(qualified, Date.now() + QUALIFY_WAIT_MS);
    if (!outcome) {
      throw new ODataError(
        503,
        DATAVERSE_CODES.timeout,
        `The lead was qualified (qualification ${qualified.qualificationId}), but its records were not created within ${QUALIFY_WAIT_MS / 1000} seconds. Send the same QualifyLead again to receive them.`,
        { 'Retry-After': '1' },
      );
    }
    if (outcome.conversion === 'failed') {
      throw new ODataError(
        500,
        DATAVERSE_CODES.unexpected,
        `The lead was qualified (qualification ${qualified.qualificationId}), but creating its records failed: ${outcome.failureReason ?? 'unknown reason'}`,
      );
    }
    odataHeaders(reply);
    const created = (['account', 'contact', 'opportunity'] as const).filter((k) => qualified.plan[k].action === 'create');
    const ids = { account: outcome.accountId, contact: outcome.contactId, opportunity: outcome.opportunityId };
    return {
      '@odata.context': `${serviceRoot(request)}$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)`,
      value: created.map((kind) => ({ '@odata.type': `#Microsoft.Dynamics.CRM.${kind}`, [RECORD_ENTITIES[kind].key]: ids[kind] })),
    };
  }

  /**
   * Dataverse reads what was written before: the read model is awaited up to the log's head
   * (≤ 5 s, then 503 like the native ?minPosition=). Returns the position it reflects.
   */
  private async caughtUp(projection: string): Promise<string> {
    return this.gate.ready([projection], await this.store.headPosition());
  }

  private leadsOnly(entitySet: string, what: string): void {
    if (entitySet === 'leads') return;
    if (ENTITY_OF_SET[entitySet]) {
      throw new ODataError(405, DATAVERSE_CODES.invalidArgument, `${entitySet} cannot be ${what}d here: the records are created by QualifyLead and read-only.`);
    }
    throw resourceNotFound(entitySet);
  }

  private qualificationOutcome(): QualificationOutcome {
    // The leads module's instance: one subscription for every waiter of the process.
    this.waiter ??= new QualificationOutcome(this.moduleRef.get(ConversionOutcomes, { strict: false }), this.processors, this.queries);
    return this.waiter;
  }

  private async lead(id: string): Promise<LeadView> {
    return this.queries.execute(new GetLead(id)).catch(notFoundAs('lead', id));
  }

  /**
   * The latest qualification of a lead that is Qualified by it, when its selection is the one
   * asked for now (a repeated QualifyLead), read from the lead's stream.
   */
  private async sameQualification(leadId: string, options: QualifyOptions): Promise<(AcceptedQualification & { plan: QualificationPlan }) | undefined> {
    const events = (await this.store.readStream(leadStream(leadId))).map((e) => upcast(e));
    const last = events.filter((e) => ['LeadQualified', 'LeadDisqualified', 'LeadReactivated'].includes(e.type)).at(-1);
    if (last?.type !== 'LeadQualified') return undefined;
    const data = last.data as { qualificationId: string; plan: QualificationPlan; decidedBy: string };
    const bySetting = data.decidedBy === 'setting';
    const asked = { account: options.createAccount, contact: options.createContact, opportunity: options.createOpportunity };
    for (const kind of ['account', 'contact', 'opportunity'] as const) {
      const wanted = asked[kind] ?? bySetting;
      const action = data.plan[kind].action;
      if (action === 'create' && !wanted) return undefined;
      // An account is not created without a company name, whatever was asked.
      if (wanted && action === 'none' && kind !== 'account') return undefined;
    }
    return { leadId, qualificationId: data.qualificationId, plan: data.plan, position: last.position };
  }

  /** Our refusal, in the terms of this surface where they differ from the native message. */
  private translated(error: DomainError, leadId: string): Error {
    if (error.code === 'QUALIFY_SETTING_CHANGED') {
      return new ODataError(
        400,
        DATAVERSE_CODES.invalidArgument,
        'This organization creates an account, a contact and an opportunity for every qualified lead (the qualify-lead setting is Yes): CreateAccount, CreateContact and CreateOpportunity must all be true.',
      );
    }
    if (error.code === 'NOT_FOUND') return doesNotExist('lead', leadId);
    if (error.code === 'RECORD_NOT_FOUND') return linkedRecordMissing(error);
    return error;
  }

  private async leadCommand(run: () => Promise<LeadCommandResult>, special?: (error: DomainError) => Error | undefined): Promise<LeadCommandResult> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const replaced = special?.(error);
      if (replaced) throw replaced;
      if (error.code === 'RECORD_NOT_FOUND') throw linkedRecordMissing(error);
      throw error;
    }
  }

  /** 204 with OData-EntityId, or the lead under `Prefer: return=representation` (once the read model has it). */
  private async written(
    request: FastifyRequest,
    reply: FastifyReply,
    leadId: string,
    result: LeadCommandResult,
    prefer: string | undefined,
    representationStatus: number,
  ): Promise<void> {
    const root = serviceRoot(request);
    reply.header('OData-EntityId', `${root}leads(${leadId})`).header('OData-Version', '4.0');
    if (!parsePrefer(prefer).returnRepresentation) {
      await reply.code(204).send();
      return;
    }
    await this.processors.get(LEAD_DETAILS)!.waitFor(result.position, 5_000);
    const lead = await this.lead(leadId);
    await reply
      .code(representationStatus)
      .header('Content-Type', ODATA_JSON)
      .header('Preference-Applied', 'return=representation')
      .header('ETag', leadETag(lead.version))
      .send(JSON.stringify({ '@odata.context': `${root}$metadata#leads/$entity`, ...leadToDataverse(lead) }));
  }

  /** A body mapped to a native DTO, validated by the native rules; failures name the Dataverse attributes. */
  private async validated<T>(metatype: new () => T, value: Record<string, unknown>): Promise<T> {
    const metadata: ArgumentMetadata = { type: 'body', metatype, data: undefined };
    try {
      return (await this.pipe.transform(value, metadata)) as T;
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'VALIDATION_FAILED') throw error;
      const errors = (error.details.errors ?? []) as { field: string; message: string }[];
      const named = errors.map((e) => {
        const attribute = LEAD_ATTRIBUTE_OF_FIELD[e.field] ?? QUALIFY_PARAMETER_OF_FIELD[e.field] ?? e.field;
        return `${attribute}: ${e.message.replace(new RegExp(`^${escapeRegExp(e.field)}\\b`), attribute)}`;
      });
      throw invalidArgument(named.join('; ') || 'The request is invalid.');
    }
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

  /**
   * One Dataverse page: `Prefer: odata.maxpagesize` (default 5000), no more than what is left of
   * $top, read as native pages of at most 500. The native cursor after it is the $skiptoken.
   */
  private async page<T>(
    options: ODataQuery,
    prefer: string | undefined,
    reply: FastifyReply,
    read: (limit: number, cursor: string | undefined) => Promise<Page<T>>,
  ): Promise<Page<T>> {
    const { maxPageSize } = parsePrefer(prefer);
    if (maxPageSize) reply.header('Preference-Applied', `odata.maxpagesize=${maxPageSize}`);
    const size = Math.min(maxPageSize ?? DEFAULT_PAGE_SIZE, options.top ?? Number.POSITIVE_INFINITY);
    const items: T[] = [];
    let cursor = options.skiptoken;
    let more = true;
    while (items.length < size && more) {
      const page = await read(Math.min(NATIVE_PAGE, size - items.length), cursor).catch((error: unknown) => {
        if (error instanceof DomainError && error.code === 'INVALID_CURSOR')
          throw invalidArgument('The $skiptoken is not one this service issued for this query.');
        throw error;
      });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      more = cursor !== undefined;
    }
    return { items, nextCursor: more && items.length ? (cursor ?? null) : null };
  }

  private collection<T>(
    root: string,
    entitySet: string,
    query: Query,
    options: ODataQuery,
    page: Page<T>,
    toEntity: (item: T) => Record<string, unknown>,
  ): Record<string, unknown> {
    const topLeft = options.top === undefined ? undefined : options.top - page.items.length;
    const link = page.nextCursor && (topLeft === undefined || topLeft > 0) ? nextLink(root, entitySet, query, page.nextCursor, topLeft) : undefined;
    return {
      '@odata.context': `${root}$metadata#${entitySet}${selected(options)}`,
      value: page.items.map(toEntity),
      ...(link ? { '@odata.nextLink': link } : {}),
    };
  }
}

type QualifyOptions = Pick<
  QualifyLeadDto,
  | 'createAccount'
  | 'createContact'
  | 'createOpportunity'
  | 'ignoreDuplicates'
  | 'opportunityCustomerId'
  | 'opportunityCustomerType'
  | 'opportunityCurrencyId'
  | 'sourceCampaignId'
>;

const QUALIFY_PARAMETER_OF_FIELD: Record<string, string> = {
  createAccount: 'CreateAccount',
  createContact: 'CreateContact',
  createOpportunity: 'CreateOpportunity',
  ignoreDuplicates: 'SuppressDuplicateDetection',
  opportunityCustomerId: 'OpportunityCustomerId',
  opportunityCustomerType: 'OpportunityCustomerId',
  opportunityCurrencyId: 'OpportunityCurrencyId',
  sourceCampaignId: 'SourceCampaignId',
};

/** QualifyLead's parameters → the native qualify body (validated afterwards by QualifyLeadDto). */
export function qualifyOptions(body: Record<string, unknown>, suppressHeader: string | undefined): Record<string, unknown> {
  for (const name of Object.keys(body)) if (!QUALIFY_PARAMETERS.has(name)) throw unknownProperty(name, 'QualifyLead');
  if (body.Status !== 3 && body.Status !== -1)
    throw invalidArgument(`Status must be 3 (Qualified) or -1 (the default status); got ${JSON.stringify(body.Status ?? null)}.`);
  if (body.ProcessInstanceId !== undefined && body.ProcessInstanceId !== null)
    throw invalidArgument('ProcessInstanceId is not supported: this service runs no business process flows.');
  const options: Record<string, unknown> = {
    createAccount: body.CreateAccount,
    createContact: body.CreateContact,
    createOpportunity: body.CreateOpportunity,
  };
  const header = suppressHeader?.trim().toLowerCase();
  const suppress = body.SuppressDuplicateDetection ?? (header === 'true' ? true : header === 'false' ? false : undefined);
  if (suppress !== undefined && suppress !== null) options.ignoreDuplicates = suppress;
  const customer = reference('OpportunityCustomerId', body.OpportunityCustomerId, ['account', 'contact']);
  if (customer) {
    options.opportunityCustomerId = customer.id;
    options.opportunityCustomerType = customer.type;
  }
  const currency = reference('OpportunityCurrencyId', body.OpportunityCurrencyId, ['transactioncurrency']);
  if (currency) options.opportunityCurrencyId = currency.id;
  const campaign = reference('SourceCampaignId', body.SourceCampaignId, ['campaign']);
  if (campaign) options.sourceCampaignId = campaign.id;
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  return options;
}

/** An entity reference parameter: `{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": "…"}`. */
function reference(parameter: string, value: unknown, types: string[]): { type: string; id: unknown } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidArgument(`${parameter} must be an entity reference: {"@odata.type": "Microsoft.Dynamics.CRM.${types[0]}", "${types[0]}id": "<guid>"}.`);
  const record = value as Record<string, unknown>;
  const declared = typeof record['@odata.type'] === 'string' ? record['@odata.type'].replace(/^#/, '').replace(/^Microsoft\.Dynamics\.CRM\./, '') : undefined;
  const type = declared ?? types.find((t) => record[`${t}id`] !== undefined);
  if (!type || !types.includes(type))
    throw invalidArgument(`${parameter} must reference one of: ${types.map((t) => `Microsoft.Dynamics.CRM.${t}`).join(', ')}.`);
  for (const key of Object.keys(record)) if (key !== '@odata.type' && key !== `${type}id`) throw unknownProperty(key, type);
  const id = record[`${type}id`];
  if (typeof id !== 'string') throw invalidArgument(`${parameter} needs ${type}id.`);
  return { type, id: id.toLowerCase() };
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

function onlyEntityOptions(options: ODataQuery): void {
  if (options.top !== undefined || options.filter.length || options.skiptoken !== undefined) {
    throw invalidArgument('$top, $filter and $skiptoken apply to collections, not to a single record.');
  }
}

function recordFilter(entity: RecordEntity, filter: FilterTerm[]): { originatingLeadId?: string } {
  const result: { originatingLeadId?: string } = {};
  for (const term of filter) {
    if (term.attribute !== '_originatingleadid_value') {
      throw invalidArgument(`$filter on ${term.attribute} is not supported for ${entity.entitySet}: filter on _originatingleadid_value.`);
    }
    if (typeof term.value !== 'string' || !/^[0-9a-f-]{36}$/.test(term.value)) throw invalidArgument('_originatingleadid_value is compared with a GUID.');
    result.originatingLeadId = term.value;
  }
  return result;
}

const selected = (options: ODataQuery) => (options.select ? `(${options.select.join(',')})` : '');

function odataHeaders(reply: FastifyReply): void {
  reply.header('OData-Version', '4.0').header('Content-Type', ODATA_JSON);
}

function notFoundAs(entity: string, id: string) {
  return (error: unknown): never => {
    if (error instanceof DomainError && error.code === 'NOT_FOUND') throw doesNotExist(entity, id);
    throw error;
  };
}

/** A linked account or contact that does not exist (native 422 RECORD_NOT_FOUND): Dataverse's 404 0x80040217. */
function linkedRecordMissing(error: DomainError): ODataError {
  const field = typeof error.details.field === 'string' ? error.details.field : '';
  const id = typeof error.details.id === 'string' ? error.details.id : '';
  const entity = /contact/i.test(field) ? 'contact' : 'account';
  return new ODataError(404, DATAVERSE_CODES.objectDoesNotExist, `${entity} With Id = ${id} Does Not Exist`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
