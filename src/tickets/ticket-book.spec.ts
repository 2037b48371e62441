import { MAX_OPEN_TICKETS, TicketBook, TicketCapError, TooManyTicketsError } from './ticket-book';
import { MAX_OPEN_TICKETS_PER_OWNER, ticketCapFor, ticketCapRetryAfterS } from './ticket-cap';

describe('TicketBook', () => {
  const spec = { rendererType: 'ssr' as const, model: 'microengine', sessionToken: 'tok-123' };
  const alice = { key: 'alice', bucket: 'key:alice' };
  const CAP = 100;

  it('a ticket gives its parameters and the key that asked for it, once', () => {
    const book = new TicketBook(30_000);
    const { ticket, expiresAt } = book.issue(spec, alice, CAP, 1000);
    expect(expiresAt).toBe(31_000);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(book.redeem(ticket, 2000)).toEqual({ spec, issuer: alice });
    expect(book.redeem(ticket, 2001)).toBeUndefined();
  });

  it('an expired, unknown or altered ticket gives nothing', () => {
    const book = new TicketBook(30_000);
    const expired = book.issue(spec, alice, CAP, 0).ticket;
    expect(book.redeem(expired, 30_000)).toBeUndefined();
    const { ticket } = book.issue(spec, alice, CAP, 0);
    const altered = `${ticket.slice(0, -1)}${ticket.endsWith('A') ? 'B' : 'A'}`;
    expect(book.redeem(altered, 1)).toBeUndefined();
    expect(book.redeem('nope', 1)).toBeUndefined();
    expect(book.redeem(ticket, 1)?.spec).toEqual(spec);
  });

  it('expired tickets are forgotten; past MAX_OPEN_TICKETS issuing refuses', () => {
    const book = new TicketBook(10);
    for (let i = 0; i < MAX_OPEN_TICKETS; i++) book.issue(spec, { bucket: `addr:10.0.${i >> 8}.${i & 255}` }, 1, 0);
    expect(() => book.issue(spec, alice, CAP, 5)).toThrow(TooManyTicketsError);
    book.issue(spec, alice, CAP, 10);
    expect(book.size).toBe(1);
  });

  it("one caller's open tickets stop at its cap (429 material: Retry-After until its first expires); others still get theirs", () => {
    const book = new TicketBook(30_000);
    book.issue(spec, alice, 2, 0);
    book.issue(spec, alice, 2, 4_000);
    let refused: unknown;
    try {
      book.issue(spec, alice, 2, 10_500);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(TicketCapError);
    expect((refused as TicketCapError).retryAfterS).toBe(20);
    expect((refused as TicketCapError).message).toBe(
      'too many spawn tickets: key alice already has 2 waiting for their viewers on this node; open a viewer with one of them, or retry after 20 s when the first expires (SC_TICKET_TTL_S)',
    );
    expect(() => book.issue(spec, { bucket: 'addr:10.0.0.9' }, 2, 10_500)).not.toThrow();
    expect(() => book.issue(spec, { bucket: 'addr:10.0.0.9' }, 1, 10_500)).toThrow(/this client address already has 1/);
    // A redeemed or expired ticket no longer counts.
    expect(() => book.issue(spec, alice, 2, 30_000)).not.toThrow();
  });
});

describe('ticket cap', () => {
  it("is the caller's session quota, at most MAX_OPEN_TICKETS_PER_OWNER; without a quota, that", () => {
    expect(ticketCapFor(3)).toBe(3);
    expect(ticketCapFor(undefined)).toBe(MAX_OPEN_TICKETS_PER_OWNER);
    expect(ticketCapFor(5000)).toBe(MAX_OPEN_TICKETS_PER_OWNER);
    expect(MAX_OPEN_TICKETS_PER_OWNER).toBeLessThan(MAX_OPEN_TICKETS / 10);
  });

  it('below the cap: no wait; at it: the seconds until the first expires, at least 1', () => {
    expect(ticketCapRetryAfterS([], 1, 0)).toBeUndefined();
    expect(ticketCapRetryAfterS([5000], 2, 0)).toBeUndefined();
    expect(ticketCapRetryAfterS([9000, 5000], 2, 0)).toBe(5);
    expect(ticketCapRetryAfterS([5000], 1, 4999)).toBe(1);
    expect(ticketCapRetryAfterS([], 0, 0)).toBe(1);
  });
});
