import type { SpawnRecord } from './spawn-record';

export type NoCapacityReason = 'slots' | 'ports' | 'shutting_down';

/** No spawn can be started now; the client should retry later. */
export class NoCapacityError extends Error {
  override readonly name = 'NoCapacityError';
  constructor(
    readonly reason: NoCapacityReason,
    message: string,
  ) {
    super(message);
  }
}

/** Why a spawn never became ready: it exited on its own, missed SPAWN_READY_TIMEOUT_S, or was stopped first. */
export type NotReadyCause = 'failed' | 'timed_out' | 'stopped';

/** The spawn ended (or is being stopped) before it reported ready. */
export class SpawnNotReadyError extends Error {
  override readonly name = 'SpawnNotReadyError';
  constructor(
    readonly record: SpawnRecord,
    readonly reason: NotReadyCause,
    message: string,
  ) {
    super(message);
  }
}
