import { v7 as uuidv7 } from 'uuid';
import { Body, Controller, Headers, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CanCommand } from '../auth/roles.decorator.js';
import { ApiResponseHeaders, LOCATION_HEADER, PREFERENCE_APPLIED_HEADER } from '../http/api-headers.js';
import { ApiProblems } from '../http/api-problems.decorator.js';
import { statusOf } from '../http/error-status.js';
import { parseIfMatch, RecordIdPipe } from '../http/params.js';
import { Ctx } from '../http/request-context.js';
import type { CommandContext } from '../shared/command-context.js';
import {
  BulkQualifyLeadsDto,
  BulkQualifyResultDto,
  CommandAcceptedDto,
  DisqualifyLeadDto,
  QualifyLeadDto,
  ReactivateLeadDto,
  type BulkQualifyOutcome,
} from './dto/lead-commands.dto.js';
import { DomainError } from '../shared/domain-error.js';
import { CreateLeadDto, UpdateLeadDto } from './dto/lead-fields.dto.js';
import { QualificationAcceptedDto, QualificationOutcomeDto } from './dto/qualification-accepted.dto.js';
import { ExecuteLeadCommand, type LeadCommandResult } from './lead.commands.js';
import { QualificationOutcome } from './qualification-outcome.js';

/** Record ids are stored lower-case (stream names, plans): a linked id given in capitals is the same record. */
function lowerLinks<T extends { existingAccountId?: string | null; existingContactId?: string | null }>(body: T): T {
  if (body.existingAccountId) body.existingAccountId = body.existingAccountId.toLowerCase();
  if (body.existingContactId) body.existingContactId = body.existingContactId.toLowerCase();
  return body;
}

const accepted = (r: LeadCommandResult): CommandAcceptedDto => ({ id: r.id, version: r.version, position: r.position });

/** The longest `Prefer: wait` honoured, in seconds. */
export const MAX_WAIT_SECONDS = 30;

/**
 * `Prefer: wait=N` (RFC 7240), N seconds, at most MAX_WAIT_SECONDS; 0 when absent or not a number
 * (a preference the server cannot use is ignored, not refused).
 */
export function preferredWait(prefer: string | undefined): number {
  const match = prefer ? /(?:^|[,;\s])wait\s*=\s*"?(\d{1,9})"?(?=\s*(?:[,;]|$))/i.exec(prefer) : null;
  return match ? Math.min(Number(match[1]), MAX_WAIT_SECONDS) : 0;
}

const PREFER_HEADER = {
  name: 'Prefer',
  required: false,
  description: `wait=N (N ≤ ${MAX_WAIT_SECONDS}): answer 200 with the conversion's outcome and record ids if it ends within N seconds, else the usual 202`,
};

