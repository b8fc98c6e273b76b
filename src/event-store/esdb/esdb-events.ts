import { jsonEvent, type AllStreamResolvedEvent, type ResolvedEvent } from '@eventstore/db-client';
import type { EventMetadata, NewEvent, RecordedEvent } from '../event-store.port.js';

// The port's events as EventStoreDB's, and EventStoreDB's as the port's.

/** Servers before 22.6 send this (uint64 -1) as the commit position of events read from a stream. */
const NO_POSITION = 2n ** 64n - 1n;

export function toEventData(event: NewEvent) {
  // $correlationId/$causationId are the keys EventStoreDB's $by_correlation_id projection reads.
  const metadata = { ...event.metadata, $correlationId: event.metadata.correlationId, $causationId: event.metadata.causationId };
  return jsonEvent({ id: event.id, type: event.type, data: event.data, metadata });
}

export function isSystem(event: { type: string; streamId: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

export function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event) return undefined;
  const commit = event.position && event.position.commit !== NO_POSITION ? event.position.commit : resolved.commitPosition;
  if (commit === undefined || commit === NO_POSITION) {
    throw new Error(`EventStoreDB gave no position for ${event.streamId}@${event.revision}: a server 22.6 or later is needed`);
  }
  return {
    id: event.id,
    type: event.type,
    streamId: event.streamId,
    revision: Number(event.revision),
    position: commit.toString(),
    data: event.data,
    metadata: ownMetadata(event.metadata),
    createdAt: event.created,
  };
}

/** Our metadata without the keys added for EventStoreDB ($correlationId, $causationId, ...). */
function ownMetadata(metadata: unknown): EventMetadata {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata) || metadata instanceof Uint8Array) {
    return {} as EventMetadata;
  }
  return Object.fromEntries(Object.entries(metadata).filter(([key]) => !key.startsWith('$'))) as EventMetadata;
}
