import type { RendererType } from '@app/sc-protocol';
import { LineBuffer } from './line-buffer';
import { mintRelayToken } from './relay-token';
import type { SpawnState } from './spawn-state';

export const LOG_LINES_KEPT = 200;

/** How a session was asked for: POST /spawn, the HOOPS Server API (/api/spawn, /service), or a viewer's WebSocket (spawn on connect). */
export const SPAWN_ORIGINS = ['api', 'hoops-api', 'connect'] as const;
export type SpawnOrigin = (typeof SPAWN_ORIGINS)[number];

/** Who asked for a session: the name of the API key it presented (none: anonymous) and the budget it counts against. */
export interface SessionOwner {
  /** The key's name (`name=key` entries, or key-1, key-2... for bare keys); undefined for an anonymous caller. */
  key?: string;
  /** The quota budget: `key:<name>`, or `addr:<client address>` for an anonymous caller. */
  bucket: string;
}

/** Why a session limit ends a session. */
export type LimitReason = 'idle' | 'lifetime';

/** Messages and payload bytes the relay carried one way (counted from frame headers only). */
export interface RelayCount {
  messages: number;
  bytes: number;
}

export interface SpawnSpec {
  id: string;
  wsPort: number;
  rendererType: RendererType;
  origin: SpawnOrigin;
  /** The GPU an SSR server renders on (--ssr-gpu-index), when one is chosen or configured. */
  gpuIndex?: number;
  model?: string;
  sessionToken?: string;
  /** Client-chosen model folders (already checked against the allowed roots), searched before the configured ones. */
  extraModelDirs?: string[];
  /** Started for the warm pool: no per-session options, a longer initial-use duration (see buildScCommand). */
  warm?: boolean;
}

/** Everything the supervisor knows about one spawn. Mutable, and never handed out: callers get a SpawnView. */
export class SpawnRecord {
  state: SpawnState = 'starting';
  pid?: number;
  readonly startedAt: number;
  readyAt?: number;
  lastReportAt?: number;
  connectedAt?: number;
  /** When the viewer attached through the proxy left (the server should now report disconnect and exit). */
  viewerLeftAt?: number;
  stateChangedAt: number;
  stopRequestedAt?: number;
  sigkillSentAt?: number;
  /** Set the moment the process is gone, before its last output is read and the exit is handled. */
  processGoneAt?: number;
  endedAt?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** Why the spawn ended, in words (exit description, timeout, stop request...). */
  endReason?: string;
  readonly logs = new LineBuffer(LOG_LINES_KEPT);
  /** When a request claimed this warm server (spec.warm); unset while it waits in the pool. */
  claimedAt?: number;
  /** The capability to join this session at /ws/<token>; a warm server gets one only when claimed. */
  relayToken?: string;
  bytesToServer = 0;
  bytesToViewer = 0;
  /** The caller that made (or claimed) the session; unset for an unclaimed warm server. */
  owner?: SessionOwner;
  /** A lifetime limit asked for by the request (maxSessionSeconds), never above SC_MAX_SESSION_S. */
  maxSessionS?: number;
  /**
   * The relay carries this session's viewer (spawn on connect, PUBLIC_ENDPOINT=proxy, or a viewer joined at
   * /ws/<token>).
   */
  watched = false;
  /** When the viewer last sent a message through the relay. */
  lastActivityAt?: number;
  readonly relay: { toServer: RelayCount; toViewer: RelayCount } = {
    toServer: { messages: 0, bytes: 0 },
    toViewer: { messages: 0, bytes: 0 },
  };
  /** The server process's start time, read from /proc once it was forked: with `pid`, its identity. */
  pidStartTime?: string;
  /** CPU time and resident memory of the server's process group, as the sweep last read them from /proc. */
  cpuSeconds?: number;
  rssBytes?: number;
  /** The warning given before a limit ends the session (cleared when activity cancels an idle warning). */
  expiring?: { reason: LimitReason; secondsLeft: number; at: number };
  /** The close code and reason the relay sends the viewer when the session is stopped. */
  viewerClose?: { code: number; reason: string };

  constructor(
    readonly spec: SpawnSpec,
    now: number,
  ) {
    this.startedAt = now;
    this.stateChangedAt = now;
    if (!spec.warm) this.relayToken = mintRelayToken();
  }

  /** Handed out to a claimant: from now on, and only now, the warm server can be joined. */
  claim(now: number): void {
    this.claimedAt = now;
    this.relayToken = mintRelayToken();
  }

  get id(): string {
    return this.spec.id;
  }

  /** A warm server still waiting in the pool for a claimant. */
  get isUnclaimedWarm(): boolean {
    return this.spec.warm === true && this.claimedAt === undefined;
  }

  /** When the session's clocks (idle, lifetime) start: at the claim for a warm server, else at the launch. */
  get sessionStartedAt(): number {
    return this.claimedAt ?? this.startedAt;
  }
}

/** A frozen copy of a spawn as it was when asked for (its output lines are read separately). */
export type SpawnView = Readonly<
  Omit<SpawnRecord, 'logs' | 'spec' | 'isUnclaimedWarm' | 'claim' | 'sessionStartedAt'> & { spec: Readonly<SpawnSpec> }
>;

export function viewOf(record: SpawnRecord): SpawnView {
  const { logs: _logs, ...fields } = record;
  const relay = { toServer: { ...record.relay.toServer }, toViewer: { ...record.relay.toViewer } };
  return Object.freeze({ ...fields, relay, id: record.id, spec: Object.freeze({ ...record.spec }) });
}

/** What a caller asks for; the starter adds the id (unless given) and the origin (default `api`), the processes the port and the GPU. */
export type SpawnRequest = Omit<SpawnSpec, 'id' | 'wsPort' | 'origin' | 'gpuIndex'> & {
  id?: string;
  origin?: SpawnOrigin;
};
