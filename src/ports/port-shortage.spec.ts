import { portShortage } from './port-shortage';

describe('portShortage', () => {
  it('every port leased by this node: capacity in use', () => {
    expect(portShortage({ total: 3, leased: 3, busy: 0, free: 0 }, 45000, 3)).toBe(
      "no free WebSocket port in 45000-45002: all 3 leased by this node's servers",
    );
  });

  it('ports held by another program: how many, and the command that names the program', () => {
    expect(portShortage({ total: 3, leased: 1, busy: 2, free: 0 }, 45000, 3)).toBe(
      "no free WebSocket port in 45000-45002: 2 held by another program (ss -ltnp 'sport >= :45000 and sport " +
        "<= :45002' names it), 1 leased by this node's servers",
    );
  });
});
