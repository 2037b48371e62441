import type { Socket } from 'net';
import { closeFrame, FrameTracker } from './frame-tracker';

/** Which way bytes travel through the proxy. */
export type TunnelDirection = 'toServer' | 'toViewer';
export type TunnelSide = 'viewer' | 'server';

/** Close code the proxy sends itself when one side's connection drops without a close frame (1006 cannot be sent). */
export const CLOSE_CONNECTION_LOST = 1011;
const CLOSE_ABNORMAL = 1006;
/**
 * A viewer's connection on which nothing moved this long is probed (TCP keepalive; libuv then probes every second, 10
 * times). A viewer whose network vanished (a laptop closed, a NAT that forgot it) sends no FIN: unprobed, an idle
 * tunnel would hold its server, slot and license seat for good unless SC_IDLE_TIMEOUT_S is set.
 */
export const VIEWER_KEEPALIVE_MS = 30_000;

export interface TunnelClose {
  /**
   * The side that closed first: its close frame went by first, or (without one) its connection ended first;
   * 'proxy' when close() was called (the service is shutting down).
   */
  initiator: TunnelSide | 'proxy';
  /** The code in the initiator's close frame; 1005 for a close frame without one; 1006 when it sent none. */
  code: number;
  /** Whether the initiator sent a close frame (false: its connection just dropped). */
  clean: boolean;
}

export interface WsTunnelOptions {
  /** Stop reading a side while more than this many bytes wait to be written to the other. */
  highWaterMark: number;
  /** Once one side has ended, how long the other gets before both are destroyed. */
  closeGraceMs: number;
  /** Message payload bytes relayed (data frames only; framing and control frames are not counted), and complete messages. */
  onBytes(direction: TunnelDirection, bytes: number, messages: number): void;
  /** Called once, when both connections are closed. */
  onClosed(close: TunnelClose): void;
  /** A socket error (the connection then closes, which is handled). */
  onError?(side: TunnelSide, error: Error): void;
  /** A side was paused for backpressure, or resumed. */
  onFlowChange?(): void;
}

class Flow {
  readonly tracker = new FrameTracker();
  paused = false;
  /** No more bytes go to `destination` (a close frame of ours was sent, or it has ended). */
  stopped = false;
  readonly resume = (): void => {
    this.paused = false;
    this.source.resume();
    this.onFlowChange();
  };

  constructor(
    readonly from: TunnelSide,
    readonly source: Socket,
    readonly destination: Socket,
    readonly direction: TunnelDirection,
    private readonly onFlowChange: () => void,
  ) {}

  /** Frames to a server must be masked; frames to a viewer must not. */
  get toServer(): boolean {
    return this.direction === 'toServer';
  }
}

/**
 * Joins a viewer's TCP connection and its server's, both past their WebSocket handshakes, as a byte tunnel:
 * frames go through exactly as sent (masked, text or binary, fragmented or not, pings, pongs and close frames
 * with their codes and reasons), so the proxy adds no copy and no per-byte work. A FrameTracker on each
 * direction reads only the frame headers, to count payload bytes, learn the close codes, and know where a
 * frame of the proxy's own can go.
 *
 * Backpressure: a side is paused while more than highWaterMark bytes wait to be written to the other, and
 * resumed once they are written, so a slow reader slows the writer and nothing is buffered without bound.
 *
 * Closing: close frames travel like any frame, so each side sees the other's code and reason. When a side's
 * connection ends without a close frame (1006, which cannot be sent), the other side gets a close frame 1011
 * "<side> connection lost" if the stream toward it is between frames, then its connection is ended.
 */
export class WsTunnel {
  private readonly toServer: Flow;
  private readonly toViewer: Flow;
  private readonly endedSides = new Set<TunnelSide>();
  private readonly closedSides = new Set<TunnelSide>();
  /**
   * Who closed first, and how: its close frame went by, or its connection ended without one. Only the first counts:
   * a server answers the 1011 the proxy sends for a viewer whose connection dropped with a close frame of its own,
   * which would otherwise be taken for the server closing the session.
   */
  private first: { side: TunnelSide; clean: boolean } | undefined;
  private closedByProxy: number | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private finished = false;
  private readonly closeWaiters: Array<() => void> = [];

  constructor(
    readonly viewer: Socket,
    readonly server: Socket,
    private readonly options: WsTunnelOptions,
  ) {
    const flowChanged = () => options.onFlowChange?.();
    this.toServer = new Flow('viewer', viewer, server, 'toServer', flowChanged);
    this.toViewer = new Flow('server', server, viewer, 'toViewer', flowChanged);
    for (const socket of [viewer, server]) {
      socket.setNoDelay(true);
      socket.setTimeout(0);
    }
    viewer.setKeepAlive(true, VIEWER_KEEPALIVE_MS);
  }

