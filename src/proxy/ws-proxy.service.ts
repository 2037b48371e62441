import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'http';
import type { Duplex } from 'stream';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData } from 'ws';
import { AppConfig } from '../config/app-config';
import { SupervisorService } from '../supervisor/supervisor.service';
import { refuseUpgrade } from './http-refusal';
import { CLOSE_GOING_AWAY, closeSocket, forwardedClose, WsPipe, type EarlyMessage, type PipeClose } from './ws-pipe';

/** The largest message either side may send through the proxy (ws buffers a whole message before relaying it). */
export const PROXY_MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;
/** A side is paused while the other has more than this waiting to be written... */
export const PROXY_HIGH_WATER_MARK = 4 * 1024 * 1024;
/** ...and resumed once that is down to this. */
export const PROXY_LOW_WATER_MARK = 1024 * 1024;
/** How long the session's server gets to complete its WebSocket handshake before the viewer is answered 504. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 5000;
/** After one side closed, how long the other gets for its closing handshake before it is dropped. */
const CLOSE_GRACE_MS = 2000;
/** At shutdown, how long open pipes get to finish their closing handshakes before they are dropped. */
const SHUTDOWN_CLOSE_WAIT_MS = 1000;
/** ws (8.20+) option, not yet in @types/ws: how long a closing socket waits for the peer before it is destroyed (default 30 s). */
const CLOSE_TIMEOUT_OPTION: object = { closeTimeout: CLOSE_GRACE_MS };

const WS_PATH = /^\/ws\/([^/]+)\/?$/;
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** The session id of a proxy path (`/ws/<id>`, query string allowed); null for any other path. */
export function proxiedSessionId(url: string | undefined): string | null {
  if (!url) return null;
  const path = url.split('?', 1)[0];
  const match = WS_PATH.exec(path);
  if (!match) return null;
  try {
    const id = decodeURIComponent(match[1]);
    return id.length > 0 && !id.includes('/') ? id : null;
  } catch {
    return null;
  }
}

/** Why a handshake request is not a valid WebSocket upgrade (checked before the server is bothered), or undefined. */
export function invalidHandshake(req: IncomingMessage): { status: number; message: string } | undefined {
  if (req.method !== 'GET') return { status: 405, message: 'a WebSocket handshake must be a GET request' };
  if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return { status: 400, message: 'Upgrade: websocket expected' };
  if (!WS_KEY.test(String(req.headers['sec-websocket-key'] ?? ''))) return { status: 400, message: 'missing or invalid Sec-WebSocket-Key' };
  const version = String(req.headers['sec-websocket-version'] ?? '');
  if (version !== '13' && version !== '8') return { status: 400, message: 'Sec-WebSocket-Version must be 13' };
  if (requestedProtocols(req) === null) return { status: 400, message: 'invalid Sec-WebSocket-Protocol' };
  return undefined;
}

/** The subprotocols the viewer asked for, in order; null when the header is malformed. */
function requestedProtocols(req: IncomingMessage): string[] | null {
  const header = req.headers['sec-websocket-protocol'];
  if (header === undefined) return [];
  const protocols = header.split(',').map((p) => p.trim());
  if (protocols.some((p) => !TOKEN.test(p)) || new Set(protocols).size !== protocols.length) return null;
  return protocols;
}

interface ProxyEntry {
  id: string;
  phase: 'connecting' | 'upgrading' | 'open' | 'done';
  socket: Duplex;
  upstream: WebSocket;
  pipe?: WsPipe;
}

/**
 * The WebSocket proxy: `ws://<host>:<PORT>/ws/<id>` on the service's own HTTP server is joined to the
 * session's Stream Cache Server at `ws://127.0.0.1:<wsPort>`, so a viewer needs only the service's port.
 *
 * The server's socket is opened first and the viewer's handshake is completed only once it is open: a
 * viewer that cannot be served gets a plain HTTP status (404 unknown or ended session, 409 a viewer is
 * already attached, 502 the server could not be reached, 503 shutting down, 504 the server did not answer)
 * rather than a WebSocket that opens and immediately closes. Subprotocols the server picks are passed on.
 * While joined, the supervisor hears of the attach (ready -> connected), of the bytes moved each way,
 * and of the viewer leaving.
 */
