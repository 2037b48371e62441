import { NoCapacityError, RendererDisabledError } from '../supervisor';
import { unusableTicket } from './ticket-use';

const on = { spawnOnConnect: true, csrEnabled: true, ssrEnabled: true };

describe('unusableTicket', () => {
  it('a node that takes sessions: usable', () => {
    expect(unusableTicket('csr', on)).toBeUndefined();
  });

  it('a full node: usable (a slot may free within its life; its viewer is refused at the door, the ticket kept)', () => {
    expect(unusableTicket('csr', on, NoCapacityError.slotsFull(4))).toBeUndefined();
  });

  it('a draining or stopping node: refused as a spawn is (503), since the ticket is good on this node only', () => {
    const draining = NoCapacityError.draining();
    const stopping = NoCapacityError.shuttingDown();
    expect(unusableTicket('csr', on, draining)).toBe(draining);
    expect(unusableTicket('ssr', on, stopping)).toBe(stopping);
  });

  it('a renderer switched off is said before the node state', () => {
    const error = unusableTicket('ssr', { ...on, ssrEnabled: false }, NoCapacityError.draining());
    expect(error).toBeInstanceOf(RendererDisabledError);
  });
});
