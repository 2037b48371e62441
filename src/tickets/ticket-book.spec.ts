import { MAX_OPEN_TICKETS, TicketBook, TooManyTicketsError } from './ticket-book';

describe('TicketBook', () => {
  const spec = { rendererType: 'ssr' as const, model: 'microengine', sessionToken: 'tok-123' };

  it('a ticket gives its parameters once', () => {
    const book = new TicketBook(30_000);
    const { ticket, expiresAt } = book.issue(spec, 1000);
    expect(expiresAt).toBe(31_000);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(book.redeem(ticket, 2000)).toEqual(spec);
    expect(book.redeem(ticket, 2001)).toBeUndefined();
  });

  it('an expired, unknown or altered ticket gives nothing', () => {
    const book = new TicketBook(30_000);
    const expired = book.issue(spec, 0).ticket;
    expect(book.redeem(expired, 30_000)).toBeUndefined();
    const { ticket } = book.issue(spec, 0);
    const altered = `${ticket.slice(0, -1)}${ticket.endsWith('A') ? 'B' : 'A'}`;
    expect(book.redeem(altered, 1)).toBeUndefined();
    expect(book.redeem('nope', 1)).toBeUndefined();
    expect(book.redeem(ticket, 1)).toEqual(spec);
  });

  it('expired tickets are forgotten; past MAX_OPEN_TICKETS issuing refuses', () => {
    const book = new TicketBook(10);
    for (let i = 0; i < MAX_OPEN_TICKETS; i++) book.issue(spec, 0);
    expect(() => book.issue(spec, 5)).toThrow(TooManyTicketsError);
    book.issue(spec, 10);
    expect(book.size).toBe(1);
  });
});
