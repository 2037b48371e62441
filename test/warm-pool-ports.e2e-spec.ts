/**
 * End to end with the built service as a real process: a warm pool on a node with fewer ports than slots
 * (SC_PORT_COUNT < SC_MAX_SPAWNS), where the pool must wait for a port rather than fail a start at every sweep.
 */
import request from 'supertest';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { postSpawn, type SpawnView } from './support/spawner-e2e';
import { sleep, waitFor } from './support/wait';

/** This file's ports (32300-32399): the service on 32399, its servers from 32300. */
const SERVICE_PORT = 32399;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '32300', SC_PORT_COUNT: '2', SC_MAX_SPAWNS: '3', SC_WARM_POOL_CSR: '2' };

describe('a warm pool with fewer ports than slots (e2e, real process)', () => {
  const cleanup = useCleanup();

  it('waits for a port instead of failing a warm start at every sweep; refills once one comes back', async () => {
    const service = await startServiceProcess(SERVICE_PORT, ENV);
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
    const spawns = async () => (await request(service.url).get('/spawns')).body as SpawnView[];
    const warmReady = async () => (await spawns()).filter((s) => s.pool === 'warm' && s.state === 'ready');
    await waitFor(async () => ((await warmReady()).length === 2 ? true : undefined), 10_000, {
      description: '2 ready warm servers',
    });

    // A cold request takes a warm server's port (both are leased): the pool is one short, a slot free, no port.
    const cold = await postSpawn(service.url, { rendererType: 'ssr' });
    expect(cold.status).toBe(200);
    const failedStarts = () => service.output.join('').split('could not start a warm').length - 1;
    const before = failedStarts();
    await sleep(1500); // 15 sweeps of 100 ms
    expect(failedStarts() - before).toBe(0);

    // Its port back, the pool refills.
    await request(service.url)
      .delete(`/spawns/${(cold.body as SpawnView).id}`)
      .expect(202);
    await waitFor(async () => ((await warmReady()).length === 2 ? true : undefined), 10_000, {
      description: 'the pool refilled',
    });

    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });
});
