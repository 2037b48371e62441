/**
 * The supervisor's one door: the module, the facade, the views, states, errors, events and capacity types.
 * Inside, rules/ holds the pure decisions (state table, records, timeout and warm-pool policies, GPU choice,
 * command line, capacity) and runtime/ the stateful services that apply them.
 */
export { SupervisorModule } from './supervisor.module';
export { SupervisorService } from './runtime/supervisor.service';
export type { SpawnRequest } from './rules/spawn-record';
export type { SpawnEvent, SweepEvent, SessionNotice, ViewerCloseRequest } from './runtime/spawn-events';
export type { WarmPoolStats, WarmPoolStatus, WarmMissReason } from './runtime/warm-pool.service';
export { SecretRedactor } from './runtime/secret-redactor';
export {
  SPAWN_STATES,
  LIVE_STATES,
  TERMINAL_STATES,
  SPAWN_STATE_LABELS,
  SPAWN_STATE_RANK,
  isTerminal,
  type SpawnState,
} from './rules/spawn-state';
export {
  SPAWN_ORIGINS,
  type SpawnOrigin,
  type SpawnSpec,
  type SpawnView,
  type SessionOwner,
  type LimitReason,
  type RelayCount,
} from './rules/spawn-record';
export type { LogLine } from './rules/line-buffer';
export type { SupervisorCapacity } from './rules/supervisor-capacity';
export { portsForNewSession } from './rules/supervisor-capacity';
export { gpuAllocation } from './rules/gpu-allocation';
export {
  SupervisorError,
  ClientGoneError,
  NoCapacityError,
  SpawnNotReadyError,
  UnknownSpawnError,
  DuplicateSpawnError,
  RendererDisabledError,
  QuotaExceededError,
  type NoCapacityReason,
  type NotReadyCause,
} from './rules/supervisor.errors';
