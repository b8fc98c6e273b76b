import { DomainError } from '../shared/domain-error.js';
import { RECORD_KINDS, type RecordKeyFields, type RecordKind } from './record-kinds.js';

/**
 * An account, contact or opportunity: created once, by one qualification. Creating it again for
 * the same qualification is "already done" (the saga retrying after a crash); for another
 * qualification it is a conflict that must not be papered over.
 */
export type RecordState = { exists: false } | { exists: true; qualificationId: string; data: Record<string, unknown> };

export interface CreateRecord {
  kind: RecordKind;
  id: string;
  data: Record<string, unknown> & RecordKeyFields & { originatingLeadId: string; qualificationId: string };
}

export interface RecordCreated {
  type: 'AccountCreated' | 'ContactCreated' | 'OpportunityCreated';
  data: Record<string, unknown> & RecordKeyFields & { id: string; originatingLeadId: string; qualificationId: string };
}

/** Opens the stream of a record an accepted qualification will create (it can be linked already). */
export interface RecordPlanned {
  type: 'AccountPlanned' | 'ContactPlanned';
  data: { id: string; leadId: string; qualificationId: string };
}

export const initialRecord: RecordState = { exists: false };

export function evolveRecord(state: RecordState, event: RecordCreated | RecordPlanned): RecordState {
  if (state.exists || event.type === 'AccountPlanned' || event.type === 'ContactPlanned') return state;
  return { exists: true, qualificationId: event.data.qualificationId, data: event.data };
}

export function decideRecord(command: CreateRecord, state: RecordState): RecordCreated[] {
  if (state.exists) {
    if (state.qualificationId === command.data.qualificationId) return [];
    throw new DomainError(
      'RECORD_EXISTS',
      `${command.kind} ${command.id} was created by qualification ${state.qualificationId}, not ${command.data.qualificationId}`,
    );
  }
  return [{ type: RECORD_KINDS[command.kind].eventType, data: { id: command.id, ...command.data } }];
}
