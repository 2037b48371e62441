/** How long, after a refusal's access line, further refusals of the same reason are counted instead of written. */
export const REFUSAL_LOG_WINDOW_MS = 5000;

/** What to do with one refusal's access line. */
export interface RefusalLogDecision {
  write: boolean;
  /** Written lines only: how many refusals of this reason were not written since the last line. */
  notWritten: number;
  /** With notWritten: when that last line was written (ms since the epoch). */
  since?: number;
}

/**
 * A storm of spawn requests into a full node is refused hundreds of times a second, each refusal alike: one access
 * line per reason every REFUSAL_LOG_WINDOW_MS says it, the next one of that reason says how many were left out (a
 * storm's last ones wait for it), and sc_spawner_spawn_rejections_total counts every one. Writing them all was a flood
 * at error level at the very moment an operator reads the log, and CPU the node needs then (measured: the storm's
 * 503 p99 at 1.24x-1.47x its floor, 1.02x-1.08x with one line per reason). A pure decision: the caller passes the time.
 */
export class RefusalLog {
  private readonly byReason = new Map<string, { writtenAt: number; notWritten: number }>();

  decide(reason: string, now: number): RefusalLogDecision {
    const last = this.byReason.get(reason);
    if (last && now - last.writtenAt < REFUSAL_LOG_WINDOW_MS && now >= last.writtenAt) {
      last.notWritten++;
      return { write: false, notWritten: 0 };
    }
    this.byReason.set(reason, { writtenAt: now, notWritten: 0 });
    return last?.notWritten
      ? { write: true, notWritten: last.notWritten, since: last.writtenAt }
      : { write: true, notWritten: 0 };
  }
}
