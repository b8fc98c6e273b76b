import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, START, type EventStore } from '../event-store/event-store.port.js';
import { fold, handleCommand } from '../event-store/decider.js';
import type { CommandContext } from '../shared/command-context.js';
import { DomainError } from '../shared/domain-error.js';
import {
  SETTING_STREAM,
  decideSettingUpdate,
  evolveSetting,
  initialSetting,
  type QualifyLeadSetting,
  type UpdateQualifyLeadSetting as SettingUpdate,
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
    /** If-Match: the version the administrator edited; undefined when the request had none. */
    readonly expectedVersion?: number,
  ) {
    super();
  }
}

const settingDecider = {
  initial: initialSetting,
  evolve: evolveSetting,
  decide: (command: SettingUpdate, state: QualifyLeadSetting) => decideSettingUpdate(command, state),
};

@CommandHandler(UpdateQualifyLeadSetting)
export class UpdateQualifyLeadSettingHandler implements ICommandHandler<UpdateQualifyLeadSetting> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /**
   * The version is checked against the stream as read here and the append expects the revision
   * read, so of two administrators holding the same If-Match only the first append can succeed.
   */
  async execute({ createRecordsByDefault, expectedVersion, ctx }: UpdateQualifyLeadSetting): Promise<SettingResult> {
    const result = await handleCommand(this.store, SETTING_STREAM, settingDecider, { createRecordsByDefault, expectedVersion }, ctx).catch((error) => {
      // Another change got in between read and append: the version the client pinned is stale.
      if (expectedVersion !== undefined && error instanceof DomainError && error.code === 'CONCURRENCY_CONFLICT') {
        // Every event of the stream is one change, so revision n is version n + 1.
        const currentVersion = (error.details.currentVersion as number) + 1;
        throw new DomainError('VERSION_MISMATCH', `the setting changed after version ${expectedVersion}`, { currentVersion });
      }
      throw error;
    });
    return { ...result.state, position: result.position };
  }
}
