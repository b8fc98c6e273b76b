import { v7 as uuidv7 } from 'uuid';
import { Body, Controller, Headers, Param, Patch, Post, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CanCommand } from '../auth/roles.decorator.js';
import { Processors } from '../event-store/event-store.module.js';
import { parseIfMatch } from '../http/params.js';
import { Ctx } from '../http/request-context.js';
import { CreateLeadDto, UpdateLeadDto } from '../leads/dto/lead-fields.dto.js';
import { LEAD_DETAILS } from '../leads/lead-details/lead-details.projection.js';
import { ExecuteLeadCommand, type LeadCommandInput, type LeadCommandResult } from '../leads/lead.commands.js';
import type { CommandContext } from '../shared/command-context.js';
import { DomainError } from '../shared/domain-error.js';
import { LEAD_ATTRIBUTE_OF_FIELD, leadETag, leadFieldsFromBody, leadToDataverse } from './lead-attributes.js';
import { DATAVERSE_CODES, ODataError, ODATA_JSON, resourceNotFound } from './odata-errors.js';
import { parsePrefer, parseTarget, serviceRoot, type Target } from './odata-query.js';
import { ignoresDuplicates, linkedRecordMissing, methodNotAllowed, objectBody, readLead, validated } from './odata-responses.js';
import { ENTITY_OF_SET } from './record-attributes.js';

/**
 * Writing leads on the Dataverse surface (docs/dataverse.md, Leads): `POST leads` and
 * `PATCH leads(<id>)` on the native lead commands. Accounts, contacts and opportunities are
 * read-only here (405): QualifyLead creates them.
 */
@ApiExcludeController()
@Controller('api/data/v9.2')
export class DataverseLeadsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly processors: Processors,
  ) {}

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
    const target = leadsOnly(parseTarget(segment), 'created');
    if (target.id) throw methodNotAllowed('POST to a single lead is not supported: PATCH it, or POST to leads.', 'GET, PATCH');
    const fields = leadFieldsFromBody(objectBody(body), 'create');
    // Like Dataverse: duplicate detection on create only when the client asks for it.
    const dto = await validated(CreateLeadDto, { ...fields, ignoreDuplicates: ignoresDuplicates(suppress) }, LEAD_ATTRIBUTE_OF_FIELD);
    const { id, ignoreDuplicates, ...leadFields } = dto;
    const leadId = id?.toLowerCase() ?? uuidv7();
    const result = await this.execute({ type: 'CreateLead', leadId, fields: leadFields, ignoreDuplicates }, ctx);
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
    const target = leadsOnly(parseTarget(segment), 'updated');
    if (!target.id) throw methodNotAllowed('PATCH needs a lead: leads(<id>).', 'GET, POST');
    const leadId = target.id;
    // If-Match: * means "only if it exists", which every PATCH here is (no upsert): no version to check.
    const expectedVersion = ifMatch?.trim() === '*' ? undefined : parseIfMatch(ifMatch);
    const fields = leadFieldsFromBody(objectBody(body), 'update');
    const dto = await validated(UpdateLeadDto, { ...fields, ignoreDuplicates: ignoresDuplicates(suppress) }, LEAD_ATTRIBUTE_OF_FIELD);
    const { ignoreDuplicates, ...changes } = dto;
    const result = await this.execute({ type: 'UpdateLead', leadId, changes, expectedVersion, ignoreDuplicates }, ctx, (error) =>
      // Dataverse would create the lead (upsert); this service creates leads by POST only.
      error.code === 'NOT_FOUND'
        ? new ODataError(
            404,
            DATAVERSE_CODES.objectDoesNotExist,
            `lead With Id = ${leadId} Does Not Exist (this service does not create a lead through PATCH: POST it to leads)`,
          )
        : undefined,
    );
    await this.written(request, reply, leadId, result, prefer, 200);
  }

  /** The native command; a refusal keeps its code (odata-errors.ts maps it) unless `special` or a missing link says otherwise. */
  private async execute(command: LeadCommandInput, ctx: CommandContext, special?: (error: DomainError) => Error | undefined): Promise<LeadCommandResult> {
    try {
      return await this.commands.execute(new ExecuteLeadCommand(command, ctx));
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
    const lead = await readLead(this.queries, leadId);
    await reply
      .code(representationStatus)
      .header('Content-Type', ODATA_JSON)
      .header('Preference-Applied', 'return=representation')
      .header('ETag', leadETag(lead.version))
      .send(JSON.stringify({ '@odata.context': `${root}$metadata#leads/$entity`, ...leadToDataverse(lead) }));
  }
}

/** Leads are written here; a record set is read-only (405, `Allow: GET`); anything else names nothing. */
function leadsOnly(target: Target, what: string): Target {
  if (target.entitySet === 'leads') return target;
  if (ENTITY_OF_SET[target.entitySet]) {
    throw methodNotAllowed(`${target.entitySet} cannot be ${what} here: the records are created by QualifyLead and read-only.`, 'GET');
  }
  throw resourceNotFound(target.entitySet);
}
