/** Who asked, and under which correlation: stamped on every event a command appends. */
export interface CommandContext {
  userId: string;
  correlationId: string;
  /** Id of the request (or event) that caused this command. */
  causationId: string;
  /** The time the command was accepted: the domain never reads the clock itself. */
  now: Date;
}
