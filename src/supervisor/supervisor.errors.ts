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

/** The spawn ended (or is being stopped) before it reported ready. */
export class SpawnNotReadyError extends Error {
  override readonly name = 'SpawnNotReadyError';
  constructor(
    readonly record: SpawnRecord,
    message: string,
  ) {
    super(message);
  }
}
