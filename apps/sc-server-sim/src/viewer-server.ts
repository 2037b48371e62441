import { timingSafeEqual } from 'crypto';
import { readFileSync } from 'fs';
import * as http from 'http';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CLOSE_POLICY_VIOLATION } from '@app/sc-protocol';
import type { ScHello } from './hello';
import type { SimLog } from './sim-log';

/** Large enough for the proxy benchmark's 1 MiB messages, with room to spare. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** How long a refused viewer gets to finish the closing handshake before its socket is dropped. */
const REFUSED_CLOSE_GRACE_MS = 1000;
/** JSON control messages are only looked for in text messages up to this size; bigger ones are echoed. */
const MAX_CONTROL_MESSAGE_CHARS = 64 * 1024;

export interface ViewerServerOptions {
  port: number;
  host: string | undefined;
  tls: { certificateFile: string; privateKeyFile: string } | undefined;
  sessionToken: string | undefined;
  log: SimLog;
  /** The greeting to send now (it reflects the current model). */
  hello(): ScHello;
  /** The viewer asked for another model (`{"model": "..."}`); a new hello follows. */
  changeModel(model: string): void;
  /** A viewer was accepted (connected without a token required, or presented the right one). */
  onViewerAccepted(): void;
  /** The accepted viewer's WebSocket closed. */
  onViewerClosed(code: number, reason: string): void;
}

/**
 * The WebSocket a viewer connects to: exactly one viewer at a time.
 *
 * A second connection while one is open (or still presenting its token) is refused at the
 * HTTP upgrade with `409 Conflict`: it never becomes a WebSocket, so it cannot disturb the
 * viewer being served, and a proxy or browser sees a plain failed handshake with that status.
 *
 * With a session token, the first message must be `{"sessionToken": "<token>"}`; anything else
 * closes that connection with 1008 (policy violation) and the server waits for another viewer.
 * Then (or at once without a token) the viewer gets the hello, and every later message is echoed
 * back unchanged, text as text and binary as binary, except a `{"model": "..."}` text message,
 * which changes the model and is answered by a new hello.
 */
export class ViewerServer {
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  /** The one connection allowed, from the upgrade until its socket closes. */
  private occupant: WebSocket | 'upgrading' | undefined;
  private closing = false;

  constructor(private readonly options: ViewerServerOptions) {
    const respond = (_req: IncomingMessage, res: http.ServerResponse): void => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      res.end('This is a Stream Cache Server: connect with a WebSocket.\n');
    };
    if (options.tls) {
      const https = require('https') as typeof import('https');
      this.server = https.createServer(
        { cert: readFileSync(options.tls.certificateFile), key: readFileSync(options.tls.privateKeyFile) },
        respond,
      );
    } else {
      this.server = http.createServer(respond);
    }
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_PAYLOAD_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  /** Resolves with the port once listening; rejects with the listen error (e.g. EADDRINUSE). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen({ port: this.options.port, host: this.options.host }, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.options.log.error(`viewer server error: ${error.message}`));
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  /** Closes the viewer's socket (if any) and stops listening; resolves when the viewer has gone, or after maxWaitMs. */
  close(code: number, reason: string, maxWaitMs: number): Promise<void> {
    this.closing = true;
    this.server.close();
    const occupant = this.occupant;
    if (!(occupant instanceof WebSocket) || occupant.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        occupant.terminate();
        resolve();
      }, maxWaitMs);
      occupant.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      occupant.close(code, reason);
    });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined); // a client that vanishes mid-handshake must not crash us
    if (this.closing || this.occupant !== undefined) {
      const status = this.closing ? '503 Service Unavailable' : '409 Conflict';
      const body = this.closing ? 'shutting down\n' : 'busy: this server already has its viewer\n';
      socket.end(
        `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      this.options.log.info(
        `viewer connection from ${peer(req)} refused: ${this.closing ? 'shutting down' : 'busy (409)'}`,
      );
      return;
    }
    this.occupant = 'upgrading';
    socket.once('close', () => {
      if (this.occupant === 'upgrading') this.occupant = undefined; // the handshake failed
    });
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, req));
  }

  private connected(ws: WebSocket, req: IncomingMessage): void {
    this.occupant = ws;
    const from = peer(req);
    let state: 'token' | 'accepted' | 'refused' = this.options.sessionToken === undefined ? 'accepted' : 'token';
    ws.on('error', (error) => this.options.log.error(`viewer socket error: ${error.message}`));
    ws.on('close', (code, reason) => {
      if (this.occupant === ws) this.occupant = undefined;
      if (state === 'accepted') this.options.onViewerClosed(code, reason.toString());
    });
    ws.on('message', (data, isBinary) => {
      if (state === 'accepted') this.message(ws, data, isBinary);
      else if (state === 'token') {
        if (!isBinary && this.tokenMatches(data)) {
          state = 'accepted';
          this.accept(ws, from);
        } else {
          state = 'refused';
          this.options.log.info(
            `viewer ${from} refused: missing or wrong session token (closing with ${CLOSE_POLICY_VIOLATION})`,
          );
          ws.close(CLOSE_POLICY_VIOLATION, 'invalid session token');
          setTimeout(() => ws.terminate(), REFUSED_CLOSE_GRACE_MS).unref();
        }
      }
    });
    if (state === 'accepted') this.accept(ws, from);
    else this.options.log.info(`viewer ${from} connected; waiting for its session token`);
  }

  private accept(ws: WebSocket, from: string): void {
    if (this.closing) return;
    this.options.log.info(`viewer connected from ${from}`);
    this.options.onViewerAccepted();
    this.sendHello(ws);
  }

  private sendHello(ws: WebSocket): void {
    ws.send(JSON.stringify(this.options.hello()));
  }

  private message(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (!isBinary) {
      const model = modelRequest(data);
      if (model !== undefined) {
        this.options.changeModel(model);
        this.sendHello(ws);
        return;
      }
    }
    ws.send(data, { binary: isBinary });
  }

  private tokenMatches(data: RawData): boolean {
    const presented = jsonObject(data)?.sessionToken;
    if (typeof presented !== 'string') return false;
    const expected = Buffer.from(this.options.sessionToken!, 'utf8');
    const actual = Buffer.from(presented, 'utf8');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function jsonObject(data: RawData): Record<string, unknown> | undefined {
  const buffer = toBuffer(data);
  if (buffer.length > MAX_CONTROL_MESSAGE_CHARS) return undefined;
  const text = buffer.toString('utf8').trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `{"model": "<name>"}` (a text message whose JSON has a string `model`) asks for another model. */
function modelRequest(data: RawData): string | undefined {
  const model = jsonObject(data)?.model;
  return typeof model === 'string' ? model : undefined;
}

function peer(req: IncomingMessage): string {
  const { remoteAddress, remotePort } = req.socket;
  return remoteAddress ? `${remoteAddress}:${remotePort}` : 'unknown';
}
