import { FakeClock } from '../../test/fakes';
import { PeerClient } from '../adapters/peer-client.adapter';
import { ApiKeys } from '../auth/api-keys';
import { CLUSTER_SETTINGS, parseAppConfig, pickSection } from '../config';
import { ClusterService } from './cluster.service';
import type { NodeEntry } from './cluster.types';
import { unreachableEntry } from './node-state';
import type { PeerDirectory } from './peer-directory.service';
import type { SelfEntry } from './self-entry.service';

const OWN_INSTANCE = '6f1c1f2e-5b1a-4c3e-9a55-0d8f3c1b2a10';

function entry(name: string): NodeEntry {
  return { ...unreachableEntry(`http://${name}`, '', new Date(0), name), state: 'ready', error: undefined };
}

/** Peers answer from a table: an entry, an error, or never (until the caller's timeout is reported). */
class TablePeerClient extends PeerClient {
  readonly calls: Array<{ url: string; path: string; key?: string; timeoutMs: number }> = [];
  constructor(public answers: Record<string, NodeEntry | Error>) {
    super();
  }
  getJson(url: string, path: string, key: string | undefined, timeoutMs: number): Promise<unknown> {
    this.calls.push({ url, path, key, timeoutMs });
    const answer = this.answers[url];
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

function setup(answers: Record<string, NodeEntry | Error>, env: Record<string, string> = {}) {
  const config = parseAppConfig({ NODE_NAME: 'node-a', ...env });
  const clock = new FakeClock();
  const client = new TablePeerClient(answers);
  const self = {
    name: 'node-a',
    instance: OWN_INSTANCE,
    read: (url: string) => ({ ...entry('node-a'), url, instance: OWN_INSTANCE }),
  } as unknown as SelfEntry;
  const peers = { current: () => Promise.resolve(Object.keys(answers)) } as unknown as PeerDirectory;
  const keys = new ApiKeys(config.apiKeys);
  return {
    service: new ClusterService(pickSection(config, CLUSTER_SETTINGS), keys, self, peers, client, clock),
    client,
    clock,
  };
}

describe('ClusterService', () => {
  it('lists this node and every peer once, by name, with 1 s per peer and the first API key', async () => {
    const { service, client } = setup(
      { 'http://b': entry('node-b'), 'http://self': { ...entry('node-a'), instance: OWN_INSTANCE } },
      { API_KEYS: 'first-key-0123456789,second-key-0123456789' },
    );
    const view = await service.view('http://me');
    expect(view.nodes.map((n) => [n.name, n.url])).toEqual([
      ['node-a', 'http://me'],
      ['node-b', 'http://b'],
    ]);
    expect(client.calls).toEqual([
      { url: 'http://b', path: '/cluster/self', key: 'first-key-0123456789', timeoutMs: 1000 },
      { url: 'http://self', path: '/cluster/self', key: 'first-key-0123456789', timeoutMs: 1000 },
    ]);
  });

  it('sends CLUSTER_KEY when set', async () => {
    const { service, client } = setup(
      { 'http://b': entry('node-b') },
      { API_KEYS: 'first-key-0123456789', CLUSTER_KEY: 'cluster-key-0123456789' },
    );
    await service.view('http://me');
    expect(client.calls[0].key).toBe('cluster-key-0123456789');
  });

  it('caches the view for 1 s, then reads the peers again; a peer that stops answering keeps its name', async () => {
    const { service, client, clock } = setup({ 'http://b': entry('node-b'), 'http://c': entry('node-c') });
    await service.view('http://me');
    clock.advance(999);
    await service.view('http://me');
    expect(client.calls).toHaveLength(2);
    client.answers['http://c'] = new Error('ECONNREFUSED');
    clock.advance(1);
    const view = await service.view('http://me');
    expect(client.calls).toHaveLength(4);
    expect(view.nodes.find((n) => n.url === 'http://c')).toMatchObject({
      name: 'node-c',
      state: 'unreachable',
      error: 'ECONNREFUSED',
    });
    expect(view.totals.byNodeState).toEqual({ ready: 2, full: 0, draining: 0, unreachable: 1 });
  });

  it('a peer answering something else than a node entry is unreachable, and hides no other', async () => {
    const odd = { hello: 'world' } as unknown as NodeEntry;
    const { service } = setup({ 'http://b': entry('node-b'), 'http://odd': odd });
    const view = await service.view('http://me');
    expect(view.nodes.map((n) => [n.name, n.state])).toEqual([
      ['node-a', 'ready'],
      ['node-b', 'ready'],
      ['odd', 'unreachable'],
    ]);
  });

  it("a peer answering with this node's name is a conflict: asked again, and listed once it answers as itself", async () => {
    const { service, client, clock } = setup({ 'http://x': entry('node-a') });
    expect((await service.view('http://me')).nodes.map((n) => [n.name, n.url, n.state, n.error])).toEqual([
      ['node-a', 'http://me', 'ready', undefined],
      ['node-a', 'http://x', 'unreachable', "node-a is this node's name, also claimed by http://x"],
    ]);
    client.answers['http://x'] = entry('node-x');
    clock.advance(1000);
    expect((await service.view('http://me')).nodes.map((n) => n.name)).toEqual(['node-a', 'node-x']);
    expect(client.calls.map((c) => c.url)).toEqual(['http://x', 'http://x']);
    expect((await service.fromPeers('/spawns', (body) => body)).map((a) => a.url)).toEqual(['http://x']);
  });

  it("a URL answering with this process's instance id is this node: not listed, not asked for /spawns, still read at each refresh", async () => {
    const { service, client, clock } = setup({
      'http://me-again': { ...entry('node-a'), instance: OWN_INSTANCE },
      'http://b': entry('node-b'),
    });
    expect((await service.view('http://me')).nodes.map((n) => [n.name, n.url])).toEqual([
      ['node-a', 'http://me'],
      ['node-b', 'http://b'],
    ]);
    expect((await service.fromPeers('/spawns', (body) => body)).map((a) => a.url)).toEqual(['http://b']);
    // Another process now answers there: a peer again.
    client.answers['http://me-again'] = entry('node-c');
    clock.advance(1000);
    expect((await service.view('http://me')).nodes.map((n) => n.name)).toEqual(['node-a', 'node-b', 'node-c']);
    expect((await service.fromPeers('/spawns', (body) => body)).map((a) => a.url)).toEqual([
      'http://me-again',
      'http://b',
    ]);
    expect(client.calls.filter((c) => c.url === 'http://me-again' && c.path === '/cluster/self')).toHaveLength(2);
  });

  it("a peer answering with another peer's name hides neither: both are listed as a conflict and count nothing", async () => {
    const liar = { ...entry('node-b'), capacity: { max: 999, active: 0, freePorts: 999 } };
    const { service } = setup({ 'http://liar': liar, 'http://b': entry('node-b') });
    const view = await service.view('http://me');
    const error = 'node-b is claimed by 2 peers: http://liar, http://b';
    expect(view.nodes.map((n) => [n.name, n.url, n.state, n.error])).toEqual([
      ['node-a', 'http://me', 'ready', undefined],
      ['node-b', 'http://b', 'unreachable', error],
      ['node-b', 'http://liar', 'unreachable', error],
    ]);
    expect(view.totals).toMatchObject({ nodes: 3, byNodeState: { ready: 1, unreachable: 2 }, capacity: { max: 0 } });
  });

  it("a peer's counts are whole numbers or the peer is unreachable, naming the field; the fleet's sums stay numbers", async () => {
    const counting = (name: string, byState: Record<string, unknown>, active: unknown = 1) =>
      ({
        ...entry(name),
        capacity: { max: 4, active, freePorts: 3 },
        sessions: { byState, byRenderer: { csr: 1 } },
      }) as unknown as NodeEntry;
    const { service } = setup({
      'http://b': counting('node-b', { ready: 1 }),
      'http://c': counting('node-c', { constructor: 2 }),
      'http://d': counting('node-d', { ready: '5' }),
      'http://e': counting('node-e', { ready: 1 }, 1e9),
      'http://f': { ...counting('node-f', { ready: 1 }), junk: 'x'.repeat(1000) } as NodeEntry,
    });
    const view = await service.view('http://me');
    expect(view.nodes.map((n) => [n.name, n.state, n.error])).toEqual([
      // (Named by their URLs: they never answered with a name that could be believed.)
      ['d', 'unreachable', expect.stringMatching(/sessions\.byState\.ready is not a whole number/)],
      ['e', 'unreachable', expect.stringMatching(/capacity\.active is not a whole number from 0 to 1000000/)],
      ['node-a', 'ready', undefined],
      ['node-b', 'ready', undefined],
      ['node-c', 'ready', undefined],
      ['node-f', 'ready', undefined],
    ]);
    expect(view.nodes.find((n) => n.name === 'node-f')).not.toHaveProperty('junk');
    expect(view.totals.sessions.byState).toEqual({ ready: 2, constructor: 2 });
    expect(view.totals.capacity).toEqual({ max: 12, active: 3, freePorts: 9 });
    expect(view.totals.sessions.live).toBe(3);
  });

  it('a peer naming itself with something NODE_NAME cannot be is unreachable', async () => {
    const { service } = setup({ 'http://b': entry('../node-b') });
    expect((await service.view('http://me')).nodes.find((n) => n.url === 'http://b')).toMatchObject({
      state: 'unreachable',
      error: expect.stringMatching(/not an sc-spawner node entry/),
    });
  });
});
