/**
 * End to end with the built service as a real process: when the service itself does not run for longer than
 * PING_TIMEOUT_S (stopped, starved, a suspended VM), its servers' reports of that time wait unread in its sockets.
 * Their silence is not theirs: none of them may be stopped for it.
 */
import { freePort } from './support/ports';
import { isProcessAlive, useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { getSpawn, postSpawn, type SpawnView } from './support/spawner-e2e';
import { sleep } from './support/wait';

const PING_TIMEOUT_S = Number(FAST_TIMINGS.PING_TIMEOUT_S);

describe('a stall of the service itself (e2e, real process)', () => {
  const cleanup = useCleanup();

  it('stops no healthy server for the reports it could not read while it was stopped', async () => {
    const service = await startServiceProcess(await freePort(), {
      ...FAST_TIMINGS,
      SC_PORT_BASE: '24100',
      SC_MAX_SPAWNS: '2',
    });
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);
    const responses = await Promise.all([postSpawn(service.url, {}), postSpawn(service.url, {})]);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const spawns = responses.map((r) => r.body as SpawnView);

    service.child.kill('SIGSTOP');
    await sleep(PING_TIMEOUT_S * 1000 * 2.5);
    service.child.kill('SIGCONT');
    // Longer than a ping timeout after it runs again: a server that is really silent would be stopped by now.
    await sleep(PING_TIMEOUT_S * 1000 * 1.5);

    for (const spawn of spawns) {
      expect((await getSpawn(service.url, spawn.id)).state).toBe('ready');
      expect(isProcessAlive(spawn.pid!)).toBe(true);
    }
    expect(service.output.join('')).toContain('the service did not run for');
  });
});
