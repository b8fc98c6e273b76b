import type { EventStore, RecordedEvent } from '../event-store/event-store.port.js';
import type { SagaProcessor } from '../event-store/processor.js';
import { releaseAppend } from './claim-appends.js';
import { CLAIM_TTL_MS, readClaims } from './key-claims.js';
import type { UniqueKeyClaimed } from './unique-key.events.js';

export const LAPSED_CLAIMS = 'lapsed-claims';
export const CLAIMS_USER = 'system:uniqueness';

/**
 * Where appendToStreams is not atomic (EventStoreDB), a command that crashed between its claim and
 * its owner event leaves a claim nobody will bind. Decisions already treat such a claim as free
 * once CLAIM_TTL_MS has passed (claim-holders.ts); this processor writes that down, so the key's
 * stream says why the claim ended and stays short. For each claim it waits until the owner event
 * is in the log (then there is nothing to do) or the time is up (then it releases the claim).
 * Registered only for such stores: on the SQL store a claim and its owner commit together.
 */
export class LapsedClaimsProcessor implements SagaProcessor {
  readonly name = LAPSED_CLAIMS;
  readonly eventTypes = ['UniqueKeyClaimed'];

  constructor(
    private readonly store: EventStore,
    private readonly options: { ttlMs: number; pollMs: number } = { ttlMs: CLAIM_TTL_MS, pollMs: 1000 },
  ) {}

  async perform(event: RecordedEvent, signal: AbortSignal): Promise<void> {
    const claim = event.data as UniqueKeyClaimed['data'];
    if (claim.backfilled) return;
    const deadline = Date.parse(event.metadata.at) + this.options.ttlMs;
    for (;;) {
      const owner = await this.store.readStream(claim.ownerStreamId);
      if (owner.some((e) => e.id === claim.ownerEventId)) return;
      const left = deadline - Date.now();
      if (left <= 0) break;
      await pause(Math.min(left, this.options.pollMs), signal);
      // Stopping: leave the claim to the next lease holder, which performs this event again.
      if (signal.aborted) return;
    }
    const claims = await readClaims(this.store, { kind: claim.kind, key: claim.key });
    // The record may hold a newer claim (a lead reopened since): only this one lapsed.
    if (claims.claims.find((c) => c.data.recordId === claim.recordId)?.eventId !== event.id) return;
    const metadata = { userId: CLAIMS_USER, correlationId: event.metadata.correlationId, causationId: event.id, at: new Date().toISOString() };
    const release = releaseAppend(claims, claim.recordId, 'owner-missing', metadata)!;
    await this.store.appendToStream(release.streamId, release.events, { expectedRevision: release.expectedRevision });
  }
}

/** Resolves after `ms`, or at once when the runner stops (the caller then checks the signal). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
