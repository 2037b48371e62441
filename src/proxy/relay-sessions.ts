import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'http';
import type { Socket } from 'net';
import type { Duplex } from 'stream';
import { CLOSE_GOING_AWAY, CLOSE_NO_FIRST_MESSAGE, CLOSE_POLICY_VIOLATION, CLOSE_REASONS } from '@app/sc-protocol';
import { EDGE_SETTINGS, type EdgeSettings, SERVERS_SETTINGS, type ServersSettings } from '../config';
import { SupervisorService } from '../supervisor';
import { refuseUpgrade } from '../http';
import { RemoteTunnel } from './remote-tunnel';
import { TunnelRunner } from './tunnel-runner';
import type { ProxyConnectionInfo, ProxyEntry, Tunnel } from './ws-proxy.types';
import { closeFrame } from './frame-tracker';
import { switchingProtocols } from './ws-handshake';
import { openUpstream, UpstreamError, type UpstreamSocket } from './ws-upstream';
import type { TunnelClose } from './ws-tunnel';

/** A side is paused while more than this waits to be written to the other side (then resumed once written). */
export const PROXY_HIGH_WATER_MARK = 1024 * 1024;
/** How long the session's server gets to complete its WebSocket handshake before the viewer is answered 504. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 5000;
/** Once one side has ended, how long the other gets to finish before both connections are dropped. */
const CLOSE_GRACE_MS = 2000;
/** At shutdown, how long open tunnels get to finish their closing handshakes before they are dropped. */
const SHUTDOWN_CLOSE_WAIT_MS = 1000;

/** The viewer's query as its server gets it: without the spawn ticket (a credential of this service, not the server's). */
export function queryForServer(url: string | undefined): string {
  if (!url?.includes('?')) return '';
  const query = url.slice(url.indexOf('?'));
  // Looked for as ticketOf reads it, decoded: `ti%63ket=` is a ticket too (it was redeemed under that name).
  const params = new URLSearchParams(query);
  if (!params.has('ticket')) return query;
  params.delete('ticket');
  const rest = params.toString();
  return rest ? `?${rest}` : '';
}

/**
 * The sessions the relay carries: one entry per session with a viewer joining or joined (the one place that
 * knows whether a session has a viewer). A viewer is joined to its server by making the server's WebSocket
 * handshake first, with the viewer's own key, and relaying its 101 only then; a viewer that cannot be served
 * gets a plain HTTP status (404, 409, 502, 503, 504). The two connections then become a frame-aware byte tunnel
 * (WsTunnel). The supervisor hears of the viewer attaching, of the bytes and messages moved, and of it leaving.
 */
@Injectable()
export class RelaySessions {
  private readonly logger = new Logger('WsProxy');
  private readonly sessions = new Map<string, ProxyEntry>();
  /** Payload bytes relayed, per direction: read by the metrics at scrape time. */
  readonly relayedBytes = { toServer: 0, toViewer: 0 };
  private closing = false;

  constructor(
    private readonly supervisor: SupervisorService,
    @Inject(EDGE_SETTINGS.token) private readonly edge: EdgeSettings,
    @Inject(SERVERS_SETTINGS.token) private readonly servers: ServersSettings,
    private readonly tunnels: TunnelRunner,
  ) {}

  get activeCount(): number {
    return this.sessions.size;
  }

  connections(): ProxyConnectionInfo[] {
    return [...this.sessions.values()].map((entry) => ({ id: entry.id, phase: entry.phase, ...entry.tunnel?.flow }));
  }

  /** Joins a viewer (its handshake already checked) to session `id`; `ownsSession`: spawned for it, ended if it cannot join. */
  admit(id: string, req: IncomingMessage, socket: Duplex, head: Buffer, ownsSession = false): void {
    const refusal = this.refusalFor(id);
    if (refusal) {
      this.logger.log(`viewer for ${id} refused with ${refusal.status}: ${refusal.message}`);
      if (ownsSession) this.stopOwned(id, `its viewer could not be joined: ${refusal.message}`);
      return refuseUpgrade(socket, refusal.status, refusal.message);
    }
    socket.pause(); // the viewer waits for our 101 before it sends anything; hold whatever comes until the tunnel reads
    const entry: ProxyEntry = { id, phase: 'connecting', socket, ownsSession };
    this.sessions.set(id, entry);
    entry.attempt = openUpstream({
      port: this.supervisor.get(id)!.spec.wsPort,
      tls: this.servers.serversUseTls,
      path: `/${queryForServer(req.url)}`,
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

  /** A session stopped with a close code for its viewer (a limit, a DELETE): its tunnel is closed with it. */
  closeViewer(id: string, code: number, reason: string): void {
    const entry = this.sessions.get(id);
    if (!entry) return;
    this.logger.log(`closing the viewer of ${id} with ${code} (${reason})`);
    // Still joining: closed once joined, so it reads this code rather than its server going away (1001).
    if (!entry.tunnel) entry.pendingClose = { code, reason };
    else void entry.tunnel.close(code, reason);
  }

  /** At shutdown: no new viewer; every tunnel is closed with 1001 (waiting a little for the closing handshakes). */
  async closeAll(): Promise<void> {
    this.closing = true;
    const entries = [...this.sessions.values()];
    if (entries.length === 0) return;
    this.logger.log(`shutting down: closing ${entries.length} proxied connection(s)`);
    const closing: Promise<void>[] = [];
    for (const entry of entries) {
      if (entry.tunnel) closing.push(entry.tunnel.close(CLOSE_GOING_AWAY, 'service shutting down'));
      else this.abandon(entry, 503, 'the service is shutting down');
    }
    let timer: NodeJS.Timeout | undefined;
    const wait = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_CLOSE_WAIT_MS)));
    await Promise.race([Promise.all(closing), wait]);
    clearTimeout(timer);
    this.terminateAll();
  }

