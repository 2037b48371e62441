import { randomBytes } from 'crypto';
import type { RendererType } from '@app/sc-protocol';
import type { SessionOwner } from '../supervisor';
import { ticketCapRetryAfterS } from './ticket-cap';

/** What a ticket lets its bearer spawn: the fields of POST /spawn. */
export interface TicketSpec {
  rendererType: RendererType;
  model?: string;
  sessionToken?: string;
  /** maxSessionSeconds: the session's own lifetime limit. */
  maxSessionS?: number;
}

/** A redeemed ticket: what to spawn, and who asked for it (the key that owns the session, or an address). */
export interface RedeemedTicket {
  spec: TicketSpec;
  issuer: SessionOwner;
}

/** Tickets waiting for their viewer at most; past it, issuing refuses (a flood of tickets cannot grow memory). */
export const MAX_OPEN_TICKETS = 10_000;

/** The node holds MAX_OPEN_TICKETS open tickets. */
export class TooManyTicketsError extends Error {}

/** The caller holds as many open tickets as it may (ticketCapFor). */
export class TicketCapError extends Error {
  constructor(
    readonly cap: number,
    readonly retryAfterS: number,
    issuer: SessionOwner,
  ) {
    const who = issuer.key !== undefined ? `key ${issuer.key}` : 'this client address';
    super(
      `too many spawn tickets: ${who} already has ${cap} waiting for their viewers on this node; open a viewer with one of them, or retry after ${retryAfterS} s when the first expires (SC_TICKET_TTL_S)`,
    );
  }
}

/**
 * Spawn tickets, on this node only: a random single-use token bound to a spawn's parameters and to who asked
 * for it, valid for a few seconds. A viewer's browser, which cannot send headers on a WebSocket, presents one
 * as `?ticket=`; the application's back end got it with its key (POST /tickets). Pure: the time is passed in.
 */
export class TicketBook {
  private readonly open = new Map<string, RedeemedTicket & { expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  /** `cap`: the open tickets the issuer may hold (TicketCapError beyond); the node's MAX_OPEN_TICKETS too. */
  issue(spec: TicketSpec, issuer: SessionOwner, cap: number, now: number): { ticket: string; expiresAt: number } {
    this.prune(now);
    if (this.open.size >= MAX_OPEN_TICKETS) {
      throw new TooManyTicketsError(`${MAX_OPEN_TICKETS} tickets are already waiting for their viewers`);
    }
    const expiries = [...this.open.values()].filter((t) => t.issuer.bucket === issuer.bucket).map((t) => t.expiresAt);
    const retryAfterS = ticketCapRetryAfterS(expiries, cap, now);
    if (retryAfterS !== undefined) throw new TicketCapError(cap, retryAfterS, issuer);
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.open.set(ticket, { spec: { ...spec }, issuer: { ...issuer }, expiresAt });
    return { ticket, expiresAt };
  }

  /** The ticket's parameters and issuer, once: a used, expired or unknown (or altered) ticket gives undefined. */
  redeem(ticket: string, now: number): RedeemedTicket | undefined {
    const entry = this.open.get(ticket);
    if (!entry) return undefined;
    this.open.delete(ticket);
    return entry.expiresAt > now ? { spec: entry.spec, issuer: entry.issuer } : undefined;
  }

  /** Who asked for the ticket, while it is open, without using it; undefined for a used, expired or unknown one. */
  peek(ticket: string, now: number): SessionOwner | undefined {
    const entry = this.open.get(ticket);
    return entry !== undefined && entry.expiresAt > now ? entry.issuer : undefined;
  }

  get size(): number {
    return this.open.size;
  }

  private prune(now: number): void {
    for (const [ticket, entry] of this.open) if (entry.expiresAt <= now) this.open.delete(ticket);
  }
}
