import type { Duplex } from 'stream';
import type { UpstreamAttempt } from './ws-upstream';
import type { WsTunnel } from './ws-tunnel';

/** One viewer's connection through the proxy, from its handshake to its end. */
export interface ProxyEntry {
  id: string;
  phase: 'connecting' | 'open' | 'done';
  socket: Duplex;
  attempt?: UpstreamAttempt;
  tunnel?: WsTunnel;
  /** The session was spawned for this viewer (spawn on connect): it ends if the viewer cannot be joined to it. */
  ownsSession: boolean;
}

export interface ProxyConnectionInfo {
  id: string;
  phase: ProxyEntry['phase'];
  toServer?: { buffered: number; viewerPaused: boolean };
  toViewer?: { buffered: number; serverPaused: boolean };
}
