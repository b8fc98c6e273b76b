import { createHash } from 'node:crypto';
import { accountNameKey, emailKey } from '../shared/normalised-keys.js';

/**
 * The uniqueness rules (the defaults Dynamics 365 publishes): accounts by name, contacts by
 * e-mail, open leads by e-mail. Each normalised key has one stream in the log; whoever wants to
 * create a record under a key appends a claim to it with the revision it read, so two claimers
 * racing for one key cannot both succeed: the loser's append fails and it decides again.
 */
export type UniqueKeyKind = 'account-name' | 'contact-email' | 'lead-email';

export interface UniqueKey {
  kind: UniqueKeyKind;
  /** The normalised value: what two records must share to be duplicates. */
  key: string;
}

export function uniqueKey(kind: UniqueKeyKind, value: string | null | undefined): UniqueKey | null {
  const key = kind === 'account-name' ? accountNameKey(value) : emailKey(value);
  return key ? { kind, key } : null;
}

export const UNIQUE_KEY_STREAM_PREFIX = 'unique-';

/**
 * Stream ids are bounded (200 characters) and keys are user text: the stream is named by the key's
 * SHA-256 (hex), and the key itself is in every event of the stream. Never change how: claims
 * already in the log live in the streams this names (test/upgrade.e2e.spec.ts, release 447e3e8).
 */
export function uniqueKeyStream({ kind, key }: UniqueKey): string {
  return `${UNIQUE_KEY_STREAM_PREFIX}${kind}-${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

export const isUniqueKeyStream = (streamId: string) => streamId.startsWith(UNIQUE_KEY_STREAM_PREFIX);
