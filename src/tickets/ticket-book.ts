import { randomBytes } from 'crypto';
import type { RendererType } from '@app/sc-protocol';

/** What a ticket lets its bearer spawn: the fields of POST /spawn. */
export interface TicketSpec {
  rendererType: RendererType;
  model?: string;
  sessionToken?: string;
}

/** Tickets waiting for their viewer at most; past it, issuing refuses (a flood of tickets cannot grow memory). */
export const MAX_OPEN_TICKETS = 10_000;

export class TooManyTicketsError extends Error {}

/**
 * Spawn tickets, on this node only: a random single-use token bound to a spawn's parameters, valid for a few
 * seconds. A viewer's browser, which cannot send headers on a WebSocket, presents one as `?ticket=`; the
 * application's back end got it with its key (POST /tickets). Pure: the time is passed in.
 */
export class TicketBook {
  private readonly open = new Map<string, { spec: TicketSpec; expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  issue(spec: TicketSpec, now: number): { ticket: string; expiresAt: number } {
    this.prune(now);
    if (this.open.size >= MAX_OPEN_TICKETS) {
      throw new TooManyTicketsError(`${MAX_OPEN_TICKETS} tickets are already waiting for their viewers`);
    }
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.open.set(ticket, { spec: { ...spec }, expiresAt });
    return { ticket, expiresAt };
  }

  /** The ticket's parameters, once: a used, expired or unknown (or altered) ticket gives undefined. */
  redeem(ticket: string, now: number): TicketSpec | undefined {
    const entry = this.open.get(ticket);
    if (!entry) return undefined;
    this.open.delete(ticket);
    return entry.expiresAt > now ? entry.spec : undefined;
  }

  /** Whether the ticket is open now, without using it. */
  peek(ticket: string, now: number): boolean {
    const entry = this.open.get(ticket);
    return entry !== undefined && entry.expiresAt > now;
  }

  get size(): number {
    return this.open.size;
  }

  private prune(now: number): void {
    for (const [ticket, entry] of this.open) if (entry.expiresAt <= now) this.open.delete(ticket);
  }
}
