import type { Server } from 'http';
import type { Socket } from 'net';
import { clientBucket, isLoopbackAddress, type TrustTest } from './client-address';

/**
 * MAX_CONNECTIONS_PER_CLIENT: at most `max` open TCP connections (HTTP, event streams, WebSockets) from one
 * peer address (IPv6: one /64, clientBucket); more are dropped as they arrive. A trusted proxy (TRUST_PROXY) carries many clients, so it is
 * exempt. Counted per socket peer: the cap protects the port itself, before any header is read.
 *
 * Also exempt: this machine connecting from the address its connections to the service come from, as the
 * servers' liveliness reports do (see isOwnSource). Capped, any local user holding `max` connections from
 * 127.0.0.1 would have the servers' reports dropped; and a local user is not held back by a per-address cap
 * anyway, with all of 127.0.0.0/8 to connect from. No remote peer can complete a handshake from those addresses.
 */
export function capConnectionsPerClient(server: Server, max: number, trusted: TrustTest): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress;
    if (peer === undefined || trusted(peer, 0) || isOwnSource(peer, socket.localAddress)) return;
    const address = clientBucket(peer);
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/** The source the kernel gives a connection to a loopback address (its route's `src`), in each form Node shows. */
const LOOPBACK_SOURCES = new Set(['127.0.0.1', '::ffff:127.0.0.1', '::1']);

/**
 * Whether a connection to `local` comes from the address this machine's own connections to it come from: that
 * address itself (an interface's, ::1), or 127.0.0.1 for any 127.x address (HOST=127.0.1.1 is reached from it).
 */
export function isOwnSource(remote: string, local: string | undefined): boolean {
  if (local === undefined) return false;
  return remote === local || (isLoopbackAddress(local) && LOOPBACK_SOURCES.has(remote));
}

/**
 * HEADERS_TIMEOUT_S and REQUEST_TIMEOUT_S on the HTTP server (a client sending its headers or its request
 * slowly is cut off), checked every second instead of Node's default 30 s. Set before listen().
 */
export function applyHttpTimeouts(server: Server, headersTimeoutS: number, requestTimeoutS: number): void {
  server.headersTimeout = Math.round(headersTimeoutS * 1000);
  server.requestTimeout = Math.round(requestTimeoutS * 1000);
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    1000,
    server.headersTimeout,
  );
}
