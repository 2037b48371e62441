import { WebSocket, type RawData } from 'ws';

/** Which way a message travels through the proxy. */
export type PipeDirection = 'toServer' | 'toViewer';
export type PipeSide = 'viewer' | 'server';

/** Close codes the proxy sends itself. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_INTERNAL_ERROR = 1011;
/** Received-only codes (RFC 6455 §7.4.1): never put on the wire. */
const CLOSE_NO_STATUS = 1005;
const CLOSE_ABNORMAL = 1006;
const CLOSE_TLS_FAILURE = 1015;

/**
 * The close frame to send to one side after the other side closed with `code`.
 * Codes a peer may send are forwarded unchanged. 1005 (the peer sent a close frame without a code)
 * becomes a close frame without a code, so the other side sees 1005 too. 1006 (the connection dropped
 * without a close frame) and 1015 (TLS failure) cannot be sent: they become 1011 with a reason saying so.
 */
export function forwardedClose(code: number, reason: Buffer | string, from: PipeSide): { code?: number; reason: Buffer | string } {
  if (code === CLOSE_NO_STATUS) return { code: undefined, reason: '' };
  if (code === CLOSE_ABNORMAL || code === CLOSE_TLS_FAILURE || !isSendableCloseCode(code)) {
    return { code: CLOSE_INTERNAL_ERROR, reason: `${from} connection lost${code === CLOSE_ABNORMAL ? '' : ` (${code})`}` };
  }
  return { code, reason };
}

/** Whether a close frame may carry `code` (what ws's close() accepts). */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== CLOSE_NO_STATUS && code !== CLOSE_ABNORMAL) || (code >= 3000 && code <= 4999);
}

export interface EarlyMessage {
  data: RawData;
  isBinary: boolean;
}

export interface PipeClose {
  /** The side whose close started the teardown. */
  initiator: PipeSide;
  code: number;
  reason: string;
}

export interface WsPipeOptions {
  /** Stop reading a side while the other side has more than this many bytes waiting to be written. */
  highWaterMark: number;
  /** Read again once the waiting bytes are down to this. */
  lowWaterMark: number;
  /** After one side closed, how long the other gets for its closing handshake before it is terminated. */
  closeGraceMs: number;
  /** Bytes of payload forwarded (messages only; framing and control frames are not counted). */
  onBytes(direction: PipeDirection, bytes: number): void;
  /** Called once, when both sockets are closed. */
  onClosed(close: PipeClose): void;
  /** A socket error (the close that always follows is handled separately). */
  onError?(side: PipeSide, error: Error): void;
}

interface Hop {
  /** Where messages come from. */
  readonly source: WebSocket;
  /** Where they go. */
  readonly destination: WebSocket;
  readonly direction: PipeDirection;
  /** Whether `source` is paused because `destination` has too much waiting to be written. */
  paused: boolean;
  /** The send callback: resumes `source` once `destination` has drained. */
  readonly written: (error?: Error) => void;
}

/**
 * Joins two open WebSockets, the viewer's (accepted by the proxy) and the server's (opened by the proxy),
 * message by message: text stays text and binary stays binary, byte for byte, with no copy of the payload;
 * pings and pongs are relayed end to end (the sockets must be created with autoPong: false), so keepalives
 * still measure the real peer; and a slow reader slows the writer (its source is paused while more than
 * highWaterMark bytes wait to be written), so nothing is buffered without bound.
 * When either side closes, the other is closed with the same code where the protocol allows (forwardedClose).
 *
 * Messages the server sends before start() (e.g. its hello, which can race the viewer's handshake) are held
 * and delivered first, after `early` (what it sent before the pipe was built); the server socket should be
 * paused until then.
 */
export class WsPipe {
  private readonly toServer: Hop;
  private readonly toViewer: Hop;
  private started = false;
  private firstClose: PipeClose | undefined;
  private finished = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly closeWaiters: Array<() => void> = [];

