import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'http';
import type { RendererType } from '@app/sc-protocol';
import { Clock } from '../adapters/clock.adapter';
import { WWW_AUTHENTICATE } from '../auth/api-key.guard';
import { ApiKeys } from '../auth/api-keys';
import {
  ACCESS_SETTINGS,
  type AccessSettings,
  EDGE_SETTINGS,
  type EdgeSettings,
  LISTENER_SETTINGS,
  type ListenerSettings,
} from '../config';
import { clientAddressOf, compileTrust, type TrustTest } from '../http/client-address';
import { SpawnRateLimit } from '../rate-limit/spawn-rate-limit';
import { SpawnTickets } from '../tickets/spawn-tickets';
import type { TicketSpec } from '../tickets/ticket-book';

/** An upgrade answered with a plain HTTP status instead of 101. */
export interface UpgradeRefusal {
  status: number;
  message: string;
  headers: Record<string, string>;
}

export type SpawnAdmission = { spec: TicketSpec } | { refusal: UpgradeRefusal };

const refusal = (
  status: number,
  message: string,
  headers: Record<string, string> = {},
): { refusal: UpgradeRefusal } => ({
  refusal: { status, message, headers },
});

/**
 * The gates every WebSocket upgrade passes before anything is started, as POST /spawn's: a browser's Origin
 * must be one of CORS_ORIGINS (when a list), and a spawn on connect needs a credential under
 * SPAWN_AUTH=required (a spawn ticket, or an API key for clients that can send headers) and counts against
 * the client's SPAWN_RATE_LIMIT budget shared with the HTTP routes. Capacity is the supervisor's (503).
 */
@Injectable()
export class UpgradeGate {
  private readonly trust: TrustTest;

  constructor(
    @Inject(EDGE_SETTINGS.token) edge: EdgeSettings,
    @Inject(LISTENER_SETTINGS.token) private readonly listener: ListenerSettings,
    @Inject(ACCESS_SETTINGS.token) private readonly access: AccessSettings,
    private readonly keys: ApiKeys,
    private readonly tickets: SpawnTickets,
    private readonly rateLimit: SpawnRateLimit,
    private readonly clock: Clock,
  ) {
    this.trust = compileTrust(edge.trustProxy);
  }

  /** 403 for a browser page from an origin CORS_ORIGINS does not list; no Origin (not a browser) passes. */
  originRefusal(req: IncomingMessage): UpgradeRefusal | undefined {
    const allowed = this.listener.corsOrigins;
    const origin = req.headers.origin;
    if (allowed === true || origin === undefined || allowed.includes(origin)) return undefined;
    return refusal(403, `origin ${JSON.stringify(origin)} may not open WebSockets here (CORS_ORIGINS)`).refusal;
  }

  /** A spawn on connect: refused, or the parameters to spawn with (the ticket's, else the URL's rendering mode). */
  async admitSpawn(req: IncomingMessage, rendererType: RendererType): Promise<SpawnAdmission> {
    const origin = this.originRefusal(req);
    if (origin) return { refusal: origin };
    const ticket = ticketOf(req.url);
    const keyed = ticket === undefined && this.keys.enabled && this.keys.matches(bearerOf(req));
    if (ticket !== undefined && !this.tickets.isOpen(ticket, this.clock.now())) {
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
    const limited = await this.rateLimit.hit(clientAddressOf(req, this.trust));
    if (limited) return refusal(429, limited.message, { 'Retry-After': String(limited.retryAfterS) });
    if (ticket === undefined) return { spec: { rendererType } };
    const spec = this.tickets.redeem(ticket, this.clock.now());
    return spec ? { spec } : refusal(401, 'the spawn ticket is not valid: unknown, already used or expired');
  }
}

/** The `ticket` query parameter of an upgrade's URL. */
export function ticketOf(url: string | undefined): string | undefined {
  const target = url ?? '/';
  const query = target.includes('?') ? target.slice(target.indexOf('?') + 1) : '';
  return new URLSearchParams(query).get('ticket') ?? undefined;
}

function bearerOf(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match ? match[1] : undefined;
}
