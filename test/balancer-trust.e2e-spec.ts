/**
 * deploy/haproxy/haproxy.cfg itself (addresses substituted) in front of a real node, tried as an attacker:
 * a liveliness report sent through the balancer (which would otherwise reach the node from this machine) is
 * refused by HAProxy whatever its spelling, and the session lives on; the balancer names each client in
 * X-Forwarded-For, so a node trusting only the balancer (TRUST_PROXY=<its address>) tells clients apart and
 * a client's own X-Forwarded-For, through the balancer or straight to the node, changes nothing.
 */
import { request as httpRequest } from 'http';
import supertest from 'supertest';
import { startHaproxy, type RunningHaproxy } from './support/haproxy';
import { freePort } from './support/ports';
import { useCleanup, type Cleanup } from './support/processes';
import { FAST_TIMINGS, startApp, type RunningApp } from './support/spawner-app';
import { waitFor } from './support/wait';

const PORT_BASE = 28500;
const KEY = 'balancer-trust-key-0123456789abcdef';
const BEARER = { authorization: `Bearer ${KEY}` };
/** HAProxy's own answer to `http-request deny`: the node never saw the request. */
const HAPROXY_DENIED = /<h1>403 Forbidden<\/h1>\s*Request forbidden by administrative rules/;
/** HAProxy's own 400 (a node's is JSON). */
const HAPROXY_BAD_REQUEST = /<h1>400 Bad request<\/h1>/;

interface Answer {
  status: number;
  body: string;
}

