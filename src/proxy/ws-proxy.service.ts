import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'http';
import type { Subscription } from 'rxjs';
import type { Duplex } from 'stream';
import type { RendererType } from '@app/sc-protocol';
import { RENDERING_SETTINGS, type RenderingSettings, SCALE_OUT_SETTINGS, type ScaleOutSettings } from '../config';
import { isAnswering, rejectionReasonOf, refuseUpgrade } from '../http';
import { SpawnerMetrics } from '../metrics';
import { SupervisorService } from '../supervisor';
import { matchNodePrefix, misdirectedReason, originForm } from '../node';
import { ConnectRefusals } from './connect-refusals';
import { RelaySessions } from './relay-sessions';
import { shuttingDownRefusal, spawnOnConnectRequest } from './spawn-on-connect';
import { UpgradeGate } from './upgrade-gate';
import { ViewerSpawner } from './viewer-spawner';
import type { ProxyConnectionInfo } from './ws-proxy.types';
import { invalidHandshake, offersWebSocket, proxiedSessionId } from './ws-handshake';

/** Node >= 24.9: decides which requests with an Upgrade header are emitted as 'upgrade' (the others as requests). */
type UpgradingServer = Server & { shouldUpgradeCallback: (req: IncomingMessage) => boolean };

export { PROXY_HIGH_WATER_MARK, UPSTREAM_CONNECT_TIMEOUT_MS, queryForServer } from './relay-sessions';

/**
 * Routes the WebSocket upgrades that reach the service's own port: `/ws/<token>` (a session's relay link) to
 * the relay (RelaySessions), any other path to spawn on connect (the HOOPS Server's proxy mode: a server is
 * spawned for that viewer through the facade, then joined the same way), `/n/<other node>/` to 421. Every
 * upgrade's handshake is checked once, here, and every upgrade passes the same gates (UpgradeGate) before
 * anything else happens.
 */
