import type { PortCounts } from '../../ports';
import type { SpawnState } from './spawn-state';
import { NoCapacityError } from './supervisor.errors';
import type { WarmPoolStatus } from './warm-pool.policy';

/** How busy the supervisor is, as health, status and the dashboard show it. */
export interface SupervisorCapacity {
  activeSpawns: number;
  maxSpawns: number;
  hasFreeSlot: boolean;
  /** Slots a new session could have now: the free ones, and those unclaimed warm servers would give up. */
  freeSlots: number;
  /** Unclaimed warm servers no launch has taken yet: each gives a new session its slot and its port. */
  spareWarm: number;
  /** A cold spawn would get a slot: one is free, or an unclaimed warm server can be retired for it. */
  canAcceptSpawn: boolean;
  shuttingDown: boolean;
  draining: boolean;
  ports: PortCounts;
  states: Record<SpawnState, number>;
  warm: WarmPoolStatus;
}

/**
 * Ports a new session could have now: the free ones, and those of unclaimed warm servers (handed out with theirs, or
 * retired for a cold start). With SC_PORT_COUNT = SC_MAX_SPAWNS (a HOOPS range) an idle node whose pool filled its
 * slots has every port leased, and is still ready.
 */
export function portsForNewSession(capacity: Pick<SupervisorCapacity, 'ports' | 'spareWarm'>): number {
  return capacity.ports.free + capacity.spareWarm;
}

/** What decides whether a spawn request could be served at all, whatever it asks. */
export interface AdmissionState {
  shuttingDown: boolean;
  draining: boolean;
  hasFreeSlot: boolean;
  /** Warm servers not yet claimed: one may be handed out, or retired to free its slot. */
  unclaimedWarm: number;
  maxSpawns: number;
}

/**
 * The refusal every spawn request would get now, whatever it asks and whoever asks: the node is stopping, or every
 * slot is held and no warm server could be handed out or retired for it. Undefined when some request might be served.
 */
export function refusalForEveryRequest(state: AdmissionState): NoCapacityError | undefined {
  if (state.shuttingDown) return NoCapacityError.shuttingDown();
  if (state.draining) return NoCapacityError.draining();
  if (state.hasFreeSlot || state.unclaimedWarm > 0) return undefined;
  return NoCapacityError.slotsFull(state.maxSpawns);
}