@ApiTags('leads')
@ApiBearerAuth()
@CanCommand()
@Controller('leads')
export class LeadsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly waiter: QualificationOutcome,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a lead (Open/New)' })
  @ApiCreatedResponse({ type: CommandAcceptedDto })
  @ApiProblems(400, 401, 403, 409, 413, 422)
  async create(@Body() body: CreateLeadDto, @Ctx() ctx: CommandContext): Promise<CommandAcceptedDto> {
    const { id, ignoreDuplicates, ...fields } = body;
    const leadId = id?.toLowerCase() ?? uuidv7();
    return accepted(
      await this.commands.execute(new ExecuteLeadCommand({ type: 'CreateLead', leadId, fields: lowerLinks({ ...fields }), ignoreDuplicates }, ctx)),
    );
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change fields of an open lead; only changed fields are recorded' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'the version the client edited; 412 VERSION_MISMATCH when stale' })
  @ApiOkResponse({ type: CommandAcceptedDto })
  @ApiProblems(400, 401, 403, 404, 409, 412, 413, 422)
  async update(
    @Param('id', RecordIdPipe) leadId: string,
    @Body() body: UpdateLeadDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Ctx() ctx: CommandContext,
  ): Promise<CommandAcceptedDto> {
    const expectedVersion = parseIfMatch(ifMatch);
    const { ignoreDuplicates, ...changes } = body;
    return accepted(
      await this.commands.execute(
        new ExecuteLeadCommand({ type: 'UpdateLead', leadId, changes: lowerLinks({ ...changes }), expectedVersion, ignoreDuplicates }, ctx),
      ),
    );
  }

  @Post(':id/qualify')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Qualify an open lead',
    description:
      'The qualify-lead setting in force decides: Yes plans account, contact and opportunity; No requires createAccount, createContact and createOpportunity. Records are created asynchronously by the conversion saga.',
  })
  @ApiBody({ type: QualifyLeadDto, required: false })
  @ApiHeader(PREFER_HEADER)
  @ApiOkResponse({ type: QualificationOutcomeDto, description: 'with Prefer: wait=N, when the conversion ended within N seconds; Preference-Applied: wait=N' })
  @ApiAcceptedResponse({ type: QualificationAcceptedDto })
  @ApiResponseHeaders(200, { ...LOCATION_HEADER('the lead'), ...PREFERENCE_APPLIED_HEADER })
  @ApiResponseHeaders(202, LOCATION_HEADER('the lead, to follow its conversion'))
  @ApiProblems(400, 401, 403, 404, 409, 413, 422)
  async qualify(
    @Param('id', RecordIdPipe) leadId: string,
    @Body() body: QualifyLeadDto,
    @Headers('prefer') prefer: string | undefined,
    @Ctx() ctx: CommandContext,
    // Sent here, not returned: Nest would put @HttpCode's 202 over the 200 of a completed wait.
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const wait = preferredWait(prefer);
    const deadline = Date.now() + wait * 1000;
    const qualified = await this.qualifyOne(leadId, body, ctx);
    reply.header('Location', `/leads/${leadId}`);
    const outcome = wait ? await this.outcome(qualified, deadline) : undefined;
    if (outcome) await reply.code(200).header('Preference-Applied', `wait=${wait}`).send(outcome);
    else await reply.code(202).send(qualified);
  }

  /** See QualificationOutcome: the outcome, or undefined when it is not seen before `deadline`. */
  private outcome(qualified: QualificationAcceptedDto, deadline: number): Promise<QualificationOutcomeDto | undefined> {
    return this.waiter.wait(qualified, deadline);
  }

  @Post('qualify')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Qualify up to 100 leads with the same options',
    description:
      'One outcome per lead, in request order: `status` is the HTTP status the single-lead request would have had, `code` and `detail` on failure. Duplicate detection applies to each lead. Partial success is allowed.',
  })
  @ApiHeader({
    ...PREFER_HEADER,
    description: `wait=N (N ≤ ${MAX_WAIT_SECONDS}) for the whole call: each item whose conversion ends in time has status 200 and its outcome, the others 202`,
  })
  @ApiOkResponse({ type: BulkQualifyResultDto })
  @ApiResponseHeaders(200, PREFERENCE_APPLIED_HEADER)
  @ApiProblems(400, 401, 403, 413)
  async qualifyMany(
    @Body() body: BulkQualifyLeadsDto,
    @Headers('prefer') prefer: string | undefined,
    @Ctx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BulkQualifyResultDto> {
    const wait = preferredWait(prefer);
    const deadline = Date.now() + wait * 1000;
    const { leadIds, ...options } = body;
    // One at a time, in request order: leads of one request that would create the same account or
    // contact are decided first come, first served (the first accepted, the next DUPLICATES_FOUND),
    // which concurrent items would leave to chance.
    const results: BulkQualifyOutcome[] = [];
    for (const id of leadIds) {
      const leadId = id.toLowerCase();
      try {
        results.push({ status: 202, ...(await this.qualifyOne(leadId, options, { ...ctx, causationId: `${ctx.causationId}/${leadId}`, now: new Date() })) });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        const status = statusOf(error);
        // A code without a status is a bug, not this lead's outcome: the whole request fails, logged.
        if (status === undefined) throw error;
        results.push({ ...error.details, leadId, status, code: error.code, detail: error.message });
      }
    }
    if (wait) {
      // The items wait side by side: N bounds the whole call, not each item.
      await Promise.all(
        results.map(async (item, i) => {
          if (item.status !== 202) return;
          const outcome = await this.outcome(item as unknown as QualificationAcceptedDto, deadline);
          if (outcome) results[i] = { ...outcome, status: 200 };
        }),
      );
      reply.header('Preference-Applied', `wait=${wait}`);
    }
    return { results };
  }

  private async qualifyOne(leadId: string, options: QualifyLeadDto, ctx: CommandContext): Promise<QualificationAcceptedDto> {
    const result = await this.commands.execute(
      new ExecuteLeadCommand({ type: 'QualifyLead', leadId, qualificationId: uuidv7(), ...lowerLinks({ ...options }) }, ctx),
    );
    const q = result.qualified!;
    return { leadId, qualificationId: q.qualificationId, plan: q.plan, decidedBy: q.decidedBy, settingVersion: q.settingVersion, position: result.position };
  }

  @Post(':id/disqualify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disqualify an open lead' })
  @ApiOkResponse({ type: CommandAcceptedDto })
  @ApiProblems(400, 401, 403, 404, 409)
  async disqualify(@Param('id', RecordIdPipe) leadId: string, @Body() body: DisqualifyLeadDto, @Ctx() ctx: CommandContext): Promise<CommandAcceptedDto> {
    return accepted(await this.commands.execute(new ExecuteLeadCommand({ type: 'DisqualifyLead', leadId, statusReason: body.statusReason }, ctx)));
  }

  @Post(':id/reactivate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reopen a qualified or disqualified lead (Open/New)' })
  @ApiBody({ type: ReactivateLeadDto, required: false })
  @ApiOkResponse({ type: CommandAcceptedDto })
  @ApiProblems(400, 401, 403, 404, 409)
  async reactivate(@Param('id', RecordIdPipe) leadId: string, @Body() body: ReactivateLeadDto, @Ctx() ctx: CommandContext): Promise<CommandAcceptedDto> {
    return accepted(await this.commands.execute(new ExecuteLeadCommand({ type: 'ReactivateLead', leadId, ignoreDuplicates: body?.ignoreDuplicates }, ctx)));
  }
}
