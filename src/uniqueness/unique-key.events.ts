import type { UniqueKeyKind } from './unique-keys.js';

/** What a 409 DUPLICATES_FOUND names for each match; `pending`: its record is not created yet. */
export interface AccountMatch {
  id: string;
  name: string;
  pending: boolean;
}
export interface ContactMatch {
  id: string;
  firstName: string | null;
  lastName: string;
  email: string | null;
  pending: boolean;
}
export interface LeadMatch {
  id: string;
  firstName: string | null;
  lastName: string;
  email: string | null;
  companyName: string | null;
  pending: boolean;
}
export interface DuplicateMatches {
  accounts: AccountMatch[];
  contacts: ContactMatch[];
  leads: LeadMatch[];
}

export const noDuplicates = (): DuplicateMatches => ({ accounts: [], contacts: [], leads: [] });

/**
 * Why a claim stopped holding its key. A claim's holding is judged by its owner's stream, so
 * releases are not needed for correctness; they are written where they are cheap (an e-mail
 * change, a failed conversion, a lapsed claim) to keep a key's stream short and say why. A lead
 * that is qualified or disqualified ends its e-mail claim with that event alone.
 */
export type ReleaseReason = 'conversion-failed' | 'email-changed' | 'owner-missing';

export interface UniqueKeyClaimed {
  type: 'UniqueKeyClaimed';
  data: {
    kind: UniqueKeyKind;
    key: string;
    /** The record that will hold the key: a planned account or contact id, or the lead's id. */
    recordId: string;
    leadId: string;
    qualificationId: string | null;
    /**
     * The event that binds the claim (LeadQualified, LeadCreated, LeadUpdated, LeadReactivated),
     * appended after the claim. Until it is in the log the claim is pending; if it never comes
     * (a crash between the two appends where they are not atomic) the claim lapses.
     */
    ownerStreamId: string;
    ownerEventId: string;
    /** What a DUPLICATES_FOUND shows of the record while it is pending. */
    record: Record<string, string | null>;
    /** The records that held the key when the user chose to ignore duplicates. */
    ignoredDuplicates?: string[];
    /** Made by the backfill for a record or open lead that existed before claims did. */
    backfilled?: boolean;
  };
}

export interface UniqueKeyReleased {
  type: 'UniqueKeyReleased';
  data: { kind: UniqueKeyKind; key: string; recordId: string; reason: ReleaseReason };
}

export type UniqueKeyEvent = UniqueKeyClaimed | UniqueKeyReleased;

export const UNIQUE_KEY_EVENT_TYPES = ['UniqueKeyClaimed', 'UniqueKeyReleased'] as const;
