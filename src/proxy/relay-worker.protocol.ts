import type { TunnelClose, TunnelDirection, TunnelSide } from './ws-tunnel';

/**
 * What the service and its relay process (relay-worker.main.ts) say to each other over the IPC channel. A tunnel
 * is handed over as two messages, each carrying one socket (a message carries at most one handle): the viewer's,
 * then the server's; the relay process starts the tunnel once it holds both.
 */
export type ToRelayWorker =
  | {
      type: 'viewer';
      id: number;
      /** Bytes the service read from the viewer before the handover (its handshake's tail and anything after). */
      head: Uint8Array;
      allowHalfOpen: boolean;
    }
  | {
      type: 'server';
      id: number;
      head: Uint8Array;
      allowHalfOpen: boolean;
      highWaterMark: number;
      closeGraceMs: number;
    }
  | { type: 'close'; id: number; code: number; reason: string }
  | { type: 'terminate'; id: number }
  /** Are you alive? Answered with a pong of the same number at once, from the relay process's event loop. */
  | { type: 'ping'; seq: number };

export interface RelayFlow {
  toServer: { buffered: number; viewerPaused: boolean };
  toViewer: { buffered: number; serverPaused: boolean };
}

/** Payload bytes and complete messages moved since the last report, per direction. */
export type RelayCounts = Record<TunnelDirection, { bytes: number; messages: number }>;

export type FromRelayWorker =
  | { type: 'ready' }
  | { type: 'pong'; seq: number }
  | { type: 'report'; id: number; counts: RelayCounts; viewerHasSpoken: boolean; flow: RelayFlow }
  | { type: 'error'; id: number; side: TunnelSide; message: string }
  | { type: 'closed'; id: number; close: TunnelClose };

/**
 * Counts reach the service at most this often per tunnel (a message per relayed frame would cost the relay what
 * it saves); a first message from the viewer and a side paused or resumed are reported at once.
 */
export const RELAY_REPORT_INTERVAL_MS = 20;

/** Nothing buffered, nothing paused: a tunnel at rest, or closed. */
export function noFlow(): RelayFlow {
  return { toServer: { buffered: 0, viewerPaused: false }, toViewer: { buffered: 0, serverPaused: false } };
}

export function noCounts(): RelayCounts {
  return { toServer: { bytes: 0, messages: 0 }, toViewer: { bytes: 0, messages: 0 } };
}
