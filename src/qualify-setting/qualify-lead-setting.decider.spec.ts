import { deciderSpec } from '../../test/support/given-when-then.js';
import {
  decideSettingUpdate,
  evolveSetting,
  initialSetting,
  type QualifyLeadSetting,
  type QualifyLeadSettingUpdated,
  type UpdateQualifyLeadSetting,
} from './qualify-lead-setting.decider.js';

const { given } = deciderSpec<UpdateQualifyLeadSetting, QualifyLeadSetting, QualifyLeadSettingUpdated>({
  decide: decideSettingUpdate,
  evolve: evolveSetting,
  initialState: initialSetting,
});

const updated = (createRecordsByDefault: boolean, version: number): QualifyLeadSettingUpdated => ({
  type: 'QualifyLeadSettingUpdated',
  data: { createRecordsByDefault, previousValue: !createRecordsByDefault, version },
});

describe('the qualify-lead setting before any change', () => {
  it('is Yes at version 0, never updated', () => {
    expect(initialSetting).toEqual({ createRecordsByDefault: true, version: 0, updatedAt: null, updatedBy: null });
  });

  it('appends nothing when set to Yes, the value it already has', () => {
    given([]).when({ createRecordsByDefault: true }).then([]);
  });

  it('records the first change to No as version 1, previously Yes', () => {
    given([])
      .when({ createRecordsByDefault: false })
      .then([{ type: 'QualifyLeadSettingUpdated', data: { createRecordsByDefault: false, previousValue: true, version: 1 } }]);
  });
});

describe('UpdateQualifyLeadSetting after changes', () => {
  it('appends nothing when set to the value it already has', () => {
    given([updated(false, 1)])
      .when({ createRecordsByDefault: false })
      .then([]);
    given([updated(false, 1), updated(true, 2)])
      .when({ createRecordsByDefault: true })
      .then([]);
  });

  it('increments the version and records the previous value', () => {
    given([updated(false, 1)])
      .when({ createRecordsByDefault: true })
      .then([{ type: 'QualifyLeadSettingUpdated', data: { createRecordsByDefault: true, previousValue: false, version: 2 } }]);
    given([updated(false, 1), updated(true, 2), updated(false, 3)])
      .when({ createRecordsByDefault: true })
      .then([{ type: 'QualifyLeadSettingUpdated', data: { createRecordsByDefault: true, previousValue: false, version: 4 } }]);
  });

  it.each([undefined, null, 'false', 0])('refuses a value that is not a boolean (%p): 400 VALIDATION_FAILED', (value) => {
    given([])
      .when({ createRecordsByDefault: value as unknown as boolean })
      .thenThrows({ code: 'VALIDATION_FAILED' });
  });
});

describe('UpdateQualifyLeadSetting with an expected version (If-Match)', () => {
  it('changes the setting when the expected version is the current one', () => {
    given([])
      .when({ createRecordsByDefault: false, expectedVersion: 0 })
      .then([{ type: 'QualifyLeadSettingUpdated', data: { createRecordsByDefault: false, previousValue: true, version: 1 } }]);
    given([updated(false, 1)])
      .when({ createRecordsByDefault: true, expectedVersion: 1 })
      .then([{ type: 'QualifyLeadSettingUpdated', data: { createRecordsByDefault: true, previousValue: false, version: 2 } }]);
  });

  it('appends nothing for the value it already has at the current version', () => {
    given([updated(false, 1)])
      .when({ createRecordsByDefault: false, expectedVersion: 1 })
      .then([]);
  });

  it.each([0, 2, 7])('refuses expected version %p when the setting is at version 1: 412 VERSION_MISMATCH with currentVersion', (expectedVersion) => {
    given([updated(false, 1)])
      .when({ createRecordsByDefault: true, expectedVersion })
      .thenThrows({ code: 'VERSION_MISMATCH', extra: { currentVersion: 1 } });
  });

  it('refuses a stale version even when the value is the one it already has: the client decided on an old view', () => {
    given([updated(false, 1), updated(true, 2)])
      .when({ createRecordsByDefault: true, expectedVersion: 1 })
      .thenThrows({ code: 'VERSION_MISMATCH', extra: { currentVersion: 2 } });
  });

  it('refuses a value that is not a boolean before looking at the version', () => {
    given([])
      .when({ createRecordsByDefault: 'false' as unknown as boolean, expectedVersion: 5 })
      .thenThrows({ code: 'VALIDATION_FAILED' });
  });
});

describe('evolveSetting', () => {
  const metadata = (userId: string, at: string) => ({ userId, correlationId: 'c', causationId: 'c', at });

  it('takes value and version from the event, and updatedAt/updatedBy from its metadata', () => {
    const state = [
      { ...updated(false, 1), metadata: metadata('alice', '2026-11-01T09:00:00.000Z') },
      { ...updated(true, 2), metadata: metadata('bob', '2026-11-02T09:30:00.000Z') },
    ].reduce(evolveSetting, initialSetting);
    expect(state).toEqual({ createRecordsByDefault: true, version: 2, updatedAt: '2026-11-02T09:30:00.000Z', updatedBy: 'bob' });
  });

  it('ignores events of other types', () => {
    const state = evolveSetting(initialSetting, { type: 'LeadCreated', data: { leadId: 'x' }, metadata: metadata('alice', '2026-11-01T09:00:00.000Z') });
    expect(state).toEqual(initialSetting);
  });
});
