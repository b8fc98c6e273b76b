import { createHash } from 'node:crypto';

/** Namespace of the record ids a qualification derives (UUID v5, RFC 9562). */
const QUALIFICATION_NAMESPACE = '5b0f4c7e-2f63-4c1e-9d57-2b8e1e7a3c11';

/**
 * Ids derived from a qualification id and a record kind: the saga can create a record again after
 * a crash and land on the same stream, which makes "exactly once" a NO_STREAM append.
 */
export function derivedRecordId(qualificationId: string, kind: 'account' | 'contact' | 'opportunity'): string {
  return uuidV5(`${qualificationId}/${kind}`, QUALIFICATION_NAMESPACE);
}

function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
