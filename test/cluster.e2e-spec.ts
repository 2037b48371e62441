/**
 * The fleet view (GET /cluster, /cluster/self, /cluster/spawns) over three built service nodes on loopback,
 * each a real process: every node lists all three with their counts; a killed node is `unreachable` and a
 * node that never answers costs at most the 1 s peer timeout; a draining node shows `draining`; the routes
 * need a key like the other management routes, and CLUSTER_KEY opens every node; peers found through DNS
 * (a stub resolver in an in-process node) at 127.0.0.1, .2 and .3 on one port.
 */
import { createServer as createHttpServer, request as httpRequest } from 'http';
import { createServer, type Socket } from 'net';
import request from 'supertest';
import { PeerResolver } from '../src/adapters/peer-resolver.adapter';
import type { ClusterView } from '../src/cluster/cluster.types';
import { freePort } from './support/ports';
import { signalProcess, useCleanup, type Cleanup } from './support/processes';
import { FAST_TIMINGS, startApp, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { makeTempDir } from './support/temp';
import { connectViewer } from './support/viewer-client';
import { sleep, waitFor } from './support/wait';

const PORT_BASE = 29000;
// Three nodes start at once; on a loaded machine each may take many seconds to load.
const START = { startTimeoutMs: 90_000 };
jest.setTimeout(180_000);
const NAMES = ['node-a', 'node-b', 'node-c'] as const;
// Shaped like a named API key (name=key): a CLUSTER_KEY is still taken whole, as the peers send it.
const CLUSTER_KEY = 'fleet=cluster-key-0123456789abcdef';
const KEYS: Record<string, string> = {
  'node-a': 'key-of-node-a-0123456789',
  'node-b': 'key-of-node-b-0123456789',
  'node-c': 'key-of-node-c-0123456789',
};

/** Three nodes on 127.0.0.1, each listing all three in SC_PEERS (itself included: a node is its own peer). */
async function startFleet(
  cleanup: Cleanup,
  env: Partial<Record<string, Record<string, string>>> = {},
  extraPeers: string[] = [],
): Promise<Map<string, ServiceProcess>> {
  const ports = await Promise.all(NAMES.map(() => freePort()));
  const peers = [...ports.map((port) => `http://127.0.0.1:${port}`), ...extraPeers].join(',');
  const started = await Promise.all(
    NAMES.map(async (name, index) => {
      const node = await startServiceProcess(
        ports[index],
        {
          ...FAST_TIMINGS,
          NODE_NAME: name,
          SC_MAX_SPAWNS: '2',
          SC_PORT_BASE: String(PORT_BASE + 10 * index),
          SC_PORT_COUNT: '4',
          SC_PEERS: peers,
          ...env[name],
        },
        START,
      );
      cleanup.add(() => node.stop(5000), `node ${name}`);
      return [name, node] as const;
    }),
  );
  return new Map(started);
}

async function clusterOf(url: string, key?: string): Promise<ClusterView> {
  const call = request(url).get('/cluster');
  if (key) void call.set('Authorization', `Bearer ${key}`);
  return (await call.expect(200)).body as ClusterView;
}

const stateOf = (view: ClusterView): Record<string, string> =>
  Object.fromEntries(view.nodes.map((node) => [node.name, node.state]));

/** A peer that accepts connections and never answers. */
async function blackHole(cleanup: Cleanup): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
    'black-hole peer',
  );
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A peer listed in SC_PEERS that answers GET /cluster/self as `name` and GET /spawns with `spawns()` (raw JSON). */
async function fakePeer(cleanup: Cleanup, name: string, spawns: () => string, extra: object = {}): Promise<string> {
  const entry = {
    name,
    state: 'ready',
    capacity: { max: 2, active: 0, freePorts: 4 },
    sessions: { byState: {}, byRenderer: {} },
    warm: { csr: 0, ssr: 0, target: { csr: 0, ssr: 0 } },
    version: '0.1.0',
    readAt: new Date(0).toISOString(),
    ...extra,
  };
  const server = createHttpServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(request.url === '/spawns' ? spawns() : JSON.stringify(entry));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(() => new Promise<void>((resolve) => server.close(() => resolve())), `fake peer ${name}`);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('fleet view (e2e: three real nodes on loopback)', () => {
  const cleanup = useCleanup();

  it('every node lists all three with their counts and totals; /cluster/spawns gives each session its node and /n/<node>/ links; a killed node turns unreachable within one refresh while the others answer', async () => {
    const nodes = await startFleet(cleanup);
    const nodeB = nodes.get('node-b')!;
    const spawn = (await request(nodeB.url).post('/spawn').send({ rendererType: 'csr' }).expect(200)).body as {
      id: string;
    };

    for (const node of nodes.values()) {
      const view = await waitFor(async () => {
        const read = await clusterOf(node.url);
        // Every name known (a read cut by the 1 s timeout on a loaded machine is retried).
        const named = read.nodes.map((n) => n.name).join(',') === NAMES.join(',');
        return named && read.nodes.find((n) => n.name === 'node-b')?.capacity.active === 1 ? read : undefined;
      }, 10_000);
      expect(view.nodes.map((n) => n.name)).toEqual([...NAMES]);
      expect(stateOf(view)).toEqual({ 'node-a': 'ready', 'node-b': 'ready', 'node-c': 'ready' });
      const b = view.nodes.find((n) => n.name === 'node-b')!;
      expect(b).toMatchObject({
        url: nodeB.url,
        capacity: { max: 2, active: 1, freePorts: 3 },
        sessions: { byRenderer: { csr: 1, ssr: 0 } },
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      });
      expect(b.sessions.byState.ready + (b.sessions.byState.connected ?? 0)).toBe(1);
      expect(view.totals).toMatchObject({
        nodes: 3,
        byNodeState: { ready: 3, full: 0, draining: 0, unreachable: 0 },
        capacity: { max: 6, active: 1, freePorts: 11 },
        sessions: { live: 1, byRenderer: { csr: 1, ssr: 0 } },
      });
    }
    // The same under a node's prefix, and the node's own entry.
    const nodeA = nodes.get('node-a')!;
    expect((await clusterOf(`${nodeA.url}/n/node-a`)).nodes).toHaveLength(3);
    const self = (await request(nodeB.url).get('/n/node-b/cluster/self').expect(200)).body as { name: string };
    expect(self).toMatchObject({ name: 'node-b', state: 'ready', capacity: { active: 1 } });

    const listed = (await request(nodeA.url).get('/cluster/spawns').expect(200)).body as {
      nodes: Array<{ name: string; state: string }>;
      spawns: Array<{ id: string; node: string; links: { self: string; ws: string } }>;
    };
    expect(listed.nodes.map((n) => n.name)).toEqual([...NAMES]);
    const found = listed.spawns.filter((s) => s.id === spawn.id);
    expect(found).toHaveLength(1);
    expect(found[0].node).toBe('node-b');
    expect(found[0].links.self).toBe(`/n/node-b/spawns/${spawn.id}`);
    // The relay link carries the session's relay token, never its id (issue 19).
    expect(found[0].links.ws).toMatch(new RegExp(`/n/node-b/ws/[A-Za-z0-9_-]{43}$`));
    expect(found[0].links.ws).not.toContain(spawn.id);

    // node-c dies: unreachable (with its name) within one refresh, the others still answer within the peer timeout.
    const nodeC = nodes.get('node-c')!;
    signalProcess(nodeC.child.pid!, 'SIGKILL');
    await nodeC.exited;
    const expected = { 'node-a': 'ready', 'node-b': 'ready', 'node-c': 'unreachable' };
    for (const name of ['node-a', 'node-b']) {
      const slowest = { ms: 0 };
      const view = await waitFor(
        async () => {
          const started = Date.now();
          const read = await clusterOf(nodes.get(name)!.url);
          slowest.ms = Math.max(slowest.ms, Date.now() - started);
          return JSON.stringify(stateOf(read)) === JSON.stringify(expected) ? read : undefined;
        },
        // One refresh (the 1 s cache) and the read itself.
        2500,
        { intervalMs: 50, description: `${name} to see node-c unreachable` },
      );
      expect(slowest.ms).toBeLessThan(1500);
      expect(view.nodes.find((n) => n.name === 'node-c')).toMatchObject({
        state: 'unreachable',
        error: expect.stringMatching(/ECONNREFUSED/),
      });
      expect(stateOf(view)).toMatchObject({ 'node-a': 'ready', 'node-b': 'ready' });
      expect(view.totals.byNodeState).toMatchObject({ ready: 2, unreachable: 1 });
    }
  });

  it('a peer that never answers costs at most the 1 s timeout and hides no other node', async () => {
    const hole = await blackHole(cleanup);
    const nodes = await startFleet(cleanup, {}, [hole]);
    // A first read warms the freshly started node up (its first requests compile code); then past the cache.
    await clusterOf(nodes.get('node-a')!.url);
    await sleep(1100);
    const started = Date.now();
    const view = await clusterOf(nodes.get('node-a')!.url);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(1500);
    expect(stateOf(view)).toMatchObject({ 'node-a': 'ready', 'node-b': 'ready', 'node-c': 'ready' });
    const silent = view.nodes.find((n) => n.url === hole)!;
    expect(silent).toMatchObject({ state: 'unreachable', error: 'no answer within 1000 ms' });
    // Cached for 1 s: a second dashboard asking at once waits for no peer.
    const again = Date.now();
    expect(await clusterOf(nodes.get('node-a')!.url)).toEqual(view);
    expect(Date.now() - again).toBeLessThan(500);
  });

  it('a draining node shows draining on every node', async () => {
    const nodes = await startFleet(cleanup, { 'node-a': { DRAIN_TIMEOUT_S: '30' } });
    const nodeA = nodes.get('node-a')!;
    const spawn = (await request(nodeA.url).post('/spawn').send({}).expect(200)).body as {
      links: { ws: string };
    };
    const viewer = await connectViewer(spawn.links.ws, { cleanup });
    await viewer.nextJson();
    signalProcess(nodeA.child.pid!, 'SIGTERM');
    const expected = { 'node-a': 'draining', 'node-b': 'ready', 'node-c': 'ready' };
    for (const name of NAMES) {
      const view = await waitFor(
        async () => {
          const read = await clusterOf(nodes.get(name)!.url);
          return JSON.stringify(stateOf(read)) === JSON.stringify(expected) ? read : undefined;
        },
        5000,
        { intervalMs: 100, description: `${name} to see node-a draining` },
      );
      expect(stateOf(view)).toEqual({ 'node-a': 'draining', 'node-b': 'ready', 'node-c': 'ready' });
      expect(view.totals.byNodeState.draining).toBe(1);
    }
    await viewer.close();
    expect(await nodeA.exited).toEqual({ code: 0, signal: null });
  });

  it('with API keys, the cluster routes need one (also under /n/<node>/); CLUSTER_KEY lets the nodes read each other', async () => {
    const env = Object.fromEntries(NAMES.map((name) => [name, { API_KEYS: KEYS[name], CLUSTER_KEY }]));
    const nodes = await startFleet(cleanup, env);
    const nodeA = nodes.get('node-a')!;
    for (const path of ['/cluster', '/cluster/self', '/cluster/spawns', '/n/node-a/cluster']) {
      await request(nodeA.url).get(path).expect(401);
      await request(nodeA.url).get(path).set('Authorization', `Bearer ${KEYS['node-b']}`).expect(401);
    }
    const view = await clusterOf(nodeA.url, KEYS['node-a']);
    expect(stateOf(view)).toEqual({ 'node-a': 'ready', 'node-b': 'ready', 'node-c': 'ready' });
    expect(stateOf(await clusterOf(nodes.get('node-c')!.url, CLUSTER_KEY))).toEqual(stateOf(view));
  });

  it('without CLUSTER_KEY a node sends its first API key: peers with other keys are unreachable, saying 401', async () => {
    const env = Object.fromEntries(NAMES.map((name) => [name, { API_KEYS: KEYS[name] }]));
    const nodes = await startFleet(cleanup, env);
    const view = await clusterOf(nodes.get('node-a')!.url, KEYS['node-a']);
    expect(view.nodes.filter((n) => n.state === 'unreachable').map((n) => n.error)).toEqual([
      'answered 401 Unauthorized',
      'answered 401 Unauthorized',
    ]);
  });

  it("a lying peer cannot list another node's session as its own, nor rewrite a session's links; a peer answering more than 1 MiB is named, not read whole", async () => {
    const onEvil = '9d2f4c1e-7a3b-4e5d-8c6f-1a2b3c4d5e6f';
    let realId = '';
    const liar = await fakePeer(cleanup, 'evil', () =>
      JSON.stringify([
        { id: 'looks-harmless-1', node: 'evil', state: 'ready', links: { self: `/n/node-a/spawns/${realId}` } },
        { id: realId, node: 'node-a', state: 'ready', rendererType: 'ssr' },
        { id: onEvil, node: 'evil', state: 'ready', links: { self: `/n/node-a/spawns/${realId}` } },
      ]),
    );
    const item = JSON.stringify({ id: onEvil, node: 'big', state: 'ready', padding: 'x'.repeat(1000) });
    const big = await fakePeer(cleanup, 'big', () => `[${Array(2100).fill(item).join(',')}]`);
    const app = await startApp({
      NODE_NAME: 'node-a',
      SC_PEERS: `${liar},${big}`,
      SC_PORT_BASE: String(PORT_BASE + 170),
      SC_PORT_COUNT: '4',
    });
    cleanup.add(() => app.close(), 'in-process node');
    realId = ((await request(app.url).post('/spawn').send({}).expect(200)).body as { id: string }).id;

    const listed = (await request(app.url).get('/cluster/spawns').expect(200)).body as {
      nodes: Array<{ name: string; state: string; sessionsError?: string }>;
      spawns: Array<{ id: string; node: string; rendererType: string; links: { self: string } }>;
    };
    expect(listed.spawns.map((s) => [s.node, s.id, s.links.self])).toEqual([
      ['node-a', realId, `/n/node-a/spawns/${realId}`],
      ['evil', onEvil, `/n/evil/spawns/${onEvil}`],
    ]);
    expect(listed.spawns[0].rendererType).toBe('csr');
    expect(listed.nodes.map((n) => [n.name, n.state, n.sessionsError])).toEqual([
      ['big', 'ready', `answered more than ${1 << 20} bytes (the limit for a peer's answer)`],
      ['evil', 'ready', undefined],
      ['node-a', 'ready', undefined],
    ]);
  });

  it("a peer answering with a real node's name hides neither: both are listed as a conflict, with no session under that name", async () => {
    const nodeB = await startServiceProcess(
      await freePort(),
      { ...FAST_TIMINGS, NODE_NAME: 'node-b', SC_PORT_BASE: String(PORT_BASE + 200), SC_PORT_COUNT: '4' },
      START,
    );
    cleanup.add(() => nodeB.stop(5000), 'node node-b');
    await request(nodeB.url).post('/spawn').send({}).expect(200);
    const real = (await request(nodeB.url).get('/spawns').expect(200)).body as Array<{ state: string }>;
    const ended = JSON.stringify(real.map((spawn) => ({ ...spawn, state: 'ended' })));
    const liar = await fakePeer(cleanup, 'node-b', () => ended, { capacity: { max: 999, active: 0, freePorts: 999 } });
    const app = await startApp({
      NODE_NAME: 'node-a',
      SC_PEERS: `${liar},${nodeB.url}`,
      SC_PORT_BASE: String(PORT_BASE + 210),
      SC_PORT_COUNT: '4',
    });
    cleanup.add(() => app.close(), 'in-process node');

    const view = await clusterOf(app.url);
    const claimed = view.nodes.filter((n) => n.name === 'node-b');
    expect(claimed.map((n) => n.url).sort()).toEqual([liar, nodeB.url].sort());
    for (const node of claimed) {
      expect(node).toMatchObject({ state: 'unreachable', capacity: { max: 0 } });
      expect(node.error).toBe(`node-b is claimed by 2 peers: ${liar}, ${nodeB.url}`);
    }
    expect(view.totals).toMatchObject({ nodes: 3, byNodeState: { ready: 1, unreachable: 2 } });
    expect(view.totals.capacity.max).toBe(view.nodes.find((n) => n.name === 'node-a')!.capacity.max);
    const listed = (await request(app.url).get('/cluster/spawns').expect(200)).body as {
      nodes: Array<{ name: string; sessionsError?: string }>;
      spawns: Array<{ node: string }>;
    };
    expect(listed.spawns.filter((s) => s.node === 'node-b')).toEqual([]);
    expect(listed.nodes.filter((n) => n.name === 'node-b').map((n) => n.sessionsError)).toEqual([
      claimed[0].error,
      claimed[0].error,
    ]);
  });

  it('a peer listing thousands of sessions within the 1 MiB cap has its first 1000 shown, and says so', async () => {
    const ids = Array.from(
      { length: 13_000 },
      (_, i) => `${i.toString(16).padStart(8, '0')}-1f0c-4b7e-9d2a-5c3e8f1a7b90`,
    );
    const many = JSON.stringify(ids.map((id) => ({ id, node: 'many', state: 'ready' })));
    const peer = await fakePeer(cleanup, 'many', () => many);
    const app = await startApp({
      NODE_NAME: 'node-a',
      SC_PEERS: peer,
      SC_PORT_BASE: String(PORT_BASE + 220),
      SC_PORT_COUNT: '4',
    });
    cleanup.add(() => app.close(), 'in-process node');
    const answer = await request(app.url).get('/cluster/spawns').expect(200);
    const listed = answer.body as {
      nodes: Array<{ name: string; sessionsError?: string }>;
      spawns: Array<{ id: string }>;
    };
    expect(listed.spawns.map((s) => s.id)).toEqual(ids.slice(0, 1000));
    expect(listed.nodes.find((n) => n.name === 'many')?.sessionsError).toBe(
      'listed 13000 sessions; the first 1000 are shown',
    );
    expect(answer.text.length).toBeLessThan(400_000);
  });

  it('with no peers configured the fleet is this node alone', async () => {
    const app = await startApp({ NODE_NAME: 'alone', SC_PORT_BASE: String(PORT_BASE + 190), SC_PORT_COUNT: '4' });
    cleanup.add(() => app.close(), 'in-process node');
    const view = await clusterOf(app.url);
    expect(view.nodes.map((n) => [n.name, n.state])).toEqual([['alone', 'ready']]);
    expect(view.totals).toMatchObject({ nodes: 1, byNodeState: { ready: 1 }, capacity: { active: 0 } });
    const spawns = (await request(app.url).get('/cluster/spawns').expect(200)).body as { nodes: unknown[] };
    expect(spawns.nodes).toHaveLength(1);
  });

  it("an absolute-form request under the node's prefix is served as the router reads it; another node's gets 421", async () => {
    const app = await startApp({ NODE_NAME: 'node-a', SC_PORT_BASE: String(PORT_BASE + 180), SC_PORT_COUNT: '2' });
    cleanup.add(() => app.close(), 'in-process node');
    const { hostname, port, host } = new URL(app.url);
    // GET http://host/n/... as a forward proxy sends it (http.request passes an absolute path on as it is).
    const statusOf = (target: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ hostname, port, path: target, headers: { host, connection: 'close' }, agent: false });
        req.once('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.once('error', reject);
        req.end();
      });
    expect(await statusOf('/n/node-a/api/states')).toBe(200);
    expect(await statusOf(`http://${host}/n/node-a/api/states`)).toBe(200);
    expect(await statusOf(`http://${host}/api/states`)).toBe(200);
    expect(await statusOf(`http://${host}/n/node-b/api/states`)).toBe(421);
    expect(await statusOf(`http://${host}/n/node-a/no-such-route`)).toBe(404);
  });

  it('SC_PEERS_DNS: a name resolving to 127.0.0.1, .2 and .3 finds the three nodes on one port (SC_PEERS_PORT)', async () => {
    const port = await freePort();
    const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
    await Promise.all(
      hosts.map(async (host, index) => {
        const node = await startServiceProcess(
          port,
          {
            ...FAST_TIMINGS,
            HOST: host,
            NODE_NAME: `dns-${index + 1}`,
            SC_PORT_BASE: String(PORT_BASE + 100 + 10 * index),
            SC_PORT_COUNT: '4',
            SC_STATE_DIR: makeTempDir(cleanup),
          },
          START,
        );
        cleanup.add(() => node.stop(5000), `node dns-${index + 1}`);
      }),
    );
    const asked: string[] = [];
    const stub: PeerResolver = {
      addressesOf: (name: string) => {
        asked.push(name);
        return Promise.resolve(name === 'sc-spawner-nodes.test' ? [...hosts].reverse() : []);
      },
    };
    const app = await startApp(
      {
        NODE_NAME: 'reader',
        SC_PEERS_DNS: 'sc-spawner-nodes.test',
        SC_PEERS_PORT: String(port),
        SC_PEERS_REFRESH_S: '0.2',
      },
      (builder) => builder.overrideProvider(PeerResolver).useValue(stub),
    );
    cleanup.add(() => app.close(), 'in-process reader node');
    const view = await clusterOf(app.url);
    expect(view.nodes.map((n) => [n.name, n.url, n.state])).toEqual([
      ['dns-1', `http://127.0.0.1:${port}`, 'ready'],
      ['dns-2', `http://127.0.0.2:${port}`, 'ready'],
      ['dns-3', `http://127.0.0.3:${port}`, 'ready'],
      ['reader', app.url, 'ready'],
    ]);
    // Re-resolved every SC_PEERS_REFRESH_S.
    await waitFor(() => asked.length >= 3, 3000, { description: 'the name to be resolved again' });
    expect(new Set(asked)).toEqual(new Set(['sc-spawner-nodes.test']));
  });
});
