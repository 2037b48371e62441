import type { NodeEntry } from './cluster.types';
import { clusterTotals, decideNodeState, repeatedNames, unreachableEntry, withNameConflicts } from './node-state';

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

describe('unreachableEntry', () => {
  it('an unknown node is named after its address; its error is kept', () => {
    const gone = unreachableEntry('http://10.0.0.3:11182', 'no answer within 1000 ms', new Date(0));
    expect(gone).toMatchObject({ name: '10.0.0.3:11182', state: 'unreachable', error: 'no answer within 1000 ms' });
  });
});

describe('withNameConflicts', () => {
  const at = new Date(0);
  const rows = (nodes: NodeEntry[]) => nodes.map((n) => [n.name, n.url, n.state, n.error]);

  it('lists this node and each peer with a name of its own unchanged, in name order', () => {
    const own = { ...entry('node-b', 'ready', 0, {}), url: 'http://me' };
    const a = entry('node-a', 'full', 4, {});
    const c = unreachableEntry('http://node-c:11182', 'ECONNREFUSED', at, 'node-c');
    expect(withNameConflicts(own, [c, a], at)).toEqual([a, own, c]);
  });

  it('peers answering with the same name are each listed unreachable, naming the URLs, and count nothing', () => {
    const own = entry('node-a', 'ready', 0, {});
    const liar = {
      ...entry('node-b', 'ready', 0, {}),
      url: 'http://liar',
      capacity: { max: 999, active: 0, freePorts: 999 },
    };
    const real = entry('node-b', 'ready', 1, { csr: 1 });
    const nodes = withNameConflicts(own, [liar, real], at);
    const error = 'node-b is claimed by 2 peers: http://liar, http://node-b:11182';
    expect(rows(nodes)).toEqual([
      ['node-a', 'http://node-a:11182', 'ready', undefined],
      ['node-b', 'http://liar', 'unreachable', error],
      ['node-b', 'http://node-b:11182', 'unreachable', error],
    ]);
    expect(clusterTotals(nodes).capacity).toEqual(own.capacity);
  });

  it("a peer answering with this node's name is listed unreachable; this node's own entry stays, first", () => {
    const own = { ...entry('node-a', 'ready', 0, {}), url: 'http://me' };
    const nodes = withNameConflicts(own, [{ ...entry('node-a', 'full', 4, {}), url: 'http://0.me' }], at);
    expect(rows(nodes)).toEqual([
      ['node-a', 'http://me', 'ready', undefined],
      ['node-a', 'http://0.me', 'unreachable', "node-a is this node's name, also claimed by http://0.me"],
    ]);
  });
});

describe('repeatedNames', () => {
  it('the names more than one row has', () => {
    expect(repeatedNames([{ name: 'a' }, { name: 'b' }, { name: 'a' }, { name: 'a' }])).toEqual(new Set(['a']));
  });
});
