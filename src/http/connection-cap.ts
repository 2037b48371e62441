import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Server, ServerResponse } from 'http';
import type { Socket } from 'net';
import type { Duplex } from 'stream';
import { clientBucket } from '../auth';
import { isLoopbackAddress, type TrustTest } from './client-address';

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
      const release = (): void => {
        const left = (open.get(address) ?? 1) - 1;
        if (left <= 0) open.delete(address);
        else open.set(address, left);
      };
      const held = (socket as HeldSocket)[HELD_UNTIL];
      if (held) void held.then(release, release);
      else release();
    });
  });
}

const HELD_UNTIL = Symbol('connectionHeldUntil');
type HeldSocket = Socket & { [HELD_UNTIL]?: Promise<unknown> };

/**
 * A connection handed to another process (a viewer's, to the relay process) lives on there after this process's
 * socket closes: it keeps its place under MAX_CONNECTIONS_PER_CLIENT until `until` settles (its tunnel closed).
 */
export function holdConnectionUntil(socket: Socket, until: Promise<unknown>): void {
  (socket as HeldSocket)[HELD_UNTIL] = until;
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

/**
 * At most this many requests of one connection may wait for their answers to be written. HTTP/1.1 pipelining lets
 * a client send thousands of requests at once without reading a single answer: Node parses every one already
 * received, and each would be handled and answered into memory (GET /docs-json pipelined from a few connections
 * took gigabytes and held the event loop for tens of seconds). Browsers and balancers do not pipeline, and the HTTP
 * libraries that can keep only a few requests in flight: a connection past this is dropped, and what else it sent
 * is not handled.
 */
export const MAX_PIPELINED_REQUESTS = 16;

/** Each connection's requests whose answers are not yet written (counted by capPipelinedRequests). */
const waiting = new WeakMap<Socket, number>();

/**
 * Whether a request this connection sent earlier is still being answered (an event stream, a spawn waiting for its
 * server). A WebSocket upgrade pipelined behind it must not be switched: the 101 and the tunnel would run into
 * that answer, and it into them.
 */
export function isAnswering(socket: Duplex): boolean {
  return (waiting.get(socket as Socket) ?? 0) > 0;
}

/**
 * Runs `start` once `response` is its connection's answer: at once, or, for a request pipelined behind others still
 * being answered, when they are done. Handled at once, a request queued behind one that never ends (an event stream)
 * had its answer built and held in memory for as long as the client kept the connection: 250 connections from one
 * client, each an event stream and 15 GET /spawns, took the service from 123 MB to 698 MB at once, and event streams
 * queued that way kept every event (1.8 GB within 270 spawns). A request whose connection closes first never starts.
 */
function whenItsTurn(response: ServerResponse, start: () => void): void {
  if (response.socket) start();
  else response.once('socket', () => start());
}

/**
 * MAX_PIPELINED_REQUESTS, as the first middleware: before any route, body or log sees the request. A request handled
 * is its connection's answer (whenItsTurn): no answer waits in memory behind another.
 */
export function capPipelinedRequests(app: INestApplication, max = MAX_PIPELINED_REQUESTS): void {
  app.use((request: Request, response: Response, next: NextFunction) => {
    const socket = request.socket;
    // Dropped: the rest of what it pipelined is not handled (the socket goes, and these requests with it).
    if (socket.destroyed) return;
    const count = (waiting.get(socket) ?? 0) + 1;
    waiting.set(socket, count);
    response.once('close', () => waiting.set(socket, (waiting.get(socket) ?? 1) - 1));
    if (count > max) return void socket.destroy();
    whenItsTurn(response, next);
  });
}
