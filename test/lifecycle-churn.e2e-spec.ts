/**
 * End to end with the built service as a real process: what a balancer and a client are told while the node's
 * sessions and warm servers come and go.
 */
import { connect } from 'net';
import request from 'supertest';
import { readUntilClosed } from './support/ports';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, type ServiceProcess, startServiceProcess } from './support/spawner-app';
import { postSpawn, postSpawnAndAbort, type SpawnView } from './support/spawner-e2e';
import { sleep, waitFor } from './support/wait';

/** This file's ports (20000-20099): the service on 20099, its agent check on 20098, its servers from 20000. */
const SERVICE_PORT = 20099;
const AGENT_PORT = 20098;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '20000', SC_PORT_COUNT: '8' };

/** POST /spawn {} written whole, then the connection reset at once: a client gone before it reads the answer. */
function postSpawnAndReset(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'POST /spawn HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      );
      socket.resetAndDestroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

/** Unclaimed warm CSR servers ready, as GET /health counts them. */
async function warmReady(service: ServiceProcess): Promise<number> {
  return (await request(service.url).get('/health')).body.details.spawner.warm.csr as number;
}

/** Waits until at least `count` unclaimed warm CSR servers are ready. */
async function waitForWarm(service: ServiceProcess, count: number, description: string): Promise<void> {
  await waitFor(async () => (await warmReady(service)) >= count || undefined, 10_000, { description });
}

describe('the node under churn (e2e, real process)', () => {
  const cleanup = useCleanup();

  /** The built service on this file's port with ENV and `env`, stopped at cleanup. */
  async function start(env: Record<string, string>): Promise<ServiceProcess> {
    const service = await startServiceProcess(SERVICE_PORT, { ...ENV, ...env });
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
    return service;
  }

  it("the agent check counts an unclaimed warm server's slot as free, as readiness does", async () => {
    const service = await start({
      AGENT_CHECK_PORT: String(AGENT_PORT),
      SC_MAX_SPAWNS: '2',
      SC_WARM_POOL_CSR: '2',
    });
    await waitForWarm(service, 2, 'two warm servers');

    // Both slots held by warm servers: a spawn is served at once, so the balancer must send it here.
    expect((await request(service.url).get('/health/ready')).status).toBe(200);
    expect(await readUntilClosed(AGENT_PORT)).toBe('up ready 100%\n');

    const claimed = await postSpawn(service.url);
    expect((claimed.body as SpawnView).warm).toBe(true);
    // One session, one warm server left (no slot to refill into): half the node is room.
    expect(await readUntilClosed(AGENT_PORT)).toBe('up ready 50%\n');

    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });

  it('SC_PORT_COUNT = SC_MAX_SPAWNS (a HOOPS range) and a full pool: the idle node is ready and serves a cold spawn', async () => {
    const service = await start({
      AGENT_CHECK_PORT: String(AGENT_PORT),
      SC_MAX_SPAWNS: '2',
      SC_PORT_COUNT: '2',
      SC_WARM_POOL_CSR: '2',
    });
    await waitForWarm(service, 2, 'two warm servers');

    // Every port is a warm server's, yet a spawn of either kind is served: nothing may call the node full.
    const ready = await request(service.url).get('/health/ready');
    expect([ready.status, ready.body.details.spawner.freePorts]).toEqual([200, 0]);
    expect(await readUntilClosed(AGENT_PORT)).toBe('up ready 100%\n');
    expect((await request(service.url).get('/cluster/self')).body.state).toBe('ready');
    expect((await request(service.url).get('/metrics')).text).toMatch(/^sc_spawner_ready 1$/m);

    const cold = await postSpawn(service.url, { sessionToken: 'churn-token' });
    expect([cold.status, (cold.body as SpawnView).warm]).toEqual([200, false]);

    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });

  it('fewer ports than slots: the agent weighs the ports (3 slots, 2 ports, both warm: 67%)', async () => {
    const service = await start({
      AGENT_CHECK_PORT: String(AGENT_PORT),
      SC_MAX_SPAWNS: '3',
      SC_PORT_COUNT: '2',
      SC_WARM_POOL_CSR: '2',
    });
    await waitForWarm(service, 2, 'two warm servers');
    // Before: "up ready 100%", three sessions' worth of weight for a node where two fit.
    expect(await readUntilClosed(AGENT_PORT)).toBe('up ready 67%\n');
    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });

  it('a warm server claimed for a client that reset its connection before the answer is stopped, not left held', async () => {
    const service = await start({ SC_MAX_SPAWNS: '8', SC_WARM_POOL_CSR: '2' });
    const tries = 8;
    for (let i = 0; i < tries; i++) {
      await waitForWarm(service, 1, 'a warm server');
      await postSpawnAndReset(SERVICE_PORT);
    }
    // An answer the kernel took before the reset came is delivered as far as the service can tell; one written into
    // the reset connection fails, and on loopback most do: its session must not stay held for 630 s.
    const claimed = async () => {
      const spawns = (await request(service.url).get('/spawns')).body as SpawnView[];
      return spawns.filter((s) => s.pool === 'claimed');
    };
    const stopped = await waitFor(
      async () => {
        const unanswered = (await claimed()).filter((s) =>
          /client went away before the answer/.test(s.endReason ?? ''),
        );
        return unanswered.length > 0 ? unanswered : undefined;
      },
      5000,
      { description: 'a claimed session of a reset client to be stopped' },
    );
    expect((await claimed()).length).toBeLessThanOrEqual(tries);
    expect(stopped.every((s) => s.state === 'terminating' || s.state === 'exited')).toBe(true);

    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });

  it('a client gone while a warm server is retired for its cold start gets nothing started', async () => {
    // The warm server ignores SIGTERM, so its slot comes free only after KILL_GRACE_S (SIGKILL).
    const service = await start({
      SC_MAX_SPAWNS: '1',
      SC_WARM_POOL_CSR: '1',
      SC_CHILD_ENV: 'SCSIM_FAULT',
      SCSIM_FAULT: 'ignore-sigterm',
      KILL_GRACE_S: '1',
    });
    const spawns = async () => (await request(service.url).get('/spawns')).body as SpawnView[];
    await waitFor(async () => (await spawns()).some((s) => s.state === 'ready') || undefined, 10_000, {
      description: 'the warm server',
    });

    // A model replaces SCSIM_FAULT for this one: a cold start, which needs the warm server's slot.
    expect(await postSpawnAndAbort(service.url, { model: 'scsim:slow-ready:10' }, 300)).toBe('aborted');
    await waitFor(async () => (await spawns()).some((s) => s.warm && s.state === 'exited') || undefined, 5000, {
      description: 'the retired warm server to exit',
    });
    await sleep(500);
    expect((await spawns()).filter((s) => !s.warm)).toEqual([]);
    // Nothing was answered: the access line says so as nginx does (before: "POST /spawn 200", statusCode null).
    const access = service.output
      .join('')
      .split('\n')
      .filter((line) => line.includes('"url":"/spawn"'));
    expect(access).toEqual([expect.stringMatching(/"res":\{"statusCode":499\}.*"msg":"POST \/spawn 499"/)]);

    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });

  it('a draining node gives no spawn ticket: its viewer could only be refused, and the ticket is for this node', async () => {
    const service = await start({ DRAIN_TIMEOUT_S: '30' });
    // A live session keeps the drain going.
    expect((await postSpawn(service.url)).status).toBe(200);
    expect((await request(service.url).post('/tickets').send({})).status).toBe(200);

    service.child.kill('SIGTERM');
    await waitFor(async () => (await request(service.url).get('/health/ready')).status === 503 || undefined, 5000, {
      description: 'readiness to turn 503',
    });
    const ticket = await request(service.url).post('/tickets').send({});
    expect([ticket.status, ticket.body.message]).toEqual([503, expect.stringMatching(/^draining/)]);
    expect(ticket.headers['retry-after']).toBeDefined();

    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });

  it("the drain's first log line counts live sessions, and the unclaimed warm servers it stops apart", async () => {
    const service = await start({
      SC_MAX_SPAWNS: '4',
      SC_WARM_POOL_CSR: '2',
      DRAIN_TIMEOUT_S: '30',
    });
    await waitForWarm(service, 2, 'two warm servers');
    const session = (await postSpawn(service.url)).body as SpawnView;
    await waitForWarm(service, 2, 'the pool refilled');

    service.child.kill('SIGTERM');
    const line = await waitFor(() => /draining: [^\n"]*/.exec(service.output.join(''))?.[0], 5000);
    // Before: "3 live session(s)", the warm servers being stopped counted as sessions.
    expect(line).toBe('draining: no new session; 1 live session(s) get up to 30 s; 2 unclaimed warm server(s) stopped');
    await request(service.url).delete(`/spawns/${session.id}`).expect(202);
    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });
});
