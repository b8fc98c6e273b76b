import { DomainError, type DomainErrorCode } from '../../src/shared/domain-error.js';

/** Who decides and when: the domain reads time from here, never from the clock. */
export interface DecisionContext {
  userId: string;
  now: Date;
}

export const DEFAULT_CONTEXT: DecisionContext = { userId: 'sally', now: new Date('2026-11-27T10:00:00Z') };

/** A decider as the specs see it; `decide` may ignore the context (the setting's does). */
export interface Decider<Command, State, Event> {
  decide: (command: Command, state: State, ctx: DecisionContext) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: State;
}

export interface ExpectedRefusal {
  code: DomainErrorCode;
  /** Members the error's `details` must contain (matched, not compared whole). */
  extra?: Record<string, unknown>;
}

/**
 * given(events).when(command).then(events) / .thenThrows({code, extra}), emmett style.
 * The decision runs only in then/thenThrows, so a refusal is caught where it is asserted.
 * `then` returns nothing, so the chain is never mistaken for a promise by an awaiting caller.
 */
export function deciderSpec<Command, State, Event>(decider: Decider<Command, State, Event>, context: Partial<DecisionContext> = {}) {
  return {
    given(events: Event[]) {
      return {
        when(command: Command, ctxOverride: Partial<DecisionContext> = {}) {
          const ctx = { ...DEFAULT_CONTEXT, ...context, ...ctxOverride };
          const decide = () => decider.decide(command, events.reduce(decider.evolve, decider.initialState), ctx);
          return {
            then(expected: Event[]): void {
              expect(decide()).toEqual(expected);
            },
            thenThrows({ code, extra }: ExpectedRefusal): void {
              let thrown: unknown;
              try {
                const produced = decide();
                thrown = new Error(`expected ${code}, but the decider returned ${JSON.stringify(produced)}`);
              } catch (error) {
                thrown = error;
              }
              if (!(thrown instanceof DomainError)) throw thrown;
              expect(thrown.code).toBe(code);
              if (extra) expect(thrown.details).toMatchObject(extra);
            },
          };
        },
      };
    },
  };
}
