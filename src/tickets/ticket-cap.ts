/** Tickets one caller (a key, or an anonymous client address) may have waiting for their viewers at most. */
export const MAX_OPEN_TICKETS_PER_OWNER = 100;

/**
 * The cap on a caller's open tickets: its session quota (SC_KEY_MAX_SESSIONS) when it has one, since tickets
 * beyond it could not all be used, and never more than MAX_OPEN_TICKETS_PER_OWNER, so one caller cannot take
 * the node's MAX_OPEN_TICKETS.
 */
export function ticketCapFor(sessionQuota: number | undefined): number {
  return Math.min(sessionQuota ?? MAX_OPEN_TICKETS_PER_OWNER, MAX_OPEN_TICKETS_PER_OWNER);
}

/**
 * Whether a caller whose open tickets expire at `expiries` (ms) may have one more under `cap`: undefined if so,
 * else the seconds until its first one expires (Retry-After, at least 1).
 */
export function ticketCapRetryAfterS(expiries: readonly number[], cap: number, now: number): number | undefined {
  if (expiries.length < cap) return undefined;
  if (expiries.length === 0) return 1;
  return Math.max(1, Math.ceil((Math.min(...expiries) - now) / 1000));
}
