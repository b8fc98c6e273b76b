import { randomUUID } from 'node:crypto';
import { DomainError } from '../shared/domain-error.js';
import type { CommandContext } from '../shared/command-context.js';
import { NO_STREAM, START, WrongExpectedRevisionError, type EventMetadata, type EventStore, type RecordedEvent } from './event-store.port.js';
import { upcast } from './upcasting.js';

export interface Decider<State extends { revision?: number }, Command, Event extends { type: string; data: any }> {
  initial: State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State, ctx: CommandContext): Event[];
}

export interface Decided<State> {
  state: State;
  /** Stream revision after the command (unchanged when it decided nothing). */
  revision: number;
  /** Global position of the last event written, or of the stream's last event when nothing was. */
  position: string;
  appended: RecordedEvent[] | [];
}

export function metadataOf(ctx: CommandContext): EventMetadata {
  return { userId: ctx.userId, correlationId: ctx.correlationId, causationId: ctx.causationId, at: ctx.now.toISOString() };
}

export function fold<State, Event>(initial: State, evolve: (s: State, e: Event) => State, events: RecordedEvent[]): State {
  return events.reduce((state, e) => evolve(state, upcast(e) as unknown as Event), initial);
}

/**
 * The one command-handling path: read the stream, fold it, decide, append with the revision read
 * as the expected revision. A concurrent writer makes the append fail: 409 CONCURRENCY_CONFLICT,
 * never a lost update.
 */
export async function handleCommand<State, Command, Event extends { type: string; data: any }>(
  store: EventStore,
  streamId: string,
  decider: { initial: State; evolve(s: State, e: Event): State; decide(c: Command, s: State, ctx: CommandContext): Event[] },
  command: Command,
  ctx: CommandContext,
  /** Adds what the decision needs from outside the stream (e.g. the setting, duplicate matches). */
  enrich?: (command: Command, state: State) => Promise<Command>,
): Promise<Decided<State>> {
  const history = await store.readStream(streamId);
  const state = fold(decider.initial, decider.evolve, history);
  const revision = history.length - 1;
  const events = decider.decide(enrich ? await enrich(command, state) : command, state, ctx);
  if (events.length === 0) {
    return { state, revision, position: history.at(-1)?.position ?? START, appended: [] };
  }
  const metadata = metadataOf(ctx);
  const newEvents = events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata }));
  try {
    const result = await store.appendToStream(streamId, newEvents, { expectedRevision: revision < 0 ? NO_STREAM : revision });
    const after = events.reduce((s, e) => decider.evolve(s, { ...e, metadata } as Event), state);
    return { state: after, revision: result.nextRevision, position: result.position, appended: newEvents as any };
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) {
      throw new DomainError(409, 'CONCURRENCY_CONFLICT', `${streamId} was changed by another request; read it again and retry`, {
        currentVersion: error.actual,
      });
    }
    throw error;
  }
}
