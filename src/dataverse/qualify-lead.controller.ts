import { v7 as uuidv7 } from 'uuid';
import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CanCommand } from '../auth/roles.decorator.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { Ctx } from '../http/request-context.js';
import { QualifyLeadDto } from '../leads/dto/lead-commands.dto.js';
import { ExecuteLeadCommand } from '../leads/lead.commands.js';
import { QualificationOutcome } from '../leads/qualification-outcome.js';
import type { CommandContext } from '../shared/command-context.js';
import { DomainError } from '../shared/domain-error.js';
import { LEAD_ATTRIBUTE_OF_FIELD } from './lead-attributes.js';
import { DATAVERSE_CODES, doesNotExist, ODataError, resourceNotFound } from './odata-errors.js';
import { parseTarget, serviceRoot } from './odata-query.js';
import { linkedRecordMissing, objectBody, odataHeaders, validated } from './odata-responses.js';
import { QUALIFY_ACTIONS, QUALIFY_PARAMETER_OF_FIELD, qualifyOptions, type QualifyOptions } from './qualify-lead.parameters.js';
import { ENTITY_OF_SET, RECORD_ENTITIES } from './record-attributes.js';
import { earlierQualification, type EarlierQualification } from './repeated-qualification.js';

const ATTRIBUTE_OF_FIELD = { ...LEAD_ATTRIBUTE_OF_FIELD, ...QUALIFY_PARAMETER_OF_FIELD };

/**
 * `POST leads(<id>)/Microsoft.Dynamics.CRM.QualifyLead` (docs/dataverse.md, QualifyLead): the
 * native qualify command, then a bounded wait (DATAVERSE_QUALIFY_WAIT_MS) for the records, listed
 * as Dataverse lists them. Its route has two segments, the other controllers' one: no overlap.
 */
@ApiExcludeController()
@Controller('api/data/v9.2')
export class QualifyLeadController {
  private readonly waitMs: number;

  constructor(
    private readonly commands: CommandBus,
    private readonly outcomes: QualificationOutcome,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.waitMs = config.dataverseQualifyWaitMs;
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
    const options = await validated(QualifyLeadDto, qualifyOptions(objectBody(body ?? {}), suppress), ATTRIBUTE_OF_FIELD);
    const qualified = await this.qualify(leadId, options, ctx);
    const outcome = await this.outcomes.wait(qualified, Date.now() + this.waitMs);
    if (!outcome) {
      throw new ODataError(
        503,
        DATAVERSE_CODES.timeout,
        `The lead was qualified (qualification ${qualified.qualificationId}), but its records were not created within ${this.waitMs / 1000} seconds. Send the same QualifyLead again to receive them.`,
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

  /** The qualification this request made, or the one an identical earlier request made (a repeat). */
  private async qualify(leadId: string, options: QualifyOptions, ctx: CommandContext): Promise<EarlierQualification> {
    try {
      const result = await this.commands.execute(new ExecuteLeadCommand({ type: 'QualifyLead', leadId, qualificationId: uuidv7(), ...options }, ctx));
      const q = result.qualified!;
      return { leadId, qualificationId: q.qualificationId, plan: q.plan, position: result.position };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const earlier = error.code === 'LEAD_NOT_OPEN' ? await earlierQualification(this.store, leadId, options) : undefined;
      if (!earlier) throw translated(error, leadId);
      return earlier;
    }
  }
}

/** Our refusal, in the terms of this surface where they differ from the native message. */
function translated(error: DomainError, leadId: string): Error {
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
