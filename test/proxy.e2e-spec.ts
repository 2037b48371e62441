/**
 * End to end, the WebSocket proxy: ws://<service>/ws/<id> joined to the session's simulator, with real
 * processes, real HTTP and real WebSockets. What the simulator received is read from its own log lines
 * (captured by the supervisor), and processes are checked through the OS.
 */
import { isLeased } from './fakes';
import { randomBytes } from 'crypto';
import { connect as tcpConnect } from 'net';
import request from 'supertest';
import { WebSocket } from 'ws';
import { AppConfig } from '../src/config/app-config';
import { PortAllocator } from '../src/ports/port-allocator.service';
import { PROXY_HIGH_WATER_MARK, WsProxyService } from '../src/proxy/ws-proxy.service';
import { relayUrlMatching } from './support/relay';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import {
  canBindPort,
  getSpawn as getSpawnView,
  postSpawn,
  startTrackedApp,
  waitForProcessGone,
  waitForSpawnState,
  type SpawnView,
  type TrackedApp,
} from './support/spawner-e2e';
import { connectViewer, ViewerRefusedError, type ViewerClient } from './support/viewer-client';
import { waitFor } from './support/wait';

const PORT_BASE = 22000;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE) };
const MiB = 1024 * 1024;

interface ProxiedView extends SpawnView {
  connectedAt: string | null;
  viewerLeftAt: string | null;
  bytesToServer: number;
  bytesToViewer: number;
}

async function getSpawn(url: string, id: string): Promise<ProxiedView> {
  return await getSpawnView(url, id);
}

async function spawnReady(app: TrackedApp): Promise<ProxiedView> {
  const response = await postSpawn(app.url, {});
  expect(response.status).toBe(200);
  return response.body as ProxiedView;
}

/** The HTTP status a refused handshake got (ws 'unexpected-response'), or a failure if it opened. */
async function refusedStatus(url: string): Promise<number> {
  try {
    const viewer = await connectViewer(url);
    viewer.ws.terminate();
  } catch (error) {
    if (error instanceof ViewerRefusedError) return error.status;
    throw error;
  }
  throw new Error(`the handshake to ${url} was accepted`);
}

/** The simulator's own log lines for a spawn, as the supervisor captured them. */
function simLog(app: TrackedApp, id: string): string {
  return app.supervisor.get(id)
    ? app.supervisor
        .logs(id)
        .map((l) => l.line)
        .join('\n')
    : '';
}

