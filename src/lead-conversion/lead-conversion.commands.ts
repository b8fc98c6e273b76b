import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { concurrencyConflict, decide } from '../event-store/decider.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { decideLead, evolveLead, initialLead, type LeadCommand } from '../leads/lead.decider.js';
import { leadStream } from '../leads/lead.events.js';
import { decideRecord, evolveRecord, initialRecord, type CreateRecord } from '../records/record.decider.js';
import { recordStream } from '../records/record-kinds.js';
import type { CommandContext } from '../shared/command-context.js';

/**
 * Creates a qualification's records and records the lead's conversion as completed: every
 * decision is taken on its own stream by its own decider, and all that they decide is appended
 * at once (one transaction on the SQL store). Records that already exist for this qualification
 * decide nothing, so a repeated conversion completes only what is missing.
 */
export class CreateConversionRecords extends Command<{ created: number }> {
  constructor(
    readonly creates: CreateRecord[],
    readonly completed: Extract<LeadCommand, { type: 'RecordConversionCompleted' }>,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

const recordDecider = { initial: initialRecord, evolve: evolveRecord, decide: decideRecord };
const leadDecider = { initial: initialLead, evolve: evolveLead, decide: decideLead };

@CommandHandler(CreateConversionRecords)
export class CreateConversionRecordsHandler implements ICommandHandler<CreateConversionRecords> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ creates, completed, ctx }: CreateConversionRecords) {
    const [lead, ...records] = await Promise.all([
      decide(this.store, leadStream(completed.leadId), leadDecider, completed as LeadCommand, ctx),
      ...creates.map((create) => decide(this.store, recordStream(create.kind, create.id), recordDecider, create, ctx)),
    ]);
    // The outcome is recorded already (a redelivery after LeadConversionFailed, which freed the
    // names and e-mails of records it had not created): creating them now could duplicate.
    if (!lead.append) return { created: 0 };
    const appends = [...records.flatMap((d) => (d.append ? [d.append] : [])), lead.append];
    try {
      await this.store.appendToStreams(appends);
    } catch (error) {
      throw concurrencyConflict(error);
    }
    return { created: appends.length };
  }
}
