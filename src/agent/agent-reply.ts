/** What the agent's answer is made from. */
export interface AgentState {
  /** Slots a new session could have: the free ones, and those of unclaimed warm servers (one is handed out). */
  freeSlots: number;
  maxSpawns: number;
  /** Ports a new session could have (portsForNewSession). */
  freePorts: number;
  /** Draining or shutting down: takes no new session. */
  draining: boolean;
  /** Why this node cannot spawn at all (e.g. the executable is missing), or undefined. */
  cannotSpawn?: string;
}

/**
 * The one line answered to HAProxy's agent check. `up` is always said with `ready` (HAProxy keeps a server
 * drained or down until its agent says so, so a restarted node must); the weight is the free capacity in
 * percent, so new sessions go where there is room: an unclaimed warm server's slot is room (it is handed out, or
 * retired for a cold start). A full node says `up ready 0%`: it is not down (its sessions are served), it only
 * takes nothing new. `drain` while draining; `down #<reason>` when it cannot spawn.
 */
export function agentReply(state: AgentState): string {
  if (state.cannotSpawn !== undefined) return `down #${oneLine(state.cannotSpawn)}\n`;
  if (state.draining) return 'drain\n';
  // Each new session needs a slot and a port: with fewer ports than slots (SC_PORT_COUNT < SC_MAX_SPAWNS) the
  // ports are the room.
  const room = Math.min(Math.max(0, state.freeSlots), state.maxSpawns, Math.max(0, state.freePorts));
  const percent = state.maxSpawns === 0 ? 0 : Math.round((100 * room) / state.maxSpawns);
  return `up ready ${percent}%\n`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 200);
}
