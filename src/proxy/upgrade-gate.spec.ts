import { ticketOf } from './upgrade-gate';
import { queryForServer } from './ws-proxy.service';

describe('spawn tickets in upgrade URLs', () => {
  it('ticketOf reads the ticket parameter, under a node prefix too', () => {
    expect(ticketOf('/?renderingLocation=csr&ticket=abc_-1')).toBe('abc_-1');
    expect(ticketOf('/n/node-a/?ticket=xyz')).toBe('xyz');
    expect(ticketOf('/?renderingLocation=csr')).toBeUndefined();
    expect(ticketOf(undefined)).toBeUndefined();
  });

  it('the server never gets the ticket; the rest of the query goes on unchanged', () => {
    expect(queryForServer('/?renderingLocation=ssr&ticket=abc&x=1')).toBe('?renderingLocation=ssr&x=1');
    expect(queryForServer('/?ticket=abc')).toBe('');
    expect(queryForServer('/?renderingLocation=csr')).toBe('?renderingLocation=csr');
    expect(queryForServer('/ws/1')).toBe('');
  });

  it('a ticket named with percent-escapes is read as a ticket, and kept from the server all the same', () => {
    expect(ticketOf('/?ti%63ket=abc')).toBe('abc');
    expect(queryForServer('/?ti%63ket=abc&x=1')).toBe('?x=1');
    expect(queryForServer('/?%74icket=abc')).toBe('');
  });
});
