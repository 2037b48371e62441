import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'http';
import type { RendererType } from '@app/sc-protocol';
import { Clock } from '../adapters';
import { WWW_AUTHENTICATE, ApiKeys, bearerKey, sessionOwner } from '../auth';
import {
  ACCESS_SETTINGS,
  type AccessSettings,
  EDGE_SETTINGS,
  type EdgeSettings,
  LISTENER_SETTINGS,
  type ListenerSettings,
  SCALE_OUT_SETTINGS,
  type ScaleOutSettings,
} from '../config';
import { clientAddressOf, compileTrust, isOwnPageOrigin, ownHostNamesOf, type TrustTest } from '../http';
import { SpawnRateLimit } from '../rate-limit';
import { type SessionOwner, SupervisorService } from '../supervisor';
import { SpawnTickets, type TicketSpec } from '../tickets';
import type { ConnectRefusal } from './connect-refusals';
import { connectRefusal } from './spawn-on-connect';

/** An upgrade answered with a plain HTTP status instead of 101. */
export interface UpgradeRefusal {
  status: number;
  message: string;
  headers: Record<string, string>;
}

/** An admitted spawn on connect: what to spawn, and whose session it is (SC_KEY_MAX_SESSIONS, its `key`). */
export type SpawnAdmission = { spec: TicketSpec; owner: SessionOwner } | { refusal: UpgradeRefusal | ConnectRefusal };

const refusal = (
  status: number,
  message: string,
  headers: Record<string, string> = {},
): { refusal: UpgradeRefusal } => ({
  refusal: { status, message, headers },
});

/**
 * The gates every WebSocket upgrade passes before anything is started, as POST /spawn's: a browser's Origin
 * must be one of CORS_ORIGINS (when a list) or the service's own page's (the dashboard's viewer), and a spawn on
 * connect needs a credential under SPAWN_AUTH=required (a spawn ticket, or an API key for clients that can send
 * headers) and counts against the client's SPAWN_RATE_LIMIT budget shared with the HTTP routes. A full node refuses at the door (503), as
 * POST /spawn does: before the rate is counted or the ticket used.
 */
@Injectable()
export class UpgradeGate {
  private readonly trust: TrustTest;
  private readonly ownNames: ReadonlySet<string>;

  constructor(
    @Inject(EDGE_SETTINGS.token) edge: EdgeSettings,
    @Inject(LISTENER_SETTINGS.token) private readonly listener: ListenerSettings,
    @Inject(SCALE_OUT_SETTINGS.token) scaleOut: ScaleOutSettings,
    @Inject(ACCESS_SETTINGS.token) private readonly access: AccessSettings,
    private readonly keys: ApiKeys,
    private readonly tickets: SpawnTickets,
    private readonly rateLimit: SpawnRateLimit,
    private readonly clock: Clock,
    private readonly supervisor: SupervisorService,
  ) {
    this.trust = compileTrust(edge.trustProxy);
    this.ownNames = ownHostNamesOf(listener, scaleOut.publicBaseUrl);
  }

  /**
   * 403 for a browser page from an origin CORS_ORIGINS does not list; no Origin (not a browser) passes, and the
   * service's own page does under a name DNS rebinding cannot give (isOwnPageOrigin), as on the HTTP routes.
   */
  originRefusal(req: IncomingMessage): UpgradeRefusal | undefined {
    const allowed = this.listener.corsOrigins;
    const origin = req.headers.origin;
    if (allowed === true || origin === undefined || allowed.includes(origin)) return undefined;
    if (isOwnPageOrigin(origin, req.headers.host, this.ownNames)) return undefined;
    return refusal(403, `origin ${JSON.stringify(origin)} may not open WebSockets here (CORS_ORIGINS)`).refusal;
  }

  /**
   * A spawn on connect: refused, or the parameters to spawn with (the ticket's, else the URL's rendering mode)
   * and the owner: the key that asked for the ticket, else the key presented, else the trusted client address.
   */
  async admitSpawn(req: IncomingMessage, rendererType: RendererType): Promise<SpawnAdmission> {
    const origin = this.originRefusal(req);
    if (origin) return { refusal: origin };
    const ticket = ticketOf(req.url);
    const presented = ticket === undefined ? bearerKey(req.headers.authorization) : undefined;
    const keyed = this.keys.enabled && this.keys.matches(presented);
    const issuer = ticket === undefined ? undefined : this.tickets.issuerOf(ticket, this.clock.now());
    if (ticket !== undefined && !issuer) {
      return refusal(401, 'the spawn ticket is not valid: unknown, already used or expired', {
        'WWW-Authenticate': WWW_AUTHENTICATE,
      });
    }
    if (ticket === undefined && this.access.spawnAuthRequired && !keyed) {
      return refusal(
        401,
        'a spawn ticket (?ticket=, from POST /tickets) or an API key is required (SPAWN_AUTH=required)',
        {
          'WWW-Authenticate': WWW_AUTHENTICATE,
        },
      );
    }
    // A viewer that obeys a full node's Retry-After still has its budget and its ticket then.
    const full = this.supervisor.refusalForEveryRequest();
    if (full) return { refusal: connectRefusal(full) };
    const address = clientAddressOf(req, this.trust);
    const limited = await this.rateLimit.hit(address);
    if (limited) return refusal(429, limited.message, { 'Retry-After': String(limited.retryAfterS) });
    // A ticket issued without keys is anyone's: its session counts against the viewer's own address. At its
    // quota the request is counted, as POST /spawn's is, but the ticket is kept for when a session ends.
    const owner = issuer?.key !== undefined ? issuer : sessionOwner(this.keys, presented, address);
    const overQuota = this.supervisor.quotaRefusal(owner);
    if (overQuota) return { refusal: connectRefusal(overQuota) };
    if (ticket === undefined) return { spec: { rendererType }, owner };
    const redeemed = this.tickets.redeem(ticket, this.clock.now());
    if (!redeemed) return refusal(401, 'the spawn ticket is not valid: unknown, already used or expired');
    return { spec: redeemed.spec, owner };
  }
}

/** The `ticket` query parameter of an upgrade's URL. */
export function ticketOf(url: string | undefined): string | undefined {
  const target = url ?? '/';
  const query = target.includes('?') ? target.slice(target.indexOf('?') + 1) : '';
  return new URLSearchParams(query).get('ticket') ?? undefined;
}
