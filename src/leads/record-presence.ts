import type { EventStore, RecordedEvent } from '../event-store/event-store.port.js';
import { RECORD_KINDS, recordStream, type RecordKind } from '../records/record-kinds.js';
import { leadStream } from './lead.events.js';

/** How a qualification stands in its lead's stream. */
export type QualificationOutcome = 'absent' | 'converting' | 'completed' | 'failed';

export function qualificationOutcome(leadEvents: RecordedEvent[], qualificationId: string): QualificationOutcome {
  let outcome: QualificationOutcome = 'absent';
  for (const e of leadEvents) {
    if (e.data?.qualificationId !== qualificationId) continue;
    if (e.type === 'LeadQualified') outcome = 'converting';
    else if (e.type === 'LeadConversionCompleted') outcome = 'completed';
    else if (e.type === 'LeadConversionFailed') return 'failed';
  }
  return outcome;
}

/**
 * Whether a record is there, decided on the log alone: `created` when its creation event is in its
 * stream; `pending` when an accepted qualification (its LeadQualified is in the lead's stream)
 * planned it (the Planned event opens the stream) and its conversion has not failed, so it will be
 * created; otherwise `missing`.
 */
export type RecordPresence =
  | { state: 'created'; data: Record<string, any> }
  | { state: 'pending'; leadId: string; qualificationId: string }
  | { state: 'missing'; reason: string };

export async function recordPresence(store: EventStore, kind: RecordKind, id: string): Promise<RecordPresence> {
  const info = RECORD_KINDS[kind];
  const events = await store.readStream(recordStream(kind, id));
  const created = events.find((e) => e.type === info.eventType);
  if (created) return { state: 'created', data: created.data };
  const planned = events.find((e) => e.type === info.plannedEventType);
  if (!planned) return { state: 'missing', reason: `no ${kind} ${id}` };
  const { leadId, qualificationId } = planned.data as { leadId: string; qualificationId: string };
  const outcome = qualificationOutcome(await store.readStream(leadStream(leadId)), qualificationId);
  if (outcome === 'failed') return { state: 'missing', reason: `${kind} ${id} was planned by qualification ${qualificationId}, whose conversion failed` };
  // Where appends are not atomic, a qualification that lost its race or crashed after this stream
  // leaves the Planned event without its LeadQualified: nothing will ever create the record.
  if (outcome === 'absent') return { state: 'missing', reason: `${kind} ${id} was planned by qualification ${qualificationId}, which was never accepted` };
  return { state: 'pending', leadId, qualificationId };
}
