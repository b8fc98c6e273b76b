import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../src/event-store/event-store.port.js';

export function newEvent(type = 'TestHappened', data: Record<string, unknown> = {}): NewEvent {
  const id = randomUUID();
  return { id, type, data, metadata: { userId: 'tester', correlationId: id, causationId: id, at: new Date().toISOString() } };
}

export function streamName(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Awaits a condition instead of sleeping a fixed time; fails with `what` after timeoutMs. */
export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
