import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Clock } from '../adapters';
import {
  LISTENER_SETTINGS,
  type ListenerSettings,
  SCALE_OUT_SETTINGS,
  type ScaleOutSettings,
  SERVERS_SETTINGS,
  type ServersSettings,
} from '../config';
import type { SpawnView } from '../supervisor';
import { SpawnLinksDto, SpawnViewDto } from './dto/spawn-view.dto';

/**
 * The relay path of a session: its token, not its id (the id is on the server's command line, which every
 * local user can read). An unclaimed warm server has none yet: its path joins nothing.
 */
function relayPath(record: SpawnView): string {
  return `ws/${record.relayToken ?? 'unclaimed'}`;
}

/** Turns spawn records into API views, with endpoints addressed the way the requesting client reached us. */
@Injectable()
export class SpawnPresenter {
  constructor(
    @Inject(LISTENER_SETTINGS.token) private readonly listener: ListenerSettings,
    @Inject(SCALE_OUT_SETTINGS.token) private readonly scaleOut: ScaleOutSettings,
    @Inject(SERVERS_SETTINGS.token) private readonly servers: Pick<ServersSettings, 'serversUseTls'>,
    private readonly clock: Clock,
  ) {}

  /** A time of the clock's as the API shows it. */
  iso(t: number | undefined, shift = this.shift()): string | null {
    return t === undefined ? null : new Date(t + shift).toISOString();
  }

  /** How far shown times are from kept ones now (Clock.toDate is that shift): read once per view. */
  private shift(): number {
    return this.clock.toDate(0).getTime();
  }

  /** This node's name (NODE_NAME), carried by every spawn view. */
  get node(): string {
    return this.scaleOut.nodeName;
  }

  toView(record: SpawnView, request: Request): SpawnViewDto {
    const endpoints = this.endpointsOf(record, request);
    const shift = this.shift();
    const iso = (t: number | undefined) => this.iso(t, shift);
    return {
      id: record.id,
      node: this.node,
      links: this.linksOf(record, request),
      state: record.state,
      rendererType: record.spec.rendererType,
      origin: record.spec.origin,
      gpuIndex: record.spec.gpuIndex ?? null,
      wsPort: record.spec.wsPort,
      endpoint: endpoints.advertised,
      proxyEndpoint: endpoints.proxy,
      pid: record.pid,
      model: record.spec.model ?? null,
      startedAt: iso(record.startedAt)!,
      readyAt: iso(record.readyAt),
      startupMs: record.readyAt === undefined ? null : record.readyAt - record.startedAt,
      lastReportAt: iso(record.lastReportAt),
      connectedAt: iso(record.connectedAt),
      viewerLeftAt: iso(record.viewerLeftAt),
      endedAt: iso(record.endedAt),
      exitCode: record.exitCode ?? null,
      signal: record.signal ?? null,
      endReason: record.endReason ?? null,
      bytesToServer: record.bytesToServer,
      bytesToViewer: record.bytesToViewer,
      warm: record.spec.warm === true,
      pool: record.spec.warm ? (record.claimedAt === undefined ? 'warm' : 'claimed') : null,
      claimedAt: iso(record.claimedAt),
      key: record.owner?.key ?? null,
      watched: record.watched,
      lastActivityAt: iso(record.lastActivityAt),
      relay: record.relay,
      cpuSeconds: record.cpuSeconds ?? null,
      rssBytes: record.rssBytes ?? null,
      maxSessionSeconds: record.maxSessionS ?? null,
      expiring: record.expiring
        ? {
            reason: record.expiring.reason,
            secondsLeft: record.expiring.secondsLeft,
            at: iso(record.expiring.at)!,
          }
        : null,
    };
  }

  /**
   * `direct` is the server's own port; `proxy` goes through this service's port, or through the balancer at
   * PUBLIC_BASE_URL (under this node's prefix); `advertised` is the one PUBLIC_ENDPOINT picks.
   */
  endpointsOf(record: SpawnView, request: Request): { direct: string; proxy: string; advertised: string } {
    const clientScheme = this.clientSchemeOf(request);
    // A server with its own certificate is wss:// however the client reached this service.
    const directScheme = this.servers.serversUseTls ? 'wss' : clientScheme;
    const { hostname, hostWithPort } = this.publicHostOf(request);
    const direct = `${directScheme}://${hostname}:${record.spec.wsPort}`;
    const proxy = this.publicWsBase() ?? `${clientScheme}://${hostWithPort}`;
    const proxyPath = this.scaleOut.publicBaseUrl ? this.nodePath(relayPath(record)) : `/${relayPath(record)}`;
    const proxyUrl = `${proxy}${proxyPath}`;
    return { direct, proxy: proxyUrl, advertised: this.listener.publicEndpoint === 'proxy' ? proxyUrl : direct };
  }

  /**
   * Where a client finds this spawn again, whichever node it asks through a balancer: under this node's
   * prefix, absolute through PUBLIC_BASE_URL when set (else relative to the host the client used). The
   * WebSocket link is always absolute (a WebSocket needs its ws:// or wss:// scheme).
   */
  linksOf(record: SpawnView, request: Request): SpawnLinksDto {
    const base = this.scaleOut.publicBaseUrl ?? '';
    const self = `${base}${this.nodePath(`spawns/${encodeURIComponent(record.id)}`)}`;
    const wsBase =
      this.publicWsBase() ?? `${this.clientSchemeOf(request)}://${this.publicHostOf(request).hostWithPort}`;
    return {
      self,
      events: `${self}/events`,
      logs: `${self}/logs`,
      ws: `${wsBase}${this.nodePath(relayPath(record))}`,
    };
  }

  /** A WebSocket URL on this node (under its prefix): through PUBLIC_BASE_URL when set, else the host the client used. */
  nodeWsUrl(request: Request, rest: string): string {
    const base = this.publicWsBase() ?? `${this.clientSchemeOf(request)}://${this.publicHostOf(request).hostWithPort}`;
    return `${base}${this.nodePath(rest)}`;
  }

  private nodePath(rest: string): string {
    return `/n/${this.scaleOut.nodeName}/${rest}`;
  }

  /** PUBLIC_BASE_URL with its scheme as a WebSocket's (https -> wss), or undefined when not set. */
  private publicWsBase(): string | undefined {
    const base = this.scaleOut.publicBaseUrl;
    return base === undefined ? undefined : base.replace(/^http/, 'ws');
  }

  /** wss when the client reached us over TLS: as configured, or as a trusted proxy in front says. */
  private clientSchemeOf(request: Request): 'ws' | 'wss' {
    if (this.listener.publicScheme) return this.listener.publicScheme;
    // Express reads X-Forwarded-Proto only from a peer TRUST_PROXY trusts.
    const protocol = request.protocol.toLowerCase();
    return protocol === 'https' || protocol === 'wss' ? 'wss' : 'ws';
  }

  private publicHostOf(request: Request): { hostname: string; hostWithPort: string } {
    const hostHeader = request.headers.host;
    let parsed: URL | undefined;
    try {
      parsed = hostHeader ? new URL(`http://${hostHeader}`) : undefined;
    } catch {
      parsed = undefined;
    }
    const hostname = this.listener.publicHostname ?? parsed?.hostname ?? '127.0.0.1';
    const bare = hostname.startsWith('[') || !hostname.includes(':') ? hostname : `[${hostname}]`;
    // The proxy lives on the port the client reached us through (none when it came in on 80/443 via a balancer).
    const port = parsed ? parsed.port : String(this.listener.port);
    return { hostname: bare, hostWithPort: port ? `${bare}:${port}` : bare };
  }
}
