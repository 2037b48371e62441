/**
 * End to end through the HAProxy recipe: the balancer's log names each request without its secrets. httplog wrote the
 * whole request line, and a line is written as soon as a request is refused: a spawn ticket refused by a full node
 * (503) is still valid, so whoever read the log could open the viewer's session with it once a slot was free; a relay
 * link refused for its origin (403) still joins its session; a key sent as ?access_token= opens every route. The built
 * service and HAProxy run as real processes. Without /usr/sbin/haproxy this test fails and says to run `npm run setup`.
 */
import { randomBytes } from 'crypto';
import * as http from 'http';
import { startHaproxy, waitUntilBalanced } from './support/haproxy';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { waitFor } from './support/wait';

/** This file's ports (31750-31759): the service, its agent port, its servers, two absent nodes, the balancer. */
const SERVICE_PORT = 31750;
const AGENT_PORT = 31751;
const BALANCER_PORT = 31759;
const ABSENT_NODES = [
  { name: 'node-b', port: 31756, agentPort: 31758 },
  { name: 'node-c', port: 31757, agentPort: 31758 },
];
const KEY = 'k3y-not-in-the-balancer-log-0123';
const APP_ORIGIN = 'https://app.example.com';

/** The status a WebSocket upgrade of `url` is answered with (101 when it is switched). */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, {
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('upgrade', (_response, socket) => {
      socket.destroy();
      resolve(101);
    });
    request.on('error', reject);
  });
}

describe("the balancer's log (e2e, HAProxy recipe)", () => {
  const cleanup = useCleanup();

  it('masks spawn tickets, relay tokens and keys in ?access_token= in the lines it writes', async () => {
    const balancer = `http://127.0.0.1:${BALANCER_PORT}`;
    const service = await startServiceProcess(SERVICE_PORT, {
      ...FAST_TIMINGS,
      SC_PORT_BASE: '31752',
      SC_PORT_COUNT: '2',
      SC_MAX_SPAWNS: '1',
      NODE_NAME: 'node-a',
      AGENT_CHECK_PORT: String(AGENT_PORT),
      PUBLIC_BASE_URL: balancer,
      PUBLIC_ENDPOINT: 'proxy',
      TRUST_PROXY: 'loopback',
      SPAWN_AUTH: 'required',
      CORS_ORIGINS: APP_ORIGIN,
      API_KEYS: KEY,
    });
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
    const lb = await startHaproxy(
      [{ name: 'node-a', port: SERVICE_PORT, agentPort: AGENT_PORT }, ...ABSENT_NODES],
      cleanup,
      { port: BALANCER_PORT, checkInterMs: 200, agentInterMs: 200 },
    );
    const log = lb.output;
    const node = `${balancer}/n/node-a`;
    await waitUntilBalanced(lb, 'node-a');
    const keyed = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

    // The node's one slot is taken: a viewer's ticket is refused with 503, and stays valid.
    const session = (await (await fetch(`${node}/spawn`, { method: 'POST', headers: keyed, body: '{}' })).json()) as {
      proxyEndpoint: string;
    };
    const token = session.proxyEndpoint.split('/ws/')[1];
    const ticketAnswer = await fetch(`${node}/tickets`, { method: 'POST', headers: keyed, body: '{}' });
    const { ticket, url } = (await ticketAnswer.json()) as { ticket: string; url: string };
    expect(await upgradeStatus(url.replace(/^ws/, 'http'), { Origin: APP_ORIGIN })).toBe(503);
    // A page of another origin opens the session's relay link: refused, and the link still joins.
    const relayLink = session.proxyEndpoint.replace(/^ws/, 'http');
    expect(await upgradeStatus(relayLink, { Origin: 'https://evil.example' })).toBe(403);
    // A client that sends its key in the URL (the event streams take it there), its name percent-encoded too.
    for (const name of ['access_token', 'access%5Ftoken']) {
      const answer = await fetch(`${node}/spawns/00000000-0000-4000-8000-000000000000/events?${name}=${KEY}`);
      expect(answer.status).toBe(404);
    }

    const lines = () => log.join('').split('\n');
    const logged = await waitFor(
      () => {
        const requests = lines().filter((line) => / "GET \/n\/node-a\/(\?|ws\/|spawns\/)/.test(line));
        return requests.length >= 4 ? requests : undefined;
      },
      10_000,
      { description: () => `HAProxy to log the four requests:\n${log.join('')}` },
    );
    expect(lines().filter((line) => [ticket, token, KEY].some((secret) => line.includes(secret)))).toEqual([]);
    // What is logged still says what was asked for.
    expect(logged.join('\n')).toContain('"GET /n/node-a/?renderingLocation=csr&ticket=*** HTTP/1.1"');
    expect(logged.join('\n')).toContain('"GET /n/node-a/ws/*** HTTP/1.1"');
    expect(logged.join('\n')).toContain('/events?access_token=*** HTTP/1.1"');
    // The 503 and 403 lines came from the node (its answers are relayed as they are).
    expect(logged.filter((line) => / 503 /.test(line) || / 403 /.test(line))).toHaveLength(2);
  });
});
