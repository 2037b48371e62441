/** The service's own stalls (it did not run), which no silence measured across may count: the sweep finds them. */

/** How much later than its interval a sweep may run before the service counts as having stalled. */
export const SWEEP_STALL_MS = 1000;

/** A stall of the service, found by the sweep at `at`: it did not run for `ms` more than the sweep interval. */
export interface Stall {
  at: number;
  ms: number;
}

/**
 * Whether the service itself did not run between two sweeps (stopped, starved, suspended, or its clock stepped
 * forward): the reports servers sent meanwhile still wait, unread, and no silence measured across it proves anything.
 */
export function sweepStalled(previousSweepAt: number | undefined, now: number, intervalMs: number): boolean {
  return previousSweepAt !== undefined && now - previousSweepAt > intervalMs + SWEEP_STALL_MS;
}

/** How long, between `from` and `now`, the service did not run. */
export function stalledBetween(stalls: readonly Stall[], from: number, now: number): number {
  let ms = 0;
  for (const stall of stalls) if (stall.at > from && stall.at <= now) ms += Math.min(stall.ms, stall.at - from);
  return ms;
}
