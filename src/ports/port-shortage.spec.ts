import { portRanges, portShortage } from './port-shortage';

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

  it('ports the service could not probe (EMFILE): the failure and its limit, not another program', () => {
    const counts = { total: 3, leased: 1, busy: 0, free: 2, probeFailure: 'listen EMFILE: too many open files' };
    expect(portShortage(counts, 45000, 3)).toBe(
      "no WebSocket port in 45000-45002 could be checked: listen EMFILE: too many open files (the service's own " +
        "limit: open files, ulimit -n or LimitNOFILE), 1 leased by this node's servers",
    );
  });
});

describe('portRanges', () => {
  it('writes ports as runs, in order, each once', () => {
    expect(portRanges([5, 1, 2, 3, 9, 2])).toBe('1-3, 5, 9');
    expect(portRanges([7])).toBe('7');
    expect(portRanges([])).toBe('');
  });

  it('names the first 8 runs and counts the rest', () => {
    const everyOther = Array.from({ length: 20 }, (_, i) => 100 + 2 * i);
    expect(portRanges(everyOther)).toBe('100, 102, 104, 106, 108, 110, 112, 114 and 12 more runs');
  });
});
