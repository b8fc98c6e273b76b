import { isEventOf, type EventStore, type RecordedOf } from '../event-store/event-store.port.js';
import { fold } from '../event-store/decider.js';
import { RECORD_KINDS, recordStream } from '../records/record-kinds.js';
import type { RecordCreated } from '../records/record.decider.js';
import { emailKey } from '../shared/normalised-keys.js';
import { CLAIM_TTL_MS, type Claim, type KeyClaims } from '../uniqueness/key-claims.js';
import { noDuplicates, type DuplicateMatches } from '../uniqueness/unique-key.events.js';
import { evolveLead, initialLead } from './lead.decider.js';
import { leadStream } from './lead.events.js';
import { qualificationOutcome } from './record-presence.js';

/** A claim that holds its key now, as a DUPLICATES_FOUND shows it. */
export interface Holder {
  claim: Claim;
  pending: boolean;
  record: Record<string, string | null>;
}

/**
 * Which claims still hold their key, judged by their owners' streams (the source of truth), not by
 * release events, which may be missing where appends are not atomic:
 * - an account or contact holds once created; until then while its qualification has not failed;
 * - a lead's e-mail holds while the lead is open with that e-mail;
 * - a claim whose owner event is not in the log holds for CLAIM_TTL_MS after it was made.
 */
export async function liveHolders(store: EventStore, claims: KeyClaims, now: Date, options: { ignoreLeadId?: string; ttlMs?: number } = {}): Promise<Holder[]> {
  const ttlMs = options.ttlMs ?? CLAIM_TTL_MS;
  const judged = await Promise.all(claims.claims.map((claim) => judge(store, claim, now, ttlMs, options.ignoreLeadId)));
  // A lead does not duplicate itself while its records are pending: those are a concurrent
  // qualification of the same lead, which the lead stream's revision refuses anyway (and the
  // decision is taken again). A record it did create holds its key like any other.
  return judged.filter((h): h is Holder => h !== null && !(h.pending && h.claim.data.leadId === options.ignoreLeadId));
}

async function judge(store: EventStore, claim: Claim, now: Date, ttlMs: number, ignoreLeadId?: string): Promise<Holder | null> {
  const { kind, recordId, leadId, qualificationId, ownerEventId } = claim.data;
  const young = now.getTime() - Date.parse(claim.claimedAt) < ttlMs;
  if (kind === 'lead-email') {
    if (leadId === ignoreLeadId) return null;
    const events = await store.readStream(leadStream(leadId));
    if (!events.some((e) => e.id === ownerEventId)) return young ? { claim, pending: true, record: claim.data.record } : null;
    const lead = fold(initialLead, evolveLead, events);
    if (lead.status !== 'Open' || emailKey(lead.fields.email) !== claim.data.key) return null;
    const { firstName, lastName, email, companyName } = lead.fields;
    return { claim, pending: false, record: { firstName: firstName ?? null, lastName, email: email ?? null, companyName: companyName ?? null } };
  }
  const recordKind = kind === 'account-name' ? 'account' : 'contact';
  const created = (await store.readStream(recordStream(recordKind, recordId))).find((e): e is RecordedOf<RecordCreated> =>
    isEventOf<RecordCreated>(e, [RECORD_KINDS[recordKind].eventType]),
  );
  if (created) return { claim, pending: false, record: displayOf(kind, created) };
  const outcome = qualificationId ? qualificationOutcome(await store.readStream(leadStream(leadId)), qualificationId) : 'absent';
  if (outcome === 'failed') return null;
  if (outcome === 'absent' && !young) return null;
  return { claim, pending: true, record: claim.data.record };
}

function displayOf(kind: 'account-name' | 'contact-email', created: RecordedOf<RecordCreated>): Record<string, string | null> {
  const d = created.data;
  // An account has a name; a contact has a last name (a lead's is required).
  return kind === 'account-name' ? { name: d.name ?? null } : { firstName: d.firstName ?? null, lastName: d.lastName ?? null, email: d.email ?? null };
}

/** The holders as the DUPLICATES_FOUND body lists them. */
export function asMatches(holders: Holder[]): DuplicateMatches {
  const matches = noDuplicates();
  for (const { claim, pending, record } of holders) {
    const id = claim.data.recordId;
    if (claim.data.kind === 'account-name') matches.accounts.push({ id, name: record.name ?? '', pending });
    else if (claim.data.kind === 'contact-email') {
      matches.contacts.push({ id, firstName: record.firstName ?? null, lastName: record.lastName ?? '', email: record.email ?? null, pending });
    } else {
      matches.leads.push({
        id,
        firstName: record.firstName ?? null,
        lastName: record.lastName ?? '',
        email: record.email ?? null,
        companyName: record.companyName ?? null,
        pending,
      });
    }
  }
  return matches;
}
