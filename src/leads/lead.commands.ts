import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { handleCommand } from '../event-store/decider.js';
import { readSettingInForce } from '../qualify-setting/qualify-lead-setting.commands.js';
import type { CommandContext } from '../shared/command-context.js';
import { decideLead, evolveLead, initialLead, type LeadCommand, type LeadState } from './lead.decider.js';
import { leadStream, type LeadQualified } from './lead.events.js';

/** A lead command as the API gives it; qualification's setting is filled in by the handler. */
export type LeadCommandInput = LeadCommand extends infer C ? (C extends { type: 'QualifyLead' } ? Omit<C, 'setting'> : C) : never;

export interface LeadCommandResult {
  id: string;
  version: number;
  position: string;
  state: LeadState;
  qualified?: LeadQualified['data'];
}

export class ExecuteLeadCommand extends Command<LeadCommandResult> {
  constructor(
    readonly command: LeadCommandInput,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

const leadDecider = { initial: initialLead, evolve: evolveLead, decide: decideLead };

@CommandHandler(ExecuteLeadCommand)
export class ExecuteLeadCommandHandler implements ICommandHandler<ExecuteLeadCommand> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ command, ctx }: ExecuteLeadCommand): Promise<LeadCommandResult> {
    const full: LeadCommand =
      command.type === 'QualifyLead'
        ? // Read from the event store, never a read model: the value in force at this moment.
          { ...command, setting: await readSettingInForce(this.store) }
        : command;
    const result = await handleCommand(this.store, leadStream(command.leadId), leadDecider, full, ctx);
    const qualified = result.appended.find((e) => e.type === 'LeadQualified')?.data as LeadQualified['data'] | undefined;
    return { id: command.leadId, version: result.revision, position: result.position, state: result.state, qualified };
  }
}