  terminateAll(): void {
    this.closing = true;
    for (const entry of [...this.sessions.values()]) {
      if (entry.tunnel) entry.tunnel.terminate();
      else this.abandon(entry, 503, 'the service is shutting down');
    }
  }

  /** Ends a session spawned for a viewer that is gone (nobody else can use it). */
  stopOwned(id: string, reason: string): void {
    try {
      this.supervisor.stop(id, reason);
    } catch (error) {
      this.logger.debug(`stopping ${id}: ${(error as Error).message}`);
    }
  }

  private refusalFor(id: string): { status: number; message: string } | undefined {
    if (this.closing || this.supervisor.isShuttingDown) return { status: 503, message: 'the service is shutting down' };
    const record = this.supervisor.get(id);
    if (!record) return { status: 404, message: `no session ${id}` };
    // A warm server is nobody's session until a spawn request claims it.
    if (record.spec.warm && record.claimedAt === undefined)
      return { status: 404, message: `no session ${id}: not handed out yet` };
    if (record.viewerLeftAt !== undefined) return { status: 404, message: `session ${id} has ended: its viewer left` };
    if (this.sessions.has(id)) return { status: 409, message: `session ${id} already has a viewer` };
    if (record.state === 'ready') return undefined;
    const ended = record.state === 'starting' ? 'is not ready yet' : `has ended (${record.state})`;
    return { status: 404, message: `session ${id} ${ended}` };
  }

  private join(entry: ProxyEntry, viewerHead: Buffer, upstream: UpstreamSocket): void {
    const { id, socket } = entry;
    if (entry.phase !== 'connecting' || socket.destroyed || !socket.writable) {
      upstream.socket.destroy();
      this.finish(entry);
      return;
    }
    socket.write(switchingProtocols(upstream));
    if (entry.pendingClose) return this.closeOnJoin(entry, upstream, entry.pendingClose);
    entry.phase = 'open';
    this.supervisor.viewerAttached(id);
    const tunnel = this.tunnels.open(socket as Socket, viewerHead, upstream.socket, upstream.head, {
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
    const place = tunnel instanceof RemoteTunnel ? 'the relay process' : 'the service';
    this.logger.log(`viewer attached to ${id} through the proxy (its tunnel runs in ${place})`);
    this.watchFirstMessage(entry, tunnel);
  }

  /**
   * The session was stopped with a code for its viewer while it was joining: the viewer gets its 101 and at once that
   * close (its server is going, and what it sent, its own 1001 say, must not come first), then FIN; it has
   * CLOSE_GRACE_MS to answer before its connection is dropped.
   */
  private closeOnJoin(entry: ProxyEntry, upstream: UpstreamSocket, close: { code: number; reason: string }): void {
    upstream.socket.destroy();
    this.finish(entry);
    const socket = entry.socket;
    socket.resume(); // what the viewer still sends (its close frame) is read and dropped, up to its FIN
    socket.once('end', () => socket.destroy());
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    socket.end(closeFrame(close.code, close.reason, false));
  }

  /** A viewer that holds a tunnel without ever starting a message (SC_FIRST_MESSAGE_TIMEOUT_S): closed 4004, its server stopped. */
  private watchFirstMessage(entry: ProxyEntry, tunnel: Tunnel): void {
    const timeoutS = this.edge.firstMessageTimeoutS;
    const timer = setTimeout(() => {
      if (entry.phase !== 'open' || tunnel.viewerHasSpoken) return;
      const reason = CLOSE_REASONS[CLOSE_NO_FIRST_MESSAGE];
      this.logger.log(`viewer of ${entry.id} sent nothing for ${timeoutS} s: closing (${reason})`);
      void tunnel.close(CLOSE_NO_FIRST_MESSAGE, reason);
      this.stopOwned(entry.id, `its viewer sent no message within ${timeoutS} s`);
    }, timeoutS * 1000);
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
    // 1008 from the server refuses this viewer (e.g. a wrong session token) but not the session: another may come,
    // unless the session was spawned on connect for this viewer (nobody else has its link): it ends with it.
    const refused = close.initiator === 'server' && close.code === CLOSE_POLICY_VIOLATION;
    if (refused && !entry.ownsSession) this.supervisor.viewerRefused(entry.id);
    else this.supervisor.viewerDetached(entry.id);
    if (refused && entry.ownsSession) this.stopOwned(entry.id, 'its server refused the viewer it was spawned for');
    this.finish(entry);
  }

  /** Gives up on a connection not yet joined: answers the viewer with `status` (if given) and drops the server side. */
  private abandon(entry: ProxyEntry, status?: number, message?: string): void {
    if (entry.phase !== 'connecting') return;
    this.finish(entry);
    entry.attempt?.abort();
    if (entry.ownsSession) this.stopOwned(entry.id, 'its viewer left before it was joined');
    if (status === undefined || message === undefined) return void entry.socket.destroy();
    this.logger.log(`viewer for ${entry.id} refused with ${status}: ${message}`);
    refuseUpgrade(entry.socket, status, message);
  }

  private finish(entry: ProxyEntry): void {
    entry.phase = 'done';
    if (this.sessions.get(entry.id) === entry) this.sessions.delete(entry.id);
  }
}
