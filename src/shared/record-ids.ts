import { createHash } from 'node:crypto';

/** Namespace of the record ids a qualification derives (RFC 9562). */
const QUALIFICATION_NAMESPACE = '5b0f4c7e-2f63-4c1e-9d57-2b8e1e7a3c11';

/**
 * Ids derived from a qualification id and a record kind: the saga can create a record again after
 * a crash and land on the same stream, which makes "exactly once" a NO_STREAM append. The ids are
 * decided once, in the qualification's plan (LeadQualified), so changing how new ones are derived
 * never touches a conversion already planned.
 *
 * A time-ordered qualification id (UUIDv7, what the service makes) gives a UUIDv8 that keeps its
 * 48-bit time and takes the rest from the SHA-1 name hash: records of one moment sit together in
 * every index keyed by their ids (streams, primary keys), where random ids would dirty one page
 * each per commit. Any other qualification id gives the UUIDv5 of `<qualificationId>/<kind>`.
 */
export function derivedRecordId(qualificationId: string, kind: 'account' | 'contact' | 'opportunity'): string {
  const ns = Buffer.from(QUALIFICATION_NAMESPACE.replace(/-/g, ''), 'hex');
  const id = createHash('sha1').update(ns).update(`${qualificationId}/${kind}`, 'utf8').digest().subarray(0, 16);
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-7/i.test(qualificationId)) {
    Buffer.from(qualificationId.replace(/-/g, '').slice(0, 12), 'hex').copy(id, 0);
    id[6] = (id[6] & 0x0f) | 0x80;
  } else {
    id[6] = (id[6] & 0x0f) | 0x50;
  }
  id[8] = (id[8] & 0x3f) | 0x80;
  const hex = id.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A name-based UUID (RFC 9562 v5 layout over SHA-1, in this service's namespace): the same name
 * always gives the same id, so an event appended again under it is a retry, never a second event.
 */
export function nameBasedId(name: string): string {
  const ns = Buffer.from(QUALIFICATION_NAMESPACE.replace(/-/g, ''), 'hex');
  const id = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  id[6] = (id[6] & 0x0f) | 0x50;
  id[8] = (id[8] & 0x3f) | 0x80;
  const hex = id.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
