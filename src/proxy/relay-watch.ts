/** How often the service asks the relay process whether it still answers. */
export const HEARTBEAT_MS = 1000;
/** A relay process silent this long (no pong, no message at all) is hung, its tunnels frozen: it is killed. */
export const UNRESPONSIVE_MS = 5000;
/** New tunnels stay in the service while the oldest unanswered ping has waited this long. */
export const HESITANT_MS = 2 * HEARTBEAT_MS;
/** At most this many pings wait for an answer; a relay process that far behind is not asked more. */
const MAX_WAITING = 64;

/** What the service knows of the relay process's answers. */
export interface RelayWatch {
  /** When the last tick ran. */
  lastTick: number;
  nextSeq: number;
  /** Pings not answered yet, oldest first. The relay process answers in order: a pong answers every earlier ping. */
  waiting: Array<{ seq: number; sentAt: number }>;
  /** When the last message of any kind came from the relay process. */
  lastHeard: number;
}

export type WatchStep = { action: 'ping'; seq: number; watch: RelayWatch } | { action: 'kill'; silentMs: number };

export function startWatch(now: number): RelayWatch {
  return { lastTick: now, nextSeq: 1, waiting: [], lastHeard: now };
}

/**
 * One heartbeat tick at `now`: ping again, or kill a relay process that has left a ping unanswered and said nothing
 * at all for UNRESPONSIVE_MS. Time the service itself was not looking (the tick came late: its own event loop was
 * busy, and the answer may be waiting unread) does not count against the relay process. Any message counts as a
 * sign of life, so a relay process whose reports queue up behind a busy service is not taken for a hung one.
 */
export function watchTick(watch: RelayWatch, now: number): WatchStep {
  const late = Math.max(0, now - watch.lastTick - HEARTBEAT_MS);
  const waiting = watch.waiting.map((ping) => ({ seq: ping.seq, sentAt: ping.sentAt + late }));
  const lastHeard = watch.lastHeard + late;
  const oldest = waiting[0]?.sentAt;
  if (oldest !== undefined && now - oldest >= UNRESPONSIVE_MS && now - lastHeard >= UNRESPONSIVE_MS) {
    return { action: 'kill', silentMs: now - Math.max(oldest, lastHeard) };
  }
  const seq = watch.nextSeq;
  if (waiting.length < MAX_WAITING) waiting.push({ seq, sentAt: now });
  return { action: 'ping', seq, watch: { lastTick: now, nextSeq: seq + 1, waiting, lastHeard } };
}

/** A message from the relay process at `now`; a pong answers its ping and every earlier one. */
export function heard(watch: RelayWatch, now: number, pongSeq?: number): RelayWatch {
  const waiting = pongSeq === undefined ? watch.waiting : watch.waiting.filter((ping) => ping.seq > pongSeq);
  return { ...watch, waiting, lastHeard: now };
}

/** Whether the oldest unanswered ping has waited long enough that new tunnels should not go to the relay process. */
export function hesitant(watch: RelayWatch, now: number): boolean {
  const oldest = watch.waiting[0]?.sentAt;
  return oldest !== undefined && now - oldest >= HESITANT_MS;
}
