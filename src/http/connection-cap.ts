import type { Server } from 'http';
import type { Socket } from 'net';
import type { TrustTest } from './client-address';

/**
 * MAX_CONNECTIONS_PER_CLIENT: at most `max` open TCP connections (HTTP, event streams, WebSockets) from one
 * peer address; more are dropped as they arrive. A trusted proxy (TRUST_PROXY) carries many clients, so it is
 * exempt. Counted per socket peer: the cap protects the port itself, before any header is read.
 *
 * Also exempt: this machine connecting from the very address it reaches the service at, as the servers do with
 * their liveliness reports. Capped, any local user holding `max` connections from 127.0.0.1 would have the
 * servers' reports dropped; and a local user is not held back by a per-address cap anyway, with all of
 * 127.0.0.0/8 to connect from. No remote peer has the service's own address.
 */
export function capConnectionsPerClient(server: Server, max: number, trusted: TrustTest): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined || trusted(address, 0) || address === socket.localAddress) return;
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
