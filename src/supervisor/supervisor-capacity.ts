import type { PortCounts } from '../ports/port-allocator.service';
import type { SpawnState } from './spawn-state';

/** How busy the supervisor is, and whether it takes new spawns. */
export interface SupervisorCapacity {
  activeSpawns: number;
  maxSpawns: number;
  hasFreeSlot: boolean;
  shuttingDown: boolean;
  draining: boolean;
  ports: PortCounts;
  states: Record<SpawnState, number>;
}
