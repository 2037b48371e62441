/**
 * End to end with the built service as a real process: when the service itself does not run for longer than
 * PING_TIMEOUT_S (stopped, starved, a suspended VM), its servers' reports of that time wait unread in its sockets.
 * Their silence is not theirs: none of them may be stopped for it. But only that time is forgiven: stalls that keep
 * coming must not keep a hung server alive.
 */
import { freePort } from './support/ports';
import { isProcessAlive, useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { getSpawn, postSpawn, type SpawnView } from './support/spawner-e2e';
import { connectViewer } from './support/viewer-client';
import { sleep } from './support/wait';

const PING_TIMEOUT_S = Number(FAST_TIMINGS.PING_TIMEOUT_S);

describe('a stall of the service itself (e2e, real process)', () => {
  const cleanup = useCleanup();

  it('stops no healthy server for the reports it could not read while it was stopped', async () => {
    const service = await startServiceProcess(await freePort(), {
      ...FAST_TIMINGS,
      SC_PORT_BASE: '31000',
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

  it('still stops a hung server while the service keeps stalling: only the time it did not run is forgiven', async () => {
    const service = await startServiceProcess(await freePort(), {
      ...FAST_TIMINGS,
      SC_PORT_BASE: '31010',
      SC_MAX_SPAWNS: '1',
    });
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);
    const response = await postSpawn(service.url, {});
    expect(response.status).toBe(200);
    const spawn = response.body as SpawnView;
    cleanup.trackPid(spawn.pid!, { group: true });

    process.kill(spawn.pid!, 'SIGSTOP');
    // Each stall is longer than the ping timeout; the 0.4 s the service runs between two is not, but they add up.
    for (let i = 0; i < 6; i++) {
      service.child.kill('SIGSTOP');
      await sleep(PING_TIMEOUT_S * 1300);
      service.child.kill('SIGCONT');
      await sleep(PING_TIMEOUT_S * 400);
    }

    expect((await getSpawn(service.url, spawn.id)).state).not.toBe('ready');
  });

  it('ends no active viewer for idleness while the service was stopped: what it sent meanwhile was unread', async () => {
    const service = await startServiceProcess(await freePort(), {
      ...FAST_TIMINGS,
      SC_PORT_BASE: '31020',
      SC_MAX_SPAWNS: '1',
      SC_IDLE_TIMEOUT_S: '2',
      SC_END_WARNING_S: '0',
    });
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);
    const response = await postSpawn(service.url, {});
    expect(response.status).toBe(200);
    const spawn = response.body as SpawnView & { proxyEndpoint: string };
    const viewer = await connectViewer(spawn.proxyEndpoint, { cleanup });
    const active = setInterval(() => void viewer.send('still here').catch(() => undefined), 100);
    cleanup.add(() => clearInterval(active), 'the viewer activity timer');

    service.child.kill('SIGSTOP');
    await sleep(3000);
    service.child.kill('SIGCONT');
    await sleep(1000);

    expect((await getSpawn(service.url, spawn.id)).state).toBe('connected');
    clearInterval(active);
    expect(await viewer.close(1000, 'done')).toEqual({ code: 1000, reason: 'done' });
  });
});