@Injectable()
export class WsProxyService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('WsProxy');
  private readonly sessions = new Map<string, ProxyEntry>();
  /** The subprotocol the server chose, per viewer request, for handleProtocols. */
  private readonly chosenProtocols = new WeakMap<IncomingMessage, string>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: PROXY_MAX_PAYLOAD_BYTES,
    autoPong: false,
    ...CLOSE_TIMEOUT_OPTION,
    handleProtocols: (_offered, req) => this.chosenProtocols.get(req) ?? false,
  });
  private server: Server | undefined;
  private closing = false;
  private readonly upgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.onUpgrade(req, socket, head);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly supervisor: SupervisorService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) {
      this.logger.warn('no HTTP server: the WebSocket proxy is off');
      return;
    }
    this.server = server;
    server.on('upgrade', this.upgradeListener);
  }

  /** Before the supervisor stops the servers and the HTTP server closes: refuse new viewers and close every pipe. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const entries = [...this.sessions.values()];
    if (entries.length === 0) return;
    this.logger.log(`shutting down: closing ${entries.length} proxied connection(s)`);
    for (const entry of entries) {
      if (entry.pipe) void entry.pipe.close(CLOSE_GOING_AWAY, 'service shutting down');
      else this.abandon(entry, 503, 'the service is shutting down');
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(entries.map((entry) => entry.pipe?.closed())),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_CLOSE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    this.terminateAll();
  }

  onApplicationShutdown(): void {
    this.closing = true;
    this.server?.off('upgrade', this.upgradeListener);
    this.server = undefined;
    this.terminateAll();
  }

  /** Sessions with a viewer joined or joining through the proxy. */
  get activeCount(): number {
    return this.sessions.size;
  }

  /** Each proxied connection's phase and flow (bytes waiting each way, paused sides): for diagnostics and tests. */
  connections(): Array<{ id: string; phase: ProxyEntry['phase'] } & Partial<WsPipe['flow']>> {
    return [...this.sessions.values()].map((entry) => ({ id: entry.id, phase: entry.phase, ...entry.pipe?.flow }));
  }

  private terminateAll(): void {
    for (const entry of [...this.sessions.values()]) {
      if (entry.pipe) entry.pipe.terminate();
      else this.abandon(entry, 503, 'the service is shutting down');
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const id = proxiedSessionId(req.url);
    if (id === null) {
      // Not ours. Another 'upgrade' listener may serve it; if we are the only one, nobody else will answer.
      if (this.server && this.server.listenerCount('upgrade') > 1) return;
      socket.on('error', () => undefined);
      refuseUpgrade(socket, 404, 'no WebSocket endpoint here: sessions are at /ws/<id>');
      return;
    }
    // Node removes its own error handler from an upgraded socket: without one, a reset would crash us.
    socket.on('error', (error) => this.logger.debug(`viewer socket for ${id}: ${error.message}`));
    try {
      this.admit(id, req, socket, head);
    } catch (error) {
      this.logger.error(`proxying ${id} failed: ${(error as Error).stack ?? error}`);
      refuseUpgrade(socket, 500, 'internal error');
    }
  }

  private admit(id: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, message: string): void => {
      this.logger.log(`viewer for ${id} refused with ${status}: ${message}`);
      refuseUpgrade(socket, status, message);
    };
    const invalid = invalidHandshake(req);
    if (invalid) return refuse(invalid.status, invalid.message);
    if (this.closing || this.supervisor.isShuttingDown) return refuse(503, 'the service is shutting down');
    const record = this.supervisor.get(id);
    if (!record) return refuse(404, `no session ${id}`);
    if (record.viewerLeftAt !== undefined) return refuse(404, `session ${id} has ended: its viewer left`);
    if (this.sessions.has(id) || record.state === 'connected') return refuse(409, `session ${id} already has a viewer`);
    if (record.state !== 'ready') {
      return refuse(404, record.state === 'starting' ? `session ${id} is not ready yet` : `session ${id} has ended (${record.state})`);
    }

    const upstream = new WebSocket(this.upstreamUrl(record.spec.wsPort, req.url), requestedProtocols(req) ?? [], this.upstreamOptions(req));
    const entry: ProxyEntry = { id, phase: 'connecting', socket, upstream };
    this.sessions.set(id, entry);

    const timer = setTimeout(() => {
      if (entry.phase === 'connecting') this.abandon(entry, 504, `the session's server did not answer within ${UPSTREAM_CONNECT_TIMEOUT_MS} ms`);
    }, UPSTREAM_CONNECT_TIMEOUT_MS);
    timer.unref();
    upstream.on('error', (error) => {
      if (entry.phase === 'connecting') this.abandon(entry, 502, `cannot reach the session's server: ${error.message}`);
      else this.logger.debug(`server socket for ${id}: ${error.message}`);
    });
    upstream.once('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      // The server's own 409: someone connected to it directly.
      if (status === 409) this.abandon(entry, 409, `session ${id} already has a viewer`);
      else this.abandon(entry, 502, `the session's server refused the connection with HTTP ${status}`);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      // The viewer went away before the pipe was built: drop the server connection (the server then ends the session).
      if (entry.phase === 'connecting' || entry.phase === 'upgrading') this.abandon(entry);
    });

    upstream.once('open', () => {
      clearTimeout(timer);
      if (entry.phase !== 'connecting') return;
      upstream.pause(); // until the viewer's side exists
      const early: EarlyMessage[] = [];
      let earlyClose: { code: number; reason: Buffer } | undefined;
      const hold = (data: RawData, isBinary: boolean): void => void early.push({ data, isBinary });
      const closedEarly = (code: number, reason: Buffer): void => void (earlyClose = { code, reason });
      upstream.on('message', hold);
      upstream.once('close', closedEarly);
      entry.phase = 'upgrading';
      if (upstream.protocol) this.chosenProtocols.set(req, upstream.protocol);
      this.wss.handleUpgrade(req, socket, head, (viewer) => {
        upstream.off('message', hold);
        upstream.off('close', closedEarly);
        this.joined(entry, viewer, early, earlyClose);
      });
    });
  }

  private joined(entry: ProxyEntry, viewer: WebSocket, early: EarlyMessage[], earlyClose: { code: number; reason: Buffer } | undefined): void {
    const { id, upstream } = entry;
    if (entry.phase !== 'upgrading' || earlyClose) {
      // The server closed (or we gave up) while the viewer's handshake completed: pass its close on.
      viewer.on('error', () => undefined);
      const forwarded = earlyClose ? forwardedClose(earlyClose.code, earlyClose.reason, 'server') : { code: CLOSE_GOING_AWAY, reason: 'service shutting down' };
      closeSocket(viewer, forwarded.code, forwarded.reason);
      setTimeout(() => viewer.terminate(), CLOSE_GRACE_MS).unref();
      this.finish(entry);
      return;
    }
    const pipe = new WsPipe(
      viewer,
      upstream,
      {
        highWaterMark: PROXY_HIGH_WATER_MARK,
        lowWaterMark: PROXY_LOW_WATER_MARK,
        closeGraceMs: CLOSE_GRACE_MS,
        onBytes: (direction, bytes) => this.supervisor.countViewerBytes(id, direction, bytes),
        onClosed: (close) => this.left(entry, close),
        onError: (side, error) => this.logger.debug(`${side} socket for ${id}: ${error.message}`),
      },
      early,
    );
    entry.pipe = pipe;
    entry.phase = 'open';
    this.logger.log(`viewer attached to ${id} through the proxy`);
    this.supervisor.viewerAttached(id);
    pipe.start();
  }

  private left(entry: ProxyEntry, close: PipeClose): void {
    const record = this.supervisor.get(entry.id);
    const moved = record ? ` (${record.bytesToServer} bytes to the server, ${record.bytesToViewer} to the viewer)` : '';
    this.logger.log(`viewer left ${entry.id}: the ${close.initiator} closed with ${close.code}${close.reason ? ` ${JSON.stringify(close.reason)}` : ''}${moved}`);
    this.supervisor.viewerDetached(entry.id);
    this.finish(entry);
  }

  /** Gives up on a connection not yet joined: answers the viewer with `status` (if still possible) and drops the server's socket. */
  private abandon(entry: ProxyEntry, status?: number, message?: string): void {
    if (entry.phase === 'done' || entry.phase === 'open') return;
    const wasUpgrading = entry.phase === 'upgrading';
    this.finish(entry);
    if (status !== undefined && message !== undefined && !wasUpgrading) {
      this.logger.log(`viewer for ${entry.id} refused with ${status}: ${message}`);
      refuseUpgrade(entry.socket, status, message);
    } else {
      entry.socket.destroy();
    }
    entry.upstream.terminate();
  }

  private finish(entry: ProxyEntry): void {
    entry.phase = 'done';
    if (this.sessions.get(entry.id) === entry) this.sessions.delete(entry.id);
  }

  private upstreamUrl(wsPort: number, requestUrl: string | undefined): string {
    const query = requestUrl?.includes('?') ? requestUrl.slice(requestUrl.indexOf('?')) : '';
    return `${this.upstreamTls ? 'wss' : 'ws'}://127.0.0.1:${wsPort}/${query}`;
  }

  /** The servers serve wss:// when started with a certificate (through SC_EXTRA_ARGS), like the presenter assumes. */
  private get upstreamTls(): boolean {
    return this.config.extraArgs.some((a) => a.startsWith('--ssl-certificate-file'));
  }

  private upstreamOptions(req: IncomingMessage): ClientOptions {
    return {
      perMessageDeflate: false,
      maxPayload: PROXY_MAX_PAYLOAD_BYTES,
      autoPong: false,
      ...CLOSE_TIMEOUT_OPTION,
      followRedirects: false,
      origin: req.headers.origin,
      // An all-zero masking key on this loopback hop: ws then neither copies nor XORs the payload, here or in a
      // ws-based server. Masking guards intermediaries (proxies, caches) against attacker-chosen bytes (RFC 6455
      // §10.3); between this process and its own child on 127.0.0.1 there is none. Still a well-formed masked frame.
      generateMask: zeroMask,
      // Loopback to our own child, whose certificate names the public host, not 127.0.0.1.
      ...(this.upstreamTls ? { rejectUnauthorized: false } : {}),
    };
  }
}
