import { DomainError } from '../shared/domain-error.js';

/**
 * The organization's qualify-lead setting: "Create Account, Contact, and Opportunity records by
 * default upon qualifying a lead". One stream; its version is the number of changes so far.
 */
export const SETTING_STREAM = 'settings-qualify-lead';

export interface QualifyLeadSettingUpdated {
  type: 'QualifyLeadSettingUpdated';
  data: { createRecordsByDefault: boolean; previousValue: boolean; version: number };
}

export interface QualifyLeadSetting {
  createRecordsByDefault: boolean;
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
}

export const initialSetting: QualifyLeadSetting = { createRecordsByDefault: true, version: 0, updatedAt: null, updatedBy: null };

export interface UpdateQualifyLeadSetting {
  createRecordsByDefault: boolean;
  /** The version the administrator edited (If-Match); undefined: no precondition. */
  expectedVersion?: number;
}

/**
 * Setting the value it already has is no change and appends nothing. A pinned version is checked
 * before that: a client whose view is stale is told so even when its value happens to be current.
 */
export function decideSettingUpdate(command: UpdateQualifyLeadSetting, state: QualifyLeadSetting): QualifyLeadSettingUpdated[] {
  if (typeof command.createRecordsByDefault !== 'boolean') {
    throw new DomainError('VALIDATION_FAILED', 'createRecordsByDefault must be a boolean');
  }
  if (command.expectedVersion !== undefined && command.expectedVersion !== state.version) {
    throw new DomainError('VERSION_MISMATCH', `the setting is at version ${state.version}, not ${command.expectedVersion}`, { currentVersion: state.version });
  }
  if (command.createRecordsByDefault === state.createRecordsByDefault) return [];
  return [
    {
      type: 'QualifyLeadSettingUpdated',
      data: { createRecordsByDefault: command.createRecordsByDefault, previousValue: state.createRecordsByDefault, version: state.version + 1 },
    },
  ];
}

/** A recorded event of the stream, or one just decided with the metadata it will be appended with. */
type SettingEvent = { type: string; data: unknown; metadata?: { userId?: string; at?: string } };

export function evolveSetting(state: QualifyLeadSetting, event: SettingEvent): QualifyLeadSetting {
  if (!isSettingUpdated(event)) return state;
  return {
    createRecordsByDefault: event.data.createRecordsByDefault,
    version: event.data.version,
    updatedAt: event.metadata?.at ?? null,
    updatedBy: event.metadata?.userId ?? null,
  };
}

function isSettingUpdated(event: SettingEvent): event is SettingEvent & QualifyLeadSettingUpdated {
  return event.type === 'QualifyLeadSettingUpdated';
}
