/**
 * End to end: servers started with a certificate (SC_EXTRA_ARGS) serve wss://; both APIs advertise wss:// for
 * them (the HOOPS key stays `ws`), a viewer that trusts the certificate gets the hello, and the proxy on the
 * service's plain port still reaches them.
 */
import { readFileSync } from 'fs';
import WebSocket from 'ws';
import { relayUrlMatching } from './support/relay';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import { postSpawn, procArgv, rawRequest, startTrackedApp, type SpawnView } from './support/spawner-e2e';
import { TEST_CERT, tlsFiles } from './support/tls-fixture';
import { connectViewer } from './support/viewer-client';

const PORT_BASE = 23300;

/** The first message on a wss:// connection that trusts only our test certificate. */
function helloOverTls(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { ca: readFileSync(TEST_CERT) });
    socket.once('message', (data) => {
      socket.close();
      resolve(JSON.parse((data as Buffer).toString()));
    });
    socket.once('error', reject);
  });
}

describe('servers with TLS (e2e)', () => {
  const cleanup = useCleanup();

  it('advertises wss:// for the servers, which answer over TLS, while the proxy stays on the plain service port', async () => {
    const tls = tlsFiles(cleanup);
    const app = await startTrackedApp(cleanup, {
      ...FAST_TIMINGS,
      SC_PORT_BASE: String(PORT_BASE),
      SC_EXTRA_ARGS: JSON.stringify(tls.args),
    });
    const response = await postSpawn(app.url, {});
    expect(response.status).toBe(200);
    const spawn = response.body as SpawnView;
    expect(spawn.endpoint).toBe(`wss://127.0.0.1:${spawn.wsPort}`);
    expect(spawn.proxyEndpoint).toMatch(relayUrlMatching(`ws://127.0.0.1:${app.port}`));
    expect(procArgv(spawn.pid!)).toEqual(expect.arrayContaining(tls.args));

    const viewer = await connectViewer(spawn.proxyEndpoint, { cleanup });
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: spawn.id });
    await viewer.close();

    const hoops = await rawRequest(app.url, 'POST', '/api/spawn', '{}', { 'content-type': 'application/json' });
    const { serviceId, endpoints } = hoops.json();
    expect(endpoints.ws).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    expect(await helloOverTls(endpoints.ws)).toMatchObject({ type: 'hello', id: serviceId });
  });
});
