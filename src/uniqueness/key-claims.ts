import { NO_STREAM, type EventStore, type ExpectedRevision, type RecordedEvent } from '../event-store/event-store.port.js';
import type { UniqueKeyClaimed, UniqueKeyEvent } from './unique-key.events.js';
import { uniqueKeyStream, type UniqueKey } from './unique-keys.js';

/**
 * How long a claim whose owner event is not in the log still holds its key. Where the claim and
 * its owner are appended in one transaction (the SQL store) an owner is never missing; on
 * EventStoreDB they are two appends, and a crash between them leaves a claim that must not block
 * the key for ever. Far longer than any command takes between its two appends.
 */
export const CLAIM_TTL_MS = 120_000;

export interface Claim {
  eventId: string;
  /** When the claimer's command was accepted: a claim whose owner never came lapses after the TTL. */
  claimedAt: string;
  data: UniqueKeyClaimed['data'];
}

/** One key's stream folded: the claims not released, in the order they were made. */
export interface KeyClaims {
  key: UniqueKey;
  streamId: string;
  /** Revision read (-1: no stream): the expected revision of the next append. */
  revision: number;
  claims: Claim[];
}

export function foldClaims(key: UniqueKey, events: RecordedEvent[]): KeyClaims {
  const claims = new Map<string, Claim>();
  for (const event of events as RecordedEvent<UniqueKeyEvent['data']>[]) {
    if (event.type === 'UniqueKeyClaimed')
      claims.set(event.data.recordId, { eventId: event.id, claimedAt: event.metadata.at, data: event.data as UniqueKeyClaimed['data'] });
    else if (event.type === 'UniqueKeyReleased') claims.delete(event.data.recordId);
  }
  return { key, streamId: uniqueKeyStream(key), revision: events.length - 1, claims: [...claims.values()] };
}

export async function readClaims(store: EventStore, key: UniqueKey): Promise<KeyClaims> {
  return foldClaims(key, await store.readStream(uniqueKeyStream(key)));
}

export function expectedRevisionOf(claims: KeyClaims): ExpectedRevision {
  return claims.revision < 0 ? NO_STREAM : claims.revision;
}