/** One HTTP request from a chosen loopback source address (127.0.0.2 is another "client" than 127.0.0.3). */
function send(
  url: string,
  method: string,
  path: string,
  options: { from?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path,
        localAddress: options.from ?? '127.0.0.1',
        headers: { ...(options.body ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** One in-process node named node-a behind the recipe's HAProxy (its three servers all point at that node). */
async function nodeBehindBalancer(
  cleanup: Cleanup,
  env: Record<string, string>,
): Promise<{ node: RunningApp; lb: RunningHaproxy }> {
  const agentPort = await freePort();
  const node = await startApp({
    ...FAST_TIMINGS,
    NODE_NAME: 'node-a',
    SC_PORT_BASE: String(PORT_BASE),
    SC_MAX_SPAWNS: '2',
    AGENT_CHECK_PORT: String(agentPort),
    API_KEYS: KEY,
    ...env,
  });
  cleanup.add(() => node.close(), 'node-a');
  const lb = await startHaproxy(
    ['node-a', 'node-b', 'node-c'].map((name) => ({ name, port: node.port, agentPort })),
    cleanup,
  );
  await waitFor(async () => (await supertest(lb.url).get('/health/ready')).status === 200, 10_000, {
    description: () => 'the balancer to reach node-a',
  });
  return { node, lb };
}

describe('HAProxy recipe: liveliness reports from outside are refused', () => {
  const cleanup = useCleanup();

  it('a disconnect report for a live session, however spelled, is denied by HAProxy and the session lives on', async () => {
    const { lb } = await nodeBehindBalancer(cleanup, {});
    const spawned = await supertest(lb.url).post('/spawn').set(BEARER).send({});
    expect(spawned.status).toBe(200);
    const id = (spawned.body as { id: string }).id;
    const stateOf = async (): Promise<string> =>
      ((await supertest(lb.url).get(`/spawns/${id}`).set(BEARER)).body as { state: string }).state;
    await waitFor(async () => (await stateOf()) === 'ready', 10_000, { description: () => 'the session to be ready' });

    const report = '?liveliness=disconnect';
    const attacks: Array<[string, string]> = [
      ['POST', `/liveliness/${id}${report}`],
      ['POST', `/LiveLiness/${id}${report}`],
      ['POST', `//liveliness/${id}${report}`],
      ['POST', `/%6Civeliness/${id}${report}`],
      ['POST', `/liveliness%2F${id}${report}`],
      ['POST', `/n/node-a/liveliness/${id}${report}`],
      ['POST', `/n/node-a//LIVELINESS/${id}${report}`],
      ['PUT', `/liveliness/${id}${report}`],
      ['GET', `/liveliness/${id}${report}`],
      ['POST', `/api/spawns/${id}${report}`],
      ['POST', `/API/Spawns/${id}${report}`],
      ['POST', `/api//spawns/${id}${report}`],
      ['POST', `/api/spawns%2F${id}${report}`],
      ['POST', `/n/node-a/api/spawns/${id}${report}`],
    ];
    for (const [method, path] of attacks) {
      const answer = await send(lb.url, method, path, { headers: BEARER });
      expect([method, path, answer.status, HAPROXY_DENIED.test(answer.body)]).toEqual([method, path, 403, true]);
    }
    // A path HAProxy cannot percent-decode matches no ACL: it is refused by HAProxy itself, not passed on.
    for (const path of [`/liveliness/${id}%zz${report}`, `/n/node-a/api/spawns/${id}%${report}`]) {
      const answer = await send(lb.url, 'POST', path, { headers: BEARER });
      expect([path, answer.status, HAPROXY_BAD_REQUEST.test(answer.body)]).toEqual([path, 400, true]);
    }
    expect(await stateOf()).toBe('ready');

    // The same balancer still carries everything else, under the node prefix too.
    expect((await send(lb.url, 'GET', `/n/node-a/spawns/${id}`, { headers: BEARER })).status).toBe(200);
    expect((await send(lb.url, 'GET', '/api/spawns', { headers: BEARER })).status).toBe(200);
    expect((await send(lb.url, 'GET', '/n/node-a/health')).status).toBe(200);
  });
});

describe('HAProxy recipe + TRUST_PROXY=<balancer>: the client address the node sees', () => {
  const cleanup = useCleanup();
  /** Counted by the spawn rate limit (the guard runs before the body is validated), and starts nothing. */
  const invalidSpawn = JSON.stringify({ rendererType: 'not-a-renderer' });

  it("each client counts on its own through the balancer; a client's own X-Forwarded-For is ignored", async () => {
    // HAProxy reaches the node from 127.0.0.1: that address alone is trusted to name the client.
    const { node, lb } = await nodeBehindBalancer(cleanup, { TRUST_PROXY: '127.0.0.1', SPAWN_RATE_LIMIT: '1/60s' });
    const spawnFrom = async (url: string, from: string, headers: Record<string, string> = {}): Promise<number> =>
      (await send(url, 'POST', '/spawn', { from, headers: { ...BEARER, ...headers }, body: invalidSpawn })).status;

    expect(await spawnFrom(lb.url, '127.0.0.2')).toBe(400); // within its budget: the body is refused
    expect(await spawnFrom(lb.url, '127.0.0.2')).toBe(429);
    // Another client through the same balancer has its own budget: HAProxy named it in X-Forwarded-For.
    expect(await spawnFrom(lb.url, '127.0.0.3')).toBe(400);
    // Claiming to be someone else through the balancer: HAProxy drops the client's header and names it.
    expect(await spawnFrom(lb.url, '127.0.0.2', { 'x-forwarded-for': '198.51.100.7' })).toBe(429);
    // Straight to the node from an address that is not the balancer: the header is not believed.
    expect(await spawnFrom(node.url, '127.0.0.4')).toBe(400);
    expect(await spawnFrom(node.url, '127.0.0.4', { 'x-forwarded-for': '198.51.100.8' })).toBe(429);
    // Nor can a client choose the scheme the node believes from the balancer (plain HTTP here).
    const self = await send(lb.url, 'GET', '/cluster/self', {
      from: '127.0.0.5',
      headers: { ...BEARER, 'x-forwarded-proto': 'https' },
    });
    expect([self.status, (JSON.parse(self.body) as { url: string }).url]).toEqual([200, lb.url]);
  });
});
