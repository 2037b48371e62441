import type { KeyQuotas } from '../../config';
import type { SessionOwner } from './spawn-record';

/** The cap on live sessions for this caller: its key's own, else `*`'s; undefined: no cap. */
export function quotaFor(quotas: KeyQuotas | undefined, owner: SessionOwner): number | undefined {
  if (!quotas) return undefined;
  return (owner.key !== undefined ? quotas.perKey.get(owner.key) : undefined) ?? quotas.others;
}

/** Whether one more session would take the caller beyond its cap, given how many it holds (live and starting). */
export function overQuota(quotas: KeyQuotas | undefined, owner: SessionOwner, held: number): number | undefined {
  const limit = quotaFor(quotas, owner);
  return limit !== undefined && held >= limit ? limit : undefined;
}

/** The label the rejections metric uses for a caller: its key's name, or `anonymous`. */
export function keyLabel(owner: SessionOwner): string {
  return owner.key ?? 'anonymous';
}
