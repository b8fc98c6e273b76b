import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, START, type EventStore } from '../event-store/event-store.port.js';
import { fold, handleCommand } from '../event-store/decider.js';
import type { CommandContext } from '../shared/command-context.js';
import {
  SETTING_STREAM,
  decideSettingUpdate,
  evolveSetting,
  initialSetting,
  type QualifyLeadSetting,
} from './qualify-lead-setting.decider.js';

export interface SettingResult extends QualifyLeadSetting {
  position: string;
}

/** The setting as the event store has it now: what qualification decides with. */
export async function readSettingInForce(store: EventStore): Promise<SettingResult> {
  const events = await store.readStream(SETTING_STREAM);
  return { ...fold(initialSetting, evolveSetting, events), position: events.at(-1)?.position ?? START };
}

export class UpdateQualifyLeadSetting extends Command<SettingResult> {
  constructor(
    readonly createRecordsByDefault: boolean,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

const settingDecider = {
  initial: initialSetting,
  evolve: evolveSetting,
  decide: (command: { createRecordsByDefault: boolean }, state: QualifyLeadSetting) => decideSettingUpdate(command, state),
};

@CommandHandler(UpdateQualifyLeadSetting)
export class UpdateQualifyLeadSettingHandler implements ICommandHandler<UpdateQualifyLeadSetting> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ createRecordsByDefault, ctx }: UpdateQualifyLeadSetting): Promise<SettingResult> {
    const result = await handleCommand(this.store, SETTING_STREAM, settingDecider, { createRecordsByDefault }, ctx);
    return { ...result.state, position: result.position };
  }
}