  constructor(
    readonly viewer: WebSocket,
    readonly server: WebSocket,
    private readonly options: WsPipeOptions,
    /** Messages the server sent before the pipe existed, delivered first by start(). */
    private readonly early: EarlyMessage[] = [],
  ) {
    this.toServer = this.hop(viewer, server, 'toServer');
    this.toViewer = this.hop(server, viewer, 'toViewer');

    server.on('message', (data: RawData, isBinary: boolean) => {
      if (this.started) this.forward(this.toViewer, data, isBinary);
      else this.early.push({ data, isBinary });
    });
    viewer.on('message', (data: RawData, isBinary: boolean) => this.forward(this.toServer, data, isBinary));
    viewer.on('ping', (data) => this.control(server, 'ping', data));
    viewer.on('pong', (data) => this.control(server, 'pong', data));
    server.on('ping', (data) => this.control(viewer, 'ping', data));
    server.on('pong', (data) => this.control(viewer, 'pong', data));
    viewer.on('error', (error) => this.options.onError?.('viewer', error));
    server.on('error', (error) => this.options.onError?.('server', error));
    viewer.on('close', (code, reason) => this.sideClosed('viewer', code, reason));
    server.on('close', (code, reason) => this.sideClosed('server', code, reason));
  }

  /** Starts the flow: delivers what the server sent so far, then reads both sides. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const { data, isBinary } of this.early.splice(0)) this.forward(this.toViewer, data, isBinary);
    if (!this.toViewer.paused) this.server.resume();
  }

  /** Closes both sides with `code` (e.g. 1001 at shutdown); resolves when both are closed or terminated. */
  close(code: number, reason: string): Promise<void> {
    const done = this.closed();
    this.firstClose ??= { initiator: 'server', code, reason };
    for (const ws of [this.viewer, this.server]) closeSocket(ws, code, reason);
    this.armGraceTimer();
    return done;
  }

  /** Ends both connections at once, without closing handshakes. */
  terminate(): void {
    this.viewer.terminate();
    this.server.terminate();
  }

  /** Bytes waiting to be written to each side, and whether the opposite side is paused for it (backpressure). */
  get flow(): { toServer: { buffered: number; viewerPaused: boolean }; toViewer: { buffered: number; serverPaused: boolean } } {
    return {
      toServer: { buffered: this.server.bufferedAmount, viewerPaused: this.toServer.paused },
      toViewer: { buffered: this.viewer.bufferedAmount, serverPaused: this.toViewer.paused },
    };
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Resolves once both sockets are closed. */
  closed(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private hop(source: WebSocket, destination: WebSocket, direction: PipeDirection): Hop {
    const hop: Hop = {
      source,
      destination,
      direction,
      paused: false,
      written: () => {
        if (hop.paused && destination.bufferedAmount <= this.options.lowWaterMark) {
          hop.paused = false;
          source.resume();
        }
      },
    };
    return hop;
  }

  private forward(hop: Hop, data: RawData, isBinary: boolean): void {
    const { destination } = hop;
    if (destination.readyState !== WebSocket.OPEN) return; // it is closing: the close is being relayed
    // With the default binaryType ('nodebuffer') every message arrives as one Buffer.
    const payload = data as Buffer;
    destination.send(payload, { binary: isBinary }, hop.written);
    this.options.onBytes(hop.direction, payload.length);
    if (!hop.paused && destination.bufferedAmount > this.options.highWaterMark) {
      hop.paused = true;
      hop.source.pause();
    }
  }

  private control(destination: WebSocket, kind: 'ping' | 'pong', data: Buffer): void {
    if (destination.readyState !== WebSocket.OPEN) return;
    if (kind === 'ping') destination.ping(data);
    else destination.pong(data);
  }

  private sideClosed(side: PipeSide, code: number, reason: Buffer): void {
    const other = side === 'viewer' ? this.server : this.viewer;
    if (!this.firstClose) {
      this.firstClose = { initiator: side, code, reason: reason.toString('utf8') };
      const forwarded = forwardedClose(code, reason, side);
      closeSocket(other, forwarded.code, forwarded.reason);
      this.armGraceTimer();
    }
    if (other.readyState === WebSocket.CLOSED) this.finish();
  }

  private armGraceTimer(): void {
    if (this.graceTimer || this.finished) return;
    this.graceTimer = setTimeout(() => this.terminate(), this.options.closeGraceMs);
    this.graceTimer.unref();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.graceTimer);
    this.options.onClosed(this.firstClose!);
    for (const wake of this.closeWaiters.splice(0)) wake();
  }
}

/** Starts the closing handshake (or aborts a connection still opening). Never throws. */
export function closeSocket(ws: WebSocket, code: number | undefined, reason: Buffer | string): void {
  if (ws.readyState === WebSocket.CONNECTING) {
    ws.terminate();
  } else if (ws.readyState === WebSocket.OPEN) {
    ws.resume(); // a paused socket would never read the peer's reply to our close frame
    try {
      if (code === undefined) ws.close();
      else ws.close(code, reason);
    } catch {
      ws.terminate(); // an unsendable code or a reason over 123 bytes: not worth a crash
    }
  }
}
