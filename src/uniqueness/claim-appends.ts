import { v7 as uuidv7 } from 'uuid';
import type { EventMetadata, StreamAppend } from '../event-store/event-store.port.js';
import { expectedRevisionOf, type KeyClaims } from './key-claims.js';
import type { ReleaseReason, UniqueKeyClaimed, UniqueKeyReleased } from './unique-key.events.js';

export type ClaimFields = Omit<UniqueKeyClaimed['data'], 'kind' | 'key'>;

/** The claim on a key, appended at the revision read: a claimer that read the same revision loses. */
export function claimAppend(claims: KeyClaims, fields: ClaimFields, metadata: EventMetadata, eventId: string = uuidv7()): StreamAppend {
  const event: UniqueKeyClaimed = { type: 'UniqueKeyClaimed', data: { kind: claims.key.kind, key: claims.key.key, ...fields } };
  return { streamId: claims.streamId, expectedRevision: expectedRevisionOf(claims), events: [{ id: eventId, ...event, metadata }] };
}

/** Releases the record's claim on the key; nothing when it holds none. */
export function releaseAppend(claims: KeyClaims, recordId: string, reason: ReleaseReason, metadata: EventMetadata): StreamAppend | undefined {
  if (!claims.claims.some((c) => c.data.recordId === recordId)) return undefined;
  const event: UniqueKeyReleased = { type: 'UniqueKeyReleased', data: { kind: claims.key.kind, key: claims.key.key, recordId, reason } };
  return { streamId: claims.streamId, expectedRevision: expectedRevisionOf(claims), events: [{ id: uuidv7(), ...event, metadata }] };
}