describe('WebSocket proxy (e2e)', () => {
  const cleanup = useCleanup();

  it('hello through the proxy; text and 1 MiB binary round-trip byte for byte; connected with byte counts; closing ends the session and frees its port', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, SC_MAX_SPAWNS: '1', SC_PORT_COUNT: '1' });
    const spawn = await spawnReady(app);
    expect(spawn.proxyEndpoint).toMatch(relayUrlMatching(`ws://127.0.0.1:${app.port}`));
    expect(spawn.endpoint).toBe(`ws://127.0.0.1:${PORT_BASE}`); // PUBLIC_ENDPOINT defaults to direct
    expect(spawn).toMatchObject({
      state: 'ready',
      connectedAt: null,
      viewerLeftAt: null,
      bytesToServer: 0,
      bytesToViewer: 0,
    });

    const viewer = await connectViewer(spawn.proxyEndpoint, { cleanup });
    const hello = await viewer.next();
    expect(hello.isBinary).toBe(false);
    expect(JSON.parse(hello.text)).toMatchObject({ type: 'hello', id: spawn.id });

    const connected = await getSpawn(app.url, spawn.id);
    expect(connected.state).toBe('connected');
    expect(Date.parse(connected.connectedAt!)).toBeGreaterThanOrEqual(Date.parse(spawn.readyAt!));

    const text = `text through the proxy: héllo ✓ ${'ü'.repeat(1000)}`;
    await viewer.send(text);
    const textEcho = await viewer.next();
    expect(textEcho.isBinary).toBe(false);
    expect(textEcho.text).toBe(text);

    const binary = randomBytes(MiB);
    await viewer.send(binary);
    const binaryEcho = await viewer.next();
    expect(binaryEcho.isBinary).toBe(true);
    expect(binaryEcho.data.length).toBe(MiB);
    expect(binaryEcho.data.equals(binary)).toBe(true);

    // A large text message (multi-byte UTF-8 split across many TCP reads) stays text and intact.
    const bigText = 'Ω≈ç√∫˜µ≤≥÷ '.repeat(40_000);
    await viewer.send(bigText);
    const bigTextEcho = await viewer.next();
    expect(bigTextEcho.isBinary).toBe(false);
    expect(bigTextEcho.text === bigText).toBe(true);

    // Every payload byte counted, each way.
    const sent = Buffer.byteLength(text) + MiB + Buffer.byteLength(bigText);
    // The relay process reports its counts up to 20 ms after the bytes went through.
    let counted = await getSpawn(app.url, spawn.id);
    await waitFor(
      async () => (counted = await getSpawn(app.url, spawn.id)).bytesToViewer >= hello.data.length + sent,
      2000,
      {
        description: () => `the relay's count of the echoes (${counted.bytesToViewer} bytes to the viewer so far)`,
      },
    );
    expect(counted).toMatchObject({ state: 'connected', bytesToServer: sent, bytesToViewer: hello.data.length + sent });

    await viewer.close(1000, 'done');
    await waitFor(() => simLog(app, spawn.id).includes('viewer closed (1000)'), 5000, {
      description: () => `the server to see 1000:\n${simLog(app, spawn.id)}`,
    });
    await waitForProcessGone(spawn.pid!);
    const ended = await waitForSpawnState(app.url, spawn.id, 'exited');
    expect(ended).toMatchObject({
      exitCode: 0,
      endReason: 'the server reported disconnect after its viewer left, and exited (code 0)',
      bytesToServer: sent,
    });
    expect(Date.parse(ended.viewerLeftAt!)).toBeGreaterThanOrEqual(Date.parse(connected.connectedAt!));
    expect(app.events.filter((e) => e.id === spawn.id).map((e) => e.state)).toEqual([
      'starting',
      'ready',
      'connected',
      'disconnected',
      'exited',
    ]);
    expect(isLeased(app.app.get(PortAllocator), PORT_BASE)).toBe(false);
    expect(await canBindPort(PORT_BASE)).toBe(true);
    expect(app.app.get(WsProxyService).activeCount).toBe(0);

    // The one port came back: a new session gets it, and the ended one is refused (404).
    const again = await spawnReady(app);
    expect(again.wsPort).toBe(PORT_BASE);
    expect(await refusedStatus(spawn.proxyEndpoint)).toBe(404);
  });

  it('refuses the handshake before it happens: 404 unknown id or path, 409 second viewer (also one attached directly)', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const wsBase = `ws://127.0.0.1:${app.port}`;
    expect(await refusedStatus(`${wsBase}/ws/no-such-session`)).toBe(404);
    expect(await refusedStatus(`${wsBase}/ws/a/b`)).toBe(404);
    // /ws is the relay's, never spawn on connect: under this node's prefix as at the root.
    const node = app.app.get(AppConfig).nodeName;
    for (const path of ['/ws', '/ws?x=1', `/n/${node}/ws`, `/n/${node}/ws/`, `/n/${node}/ws?x=1`]) {
      expect({ path, status: await refusedStatus(`${wsBase}${path}`) }).toEqual({ path, status: 404 });
    }
    expect(app.supervisor.list()).toEqual([]);
    // Other paths spawn a server for the viewer (the HOOPS Server's proxy mode), unless SPAWN_ON_CONNECT=false.
    const noSpawnOnConnect = await startTrackedApp(cleanup, { ...ENV, SPAWN_ON_CONNECT: 'false' });
    expect(await refusedStatus(`ws://127.0.0.1:${noSpawnOnConnect.port}/elsewhere`)).toBe(404);
    expect(await refusedStatus(`ws://127.0.0.1:${noSpawnOnConnect.port}/?renderingLocation=csr`)).toBe(404);
    expect(noSpawnOnConnect.supervisor.list()).toEqual([]);

    const first = await spawnReady(app);
    const viewer = await connectViewer(first.proxyEndpoint, { cleanup });
    await viewer.next(); // hello
    expect(await refusedStatus(first.proxyEndpoint)).toBe(409);
    // The refused attempt did not disturb the attached viewer.
    await viewer.send('still here');
    expect((await viewer.next()).text).toBe('still here');

    // A viewer attached directly to the server's port: the server's own 409 comes back through the proxy.
    const second = await spawnReady(app);
    const direct = await connectViewer(second.endpoint, { cleanup });
    await direct.next();
    expect(await refusedStatus(second.proxyEndpoint)).toBe(409);
    expect((await getSpawn(app.url, second.id)).state).toBe('ready'); // the proxy never attached

    // Plain HTTP on the proxy path is not swallowed by the upgrade handling.
    await request(app.url).get(`/ws/${first.id}`).expect(404);
    expect(app.app.get(WsProxyService).connections()).toEqual([
      expect.objectContaining({ id: first.id, phase: 'open' }),
    ]);
  });

  it('routes upgrades as the HTTP routes read requests: h2c (curl --http2) is a plain request; an absolute-form target joins its session', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const h2c = { Connection: 'Upgrade, HTTP2-Settings', Upgrade: 'h2c', 'HTTP2-Settings': 'AAMAAABkAAQCAAAAAAIAAAAA' };
    await request(app.url).get('/health').set(h2c).expect(200);
    const spawned = await request(app.url).post('/spawn').set(h2c).send({ rendererType: 'csr' }).expect(200);
    expect(spawned.body).toMatchObject({ state: 'ready' });
    await request(app.url).get('/nothing-here').set(h2c).expect(404);
    // A WebSocket upgrade still goes to the relay, in any case and among other offers.
    const upgrade = { Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'short' };
    await request(app.url)
      .get('/ws/x')
      .set({ ...upgrade, Upgrade: 'h2c, WebSocket' })
      .expect(400);

    // GET http://host/ws/<token> (absolute form, as a forward proxy sends it) joins that session, spawning nothing.
    const link = new URL((spawned.body as ProxiedView).proxyEndpoint);
    const socket = tcpConnect(app.port, '127.0.0.1');
    cleanup.add(() => void socket.destroy(), 'absolute-form viewer');
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET http://${link.host}${link.pathname} HTTP/1.1\r\nHost: ${link.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    await waitFor(() => answer.includes('"type":"hello"'), 5000, { description: () => `the hello: ${answer}` });
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    expect(answer).toContain(`"id":"${spawned.body.id}"`);
    expect(app.supervisor.list()).toHaveLength(1);
  });

  it('relays closes both ways with the same code (4000 to the server, 1001 to the viewer); a dropped side becomes 1011 for the other', async () => {
    const app = await startTrackedApp(cleanup, ENV);

    const a = await spawnReady(app);
    const viewerA = await connectViewer(a.proxyEndpoint, { cleanup });
    await viewerA.next();
    expect(await viewerA.close(4000, 'viewer done')).toEqual({ code: 4000, reason: 'viewer done' });
    await waitFor(() => simLog(app, a.id).includes('viewer closed (4000)'), 5000, {
      description: () => `the server to see 4000:\n${simLog(app, a.id)}`,
    });
    await waitForSpawnState(app.url, a.id, 'exited');

    // A server stopped on its own (SIGTERM) closes its socket with 1001 "server shutting down"; the viewer sees exactly that.
    const b = await spawnReady(app);
    const viewerB = await connectViewer(b.proxyEndpoint, { cleanup });
    await viewerB.next();
    process.kill(b.pid!, 'SIGTERM');
    expect(await viewerB.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    await waitForProcessGone(b.pid!);

    // DELETE: the relay closes the viewer first with 4003 "stopped by operator" (docs/session-limits.md).
    const e = await spawnReady(app);
    const viewerE = await connectViewer(e.proxyEndpoint, { cleanup });
    await viewerE.next();
    await request(app.url).delete(`/spawns/${e.id}`).expect(202);
    expect(await viewerE.closed).toEqual({ code: 4003, reason: 'stopped by operator' });
    await waitForProcessGone(e.pid!);

    // A viewer that vanishes without a close frame (1006): the server gets 1011, the session ends.
    const c = await spawnReady(app);
    const viewerC = await connectViewer(c.proxyEndpoint, { cleanup });
    await viewerC.next();
    viewerC.ws.terminate();
    await waitFor(() => simLog(app, c.id).includes('viewer closed (1011)'), 5000, {
      description: () => `the server to see 1011:\n${simLog(app, c.id)}`,
    });
    await waitForSpawnState(app.url, c.id, 'exited');
    await waitForProcessGone(c.pid!);

    // A server that dies without a close frame: the viewer gets 1011 from the proxy instead of a bare drop.
    const d = await spawnReady(app);
    const viewerD = await connectViewer(d.proxyEndpoint, { cleanup });
    await viewerD.next();
    process.kill(d.pid!, 'SIGKILL');
    expect(await viewerD.closed).toEqual({ code: 1011, reason: 'server connection lost' });
    expect(await waitForSpawnState(app.url, d.id, 'exited')).toMatchObject({ signal: 'SIGKILL' });
    // The relay process reports the tunnel's end over its own channel, which may come after the exit is seen.
    await waitFor(() => app.app.get(WsProxyService).activeCount === 0, 5000, {
      description: () => `the relay to forget ${d.id} (${app.app.get(WsProxyService).activeCount} left)`,
    });
  });

  it('respects backpressure: a viewer that stops reading pauses the server side, nothing is lost', async () => {
    // The test's client masks tens of MiB in this process, which also runs the service: on a slow machine that
    // can hold up the event loop for a while, so a longer ping timeout keeps the liveliness sweep out of this test.
    const app = await startTrackedApp(cleanup, { ...ENV, PING_TIMEOUT_S: '10' });
    const proxy = app.app.get(WsProxyService);
    const spawn = await spawnReady(app);
    const viewer = await connectViewer(spawn.proxyEndpoint, { cleanup });
    await viewer.next();

    viewer.ws.pause(); // stop reading: the echoes pile up toward the viewer
    const count = 48;
    const messages = Array.from({ length: count }, (_, i) => Buffer.alloc(MiB, i));
    let maxBuffered = 0;
    const sampler = setInterval(() => {
      for (const c of proxy.connections()) maxBuffered = Math.max(maxBuffered, c.toViewer?.buffered ?? 0);
    }, 5);
    try {
      for (const message of messages) viewer.ws.send(message);
      const paused = await waitFor(() => proxy.connections().find((c) => c.toViewer?.serverPaused), 10000, {
        description: () =>
          `the proxy to pause the server side: ${JSON.stringify(proxy.connections())}; spawn ${app.supervisor.get(spawn.id)?.state} ${app.supervisor.get(spawn.id)?.endReason}; viewer ${viewer.ws.readyState}:\n${simLog(app, spawn.id)}`,
      });
      expect(paused.toViewer!.buffered).toBeGreaterThan(PROXY_HIGH_WATER_MARK);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Still paused, and what waits for the viewer stays bounded (high-water mark plus the read that crossed it).
      expect(proxy.connections()[0].toViewer!.serverPaused).toBe(true);
      expect(maxBuffered).toBeLessThanOrEqual(PROXY_HIGH_WATER_MARK + 128 * 1024);
      expect(viewer.messages.length).toBe(1);

      viewer.ws.resume();
      await waitFor(() => viewer.messages.length === count + 1, 20000, {
        description: () => `${count} echoes (got ${viewer.messages.length - 1})`,
      });
    } finally {
      clearInterval(sampler);
    }
    expect(maxBuffered).toBeLessThanOrEqual(PROXY_HIGH_WATER_MARK + 128 * 1024);
    viewer.messages.slice(1).forEach((m, i) => {
      expect(m.isBinary).toBe(true);
      expect(m.data.equals(messages[i])).toBe(true);
    });
    expect(proxy.connections()[0].toViewer!.serverPaused).toBe(false);
    // The relay process reports its counts up to 20 ms after the bytes went through.
    let bytesToViewer = 0;
    await waitFor(
      async () => (bytesToViewer = (await getSpawn(app.url, spawn.id)).bytesToViewer) >= count * MiB,
      2000,
      {
        description: () => `the relay's count of ${count} MiB to the viewer (${bytesToViewer} bytes so far)`,
      },
    );
  });

  it('a viewer the server refuses (wrong session token, 1008) frees the session for another viewer: connected, then ready again', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, { sessionToken: 'right-token' });
    expect(response.status).toBe(200);
    const spawn = response.body as ProxiedView;

    const intruder = await connectViewer(spawn.proxyEndpoint, { cleanup });
    await intruder.send(JSON.stringify({ sessionToken: 'wrong-token' }));
    expect(await intruder.closed).toMatchObject({ code: 1008 });
    const afterRefusal = await waitForSpawnState(app.url, spawn.id, 'ready');
    expect(afterRefusal).toMatchObject({ connectedAt: null, viewerLeftAt: null });
    expect(app.events.filter((e) => e.id === spawn.id).map((e) => e.state)).toEqual([
      'starting',
      'ready',
      'connected',
      'ready',
    ]);

    const viewer = await connectViewer(spawn.proxyEndpoint, { cleanup });
    await viewer.send(JSON.stringify({ sessionToken: 'right-token' }));
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: spawn.id, sessionToken: true });
    expect((await getSpawn(app.url, spawn.id)).state).toBe('connected');
    // Still alive well past the ping timeout: the refusal did not mark the session as abandoned.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await getSpawn(app.url, spawn.id)).state).toBe('connected');
    await viewer.close();
    await waitForSpawnState(app.url, spawn.id, 'exited');
  });

  it('a viewer spawned on connect that its server refuses (1008) ends its session at once: nobody else has its link', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const ticket = await request(app.url).post('/tickets').send({ sessionToken: 'right-token' }).expect(200);
    const viewer = await connectViewer(ticket.body.url as string, { cleanup });
    await viewer.send(JSON.stringify({ sessionToken: 'wrong-token' }));
    expect(await viewer.closed).toMatchObject({ code: 1008 });
    const [spawn] = app.supervisor.list();
    // Well before its server's initial-use duration (30 s) would end it.
    const ended = await waitForSpawnState(app.url, spawn.id, 'exited', 3000);
    expect(ended.endReason).toContain('its server refused the viewer it was spawned for');
  });

  it('PUBLIC_ENDPOINT=proxy advertises the proxy path in POST /spawn and in the HOOPS API, and it works', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, PUBLIC_ENDPOINT: 'proxy' });
    const spawn = await spawnReady(app);
    expect(spawn.endpoint).toMatch(relayUrlMatching(`ws://127.0.0.1:${app.port}`));
    expect(spawn.endpoint).toBe(spawn.proxyEndpoint);

    const hoops = await request(app.url).post('/api/spawn').send({ class: 'csr_session' }).expect(200);
    expect(hoops.body).toMatchObject({ result: 'ok' });
    expect(hoops.body.endpoints.ws).toMatch(relayUrlMatching(`ws://127.0.0.1:${app.port}`));

    for (const url of [spawn.endpoint, hoops.body.endpoints.ws as string]) {
      const viewer: ViewerClient = await connectViewer(url, { cleanup });
      expect(await viewer.nextJson()).toMatchObject({ type: 'hello' });
    }
  });

  it('shutting the service down closes proxied viewers with 1001 and stops their servers', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const spawn = await spawnReady(app);
    const viewer = await connectViewer(spawn.proxyEndpoint, { cleanup });
    await viewer.next();
    expect(viewer.ws.readyState).toBe(WebSocket.OPEN);

    const startedAt = Date.now();
    await app.close();
    expect(Date.now() - startedAt).toBeLessThan(5000);
    const closed = await viewer.closed;
    expect(closed.code).toBe(1001);
    await waitForProcessGone(spawn.pid!);
    // A late upgrade finds nobody listening.
    await expect(connectViewer(spawn.proxyEndpoint, { timeoutMs: 2000 })).rejects.toThrow();
  });
});
