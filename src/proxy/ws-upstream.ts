import { createHash } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import type { Socket } from 'net';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value that answers `key` (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

/** The proxy could not open the session's server socket; `status` is what the viewer is answered. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface UpstreamTarget {
  port: number;
  /** wss:// (the servers were started with a certificate); the certificate is not checked on this loopback hop. */
  tls: boolean;
  /** Path and query to ask for (`/` plus the viewer's query string). */
  path: string;
  /** The viewer's handshake request: its key, version, subprotocols, extensions and origin are passed on. */
  viewer: http.IncomingMessage;
  timeoutMs: number;
}

export interface UpstreamSocket {
  socket: Socket;
  /** Bytes the server sent right after its 101 response (e.g. its first message), not yet relayed. */
  head: Buffer;
  /** The server's 101 response headers (Sec-WebSocket-Accept, -Protocol, -Extensions). */
  headers: http.IncomingHttpHeaders;
}

export interface UpstreamAttempt {
  readonly result: Promise<UpstreamSocket>;
  /** Gives up (the viewer went away): the request or the socket is destroyed. */
  abort(): void;
}

/**
 * Opens the WebSocket handshake to the session's server on 127.0.0.1 with the viewer's own key, so the
 * server's Sec-WebSocket-Accept is the one the viewer expects and its 101 can be relayed as is. Resolves with
 * the raw socket, paused, once the server switched protocols; rejects with UpstreamError: 409 when the server
 * already has a viewer, 502 for any other refusal or connection error, 504 on timeout.
 */
export function openUpstream(target: UpstreamTarget): UpstreamAttempt {
  const { viewer } = target;
  const key = String(viewer.headers['sec-websocket-key']);
  const headers: http.OutgoingHttpHeaders = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': viewer.headers['sec-websocket-version'],
  };
  for (const name of ['sec-websocket-protocol', 'sec-websocket-extensions', 'origin', 'user-agent']) {
    const value = viewer.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const forwardedFor = [viewer.headers['x-forwarded-for'], viewer.socket.remoteAddress].filter(Boolean).join(', ');
  if (forwardedFor) headers['X-Forwarded-For'] = forwardedFor;

  let settled = false;
  let upgraded: Socket | undefined;
  let abandon: (() => void) | undefined;
  const request = (target.tls ? https : http).request({
    host: '127.0.0.1',
    port: target.port,
    path: target.path,
    headers,
    agent: false,
    ...(target.tls ? { rejectUnauthorized: false } : {}),
  });

  const result = new Promise<UpstreamSocket>((resolve, reject) => {
    const fail = (status: number, message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(new UpstreamError(status, message));
    };
    abandon = () => fail(499, 'the viewer went away');
    const timer = setTimeout(
      () => fail(504, `the session's server did not answer within ${target.timeoutMs} ms`),
      target.timeoutMs,
    );
    timer.unref();

    request.on('upgrade', (response: http.IncomingMessage, socket: Socket, head: Buffer) => {
      socket.pause(); // nothing may be read before the tunnel listens
      socket.on('error', () => undefined); // until the tunnel takes over
      upgraded = socket;
      if (settled) {
        socket.destroy();
        return;
      }
      if (response.headers['sec-websocket-accept'] !== acceptFor(key)) {
        socket.destroy();
        fail(502, "the session's server answered the WebSocket handshake wrongly (Sec-WebSocket-Accept)");
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve({ socket, head, headers: response.headers });
    });
    request.on('response', (response: http.IncomingMessage) => {
      response.resume();
      const status = response.statusCode ?? 0;
      // The server's own 409: a viewer is attached to it directly.
      if (status === 409) fail(409, 'the session already has a viewer');
      else fail(502, `the session's server refused the WebSocket handshake with HTTP ${status}`);
    });
    request.on('error', (error) => fail(502, `cannot reach the session's server: ${error.message}`));
    request.end();
  });

  return {
    result,
    abort: () => {
      abandon?.();
      upgraded?.destroy();
    },
  };
}