  /**
   * Starts relaying: first the bytes each side sent along with its handshake (`viewerHead`, `serverHead`,
   * e.g. the server's first message), then everything that follows. Both sockets should be paused until now.
   */
  start(viewerHead: Buffer, serverHead: Buffer): void {
    for (const flow of [this.toServer, this.toViewer]) {
      const { source, from } = flow;
      source.on('data', (chunk: Buffer) => this.relay(flow, chunk));
      source.on('end', () => this.ended(from));
      source.on('error', (error) => this.options.onError?.(from, error));
      source.on('close', () => this.closed(from));
    }
    if (viewerHead.length > 0) this.relay(this.toServer, viewerHead);
    if (serverHead.length > 0) this.relay(this.toViewer, serverHead);
    for (const flow of [this.toServer, this.toViewer]) if (!flow.paused) flow.source.resume();
    // A side that was already gone before the listeners existed.
    for (const flow of [this.toServer, this.toViewer]) if (flow.source.destroyed) this.closed(flow.from);
  }

  /** Closes both sides with `code` (e.g. 1001 at shutdown) where a frame can be sent; resolves once both connections are closed. */
  close(code: number, reason: string): Promise<void> {
    const done = this.closed$();
    if (this.first === undefined) this.closedByProxy = code;
    for (const flow of [this.toViewer, this.toServer]) this.sendClose(flow, code, reason);
    for (const socket of [this.viewer, this.server]) if (!socket.destroyed) socket.end();
    this.armGraceTimer();
    return done;
  }

  /** Whether the viewer has begun a message (a data frame's header went by; its payload is never read). */
  get viewerHasSpoken(): boolean {
    return this.toServer.tracker.dataFrames > 0;
  }

  /** Drops both connections at once. */
  terminate(): void {
    this.viewer.destroy();
    this.server.destroy();
  }

  /** Resolves once both connections are closed. */
  closed$(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /** Bytes waiting to be written each way, and whether the opposite side is paused for them. */
  get flow(): {
    toServer: { buffered: number; viewerPaused: boolean };
    toViewer: { buffered: number; serverPaused: boolean };
  } {
    return {
      toServer: { buffered: this.server.writableLength, viewerPaused: this.toServer.paused },
      toViewer: { buffered: this.viewer.writableLength, serverPaused: this.toViewer.paused },
    };
  }

  private relay(flow: Flow, chunk: Buffer): void {
    const messagesBefore = flow.tracker.messages;
    const framesBefore = flow.tracker.dataFrames;
    const bytes = flow.tracker.push(chunk);
    const messages = flow.tracker.messages - messagesBefore;
    // A data frame's header with nothing counted yet (an empty first fragment) still tells that the viewer spoke.
    if (bytes > 0 || messages > 0 || flow.tracker.dataFrames !== framesBefore)
      this.options.onBytes(flow.direction, bytes, messages);
    if (flow.tracker.closeSeen) this.first ??= { side: flow.from, clean: true };
    const { destination } = flow;
    if (flow.stopped || !destination.writable) return;
    destination.write(chunk);
    if (!flow.paused && destination.writableLength > this.options.highWaterMark) {
      flow.paused = true;
      flow.source.pause();
      destination.once('drain', flow.resume);
      this.options.onFlowChange?.();
    }
  }

  /** `side` sent FIN (or its connection broke): pass the end on, with a close frame of ours if it sent none. */
  private ended(side: TunnelSide): void {
    if (this.endedSides.has(side)) return;
    this.endedSides.add(side);
    this.first ??= { side, clean: false };
    const fromSide = side === 'viewer' ? this.toServer : this.toViewer;
    const toSide = side === 'viewer' ? this.toViewer : this.toServer;
    if (!fromSide.tracker.closeSeen) this.sendClose(fromSide, CLOSE_CONNECTION_LOST, `${side} connection lost`);
    fromSide.stopped = true;
    if (fromSide.destination.writable) fromSide.destination.end();
    // A socket without allowHalfOpen (the server's) ends our side too when its peer's FIN arrives: nothing more
    // can be written to it, so drop what still comes for it, and keep reading the other side, or its own end
    // would never be seen. (The viewer's socket, from the HTTP server, stays writable: a viewer that half-closed
    // still gets the server's reply.)
    if (!toSide.destination.writable) {
      toSide.stopped = true;
      if (toSide.paused) toSide.resume();
    }
    this.armGraceTimer();
  }

  private closed(side: TunnelSide): void {
    if (this.closedSides.has(side)) return;
    this.closedSides.add(side);
    this.ended(side);
    if (this.closedSides.size === 2) this.finish();
  }

  /** Puts a close frame of ours on `flow`'s destination, if it is between frames and still writable. */
  private sendClose(flow: Flow, code: number, reason: string): void {
    if (flow.stopped || !flow.destination.writable || !flow.tracker.atBoundary) return;
    flow.destination.write(closeFrame(code, reason, flow.toServer));
    flow.stopped = true;
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
    for (const flow of [this.toServer, this.toViewer]) flow.destination.off('drain', flow.resume);
    if (this.closedByProxy !== undefined) {
      this.options.onClosed({ initiator: 'proxy', code: this.closedByProxy, clean: true });
    } else {
      const { side: initiator, clean } = this.first ?? { side: 'viewer', clean: false };
      const tracker = (initiator === 'viewer' ? this.toServer : this.toViewer).tracker;
      this.options.onClosed({ initiator, code: clean ? (tracker.closeCode ?? 1005) : CLOSE_ABNORMAL, clean });
    }
    for (const wake of this.closeWaiters.splice(0)) wake();
  }
}
