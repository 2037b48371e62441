import type { RendererType } from '@app/sc-protocol';
import type { SpawnView } from './spawn-record';

/**
 * What can go wrong in the supervisor, in its own words. None of these knows about HTTP: the exception
 * filters at the boundary map them to status codes (see common/http-error.ts).
 */
export abstract class SupervisorError extends Error {}

/** Error.stackTraceLimit at 0 until the returned function is called (left alone where it is read-only). */
function suspendStackTraces(): () => void {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    return () => undefined;
  }
  return () => (Error.stackTraceLimit = limit);
}

export type NoCapacityReason = 'slots' | 'ports' | 'shutting_down' | 'draining';

/**
 * No spawn can be started now; the client should retry later. An expected answer, not a fault: it carries no stack
 * trace (under a storm it is made a thousand times a second, and capturing a stack costs more than the rest of it).
 */
export class NoCapacityError extends SupervisorError {
  override readonly name = 'NoCapacityError';
  readonly reason: NoCapacityReason;
  constructor(reason: NoCapacityReason, message: string) {
    const restore = suspendStackTraces();
    super(message);
    restore();
    this.reason = reason;
  }

  static slotsFull(maxSpawns: number): NoCapacityError {
    return new NoCapacityError('slots', `all ${maxSpawns} spawn slots are in use`);
  }

  static draining(): NoCapacityError {
    return new NoCapacityError(
      'draining',
      'draining: this node is being stopped and takes no new session; try another node',
    );
  }

  static shuttingDown(): NoCapacityError {
    return new NoCapacityError('shutting_down', 'the service is shutting down; try another server');
  }
}

/** Why a spawn never became ready: it exited on its own, missed SPAWN_READY_TIMEOUT_S, or was stopped first. */
export type NotReadyCause = 'failed' | 'timed_out' | 'stopped';

/** The spawn ended (or is being stopped) before it reported ready. */
export class SpawnNotReadyError extends SupervisorError {
  override readonly name = 'SpawnNotReadyError';
  constructor(
    readonly spawn: SpawnView,
    readonly reason: NotReadyCause,
    message: string,
  ) {
    super(message);
  }
}

/** The client went away before its spawn request was served: nothing was claimed or started for it. */
export class ClientGoneError extends SupervisorError {
  override readonly name = 'ClientGoneError';
  constructor() {
    super('the client went away before its spawn request was served; nothing was started');
  }
}

/** No live or recently ended spawn has this id. */
export class UnknownSpawnError extends SupervisorError {
  override readonly name = 'UnknownSpawnError';
  constructor(readonly id: string) {
    super(`no spawn with id ${shownId(id)}`);
  }
}

/** An id as an answer repeats it: whole when it could be one (ids are UUIDs, or what a HOOPS client chose), else cut. */
function shownId(id: string): string {
  return id.length <= MAX_SHOWN_ID ? id : `${id.slice(0, MAX_SHOWN_ID)}… (${id.length} characters)`;
}
const MAX_SHOWN_ID = 128;

/** A spawn with this id exists already. */
export class DuplicateSpawnError extends SupervisorError {
  override readonly name = 'DuplicateSpawnError';
  constructor(readonly id: string) {
    super(`a spawn with id ${id} already exists`);
  }
}

/** The requested rendering mode is switched off by configuration. */
export class RendererDisabledError extends SupervisorError {
  override readonly name = 'RendererDisabledError';
  constructor(readonly rendererType: RendererType) {
    super(
      `${rendererType.toUpperCase()} rendering is disabled on this server (${rendererType === 'ssr' ? 'SSR_ENABLED' : 'CSR_ENABLED'}=false)`,
    );
  }
}

/** The caller already has as many live sessions as SC_KEY_MAX_SESSIONS allows it. */
export class QuotaExceededError extends SupervisorError {
  override readonly name = 'QuotaExceededError';
  constructor(
    /** The key's name, or `anonymous`: the metric's label (never the key itself). */
    readonly keyName: string,
    readonly limit: number,
    /** Seconds until one of its sessions is sure to end (its lifetime limit), or a default. */
    readonly retryAfterS: number,
  ) {
    super(
      keyName === 'anonymous'
        ? `session quota reached: this client address already has ${limit} live session(s) on this node (SC_KEY_MAX_SESSIONS); end one (DELETE /spawns/:id) or retry later`
        : `session quota reached: key ${keyName} already has ${limit} live session(s) on this node (SC_KEY_MAX_SESSIONS); end one (DELETE /spawns/:id) or retry later`,
    );
  }
}
