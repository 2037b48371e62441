import { clientBucket } from './client-bucket';
import type { SessionOwner } from '../supervisor';
import { ApiKeys } from './api-keys';

/** The key in an `Authorization: Bearer <key>` header, if any. */
export function bearerKey(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/**
 * Who asks for a session, for SC_KEY_MAX_SESSIONS and the session's `key`: the name of the valid key it
 * presented, else an anonymous caller known by its client address (an IPv6 one by its /64: clientBucket).
 */
export function sessionOwner(keys: ApiKeys, presented: string | undefined, address: string | undefined): SessionOwner {
  const key = keys.nameOf(presented);
  return key !== undefined
    ? { key, bucket: `key:${key}` }
    : { bucket: `addr:${address === undefined ? 'unknown' : clientBucket(address)}` };
}
