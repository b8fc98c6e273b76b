import type { Command, CommandBus } from '@nestjs/cqrs';
import type { EventStore, RecordedEvent } from '../event-store/event-store.port.js';
import { NotYetError, type SagaProcessor } from '../event-store/processor.js';
import { ExecuteLeadCommand } from '../leads/lead.commands.js';
import type { LeadQualified } from '../leads/lead.events.js';
import { recordPresence } from '../leads/record-presence.js';
import type { CommandContext } from '../shared/command-context.js';
import { DomainError } from '../shared/domain-error.js';
import { CreateConversionRecords } from './lead-conversion.commands.js';
import { conversionSteps } from './lead-conversion.saga.js';

export const LEAD_CONVERSION = 'lead-conversion';
export const SAGA_USER = 'system:lead-conversion';
/** Immediate re-decisions after losing an optimistic-concurrency race, before it counts as a failed attempt. */
const CONFLICT_RETRIES = 20;

/**
 * The durable side of the lead conversion saga, run by the processor runner from the event store
 * (never by @nestjs/cqrs's in-memory sagas). For each LeadQualified it creates the planned records
 * and then records LeadConversionCompleted. Every step is idempotent — record ids come from the
 * plan, a record that already exists for this qualification counts as done, and the lead's
 * outcome is recorded once per qualification — so a crash at any point is repaired by running the
 * event again, and the checkpoint moves only after every step succeeded.
 */
export class LeadConversionProcessor implements SagaProcessor {
  readonly name = LEAD_CONVERSION;
  readonly eventTypes = ['LeadQualified'];

  constructor(
    private readonly commands: CommandBus,
    private readonly store: EventStore,
  ) {}

  async perform(event: RecordedEvent): Promise<void> {
    const qualified = event.data as LeadQualified['data'];
    await this.requireLinkedRecords(qualified);
    const steps = conversionSteps(qualified);
    const ctx = this.context(event);
    await this.execute(new CreateConversionRecords(steps.creates, { type: 'RecordConversionCompleted', ...steps.completed }, ctx));
  }

  /**
   * A plan may link a record that another qualification planned and has not created yet (so may
   * the new opportunity's customer): the new records must not point at it before it exists. The
   * runner retries without counting attempts (NotYetError) while the other conversion (earlier in
   * the log, running in the same batch) completes, however long that takes under load; if that one
   * failed, the linked record never will exist and this conversion fails too.
   */
  private async requireLinkedRecords({ plan, opportunityCustomerId, opportunityCustomerType }: LeadQualified['data']): Promise<void> {
    const linked = (['account', 'contact'] as const).flatMap((kind) =>
      plan[kind].action === 'existing' && plan[kind].id ? [{ kind, id: plan[kind].id }] : [],
    );
    if (opportunityCustomerId && opportunityCustomerType) linked.push({ kind: opportunityCustomerType, id: opportunityCustomerId });
    for (const { kind, id } of linked) {
      const presence = await recordPresence(this.store, kind, id);
      if (presence.state === 'pending')
        throw new NotYetError(`linked ${kind} ${id} is not created yet (qualification ${presence.qualificationId} is converting)`);
      if (presence.state === 'missing') throw new Error(`linked ${kind} ${id} does not exist: ${presence.reason}`);
    }
  }

  /** After the last retry: the failure is recorded on the lead, where salespeople see it. */
  async giveUp(event: RecordedEvent, error: Error): Promise<void> {
    const { leadId, qualificationId } = event.data as LeadQualified['data'];
    await this.execute(
      new ExecuteLeadCommand({ type: 'RecordConversionFailed', leadId, qualificationId, reason: error.message.slice(0, 1000) }, this.context(event)),
    );
  }

  /**
   * A CONCURRENCY_CONFLICT means another write reached the stream between our read and our append
   * (on a busy lead: a salesperson's command). It is no failure of the step: every decision here is
   * idempotent, so reading again and deciding again is always right. Counting it as a failed
   * attempt let a busy lead exhaust the runner's retries and lose even its failure record.
   */
  private async execute<T>(command: Command<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.commands.execute(command);
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'CONCURRENCY_CONFLICT') || attempt >= CONFLICT_RETRIES) throw error;
        // A little jitter, so that the competing writer does not win every rematch.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }

  private context(event: RecordedEvent): CommandContext {
    return { userId: SAGA_USER, correlationId: event.metadata.correlationId, causationId: event.id, now: new Date() };
  }
}
