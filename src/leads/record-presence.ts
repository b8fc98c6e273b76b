import { isEventOf, type EventStore, type RecordedEvent, type RecordedOf } from '../event-store/event-store.port.js';
import { RECORD_KINDS, recordStream, type RecordKind } from '../records/record-kinds.js';
import type { RecordCreated, RecordPlanned } from '../records/record.decider.js';
import { leadStream, type LeadConversionCompleted, type LeadConversionFailed, type LeadQualified } from './lead.events.js';

/** How a qualification stands in its lead's stream. */
export type QualificationOutcome = 'absent' | 'converting' | 'completed' | 'failed';

/** The events of a lead that name a qualification. */
type QualificationEvent = LeadQualified | LeadConversionCompleted | LeadConversionFailed;
const QUALIFICATION_EVENT_TYPES: readonly QualificationEvent['type'][] = ['LeadQualified', 'LeadConversionCompleted', 'LeadConversionFailed'];

export function qualificationOutcome(leadEvents: RecordedEvent[], qualificationId: string): QualificationOutcome {
  let outcome: QualificationOutcome = 'absent';
  for (const e of leadEvents) {
    if (!isEventOf<QualificationEvent>(e, QUALIFICATION_EVENT_TYPES) || e.data.qualificationId !== qualificationId) continue;
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
  { state: 'created'; data: RecordCreated['data'] } | { state: 'pending'; leadId: string; qualificationId: string } | { state: 'missing'; reason: string };

export async function recordPresence(store: EventStore, kind: RecordKind, id: string): Promise<RecordPresence> {
  const info = RECORD_KINDS[kind];
  const events = await store.readStream(recordStream(kind, id));
  const created = events.find((e): e is RecordedOf<RecordCreated> => isEventOf<RecordCreated>(e, [info.eventType]));
  if (created) return { state: 'created', data: created.data };
  const planned = events.find((e): e is RecordedOf<RecordPlanned> => isEventOf<RecordPlanned>(e, info.plannedEventType ? [info.plannedEventType] : []));
  if (!planned) return { state: 'missing', reason: `no ${kind} ${id}` };
  const { leadId, qualificationId } = planned.data;
  const outcome = qualificationOutcome(await store.readStream(leadStream(leadId)), qualificationId);
  if (outcome === 'failed') return { state: 'missing', reason: `${kind} ${id} was planned by qualification ${qualificationId}, whose conversion failed` };
  // Where appends are not atomic, a qualification that lost its race or crashed after this stream
  // leaves the Planned event without its LeadQualified: nothing will ever create the record.
  if (outcome === 'absent') return { state: 'missing', reason: `${kind} ${id} was planned by qualification ${qualificationId}, which was never accepted` };
  return { state: 'pending', leadId, qualificationId };
}
