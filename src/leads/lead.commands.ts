import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { handleCommand } from '../event-store/decider.js';
import { readSettingInForce } from '../qualify-setting/qualify-lead-setting.commands.js';
import type { CommandContext } from '../shared/command-context.js';
import { DomainError } from '../shared/domain-error.js';
import { DuplicateDetection } from '../records/duplicate-detection.js';
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
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly duplicates: DuplicateDetection,
  ) {}

  async execute({ command, ctx }: ExecuteLeadCommand): Promise<LeadCommandResult> {
    const result = await handleCommand(this.store, leadStream(command.leadId), leadDecider, command as LeadCommand, ctx, (c, state) => this.enrich(c, state)).catch(
      (error) => {
        // The client pinned a version and another write got in first: its version is stale.
        if (command.type === 'UpdateLead' && command.expectedVersion !== undefined && error instanceof DomainError && error.code === 'CONCURRENCY_CONFLICT') {
          throw new DomainError(412, 'VERSION_MISMATCH', `lead ${command.leadId} changed after version ${command.expectedVersion}`, error.extra);
        }
        throw error;
      },
    );
    const qualified = result.appended.find((e) => e.type === 'LeadQualified')?.data as LeadQualified['data'] | undefined;
    return { id: command.leadId, version: result.revision, position: result.position, state: result.state, qualified };
  }

  private async enrich(command: LeadCommand, state: LeadState): Promise<LeadCommand> {
    if (command.type !== 'QualifyLead') return command;
    // The setting is read from the event store, never a read model: the value in force now.
    const setting = await readSettingInForce(this.store);
    if (command.ignoreDuplicates || state.status === 'None') return { ...command, setting };
    return { ...command, setting, duplicates: await this.duplicates.find(state.fields) };
  }
}
