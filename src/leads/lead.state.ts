import type { LeadEvent, LeadFields, LeadStatus, StatusReason } from './lead.events.js';

/** The lead's state, folded from its stream. `revision` is the stream revision (-1: no lead). */
export type LeadState =
  | { status: 'None'; revision: -1 }
  | {
      status: LeadStatus;
      revision: number;
      id: string;
      statusReason: StatusReason;
      fields: LeadFields;
      /**
       * Account and contact of the last qualification (planned or completed), reused when the
       * lead is qualified again: the saga creates the earlier plan's records whatever happens
       * to the lead meanwhile, so planning new ones would duplicate the customer.
       */
      convertedAccountId: string | null;
      convertedContactId: string | null;
      /** Those of the last completed conversion: what a failed conversion falls back to. */
      completedAccountId: string | null;
      completedContactId: string | null;
      /** How each qualification's conversion ended: the saga records it once. */
      conversions: Record<string, 'completed' | 'failed'>;
    };

export const initialLead: LeadState = { status: 'None', revision: -1 };

export function evolveLead(state: LeadState, event: LeadEvent): LeadState {
  const revision = state.revision + 1;
  if (event.type === 'LeadCreated') {
    const { leadId, ignoredDuplicates: _ignored, ...fields } = event.data;
    return {
      status: 'Open',
      revision,
      id: leadId,
      statusReason: 'New',
      fields,
      convertedAccountId: null,
      convertedContactId: null,
      completedAccountId: null,
      completedContactId: null,
      conversions: {},
    };
  }
  if (state.status === 'None') return state;
  switch (event.type) {
    case 'LeadUpdated': {
      const { leadId: _id, statusReason, ignoredDuplicates: _ignored, ...changes } = event.data;
      return { ...state, revision, fields: { ...state.fields, ...changes }, statusReason: statusReason ?? state.statusReason };
    }
    case 'LeadQualified':
      return {
        ...state,
        revision,
        status: 'Qualified',
        statusReason: 'Qualified',
        convertedAccountId: event.data.plan.account.id ?? state.convertedAccountId,
        convertedContactId: event.data.plan.contact.id ?? state.convertedContactId,
      };
    case 'LeadConversionCompleted':
      return {
        ...state,
        revision,
        convertedAccountId: event.data.accountId ?? state.convertedAccountId,
        convertedContactId: event.data.contactId ?? state.convertedContactId,
        completedAccountId: event.data.accountId ?? state.completedAccountId,
        completedContactId: event.data.contactId ?? state.completedContactId,
        conversions: { ...state.conversions, [event.data.qualificationId]: 'completed' },
      };
    case 'LeadConversionFailed':
      // The failed plan's records may not exist: reuse only what a completed conversion made.
      return {
        ...state,
        revision,
        convertedAccountId: state.completedAccountId,
        convertedContactId: state.completedContactId,
        conversions: { ...state.conversions, [event.data.qualificationId]: 'failed' },
      };
    case 'LeadDisqualified':
      return { ...state, revision, status: 'Disqualified', statusReason: event.data.statusReason };
    case 'LeadReactivated':
      return { ...state, revision, status: 'Open', statusReason: 'New' };
    default:
      return { ...state, revision };
  }
}
