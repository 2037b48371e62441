import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'http';
import type { Socket } from 'net';
import type { Subscription } from 'rxjs';
import type { Duplex } from 'stream';
import { CLOSE_GOING_AWAY, CLOSE_NO_FIRST_MESSAGE, CLOSE_POLICY_VIOLATION, CLOSE_REASONS } from '@app/sc-protocol';
import { ApiKeys } from '../auth/api-keys';
import { bearerKey, sessionOwner } from '../auth/session-owner';
import { AppConfig } from '../config/app-config';
import { SpawnerMetrics } from '../metrics/spawner-metrics';
import { SupervisorService } from '../supervisor';
import { matchNodePrefix, misdirectedReason } from '../node/node-prefix';
import { refuseUpgrade } from './http-refusal';
import { spawnOnConnectRequest } from './spawn-on-connect';
import { UpgradeGate } from './upgrade-gate';
import { ViewerSpawner } from './viewer-spawner';
import type { ProxyConnectionInfo, ProxyEntry } from './ws-proxy.types';
import { invalidHandshake, proxiedSessionId, switchingProtocols } from './ws-handshake';
import { openUpstream, UpstreamError, type UpstreamSocket } from './ws-upstream';
import { WsTunnel, type TunnelClose } from './ws-tunnel';

/** A side is paused while more than this waits to be written to the other side (then resumed once written). */
export const PROXY_HIGH_WATER_MARK = 1024 * 1024;
/** The viewer's query as its server gets it: without the spawn ticket (a credential of this service, not the server's). */
export function queryForServer(url: string | undefined): string {
  if (!url?.includes('?')) return '';
  const query = url.slice(url.indexOf('?'));
  if (!/[?&]ticket=/.test(query)) return query;
  const params = new URLSearchParams(query);
  params.delete('ticket');
  const rest = params.toString();
  return rest ? `?${rest}` : '';
}

/** How long the session's server gets to complete its WebSocket handshake before the viewer is answered 504. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 5000;
/** Once one side has ended, how long the other gets to finish before both connections are dropped. */
const CLOSE_GRACE_MS = 2000;
/** At shutdown, how long open tunnels get to finish their closing handshakes before they are dropped. */
const SHUTDOWN_CLOSE_WAIT_MS = 1000;

/**
 * The WebSocket proxy: `ws://<host>:<PORT>/ws/<id>` on the service's own HTTP server is joined to the
 * session's Stream Cache Server at `ws://127.0.0.1:<wsPort>`, so a viewer needs only the service's port.
 *
 * The server's WebSocket handshake is made first, with the viewer's own key; only once the server has
 * switched protocols is its 101 relayed to the viewer. A viewer that cannot be served gets a plain HTTP
 * status instead (404 unknown or ended session, 409 a viewer is already attached, 502 the server refused or
 * could not be reached, 503 shutting down, 504 the server did not answer), never a WebSocket that opens and
 * closes at once. Then the two connections are joined as a frame-aware byte tunnel (WsTunnel): frames pass
 * unchanged and uncopied, with backpressure, and with close codes carried end to end.
 *
 * The supervisor hears of the viewer attaching (ready -> connected), of the payload bytes moved each way,
 * and of the viewer leaving.
 *
 * Spawn on connect (the HOOPS Server's proxy mode): an upgrade at any other path (`/?renderingLocation=ssr`)
 * gets a server spawned for it through the facade, then is joined to it by the same admit/join path; see
 * spawnForViewer().
 */
