/**
 * End to end, the session policies: idle and lifetime limits with their `expiring` warning and their close
 * codes, a DELETE's close code, per-key quotas on every spawn path, and what each session costs. Real
 * simulator processes, real HTTP, real WebSockets through the relay; ports checked through the OS.
 */
import { chromium } from 'playwright-core';
import request from 'supertest';
import { WebSocket } from 'ws';
import type { IncomingMessage } from 'http';
import { DrainService } from '../src/drain/drain.service';
import { PortAllocator } from '../src/ports/port-allocator.service';
import { isLeased } from './fakes';
import { freePort } from './support/ports';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import {
  canBindPort,
  getSpawn,
  postSpawn,
  startTrackedApp,
  waitForSpawnState,
  waitForSpawnView,
  type TrackedApp,
} from './support/spawner-e2e';
import { openSse } from './support/sse-client';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';
import { connectViewer, type ViewerClient } from './support/viewer-client';
import { sleep, waitFor } from './support/wait';

/** This file's WebSocket ports: 30500-30999 (test/support/README.md). */
const PORTS = {
  idle: 30500,
  active: 30520,
  lifetime: 30540,
  request: 30560,
  quota: 30580,
  cost: 30600,
  direct: 30620,
  dashboard: 30640,
  warm: 30660,
  drain: 30680,
  ticket: 30700,
  ticketLifetime: 30720,
  door: 30740,
};
const PROXY = { ...FAST_TIMINGS, PUBLIC_ENDPOINT: 'proxy' };
const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdef';

function env(portBase: number, extra: Record<string, string>): Record<string, string> {
  return { ...PROXY, SC_PORT_BASE: String(portBase), SC_PORT_COUNT: '4', SC_MAX_SPAWNS: '4', ...extra };
}

async function spawnAndView(app: TrackedApp, cleanup: ReturnType<typeof useCleanup>, body: object = {}) {
  const response = await postSpawn(app.url, body);
  expect(response.status).toBe(200);
  const spawn = response.body as { id: string; endpoint: string; wsPort: number; pid: number };
  const viewer = await connectViewer(spawn.endpoint, { cleanup });
  await viewer.next(); // the server's hello
  // Watching starts at the join: a warning given before it (a slow machine) was cancelled by it.
  const connectedAt = Date.parse((await getSpawn(app.url, spawn.id)).connectedAt!);
  const warnedAfterJoin = (e: { event?: string; id?: string; at?: string }, event = 'expiring') =>
    e.event === event && e.id === spawn.id && Date.parse(e.at!) >= connectedAt;
  return { spawn, viewer, connectedAt, warnedAfterJoin };
}

/** Sends a small message every `everyMs` until stopped (the viewer's activity). */
function keepActive(viewer: ViewerClient, everyMs: number): () => void {
  const timer = setInterval(() => void viewer.send('still here').catch(() => undefined), everyMs);
  return () => clearInterval(timer);
}

/** A spawn-on-connect WebSocket with headers; resolves with the HTTP refusal (status, headers) or 'open'. */
function connectRefusal(url: string, headers: Record<string, string>): Promise<IncomingMessage | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolve('open');
      ws.terminate();
    });
    ws.on('error', (error) => reject(error));
  });
}

