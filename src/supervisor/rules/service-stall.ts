/** The service's own stalls (it did not run), which no silence measured across may count: the sweep finds them. */

/** An hour's stalls (at most 1,000): far longer than any silence a timeout waits for. */
const STALLS_KEPT_MS = 3_600_000;
const STALLS_KEPT = 1000;

/** How much later than its interval a sweep may run before the service counts as having stalled. */
export const SWEEP_STALL_MS = 1000;

/** A stall of the service, found by the sweep at `at`: it did not run for `ms` more than the sweep interval. */
export interface Stall {
  at: number;
  ms: number;
}

/**
 * Whether the service itself did not run between two sweeps (stopped, starved): the reports servers sent meanwhile
 * still wait, unread, and no silence measured across it proves anything. (The clock is monotonic: a step of the
 * system clock is no stall, and a suspended machine's servers were suspended too, with no time passing on it.)
 */
export function sweepStalled(previousSweepAt: number | undefined, now: number, intervalMs: number): boolean {
  return previousSweepAt !== undefined && now - previousSweepAt > intervalMs + SWEEP_STALL_MS;
}

/**
 * How long, between `from` and `now`, the service did not run. `stalls` are in the order they were found (`at`
 * ascending): only those after `from` are read, so an hour's stalls cost each spawn's rule a few steps, not 1,000.
 */
export function stalledBetween(stalls: readonly Stall[], from: number, now: number): number {
  let low = 0;
  let high = stalls.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (stalls[middle].at > from) high = middle;
    else low = middle + 1;
  }
  let ms = 0;
  for (let i = low; i < stalls.length && stalls[i].at <= now; i++) ms += Math.min(stalls[i].ms, stalls[i].at - from);
  return ms;
}

/**
 * The stalls to keep once `stall` is found: the last hour's, in time order as stalledBetween() reads them (any
 * dated after it, which a clock that went back would give, are dropped).
 */
export function withStall(stalls: readonly Stall[], stall: Stall): Stall[] {
  const kept = stalls.filter((earlier) => earlier.at > stall.at - STALLS_KEPT_MS && earlier.at < stall.at);
  return [...kept.slice(-(STALLS_KEPT - 1)), stall];
}