@Injectable()
export class WsProxyService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('WsProxy');
  private readonly connects: ViewerSpawner;
  private readonly refusals: ConnectRefusals;
  private server: Server | undefined;
  private closing = false;
  private stopSubscription?: Subscription;
  private readonly upgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.onUpgrade(req, socket, head);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly supervisor: SupervisorService,
    @Inject(SCALE_OUT_SETTINGS.token) private readonly scaleOut: ScaleOutSettings,
    @Inject(RENDERING_SETTINGS.token) private readonly rendering: RenderingSettings,
    private readonly gate: UpgradeGate,
    private readonly relay: RelaySessions,
    metrics: SpawnerMetrics,
  ) {
    metrics.countProxyConnectionsWith(() => relay.activeCount);
    metrics.countProxyBytesWith(() => relay.relayedBytes);
    this.refusals = new ConnectRefusals(metrics, this.logger);
    this.connects = new ViewerSpawner(supervisor, this.logger, this.refusals);
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) {
      this.logger.warn('no HTTP server: the WebSocket proxy is off');
      return;
    }
    this.server = server;
    // Node would bring every request with an Upgrade header here (h2c too): only WebSocket ones come, while heard.
    (server as UpgradingServer).shouldUpgradeCallback = (req) =>
      offersWebSocket(req.headers.upgrade) && server.listenerCount('upgrade') > 0;
    server.on('upgrade', this.upgradeListener);
    this.stopSubscription = this.supervisor.viewerCloses$.subscribe(({ id, code, reason }) =>
      this.relay.closeViewer(id, code, reason),
    );
  }

  /** Before the supervisor stops the servers and the HTTP server closes: refuse new viewers and close every tunnel with 1001. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.connects.refuseAll();
    await this.relay.closeAll();
  }

  onApplicationShutdown(): void {
    this.closing = true;
    this.server?.off('upgrade', this.upgradeListener);
    this.stopSubscription?.unsubscribe();
    this.server = undefined;
    this.connects.refuseAll();
    this.relay.terminateAll();
  }

  /** Sessions with a viewer joined or joining through the proxy. */
  get activeCount(): number {
    return this.relay.activeCount;
  }

  /** Each proxied connection's phase and flow (bytes waiting each way, paused sides): for diagnostics and tests. */
  connections(): ProxyConnectionInfo[] {
    return this.relay.connections();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = originForm(req.url);
    const prefix = matchNodePrefix(target, this.scaleOut.nodeName);
    // The path as if at the root: /n/<this node>/ws is /ws, and answered as it is there.
    const url = prefix.kind === 'local' ? prefix.url : target;
    const token = proxiedSessionId(url);
    // Not a session's path and another 'upgrade' listener exists: it may serve it.
    if (prefix.kind !== 'other' && token === null && (this.server?.listenerCount('upgrade') ?? 0) > 1) return;
    // Node removes its own error handler from an upgraded socket: without one, a reset would crash us.
    socket.on('error', (error) => this.logger.debug(`viewer socket: ${error.message}`));
    // Pipelined behind a request still being answered: any answer here would be written into that one. Dropped, as a
    // connection past MAX_PIPELINED_REQUESTS is (browsers open a connection of its own for each WebSocket).
    if (isAnswering(socket)) {
      this.logger.debug('WebSocket upgrade dropped: pipelined behind a request of its connection still being answered');
      return void socket.destroy();
    }
    if (prefix.kind === 'other')
      return refuseUpgrade(socket, 421, misdirectedReason(this.scaleOut.nodeName, prefix.node));
    const invalid = invalidHandshake(req);
    if (invalid) return refuseUpgrade(socket, invalid.status, invalid.message);
    // Before any key or origin is checked, so not counted: a spawn on connect is counted once admitted (below).
    if (this.closing) return refuseUpgrade(socket, 503, 'the service is shutting down');
    try {
      if (token === null) this.spawnOnConnect(url, req, socket, head);
      else this.joinRelay(token, req, socket, head);
    } catch (error) {
      this.logger.error(`WebSocket upgrade failed: ${(error as Error).stack ?? String(error)}`);
      refuseUpgrade(socket, 500, 'internal error');
    }
  }

  private spawnOnConnect(url: string | undefined, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const connect = this.rendering.spawnOnConnect ? spawnOnConnectRequest(url) : null;
    if (!connect) {
      const message = 'no WebSocket endpoint here: sessions are at the /ws/<token> link their spawn returned';
      return refuseUpgrade(socket, 404, message);
    }
    void this.admitAndSpawn(req, connect.rendererType, socket, head).catch((error: unknown) => {
      this.logger.error(`spawn on connect failed: ${(error as Error).stack ?? String(error)}`);
      refuseUpgrade(socket, 500, 'internal error');
    });
  }

  /** The path goes forward: the gate admits, the spawner starts the server, then the relay joins the viewer. */
  private async admitAndSpawn(req: IncomingMessage, rendererType: RendererType, socket: Duplex, head: Buffer) {
    const admission = await this.gate.admitSpawn(req, rendererType);
    if ('refusal' in admission) {
      const { status } = admission.refusal;
      const reason = 'reason' in admission.refusal ? admission.refusal.reason : rejectionReasonOf(undefined, status);
      return this.refusals.answer(socket, { ...admission.refusal, reason });
    }
    if (this.closing) return this.refusals.answer(socket, shuttingDownRefusal());
    const ready = await this.connects.spawnFor(admission.spec, admission.owner, socket, head);
    if (ready) this.relay.admit(ready.id, req, socket, ready.early, true);
  }

  private joinRelay(token: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const origin = this.gate.originRefusal(req);
    if (origin) {
      this.logger.log(`viewer at a /ws/ link refused with ${origin.status}: ${origin.message}`);
      return refuseUpgrade(socket, origin.status, origin.message);
    }
    // The path carries the session's relay token (never its id, which local users can read in `ps`).
    const id = this.supervisor.getByRelayToken(token)?.id;
    if (id === undefined) {
      return refuseUpgrade(socket, 404, 'no session here: the link may be wrong, or the session has ended');
    }
    this.relay.admit(id, req, socket, head);
  }
}
