import type { NodeEntry } from './cluster.types';
import { clusterTotals, decideNodeState, uniqueByName, unreachableEntry } from './node-state';

const open = { draining: false, shuttingDown: false, canAcceptSpawn: true, freePorts: 4 };

function entry(name: string, state: NodeEntry['state'], active: number, byRenderer: Record<string, number>): NodeEntry {
  return {
    name,
    url: `http://${name}:11182`,
    state,
    capacity: { max: 4, active, freePorts: 8 - active },
    sessions: { byState: { ready: active, exited: 1 }, byRenderer },
    warm: { csr: 1, ssr: 0, target: { csr: 1, ssr: 0 } },
    version: '0.1.0',
    readAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('decideNodeState', () => {
  it('ready with a slot and a port free', () => expect(decideNodeState(open)).toBe('ready'));
  it('full without a slot, or without a port', () => {
    expect(decideNodeState({ ...open, canAcceptSpawn: false })).toBe('full');
    expect(decideNodeState({ ...open, freePorts: 0 })).toBe('full');
  });
  it('draining (or stopping) wins over full', () => {
    expect(decideNodeState({ ...open, draining: true, canAcceptSpawn: false })).toBe('draining');
    expect(decideNodeState({ ...open, shuttingDown: true })).toBe('draining');
  });
});

describe('clusterTotals', () => {
  it('sums capacity, sessions and warm servers, and counts nodes per state', () => {
    const gone = unreachableEntry('http://10.0.0.3:11182', 'ECONNREFUSED', new Date(0), 'node-c');
    const totals = clusterTotals([
      entry('node-a', 'ready', 1, { csr: 1 }),
      entry('node-b', 'full', 4, { csr: 3, ssr: 1 }),
      gone,
    ]);
    expect(totals).toEqual({
      nodes: 3,
      byNodeState: { ready: 1, full: 1, draining: 0, unreachable: 1 },
      capacity: { max: 8, active: 5, freePorts: 11 },
      sessions: { byState: { ready: 5, exited: 2 }, byRenderer: { csr: 4, ssr: 1 }, live: 5 },
      warm: { csr: 2, ssr: 0 },
    });
  });

  it('of no node is all zeros', () => {
    expect(clusterTotals([]).capacity).toEqual({ max: 0, active: 0, freePorts: 0 });
  });
});

describe('unreachableEntry and uniqueByName', () => {
  it('an unknown node is named after its address; its error is kept', () => {
    const gone = unreachableEntry('http://10.0.0.3:11182', 'no answer within 1000 ms', new Date(0));
    expect(gone).toMatchObject({ name: '10.0.0.3:11182', state: 'unreachable', error: 'no answer within 1000 ms' });
  });
  it('keeps the first entry of each name (this node first), in name order', () => {
    const own = entry('node-b', 'ready', 0, {});
    const again = { ...entry('node-b', 'full', 4, {}), url: 'http://127.0.0.2:1' };
    expect(uniqueByName([own, entry('node-a', 'ready', 0, {}), again]).map((n) => [n.name, n.state])).toEqual([
      ['node-a', 'ready'],
      ['node-b', 'ready'],
    ]);
  });
});
