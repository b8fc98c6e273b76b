import type { RecordedEvent } from './event-store.port.js';

/**
 * Events are never rewritten: when an event's shape changes, old events are upgraded here as they
 * are read, so deciders and projections only ever see the current shape. Each entry maps one
 * stored shape to the next, in order. No event type has changed shape yet; docs/events.md says
 * how to add the first. An upcaster keeps the event's type: subscriptions filter on the stored
 * type, before upcasting.
 */
export type Upcaster = (event: RecordedEvent) => RecordedEvent;
export type Upcasters = Record<string, Upcaster[]>;

export const UPCASTERS: Upcasters = {};

export function upcast(event: RecordedEvent, upcasters: Upcasters = UPCASTERS): RecordedEvent {
  const chain = upcasters[event.type];
  return chain ? chain.reduce((e, step) => step(e), event) : event;
}
