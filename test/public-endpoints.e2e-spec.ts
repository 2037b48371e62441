/**
 * End to end: the endpoints a client is given name this service the way the client reached it, or as configured
 * (PUBLIC_HOSTNAME, PUBLIC_SCHEME, trusted X-Forwarded-Proto), in both APIs; and they work.
 */
import { relayUrlMatching } from './support/relay';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import { rawRequest, startTrackedApp, type TrackedApp } from './support/spawner-e2e';
import { connectViewer } from './support/viewer-client';

const PORT_BASE = 23200;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE), SC_MAX_SPAWNS: '4' };

interface Advertised {
  endpoint: string;
  proxyEndpoint: string;
  hoops: string;
}

describe('advertised endpoints (e2e)', () => {
  const cleanup = useCleanup();

  /** Spawns through both APIs with the given request headers; returns what each advertised, then stops both. */
  async function advertised(
    app: TrackedApp,
    headers: Record<string, string>,
  ): Promise<Advertised & { id: string; wsPort: number }> {
    const json = { 'content-type': 'application/json', ...headers };
    const spawn = await rawRequest(app.url, 'POST', '/spawn', '{}', json);
    expect(spawn.status).toBe(200);
    const hoops = await rawRequest(app.url, 'POST', '/api/spawn', '{"class":"csr_session"}', json);
    expect(hoops.status).toBe(200);
    const view = spawn.json();
    for (const id of [view.id, hoops.json().serviceId]) await rawRequest(app.url, 'DELETE', `/spawns/${id}`);
    return {
      id: view.id,
      wsPort: view.wsPort,
      endpoint: view.endpoint,
      proxyEndpoint: view.proxyEndpoint,
      hoops: hoops.json().endpoints.ws,
    };
  }

  it('by default names the host the client used: its name for the direct port, its host:port for the proxy', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const seen = await advertised(app, { host: 'viewer.example:8080' });
    expect(seen.endpoint).toBe(`ws://viewer.example:${seen.wsPort}`);
    expect(seen.proxyEndpoint).toMatch(relayUrlMatching('ws://viewer.example:8080'));
    const hoopsPort = Number(/^ws:\/\/viewer\.example:(\d+)$/.exec(seen.hoops)?.[1]);
    expect(hoopsPort).toBeGreaterThanOrEqual(PORT_BASE);
    expect(hoopsPort).toBeLessThan(PORT_BASE + 8);
    expect(hoopsPort).not.toBe(seen.wsPort);

    const ipv6 = await advertised(app, { host: '[::1]:9000' });
    expect(ipv6.endpoint).toBe(`ws://[::1]:${ipv6.wsPort}`);
    expect(ipv6.proxyEndpoint).toMatch(relayUrlMatching('ws://[::1]:9000'));

    // Behind a balancer on the default port the Host header has none, and neither has the proxy URL.
    const balanced = await advertised(app, { host: 'viewers.example' });
    expect(balanced.proxyEndpoint).toMatch(relayUrlMatching('ws://viewers.example'));
  });

  it('PUBLIC_HOSTNAME replaces the host; PUBLIC_SCHEME=wss makes every advertised URL wss://', async () => {
    const app = await startTrackedApp(cleanup, {
      ...ENV,
      PUBLIC_HOSTNAME: 'node7.viewers.example',
      PUBLIC_SCHEME: 'wss',
    });
    const seen = await advertised(app, { host: '10.1.2.3:11182' });
    expect(seen.endpoint).toBe(`wss://node7.viewers.example:${seen.wsPort}`);
    expect(seen.proxyEndpoint).toMatch(relayUrlMatching('wss://node7.viewers.example:11182'));
    expect(seen.hoops).toMatch(/^wss:\/\/node7\.viewers\.example:\d+$/);
  });

  it('X-Forwarded-Proto: https gives wss:// only when TRUST_PROXY is set', async () => {
    const untrusting = await startTrackedApp(cleanup, ENV);
    const ignored = await advertised(untrusting, { host: 'viewer.example', 'x-forwarded-proto': 'https' });
    expect(ignored.proxyEndpoint).toMatch(relayUrlMatching('ws://viewer.example'));

    const trusting = await startTrackedApp(cleanup, {
      ...ENV,
      SC_PORT_BASE: String(PORT_BASE + 20),
      TRUST_PROXY: 'true',
    });
    const honoured = await advertised(trusting, { host: 'viewer.example', 'x-forwarded-proto': 'https' });
    expect(honoured.proxyEndpoint).toMatch(relayUrlMatching('wss://viewer.example'));
    expect(honoured.hoops).toMatch(/^wss:\/\/viewer\.example:\d+$/);
  });

  it('PUBLIC_ENDPOINT=proxy with the Host the client used gives a URL that reaches the session', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, PUBLIC_ENDPOINT: 'proxy' });
    const response = await rawRequest(app.url, 'POST', '/api/spawn', '{}', {
      'content-type': 'application/json',
      host: `localhost:${app.port}`,
    });
    const ws = response.json().endpoints.ws as string;
    expect(ws).toMatch(relayUrlMatching(`ws://localhost:${app.port}`));
    const viewer = await connectViewer(ws, { cleanup });
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: response.json().serviceId });
    await viewer.close();
  });
});