describe('session limits (e2e)', () => {
  const cleanup = useCleanup();
  // Real limits of a few seconds each, on a machine that may be shared: room beyond the default 30 s.
  jest.setTimeout(90_000);

  it('an idle viewer is warned (expiring), then closed with 4001 "idle timeout"; the server ends and its port comes back', async () => {
    const app = await startTrackedApp(
      cleanup,
      env(PORTS.idle, { SC_IDLE_TIMEOUT_S: '4', SC_END_WARNING_S: '3', SC_PORT_COUNT: '1', SC_MAX_SPAWNS: '1' }),
    );
    const events = await openSse(app.url, '/events', { cleanup });
    const { spawn, viewer, warnedAfterJoin } = await spawnAndView(app, cleanup);
    expect((await getSpawn(app.url, spawn.id)).watched).toBe(true);

    const warning = await events.waitForEvent((e) => warnedAfterJoin(e), 8000);
    expect(warning).toMatchObject({ id: spawn.id, event: 'expiring', reason: 'idle', secondsLeft: 3 });
    expect(events.raw()).toContain('event: expiring\n');
    const view = await getSpawn(app.url, spawn.id);
    if (view.state === 'connected') expect(view.expiring).toMatchObject({ reason: 'idle', secondsLeft: 3 });

    const close = await viewer.closed;
    expect(close).toEqual({ code: 4001, reason: 'idle timeout' });
    const ended = await waitForSpawnState(app.url, spawn.id, 'exited', 8000);
    expect(ended.endReason).toBe('idle timeout: its viewer sent nothing for 4 s');
    expect(Date.parse(ended.endedAt!)).toBeGreaterThan(Date.parse(warning.at));
    const states = app.events.filter((e) => e.id === spawn.id).map((e) => e.state);
    expect(states).toEqual(['starting', 'ready', 'connected', 'terminating', 'exited']);
    await waitFor(() => !isLeased(app.app.get(PortAllocator), PORTS.idle), 5000, { description: 'the port back' });
    expect(await canBindPort(PORTS.idle)).toBe(true);
    // The port is usable again: a new session gets it.
    expect((await postSpawn(app.url, {})).body.wsPort).toBe(PORTS.idle);
  });

  it('a viewer sending messages outlives the idle timeout; activity after the warning cancels it', async () => {
    const app = await startTrackedApp(cleanup, env(PORTS.active, { SC_IDLE_TIMEOUT_S: '4', SC_END_WARNING_S: '3' }));
    const events = await openSse(app.url, '/events', { cleanup });
    const { spawn, viewer, warnedAfterJoin } = await spawnAndView(app, cleanup);
    const warning = await events.waitForEvent((e) => warnedAfterJoin(e), 8000);
    await viewer.send('back');
    const cancelled = await events.waitForEvent(
      (e) => warnedAfterJoin(e, 'expiring_cancelled') && Date.parse(e.at) >= Date.parse(warning.at),
      5000,
    );
    expect(cancelled).toMatchObject({ reason: 'idle' });

    const stop = keepActive(viewer, 300);
    await sleep(9000); // over twice the idle timeout
    stop();
    const view = await getSpawn(app.url, spawn.id);
    expect(view).toMatchObject({ state: 'connected', expiring: null });
    expect(view.relay.toServer.messages).toBeGreaterThanOrEqual(10);
    expect(Date.now() - Date.parse(view.lastActivityAt!)).toBeLessThan(3000);
    expect(events.events.filter((e) => warnedAfterJoin(e))).toHaveLength(1);
    await viewer.close();
  }, 60_000);

  it('a lifetime limit ends an active viewer with 4002 "lifetime reached"', async () => {
    const app = await startTrackedApp(cleanup, env(PORTS.lifetime, { SC_MAX_SESSION_S: '5', SC_END_WARNING_S: '3' }));
    const events = await openSse(app.url, '/events', { cleanup });
    const { spawn, viewer } = await spawnAndView(app, cleanup);
    const stop = keepActive(viewer, 100);
    try {
      const warning = await events.waitForEvent((e) => e.event === 'expiring' && e.id === spawn.id, 8000);
      expect(warning).toMatchObject({ reason: 'lifetime' });
      expect(await viewer.closed).toEqual({ code: 4002, reason: 'lifetime reached' });
    } finally {
      stop();
    }
    const ended = await waitForSpawnState(app.url, spawn.id, 'exited', 10_000);
    expect(ended.endReason).toBe('lifetime reached: it ran for 5 s');
    expect(Date.parse(ended.endedAt!) - Date.parse(ended.startedAt)).toBeGreaterThanOrEqual(5000);
  });

  it("a request's lower maxSessionSeconds is honoured, a higher one refused (400 naming the field); DELETE closes with 4003", async () => {
    const app = await startTrackedApp(cleanup, env(PORTS.request, { SC_MAX_SESSION_S: '60', SC_END_WARNING_S: '0' }));
    const refused = await postSpawn(app.url, { maxSessionSeconds: 61 });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('maxSessionSeconds (61) is above');
    expect(refused.body.message).toContain('SC_MAX_SESSION_S (60 s)');
    const notNumber = await postSpawn(app.url, { maxSessionSeconds: 'soon' });
    expect(notNumber.status).toBe(400);
    expect(JSON.stringify(notNumber.body.message)).toContain('maxSessionSeconds');

    const { spawn, viewer } = await spawnAndView(app, cleanup, { maxSessionSeconds: 4 });
    expect((await getSpawn(app.url, spawn.id)).maxSessionSeconds).toBe(4);
    expect(await viewer.closed).toEqual({ code: 4002, reason: 'lifetime reached' });
    expect((await waitForSpawnState(app.url, spawn.id, 'exited', 10_000)).endReason).toBe(
      'lifetime reached: it ran for 4 s',
    );

    const second = await spawnAndView(app, cleanup);
    expect((await request(app.url).delete(`/spawns/${second.spawn.id}`)).status).toBe(202);
    expect(await second.viewer.closed).toEqual({ code: 4003, reason: 'stopped by operator' });
  });

  it('a key at its quota gets 429 with Retry-After on every spawn path, while another key still spawns', async () => {
    const app = await startTrackedApp(
      cleanup,
      env(PORTS.quota, {
        API_KEYS: `alice=${ALICE},${BOB}`,
        SC_KEY_MAX_SESSIONS: 'alice=1,*=2',
        SC_MAX_SPAWNS: '5',
        SC_PORT_COUNT: '5',
      }),
    );
    const as = (key: string) => ({ Authorization: `Bearer ${key}` });
    const first = await postSpawn(app.url, {}).set(as(ALICE));
    expect(first.status).toBe(200);
    expect(first.body.key).toBe('alice');

    const refused = await postSpawn(app.url, {}).set(as(ALICE));
    expect(refused.status).toBe(429);
    expect(refused.body.message).toBe(
      'session quota reached: key alice already has 1 live session(s) on this node (SC_KEY_MAX_SESSIONS); end one (DELETE /spawns/:id) or retry later',
    );
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const hoops = await request(app.url).post('/api/spawn').set(as(ALICE)).send({ class: 'csr_session' });
    expect(hoops.status).toBe(429);
    expect(hoops.body).toEqual({ status: 'failed', reason: expect.stringContaining('key alice') });
    expect(hoops.headers['retry-after']).toBeDefined();
    const onConnect = await connectRefusal(`ws://127.0.0.1:${app.port}/?renderingLocation=csr`, as(ALICE));
    expect(onConnect).not.toBe('open');
    expect((onConnect as IncomingMessage).statusCode).toBe(429);
    expect((onConnect as IncomingMessage).headers['retry-after']).toBeDefined();

    // The bare key is key-1, under '*'; so is an anonymous caller (by address).
    const bob = await postSpawn(app.url, {}).set(as(BOB));
    expect(bob.status).toBe(200);
    expect(bob.body.key).toBe('key-1');
    const anonymous = await postSpawn(app.url, {});
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.key).toBeNull();

    const metrics = await request(app.url).get('/metrics').set(as(ALICE));
    expect(metrics.text).toContain('sc_spawner_spawn_rejections_total{reason="quota",key="alice"} 3');
    expect(metrics.text).not.toContain(ALICE);
    expect(metrics.text).not.toMatch(/reason="rate_limit"} [1-9]/);

    // Ending alice's session gives her quota back.
    await request(app.url).delete(`/spawns/${first.body.id}`).set(as(ALICE));
    expect((await postSpawn(app.url, {}).set(as(ALICE))).status).toBe(200);
  });

  it('a spawn ticket carries maxSessionSeconds to its session; one above SC_MAX_SESSION_S is refused (400)', async () => {
    const app = await startTrackedApp(
      cleanup,
      env(PORTS.ticketLifetime, { SC_MAX_SESSION_S: '60', SC_END_WARNING_S: '0' }),
    );
    const refused = await request(app.url).post('/tickets').send({ maxSessionSeconds: 61 });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('maxSessionSeconds (61) is above');

    const issued = await request(app.url).post('/tickets').send({ maxSessionSeconds: 3 });
    expect(issued.status).toBe(200);
    const viewer = await connectViewer(issued.body.url as string, { cleanup });
    await viewer.next(); // the server's hello
    const stop = keepActive(viewer, 200);
    try {
      const [spawn] = (await request(app.url).get('/spawns')).body as { maxSessionSeconds: number | null }[];
      expect(spawn.maxSessionSeconds).toBe(3);
      expect(await viewer.closed).toEqual({ code: 4002, reason: 'lifetime reached' });
    } finally {
      stop();
    }
  });

  it('a full node refuses spawn on connect at the door: the ticket and the rate budget are still there after', async () => {
    const app = await startTrackedApp(
      cleanup,
      env(PORTS.door, { API_KEYS: `alice=${ALICE}`, SC_MAX_SPAWNS: '1', SPAWN_RATE_LIMIT: '3/60s' }),
    );
    const as = { Authorization: `Bearer ${ALICE}` };
    const ticketUrl = (await request(app.url).post('/tickets').set(as).send({})).body.url as string;
    const held = await postSpawn(app.url, {}).set(as);
    expect(held.status).toBe(200);

    // Four spawns on connect at a full node, one with the ticket: each 503 with Retry-After, none counted.
    const onConnect = `${app.url.replace(/^http/, 'ws')}/`;
    for (const [url, headers] of [
      [ticketUrl, {}],
      [onConnect, as],
      [onConnect, as],
      [onConnect, as],
    ] as const) {
      const full = await connectRefusal(url, headers);
      expect(full).not.toBe('open');
      expect((full as IncomingMessage).statusCode).toBe(503);
      expect((full as IncomingMessage).headers['retry-after']).toBeDefined();
    }

    expect(
      (
        await request(app.url)
          .delete(`/spawns/${(held.body as { id: string }).id}`)
          .set(as)
      ).status,
    ).toBe(202);
    await waitFor(() => app.supervisor.list().every((spawn) => spawn.state === 'exited'), 10_000, {
      description: 'the held session to end',
    });
    const viewer = await connectViewer(ticketUrl, { cleanup });
    await viewer.next(); // the server's hello: the ticket was not used up by the refusals
    expect(app.supervisor.list().filter((spawn) => spawn.state !== 'exited')).toHaveLength(1);
  });

  it("a spawn ticket's session is its key's: the key's quota applies at the upgrade and POST /tickets, and the session shows its name", async () => {
    const app = await startTrackedApp(
      cleanup,
      env(PORTS.ticket, {
        API_KEYS: `alice=${ALICE},bob=${BOB}`,
        SPAWN_AUTH: 'required',
        SC_KEY_MAX_SESSIONS: 'alice=1,*=1',
      }),
    );
    const as = (key: string) => ({ Authorization: `Bearer ${key}` });
    const ticketFor = (key: string) => request(app.url).post('/tickets').set(as(key)).send({});
    const early = await ticketFor(ALICE);
    expect(early.status).toBe(200);
    expect((await postSpawn(app.url, {}).set(as(ALICE))).status).toBe(200);

    // At her quota: no new ticket, and the one she got before is refused at the upgrade, starting nothing.
    const refused = await ticketFor(ALICE);
    expect(refused.status).toBe(429);
    expect(refused.body.message).toBe(
      'session quota reached: key alice already has 1 live session(s) on this node (SC_KEY_MAX_SESSIONS); end one (DELETE /spawns/:id) or retry later',
    );
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const onTicket = await connectRefusal((early.body as { url: string }).url, {});
    expect(onTicket).not.toBe('open');
    expect((onTicket as IncomingMessage).statusCode).toBe(429);
    expect((onTicket as IncomingMessage).headers['retry-after']).toBeDefined();
    expect(app.supervisor.list()).toHaveLength(1);

    // Bob's ticket opens a session that is his: its `key`, and his quota spent.
    const viewer = await connectViewer((await ticketFor(BOB)).body.url as string, { cleanup });
    await viewer.next(); // the server's hello
    const spawns = (await request(app.url).get('/spawns').set(as(BOB))).body as { id: string; key: string | null }[];
    expect(spawns.map((spawn) => spawn.key).sort()).toEqual(['alice', 'bob']);
    expect((await postSpawn(app.url, {}).set(as(BOB))).status).toBe(429);

    // Refused for her quota, the ticket is still hers, as at a full node: once her session ends, it opens one.
    const alices = spawns.filter((spawn) => spawn.key === 'alice');
    await request(app.url).delete(`/spawns/${alices[0].id}`).set(as(ALICE)).expect(202);
    const late = await connectViewer((early.body as { url: string }).url, { cleanup });
    await late.next(); // the server's hello
  });

  it('what a session costs: relay messages and bytes within 1% of what was pushed; cpu and memory from /proc', async () => {
    const app = await startTrackedApp(cleanup, env(PORTS.cost, { SC_IDLE_TIMEOUT_S: '60' }));
    const { spawn, viewer } = await spawnAndView(app, cleanup);
    // Counted once the relay process has reported the server's hello (within 20 ms).
    const before = await waitForSpawnView(
      app.url,
      spawn.id,
      (v) => v.relay.toViewer.messages >= 1,
      "the relay to report the server's hello",
    );
    const messages = 50;
    const size = 20_000;
    for (let i = 0; i < messages; i++) {
      await viewer.send(Buffer.alloc(size, i));
      await viewer.next(); // the echo
    }
    const pushed = messages * size;
    // The relay process reports its counts within 20 ms (docs/operations.md): wait for the last echo's.
    const view = await waitForSpawnView(
      app.url,
      spawn.id,
      (v) =>
        v.relay.toViewer.messages - before.relay.toViewer.messages >= messages &&
        v.cpuSeconds !== null &&
        v.cpuSeconds > 0,
      'the sweep to read the usage and the relay to report the last echo',
      3000,
    );
    expect(Math.abs(view.relay.toServer.bytes - pushed) / pushed).toBeLessThanOrEqual(0.01);
    expect(view.relay.toServer.messages).toBe(messages);
    const toViewer = view.relay.toViewer.bytes - before.relay.toViewer.bytes;
    expect(Math.abs(toViewer - pushed) / pushed).toBeLessThanOrEqual(0.01);
    expect(view.relay.toViewer.messages - before.relay.toViewer.messages).toBe(messages);
    expect(view.bytesToServer).toBe(view.relay.toServer.bytes);
    expect(view.watched).toBe(true);
    expect(Date.parse(view.lastActivityAt!)).toBeGreaterThanOrEqual(Date.parse(view.connectedAt!));
    // The simulator is a Node.js process: tens of megabytes resident.
    expect(view.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(view.rssBytes).toBeLessThan(2 * 1024 * 1024 * 1024);
    await viewer.close();
  });

  it('a direct-port session is reported as not watched and outlives the idle timeout; start-up says why', async () => {
    const port = await freePort();
    const service = await startServiceProcess(
      port,
      {
        ...FAST_TIMINGS,
        SC_PORT_BASE: String(PORTS.direct),
        SC_PORT_COUNT: '2',
        SC_MAX_SPAWNS: '2',
        SC_IDLE_TIMEOUT_S: '1',
        SC_END_WARNING_S: '0',
        SC_STATE_DIR: undefined,
      },
      { startTimeoutMs: 45_000 },
    );
    cleanup.add(() => service.stop().then(() => undefined), 'service process');
    expect(service.output.join('')).toContain(
      'SC_IDLE_TIMEOUT_S=1 applies only to sessions the relay carries: set PUBLIC_ENDPOINT=proxy',
    );
    const response = await postSpawn(service.url, {});
    expect(response.status).toBe(200);
    expect(response.body.endpoint).toBe(`ws://127.0.0.1:${response.body.wsPort}`);
    const viewer = await connectViewer(response.body.endpoint, { cleanup });
    await viewer.next();
    await sleep(2500);
    const view = await getSpawn(service.url, response.body.id);
    expect(view).toMatchObject({ watched: false, expiring: null, state: 'ready', lastActivityAt: null });
    expect(view.relay).toEqual({ toServer: { messages: 0, bytes: 0 }, toViewer: { messages: 0, bytes: 0 } });
    await viewer.close();
  });

  it('the dashboard shows the busiest and the idlest sessions, and the warning before an idle end', async () => {
    const chromiumPath = requireSystemBinary('/usr/bin/chromium', 'chromium');
    const app = await startTrackedApp(
      cleanup,
      // Chromium and the test's own process share the CPU with servers ranked below them (cgroup weights): a
      // longer ping timeout than FAST_TIMINGS' 1 s keeps a briefly starved server from being taken for hung.
      env(PORTS.dashboard, { SC_IDLE_TIMEOUT_S: '40', SC_END_WARNING_S: '37', PING_TIMEOUT_S: '10' }),
    );
    const busy = await spawnAndView(app, cleanup);
    const idle = await spawnAndView(app, cleanup);
    for (let i = 0; i < 5; i++) {
      await busy.viewer.send(Buffer.alloc(100_000));
      await busy.viewer.next();
    }
    const stop = keepActive(busy.viewer, 300);
    cleanup.add(() => stop(), 'keep-active timer');

    const context = await chromium.launchPersistentContext(makeTempDir(cleanup, 'sc-cost-chromium-'), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    cleanup.add(() => context.close(), 'chromium');
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${app.url}/`);
    const busiest = page.locator('[data-testid="busiest"] [data-testid="cost-row"]');
    const idlest = page.locator('[data-testid="idlest"] [data-testid="cost-row"]');
    await waitFor(async () => (await busiest.count()) === 2, 15_000, { description: 'two rows in the busiest table' });
    expect(await busiest.first().getAttribute('data-id')).toBe(busy.spawn.id);
    expect(await busiest.first().locator('[data-testid="cost-relay"]').textContent()).toMatch(/^48[89] KiB ↑/);
    // The idle one is first among the idlest, and its warning shows (pushed by the expiring event).
    await waitFor(async () => (await idlest.first().getAttribute('data-id')) === idle.spawn.id, 15_000, {
      description: 'the idle session first among the idlest',
    });
    await waitFor(
      async () =>
        /ends in \d+ s \(idle\)/.test(
          (await idlest.first().locator('[data-testid="cost-expiring"]').textContent()) ?? '',
        ),
      15_000,
      { description: 'the idle warning on the dashboard' },
    );
    expect(await idlest.first().locator('[data-testid="cost-rss"]').textContent()).toMatch(/MiB/);
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it("a warm server's clocks start at its claim, not at its start", async () => {
    const app = await startTrackedApp(
      cleanup,
      env(PORTS.warm, { SC_WARM_POOL_CSR: '1', SC_MAX_SESSION_S: '2', SC_END_WARNING_S: '0' }),
    );
    const warm = await waitFor(
      async () =>
        ((await request(app.url).get('/spawns')).body as Array<{ pool: string; state: string; id: string }>).find(
          (s) => s.pool === 'warm' && s.state === 'ready',
        ),
      10_000,
      { description: 'a ready warm server' },
    );
    await sleep(2500); // older than the lifetime limit while it waits in the pool: not ended
    expect((await getSpawn(app.url, warm.id)).state).toBe('ready');
    const claimed = await postSpawn(app.url, {});
    expect(claimed.body).toMatchObject({ id: warm.id, pool: 'claimed' });
    const viewer = await connectViewer(claimed.body.endpoint, { cleanup });
    await viewer.next();
    await sleep(1000);
    expect((await getSpawn(app.url, warm.id)).state).toBe('connected');
    expect(await viewer.closed).toEqual({ code: 4002, reason: 'lifetime reached' });
    const ended = await waitForSpawnState(app.url, warm.id, 'exited', 10_000);
    expect(Date.parse(ended.endedAt!) - Date.parse(ended.claimedAt!)).toBeGreaterThanOrEqual(2000);
  });

  it('a draining node lets sessions finish but still applies the limits', async () => {
    const app = await startTrackedApp(
      cleanup,
      // The idle clock runs from the session's start until its viewer joins: 6 s leaves a slow machine time to join
      // (with 3 s, a fresh-clone run on a loaded machine joined too late: the session had ended, 404).
      env(PORTS.drain, { SC_IDLE_TIMEOUT_S: '6', SC_END_WARNING_S: '0', DRAIN_TIMEOUT_S: '30' }),
    );
    const { spawn, viewer } = await spawnAndView(app, cleanup);
    void app.app.get(DrainService).drain();
    expect((await postSpawn(app.url, {})).status).toBe(503);
    expect(await viewer.closed).toEqual({ code: 4001, reason: 'idle timeout' });
    await waitForSpawnState(app.url, spawn.id, 'exited', 10_000);
  });
});
