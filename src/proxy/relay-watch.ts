/** How often the service asks the relay process whether it still answers. */
export const HEARTBEAT_MS = 1000;
/** A relay process that has not answered for this long is hung (its tunnels frozen): it is killed. */
export const UNRESPONSIVE_MS = 5000;
/** New tunnels stay in the service while a question has waited this long. */
export const HESITANT_MS = 2 * HEARTBEAT_MS;

/** What the service knows of the relay process's answers: when it last looked, and since when a ping waits. */
export interface RelayWatch {
  lastTick: number;
  /** When the oldest unanswered ping was sent. */
  unansweredSince?: number;
}

export type WatchStep = { action: 'ping'; watch: RelayWatch } | { action: 'kill'; silentMs: number };

/**
 * One heartbeat tick at `now`: ping again, or kill a relay process whose ping has waited UNRESPONSIVE_MS. After a
 * stall of the service's own event loop (a tick more than two periods late) the pong may be waiting unread: such a
 * tick judges nothing and starts the wait over.
 */
export function watchTick(watch: RelayWatch, now: number): WatchStep {
  const prompt = now - watch.lastTick < 2 * HEARTBEAT_MS;
  const since = prompt ? watch.unansweredSince : undefined;
  if (since !== undefined && now - since >= UNRESPONSIVE_MS) return { action: 'kill', silentMs: now - since };
  return { action: 'ping', watch: { lastTick: now, unansweredSince: since ?? now } };
}

/** A pong: nothing waits any more. */
export function answered(watch: RelayWatch): RelayWatch {
  return { lastTick: watch.lastTick };
}

/** Whether a ping has waited long enough that new tunnels should not go to the relay process. */
export function hesitant(watch: RelayWatch | undefined, now: number): boolean {
  return watch?.unansweredSince !== undefined && now - watch.unansweredSince >= HESITANT_MS;
}