@Injectable()
export class WsProxyService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('WsProxy');
  private readonly sessions = new Map<string, ProxyEntry>();
  /** Payload bytes relayed, per direction: read by the metrics at scrape time. */
  private readonly relayedBytes = { toServer: 0, toViewer: 0 };
  private readonly connects: ViewerSpawner;
  private server: Server | undefined;
  private closing = false;
  private stopSubscription?: Subscription;
  private readonly upgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.onUpgrade(req, socket, head);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly supervisor: SupervisorService,
    private readonly config: AppConfig,
    private readonly metrics: SpawnerMetrics,
    private readonly gate: UpgradeGate,
    keys: ApiKeys,
  ) {
    metrics.countProxyConnectionsWith(() => this.sessions.size);
    metrics.countProxyBytesWith(() => this.relayedBytes);
    this.connects = new ViewerSpawner(
      supervisor,
      this.logger,
      (id, req, socket, head) => this.admit(id, req, socket, head, true),
      (req) => sessionOwner(keys, bearerKey(req.headers.authorization), req.socket.remoteAddress),
    );
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) {
      this.logger.warn('no HTTP server: the WebSocket proxy is off');
      return;
    }
    this.server = server;
    server.on('upgrade', this.upgradeListener);
    this.stopSubscription = this.supervisor.viewerCloses$.subscribe(({ id, code, reason }) =>
      this.closeViewer(id, code, reason),
    );
  }

  /** A session stopped with a close code for its viewer (a limit, a DELETE): the relay closes the viewer's socket with it. */
  private closeViewer(id: string, code: number, reason: string): void {
    const entry = this.sessions.get(id);
    if (!entry?.tunnel) return;
    this.logger.log(`closing the viewer of ${id} with ${code} (${reason})`);
    void entry.tunnel.close(code, reason);
  }

  /** Before the supervisor stops the servers and the HTTP server closes: refuse new viewers and close every tunnel with 1001. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.connects.refuseAll();
    const entries = [...this.sessions.values()];
    if (entries.length === 0) return;
    this.logger.log(`shutting down: closing ${entries.length} proxied connection(s)`);
    const closing: Promise<void>[] = [];
    for (const entry of entries) {
      if (entry.tunnel) closing.push(entry.tunnel.close(CLOSE_GOING_AWAY, 'service shutting down'));
      else this.abandon(entry, 503, 'the service is shutting down');
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closing),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_CLOSE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    this.terminateAll();
  }

  onApplicationShutdown(): void {
    this.closing = true;
    this.server?.off('upgrade', this.upgradeListener);
    this.stopSubscription?.unsubscribe();
    this.server = undefined;
    this.terminateAll();
  }

  /** Sessions with a viewer joined or joining through the proxy. */
  get activeCount(): number {
    return this.sessions.size;
  }

  /** Each proxied connection's phase and flow (bytes waiting each way, paused sides): for diagnostics and tests. */
  connections(): ProxyConnectionInfo[] {
    return [...this.sessions.values()].map((entry) => ({ id: entry.id, phase: entry.phase, ...entry.tunnel?.flow }));
  }

  private terminateAll(): void {
    this.connects.refuseAll();
    for (const entry of [...this.sessions.values()]) {
      if (entry.tunnel) entry.tunnel.terminate();
      else this.abandon(entry, 503, 'the service is shutting down');
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const prefix = matchNodePrefix(req.url, this.config.nodeName);
    if (prefix.kind === 'other') {
      socket.on('error', () => undefined);
      refuseUpgrade(socket, 421, misdirectedReason(this.config.nodeName, prefix.node));
      return;
    }
    const token = proxiedSessionId(prefix.kind === 'local' ? prefix.url : req.url);
    if (token === null) {
      // Not a session's path. Another 'upgrade' listener may serve it; if we are the only one, nobody else will answer.
      if (this.server && this.server.listenerCount('upgrade') > 1) return;
      socket.on('error', (error) => this.logger.debug(`viewer socket (spawn on connect): ${error.message}`));
      const connect = this.config.spawnOnConnect ? spawnOnConnectRequest(req.url) : null;
      if (!connect) {
        refuseUpgrade(
          socket,
          404,
          'no WebSocket endpoint here: sessions are at the /ws/<token> link their spawn returned',
        );
        return;
      }
      if (this.closing) return refuseUpgrade(socket, 503, 'the service is shutting down');
      this.gate.admitSpawn(req, connect.rendererType).then(
        (admission) => {
          if ('refusal' in admission) {
            const { status, message, headers } = admission.refusal;
            this.logger.log(`spawn on connect refused with ${status}: ${message}`);
            return refuseUpgrade(socket, status, message, headers);
          }
          if (this.closing) return refuseUpgrade(socket, 503, 'the service is shutting down');
          this.connects.spawnFor(admission.spec, req, socket, head);
        },
        (error: unknown) => {
          this.logger.error(`spawn on connect failed: ${(error as Error).stack ?? String(error)}`);
          refuseUpgrade(socket, 500, 'internal error');
        },
      );
      return;
    }
    const origin = this.gate.originRefusal(req);
    if (origin) {
      socket.on('error', () => undefined);
      this.logger.log(`viewer at a /ws/ link refused with ${origin.status}: ${origin.message}`);
      return refuseUpgrade(socket, origin.status, origin.message);
    }
    // Node removes its own error handler from an upgraded socket: without one, a reset would crash us.
    socket.on('error', (error) => this.logger.debug(`viewer socket: ${error.message}`));
    // The path carries the session's relay token (never its id, which local users can read in `ps`).
    const id = this.supervisor.getByRelayToken(token)?.id;
    if (id === undefined) {
      refuseUpgrade(socket, 404, 'no session here: the link may be wrong, or the session has ended');
      return;
    }
    try {
      this.admit(id, req, socket, head);
    } catch (error) {
      this.logger.error(`proxying ${id} failed: ${(error as Error).stack ?? String(error)}`);
      refuseUpgrade(socket, 500, 'internal error');
    }
  }

  private admit(id: string, req: IncomingMessage, socket: Duplex, head: Buffer, ownsSession = false): void {
    const refuse = (status: number, message: string): void => {
      this.logger.log(`viewer for ${id} refused with ${status}: ${message}`);
      if (ownsSession) this.connects.stopOwned(id, `its viewer could not be joined: ${message}`);
      refuseUpgrade(socket, status, message);
    };
    const invalid = invalidHandshake(req);
    if (invalid) return refuse(invalid.status, invalid.message);
    if (this.closing || this.supervisor.isShuttingDown) return refuse(503, 'the service is shutting down');
    const record = this.supervisor.get(id);
    if (!record) return refuse(404, `no session ${id}`);
    // A warm server is nobody's session until a spawn request claims it.
    if (record.spec.warm && record.claimedAt === undefined) return refuse(404, `no session ${id}: not handed out yet`);
    if (record.viewerLeftAt !== undefined) return refuse(404, `session ${id} has ended: its viewer left`);
    if (this.sessions.has(id) || record.state === 'connected') return refuse(409, `session ${id} already has a viewer`);
    if (record.state !== 'ready') {
      return refuse(
        404,
        record.state === 'starting' ? `session ${id} is not ready yet` : `session ${id} has ended (${record.state})`,
      );
    }

    socket.pause(); // the viewer waits for our 101 before it sends anything; hold whatever comes until the tunnel reads
    const entry: ProxyEntry = { id, phase: 'connecting', socket, ownsSession };
    this.sessions.set(id, entry);
    const query = queryForServer(req.url);
    entry.attempt = openUpstream({
      port: record.spec.wsPort,
      tls: this.config.serversUseTls,
      path: `/${query}`,
      viewer: req,
      timeoutMs: UPSTREAM_CONNECT_TIMEOUT_MS,
    });
    // The viewer went away before the tunnel was built: drop the server's connection (the server then ends the session).
    socket.once('close', () => {
      if (entry.phase === 'connecting') this.abandon(entry);
    });
    entry.attempt.result.then(
      (upstream) => this.join(entry, head, upstream),
      (error: unknown) => {
        if (error instanceof UpstreamError) this.abandon(entry, error.status, error.message);
        else this.abandon(entry, 502, String(error));
      },
    );
  }

  private join(entry: ProxyEntry, viewerHead: Buffer, upstream: UpstreamSocket): void {
    const { id, socket } = entry;
    if (entry.phase !== 'connecting' || socket.destroyed || !socket.writable) {
      upstream.socket.destroy();
      this.finish(entry);
      return;
    }
    socket.write(switchingProtocols(upstream));
    const tunnel = new WsTunnel(socket as Socket, upstream.socket, {
      highWaterMark: PROXY_HIGH_WATER_MARK,
      closeGraceMs: CLOSE_GRACE_MS,
      onBytes: (direction, bytes, messages) => {
        this.supervisor.countViewerBytes(id, direction, bytes, messages);
        this.relayedBytes[direction] += bytes;
      },
      onClosed: (close) => this.left(entry, close),
      onError: (side, error) => this.logger.debug(`${side} socket for ${id}: ${error.message}`),
    });
    entry.tunnel = tunnel;
    entry.phase = 'open';
    this.logger.log(`viewer attached to ${id} through the proxy`);
    this.supervisor.viewerAttached(id);
    tunnel.start(viewerHead, upstream.head);
    this.watchFirstMessage(entry, tunnel);
  }

  /** A viewer that holds a tunnel without ever starting a message (SC_FIRST_MESSAGE_TIMEOUT_S): closed 4004, its server stopped. */
  private watchFirstMessage(entry: ProxyEntry, tunnel: WsTunnel): void {
    const timer = setTimeout(() => {
      if (entry.phase !== 'open' || tunnel.viewerHasSpoken) return;
      const reason = CLOSE_REASONS[CLOSE_NO_FIRST_MESSAGE];
      this.logger.log(
        `viewer of ${entry.id} sent nothing for ${this.config.firstMessageTimeoutS} s: closing (${reason})`,
      );
      void tunnel.close(CLOSE_NO_FIRST_MESSAGE, reason);
      this.connects.stopOwned(entry.id, `its viewer sent no message within ${this.config.firstMessageTimeoutS} s`);
    }, this.config.firstMessageTimeoutS * 1000);
    timer.unref();
    void tunnel.closed$().then(() => clearTimeout(timer));
  }

  private left(entry: ProxyEntry, close: TunnelClose): void {
    const record = this.supervisor.get(entry.id);
    const moved = record ? `; ${record.bytesToServer} bytes to the server, ${record.bytesToViewer} to the viewer` : '';
    const how =
      close.initiator === 'proxy'
        ? `closed by the proxy with ${close.code}`
        : close.clean
          ? `the ${close.initiator} closed with ${close.code}`
          : `the ${close.initiator}'s connection dropped`;
    this.logger.log(`viewer left ${entry.id}: ${how}${moved}`);
    // 1008 from the server refuses this viewer (e.g. a wrong session token) but not the session: another may come.
    if (close.initiator === 'server' && close.code === CLOSE_POLICY_VIOLATION) this.supervisor.viewerRefused(entry.id);
    else this.supervisor.viewerDetached(entry.id);
    this.finish(entry);
  }

  /** Gives up on a connection not yet joined: answers the viewer with `status` (if given) and drops the server side. */
  private abandon(entry: ProxyEntry, status?: number, message?: string): void {
    if (entry.phase !== 'connecting') return;
    this.finish(entry);
    entry.attempt?.abort();
    if (entry.ownsSession) this.connects.stopOwned(entry.id, 'its viewer left before it was joined');
    if (status !== undefined && message !== undefined) {
      this.logger.log(`viewer for ${entry.id} refused with ${status}: ${message}`);
      refuseUpgrade(entry.socket, status, message);
    } else {
      entry.socket.destroy();
    }
  }

  private finish(entry: ProxyEntry): void {
    entry.phase = 'done';
    if (this.sessions.get(entry.id) === entry) this.sessions.delete(entry.id);
  }
}
