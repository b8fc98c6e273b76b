import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { handleCommand } from '../event-store/decider.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import type { CommandContext } from '../shared/command-context.js';
import { decideRecord, evolveRecord, initialRecord, type CreateRecord } from './record.decider.js';
import { recordStream } from './record-kinds.js';

export class CreateRecordCommand extends Command<{ created: boolean; position: string }> {
  constructor(
    readonly command: CreateRecord,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

const recordDecider = { initial: initialRecord, evolve: evolveRecord, decide: decideRecord };

@CommandHandler(CreateRecordCommand)
export class CreateRecordHandler implements ICommandHandler<CreateRecordCommand> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Appends with NO_STREAM (the stream is new): of two racing creators exactly one writes. */
  async execute({ command, ctx }: CreateRecordCommand) {
    const result = await handleCommand(this.store, recordStream(command.kind, command.id), recordDecider, command, ctx);
    return { created: result.appended.length > 0, position: result.position };
  }
}
