import { Inject, Injectable } from '@nestjs/common';
import { EDGE_SETTINGS, type EdgeSettings } from '../config';
import type { SessionOwner } from '../supervisor';
import { type RedeemedTicket, TicketBook, type TicketSpec } from './ticket-book';

/** This node's spawn tickets (SC_TICKET_TTL_S), shared by POST /tickets and the spawn-on-connect upgrades. */
@Injectable()
export class SpawnTickets {
  private readonly book: TicketBook;

  constructor(@Inject(EDGE_SETTINGS.token) edge: EdgeSettings) {
    this.book = new TicketBook(Math.round(edge.ticketTtlS * 1000));
  }

  issue(spec: TicketSpec, issuer: SessionOwner, cap: number, now: number): { ticket: string; expiresAt: number } {
    return this.book.issue(spec, issuer, cap, now);
  }

  /** Who asked for the ticket, while it would be accepted (without using it); undefined when it would not. */
  issuerOf(ticket: string, now: number): SessionOwner | undefined {
    return this.book.peek(ticket, now);
  }

  redeem(ticket: string, now: number): RedeemedTicket | undefined {
    return this.book.redeem(ticket, now);
  }
}
