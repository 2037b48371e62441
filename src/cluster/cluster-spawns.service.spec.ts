import type { Request } from 'express';
import { FakeClock } from '../../test/fakes';
import { PeerClient } from '../adapters/peer-client.adapter';
import { ApiKeys } from '../auth/api-keys';
import { CLUSTER_SETTINGS, parseAppConfig, pickSection, SCALE_OUT_SETTINGS } from '../config';
import type { SpawnPresenter } from '../spawn/spawn-presenter';
import type { SupervisorService } from '../supervisor';
import { ClusterSpawnsReader } from './cluster-spawns.service';
import { ClusterService } from './cluster.service';
import { unreachableEntry } from './node-state';
import type { PeerDirectory } from './peer-directory.service';
import type { SelfEntry } from './self-entry.service';

const REAL_ON_A = '0b6e2a64-1f0c-4b7e-9d2a-5c3e8f1a7b90';
const ON_EVIL = '9d2f4c1e-7a3b-4e5d-8c6f-1a2b3c4d5e6f';
const TOKEN = 'A'.repeat(43);

/** Peers answer from a table keyed by `<url><path>`: a body or an error. */
class PathPeerClient extends PeerClient {
  readonly calls: string[] = [];
  constructor(public answers: Record<string, unknown>) {
    super();
  }
  getJson(url: string, path: string): Promise<unknown> {
    this.calls.push(`${url}${path}`);
    const answer = this.answers[`${url}${path}`];
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

const nodeEntry = (name: string) => ({ ...unreachableEntry('', '', new Date(0), name), state: 'ready' });

function setup(answers: Record<string, unknown>, env: Record<string, string> = {}) {
  const config = parseAppConfig({ NODE_NAME: 'node-a', ...env });
  const clock = new FakeClock();
  const client = new PathPeerClient(answers);
  const self = { name: 'node-a', instance: 'own', read: (url: string) => ({ ...nodeEntry('node-a'), url }) };
  const urls = [...new Set(Object.keys(answers).map((key) => new URL(key).origin))];
  const peers = { current: () => Promise.resolve(urls) } as unknown as PeerDirectory;
  const cluster = new ClusterService(
    pickSection(config, CLUSTER_SETTINGS),
    new ApiKeys(config.apiKeys),
    self as unknown as SelfEntry,
    peers,
    client,
    clock,
  );
  const own = { id: REAL_ON_A, node: 'node-a', state: 'ready', links: { self: `/n/node-a/spawns/${REAL_ON_A}` } };
  const supervisor = { list: () => [own] } as unknown as SupervisorService;
  const presenter = { node: 'node-a', toView: (spawn: unknown) => spawn } as unknown as SpawnPresenter;
  const reader = new ClusterSpawnsReader(
    cluster,
    supervisor,
    presenter,
    pickSection(config, SCALE_OUT_SETTINGS),
    clock,
  );
  return { read: () => reader.read({} as Request, 'http://me'), client, clock };
}

describe('ClusterSpawnsReader (GET /cluster/spawns)', () => {
  it("keeps only a peer's own sessions with ids as issued, and rebuilds their links from node and id", async () => {
    const { read } = setup({
      'http://evil/cluster/self': nodeEntry('evil'),
      'http://evil/spawns': [
        // The reviewer's row: its Stop would have stopped node-a's session.
        { id: 'looks-harmless-1', node: 'evil', state: 'ready', links: { self: `/n/node-a/spawns/${REAL_ON_A}` } },
        { id: REAL_ON_A, node: 'node-a', state: 'ready' },
        { id: ON_EVIL, node: 'evil', state: 'ready', links: { self: `/n/node-a/spawns/${REAL_ON_A}` } },
        {
          id: ON_EVIL.replace('9d', '8d'),
          node: 'evil',
          state: 'ready',
          links: { ws: `ws://evil/n/evil/ws/${TOKEN}` },
        },
        { id: ON_EVIL.replace('9d', '7d'), node: 'evil', state: 'ready', links: { ws: `ws://h:1/n/evil/ws/${TOKEN}` } },
        null,
        'text',
      ],
    });
    const { spawns } = await read();
    expect(spawns.map((s) => [s.node, s.id, s.links.self])).toEqual([
      ['node-a', REAL_ON_A, `/n/node-a/spawns/${REAL_ON_A}`],
      ['evil', ON_EVIL, `/n/evil/spawns/${ON_EVIL}`],
      ['evil', ON_EVIL.replace('9d', '8d'), `/n/evil/spawns/${ON_EVIL.replace('9d', '8d')}`],
      ['evil', ON_EVIL.replace('9d', '7d'), `/n/evil/spawns/${ON_EVIL.replace('9d', '7d')}`],
    ]);
    expect(spawns[1].links).toEqual({
      self: `/n/evil/spawns/${ON_EVIL}`,
      events: `/n/evil/spawns/${ON_EVIL}/events`,
      logs: `/n/evil/spawns/${ON_EVIL}/logs`,
    });
    // Its relay link on its own host stands for its endpoints; one on another host is dropped.
    expect(spawns[2]).toMatchObject({
      links: { ws: `ws://evil/n/evil/ws/${TOKEN}` },
      endpoint: `ws://evil/n/evil/ws/${TOKEN}`,
      proxyEndpoint: `ws://evil/n/evil/ws/${TOKEN}`,
    });
    expect(spawns[3]).toMatchObject({ endpoint: null, proxyEndpoint: null });
    expect(spawns[3].links.ws).toBeUndefined();
  });

  it("copies a peer session's fields bounded: short texts, numbers, flags, objects two deep, no endpoint of its own", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const { read } = setup({
      'http://evil/cluster/self': nodeEntry('evil'),
      'http://evil/spawns': [
        {
          id: ON_EVIL,
          node: 'evil',
          state: 'ready',
          model: `<script>alert(1)</script>${'m'.repeat(1000)}`,
          deep,
          endpoint: 'ws://attacker.example:1/',
          proxyEndpoint: 'javascript:alert(5)',
          bytesToServer: 12,
          pid: Infinity,
          relay: { toServer: { messages: 3, bytes: 40, more: { too: 'deep' } } },
        },
      ],
    });
    const { spawns } = await read();
    const copied = spawns[1];
    expect(copied.model).toBe(`<script>alert(1)</script>${'m'.repeat(275)}…`);
    expect(copied).toMatchObject({ state: 'ready', bytesToServer: 12, endpoint: null, proxyEndpoint: null });
    expect(copied.relay).toEqual({ toServer: { messages: 3, bytes: 40 } });
    expect('deep' in copied || 'pid' in copied).toBe(false);
    expect(() => JSON.stringify(spawns)).not.toThrow();
  });

  it("a peer's relay link to another node is dropped; links go through PUBLIC_BASE_URL when set", async () => {
    const { read } = setup(
      {
        'http://b/cluster/self': nodeEntry('node-b'),
        'http://b/spawns': [{ id: ON_EVIL, node: 'node-b', links: { ws: `wss://h/n/node-a/ws/${TOKEN}` } }],
      },
      { PUBLIC_BASE_URL: 'https://lb.example/sc' },
    );
    const { spawns } = await read();
    expect(spawns[1].links).toEqual({
      self: `https://lb.example/sc/n/node-b/spawns/${ON_EVIL}`,
      events: `https://lb.example/sc/n/node-b/spawns/${ON_EVIL}/events`,
      logs: `https://lb.example/sc/n/node-b/spawns/${ON_EVIL}/logs`,
    });
  });

  it("a peer whose sessions cannot be read is named with the reason; another's sessions are kept", async () => {
    const { read } = setup({
      'http://big/cluster/self': nodeEntry('big'),
      'http://big/spawns': new Error('answered more than 1048576 bytes (the limit for a peer answer)'),
      'http://b/cluster/self': nodeEntry('node-b'),
      'http://b/spawns': [{ id: ON_EVIL, node: 'node-b', state: 'ready' }],
    });
    const { nodes, spawns } = await read();
    expect(nodes.find((n) => n.name === 'big')).toMatchObject({
      state: 'ready',
      sessionsError: 'answered more than 1048576 bytes (the limit for a peer answer)',
    });
    expect(nodes.find((n) => n.name === 'node-b')).not.toHaveProperty('sessionsError');
    expect(spawns.map((s) => s.node)).toEqual(['node-a', 'node-b']);
  });

  it("a peer claiming another peer's name lists no session under it from either; both rows say why", async () => {
    const real = [{ id: ON_EVIL, node: 'node-b', state: 'ready' }];
    const { read } = setup({
      'http://liar/cluster/self': nodeEntry('node-b'),
      'http://liar/spawns': real.map((s) => ({ ...s, state: 'ended' })),
      'http://b/cluster/self': nodeEntry('node-b'),
      'http://b/spawns': real,
    });
    const { nodes, spawns } = await read();
    const error = 'node-b is claimed by 2 peers: http://liar, http://b';
    expect(nodes).toEqual([
      { name: 'node-a', url: 'http://me', state: 'ready' },
      { name: 'node-b', url: 'http://b', state: 'unreachable', error, sessionsError: error },
      { name: 'node-b', url: 'http://liar', state: 'unreachable', error, sessionsError: error },
    ]);
    expect(spawns.map((s) => s.node)).toEqual(['node-a']);
  });

  it("a peer claiming this node's name lists no session; this node's own are listed", async () => {
    const { read } = setup({
      'http://x/cluster/self': nodeEntry('node-a'),
      'http://x/spawns': [{ id: ON_EVIL, node: 'node-a', state: 'ready' }],
    });
    const { nodes, spawns } = await read();
    const error = "node-a is this node's name, also claimed by http://x";
    expect(nodes).toEqual([
      { name: 'node-a', url: 'http://me', state: 'ready' },
      { name: 'node-a', url: 'http://x', state: 'unreachable', error, sessionsError: error },
    ]);
    expect(spawns.map((s) => s.id)).toEqual([REAL_ON_A]);
  });

  it('takes the first 1000 sessions of a peer and says it listed more', async () => {
    const ids = Array.from({ length: 1003 }, (_, i) => ON_EVIL.slice(0, -4) + i.toString(16).padStart(4, '0'));
    const { read } = setup({
      'http://b/cluster/self': nodeEntry('node-b'),
      'http://b/spawns': ids.map((id) => ({ id, node: 'node-b', state: 'ready' })),
      'http://c/cluster/self': nodeEntry('node-c'),
      'http://c/spawns': ids.slice(0, 1000).map((id) => ({ id, node: 'node-c', state: 'ready' })),
    });
    const { nodes, spawns } = await read();
    expect(spawns.filter((s) => s.node === 'node-b').map((s) => s.id)).toEqual(ids.slice(0, 1000));
    expect(spawns.filter((s) => s.node === 'node-c')).toHaveLength(1000);
    expect(nodes.map((n) => [n.name, n.sessionsError])).toEqual([
      ['node-a', undefined],
      ['node-b', 'listed 1003 sessions; the first 1000 are shown'],
      ['node-c', undefined],
    ]);
  });

  it('asks the peers for their sessions at most once a second', async () => {
    const { read, client, clock } = setup({
      'http://b/cluster/self': nodeEntry('node-b'),
      'http://b/spawns': [],
    });
    await read();
    clock.advance(999);
    await read();
    expect(client.calls.filter((call) => call.endsWith('/spawns'))).toHaveLength(1);
    clock.advance(1);
    await read();
    expect(client.calls.filter((call) => call.endsWith('/spawns'))).toHaveLength(2);
  });
});
