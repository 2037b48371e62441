import type { PortCounts } from '../../ports';
import type { SpawnState } from './spawn-state';
import type { WarmPoolStatus } from './warm-pool.policy';

/** How busy the supervisor is, as health, status and the dashboard show it. */
export interface SupervisorCapacity {
  activeSpawns: number;
  maxSpawns: number;
  hasFreeSlot: boolean;
  /** A cold spawn would get a slot: one is free, or an unclaimed warm server can be retired for it. */
  canAcceptSpawn: boolean;
  shuttingDown: boolean;
  draining: boolean;
  ports: PortCounts;
  states: Record<SpawnState, number>;
  warm: WarmPoolStatus;
}
