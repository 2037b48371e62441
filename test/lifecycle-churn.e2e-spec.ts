/**
 * End to end with the built service as a real process: what a balancer and a client are told while the node's
 * sessions and warm servers come and go.
 */
import request from 'supertest';
import { readUntilClosed } from './support/ports';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { postSpawn, type SpawnView } from './support/spawner-e2e';
import { waitFor } from './support/wait';

/** This file's ports (20000-20099): the service on 20099, its agent check on 20098, its servers from 20000. */
const SERVICE_PORT = 20099;
const AGENT_PORT = 20098;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '20000', SC_PORT_COUNT: '8' };

describe('the node under churn (e2e, real process)', () => {
  const cleanup = useCleanup();

  it("the agent check counts an unclaimed warm server's slot as free, as readiness does", async () => {
    const service = await startServiceProcess(SERVICE_PORT, {
      ...ENV,
      AGENT_CHECK_PORT: String(AGENT_PORT),
      SC_MAX_SPAWNS: '2',
      SC_WARM_POOL_CSR: '2',
    });
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
    const warmReady = async () => (await request(service.url).get('/health')).body.details.spawner.warm.csr;
    await waitFor(async () => (await warmReady()) === 2 || undefined, 10_000, { description: 'two warm servers' });

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
    const service = await startServiceProcess(SERVICE_PORT, {
      ...ENV,
      AGENT_CHECK_PORT: String(AGENT_PORT),
      SC_MAX_SPAWNS: '2',
      SC_PORT_COUNT: '2',
      SC_WARM_POOL_CSR: '2',
    });
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
    const warmReady = async () => (await request(service.url).get('/health')).body.details.spawner.warm.csr;
    await waitFor(async () => (await warmReady()) === 2 || undefined, 10_000, { description: 'two warm servers' });

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

  it('a draining node gives no spawn ticket: its viewer could only be refused, and the ticket is for this node', async () => {
    const service = await startServiceProcess(SERVICE_PORT, { ...ENV, DRAIN_TIMEOUT_S: '30' });
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
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
});
