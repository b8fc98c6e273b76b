import { v7 as uuidv7 } from 'uuid';
import { DomainError } from '../shared/domain-error.js';
import type { CommandContext } from '../shared/command-context.js';
import {
  NO_STREAM,
  START,
  WrongExpectedRevisionError,
  type DomainEvent,
  type EventMetadata,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type StreamAppend,
} from './event-store.port.js';
import { upcast } from './upcasting.js';

export interface Decided<State> {
  state: State;
  /** Stream revision after the command (unchanged when it decided nothing). */
  revision: number;
  /** Global position of the last event written, or of the stream's last event when nothing was. */
  position: string;
  appended: NewEvent[];
}

export function metadataOf(ctx: CommandContext): EventMetadata {
  return { userId: ctx.userId, correlationId: ctx.correlationId, causationId: ctx.causationId, at: ctx.now.toISOString() };
}

/**
 * The state of a stream from its events. A stream holds its decider's events only, each the Event
 * its type names (upcast to its current shape): here the log's untyped events become typed.
 */
export function fold<State, Event extends DomainEvent>(initial: State, evolve: (s: State, e: Event) => State, events: RecordedEvent[]): State {
  return events.reduce((state, e) => evolve(state, upcast(e) as unknown as Event), initial);
}

type DeciderOf<State, Command, Event extends DomainEvent> = {
  initial: State;
  evolve(this: void, s: State, e: Event): State;
  decide(this: void, c: Command, s: State, ctx: CommandContext): Event[];
};

/** A decision taken on one stream, not yet appended. */
export interface Decision<State> {
  streamId: string;
  state: State;
  /** Revision read (-1: no stream); the expected revision of the append. */
  revision: number;
  lastPosition: string;
  /** What to append; nothing when the command changes nothing. */
  append?: StreamAppend;
  evolved: () => State;
}

/** Read the stream, fold it, decide: the first half of the one command path. */
export async function decide<State, Command, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: DeciderOf<State, Command, Event>,
  command: Command,
  ctx: CommandContext,
  /** Adds what the decision needs from outside the stream (e.g. the setting, duplicate matches). */
  enrich?: (command: Command, state: State, history: RecordedEvent[]) => Promise<Command>,
): Promise<Decision<State>> {
  const history = await store.readStream(streamId);
  const state = fold(decider.initial, decider.evolve, history);
  const revision = history.length - 1;
  const events = decider.decide(enrich ? await enrich(command, state, history) : command, state, ctx);
  const metadata = metadataOf(ctx);
  // Time-ordered ids (UUIDv7): the log's unique event_id index then grows at its right edge, so
  // the appends of one commit share its last pages instead of dirtying one random page each.
  const append = events.length
    ? { streamId, events: events.map((e) => ({ id: uuidv7(), type: e.type, data: e.data, metadata })), expectedRevision: revision < 0 ? NO_STREAM : revision }
    : undefined;
  return {
    streamId,
    state,
    revision,
    lastPosition: history.at(-1)?.position ?? START,
    append,
    evolved: () => events.reduce((s, e) => decider.evolve(s, { ...e, metadata }), state),
  };
}

/** A concurrent writer got in between read and append: CONCURRENCY_CONFLICT, never a lost update. */
export function concurrencyConflict(error: unknown): unknown {
  if (!(error instanceof WrongExpectedRevisionError)) return error;
  return new DomainError('CONCURRENCY_CONFLICT', `${error.streamId} was changed by another request; read it again and retry`, {
    currentVersion: error.actual,
  });
}

/**
 * The one command-handling path: read the stream, fold it, decide, append with the revision read
 * as the expected revision. A concurrent writer makes the append fail: CONCURRENCY_CONFLICT,
 * never a lost update.
 */
export async function handleCommand<State, Command, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: DeciderOf<State, Command, Event>,
  command: Command,
  ctx: CommandContext,
  enrich?: (command: Command, state: State, history: RecordedEvent[]) => Promise<Command>,
): Promise<Decided<State>> {
  const decision = await decide(store, streamId, decider, command, ctx, enrich);
  if (!decision.append) return { state: decision.state, revision: decision.revision, position: decision.lastPosition, appended: [] };
  try {
    const result = await store.appendToStream(streamId, decision.append.events, { expectedRevision: decision.append.expectedRevision });
    return { state: decision.evolved(), revision: result.nextRevision, position: result.position, appended: decision.append.events };
  } catch (error) {
    throw concurrencyConflict(error);
  }
}
