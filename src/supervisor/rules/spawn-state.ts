/**
 * The life of one spawned Stream Cache Server. Every state change goes through assertTransition(),
 * so the table below is the whole truth about which changes can happen.
 */
export const SPAWN_STATES = [
  'starting',
  'ready',
  'connected',
  'disconnected',
  'unresponsive',
  'timed_out',
  'terminating',
  'failed',
  'exited',
] as const;
export type SpawnState = (typeof SPAWN_STATES)[number];

/**
 * starting     launched, waiting for `ready`
 * ready        reported ready; the viewer may connect
 * connected    a viewer is attached (seen through the proxy); back to ready if the server refused it
 * disconnected reported `disconnect`; about to exit
 * unresponsive no report within PING_TIMEOUT_S; about to be stopped
 * timed_out    no `ready` within SPAWN_READY_TIMEOUT_S; about to be stopped
 * terminating  SIGTERM sent to its process group (SIGKILL follows after KILL_GRACE_S)
 * failed       exited on its own before it was ready (terminal)
 * exited       exited after it was ready, or after being stopped (terminal; endReason says why)
 */
export const SPAWN_TRANSITIONS: Readonly<Record<SpawnState, readonly SpawnState[]>> = {
  starting: ['ready', 'timed_out', 'terminating', 'failed'],
  ready: ['connected', 'disconnected', 'unresponsive', 'terminating', 'exited'],
  connected: ['ready', 'disconnected', 'unresponsive', 'terminating', 'exited'],
  disconnected: ['terminating', 'exited'],
  unresponsive: ['terminating', 'exited'],
  timed_out: ['terminating', 'exited'],
  terminating: ['exited'],
  failed: [],
  exited: [],
};

export const TERMINAL_STATES: readonly SpawnState[] = ['failed', 'exited'];
/** States in which the process is (believed to be) running and holding a slot and a port. */
export const LIVE_STATES: readonly SpawnState[] = SPAWN_STATES.filter((s) => !TERMINAL_STATES.includes(s));

/** How a person reads each state (the dashboard shows these, served by GET /api/states). */
export const SPAWN_STATE_LABELS: Readonly<Record<SpawnState, string>> = {
  starting: 'Starting',
  ready: 'Ready',
  connected: 'Connected',
  disconnected: 'Disconnected',
  unresponsive: 'Unresponsive',
  timed_out: 'Timed out',
  terminating: 'Terminating',
  failed: 'Failed',
  exited: 'Exited',
};

/**
 * How far along its life each state is: every transition goes to a rank at least as high, but connected -> ready
 * (a refused viewer). A view that would move a session to a lower rank is stale.
 */
export const SPAWN_STATE_RANK: Readonly<Record<SpawnState, number>> = {
  starting: 0,
  ready: 1,
  connected: 2,
  disconnected: 3,
  unresponsive: 3,
  timed_out: 3,
  terminating: 4,
  failed: 5,
  exited: 5,
};

export function isTerminal(state: SpawnState): boolean {
  return TERMINAL_STATES.includes(state);
}

export function canTransition(from: SpawnState, to: SpawnState): boolean {
  return SPAWN_TRANSITIONS[from].includes(to);
}

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly from: SpawnState,
    readonly to: SpawnState,
  ) {
    super(`illegal spawn state transition ${from} -> ${to}`);
  }
}

export function assertTransition(from: SpawnState, to: SpawnState): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}
