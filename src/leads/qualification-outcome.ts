import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { Processors } from '../event-store/event-store.module.js';
import { RECORDS } from '../records/records.projection.js';
import { ConversionOutcomes } from './conversion-outcomes.js';
import type { QualificationAcceptedDto, QualificationOutcomeDto } from './dto/qualification-accepted.dto.js';
import { LEAD_DETAILS } from './lead-details/lead-details.projection.js';
import { GetLead } from './lead-details/lead-details.queries.js';

/** What waiting needs to know of an accepted qualification. */
export type AcceptedQualification = Pick<QualificationAcceptedDto, 'leadId' | 'qualificationId' | 'position'>;

/**
 * Waiting for a qualification's conversion to end (`Prefer: wait` on the native API, QualifyLead on
 * the Dataverse surface): the outcome once the lead's and the records' read models show it (so
 * that the ids can be read at once), or undefined when that does not happen before `deadline`.
 * A provider of LeadsModule, exported: every waiter of the process shares ConversionOutcomes'
 * one subscription.
 */
@Injectable()
export class QualificationOutcome {
  constructor(
    private readonly outcomes: ConversionOutcomes,
    private readonly processors: Processors,
    private readonly queries: QueryBus,
  ) {}

  async wait<Q extends AcceptedQualification>(
    qualified: Q,
    deadline: number,
  ): Promise<(Q & Pick<QualificationOutcomeDto, 'position' | 'conversion' | 'failureReason' | 'accountId' | 'contactId' | 'opportunityId'>) | undefined> {
    const ended = await this.outcomes.wait(qualified.leadId, qualified.qualificationId, qualified.position, deadline - Date.now());
    if (!ended) return undefined;
    for (const name of [LEAD_DETAILS, RECORDS]) {
      if (!(await this.processors.get(name)!.waitFor(ended.position, Math.max(0, deadline - Date.now())))) return undefined;
    }
    const { qualification } = await this.queries.execute(new GetLead(qualified.leadId));
    if (qualification?.qualificationId !== qualified.qualificationId || qualification.conversion === 'pending') return undefined;
    const { conversion, failureReason, accountId, contactId, opportunityId } = qualification;
    return { ...qualified, position: ended.position, conversion: conversion as 'completed' | 'failed', failureReason, accountId, contactId, opportunityId };
  }
}
