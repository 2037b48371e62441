import type { Duplex } from 'stream';
import type { UpstreamAttempt } from './ws-upstream';
import type { RelayFlow } from './relay-worker.protocol';

/** One viewer's connection through the proxy, from its handshake to its end. */
export interface ProxyEntry {
  id: string;
  phase: 'connecting' | 'open' | 'done';
  socket: Duplex;
  attempt?: UpstreamAttempt;
  tunnel?: Tunnel;
  /** The session was spawned for this viewer (spawn on connect): it ends if the viewer cannot be joined to it. */
  ownsSession: boolean;
  /** The session was stopped with a code for its viewer while it was joining: the tunnel closes with it at once. */
  pendingClose?: { code: number; reason: string };
}

export interface ProxyConnectionInfo {
  id: string;
  phase: ProxyEntry['phase'];
  toServer?: RelayFlow['toServer'];
  toViewer?: RelayFlow['toViewer'];
}

/** A viewer's tunnel, run in this process (WsTunnel) or in the relay process (RemoteTunnel). */
export interface Tunnel {
  /** Closes both sides with `code` where a frame can be sent; resolves once both connections are closed. */
  close(code: number, reason: string): Promise<void>;
  /** Drops both connections at once. */
  terminate(): void;
  /** Resolves once both connections are closed. */
  closed$(): Promise<void>;
  /** Whether the viewer has begun a message. */
  readonly viewerHasSpoken: boolean;
  /** Bytes waiting to be written each way, and whether the opposite side is paused for them. */
  readonly flow: RelayFlow;
}
