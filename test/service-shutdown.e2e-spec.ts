import { readFileSync } from 'fs';
/**
 * End to end with the built service as a real process (dist/src/main.js): SIGTERM stops every Stream
 * Cache Server it started, including one that ignores SIGTERM and one that started a grandchild, and
 * the service exits 0 with no process left. Checked through the OS, not the service's word.
 */
import request from 'supertest';
import { freePort } from './support/ports';
import { isProcessAlive, isProcessGroupAlive, signalProcess, useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { grandchildPidsIn, isGone, postSpawn, procStat, type SpawnView } from './support/spawner-e2e';
import { waitFor } from './support/wait';
import { RETRY_AFTER_SHUTTING_DOWN_S } from '../src/http/http-error';

const PORT_BASE = 21600;
const KILL_GRACE_S = 1.5;

describe('service shutdown (e2e, real process)', () => {
  const cleanup = useCleanup();

  async function startService(): Promise<ServiceProcess> {
    const service = await startServiceProcess(await freePort(), {
      ...FAST_TIMINGS,
      SC_PORT_BASE: String(PORT_BASE),
      KILL_GRACE_S: String(KILL_GRACE_S),
    });
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);
    return service;
  }

  it('SIGTERM: readiness turns 503, new spawns get 503, every child group is stopped, and the service exits 0 with nothing left', async () => {
    const service = await startService();
    const responses = await Promise.all([
      postSpawn(service.url, {}),
      postSpawn(service.url, { model: 'scsim:ignore-sigterm' }),
      postSpawn(service.url, { model: 'scsim:spawn-grandchild' }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const spawns = responses.map((r) => r.body as SpawnView);
    const pids = spawns.map((s) => s.pid!);
    const grandchild = await waitFor(() => grandchildPidsIn(service.output.join('').split('\n'))[0], 5000, {
      description: 'the service log to show the grandchild pid',
    });
    for (const pid of [...pids, grandchild]) cleanup.trackPid(pid, { group: true }); // safety net only
    for (const pid of pids) {
      expect(isProcessAlive(pid)).toBe(true);
      expect(procStat(pid)?.pgrp).toBe(pid); // each leads its own group
      // Started by the service's spawn helper (perl), a child of the service.
      const helper = procStat(pid)!.ppid;
      expect(procStat(helper)?.ppid).toBe(service.child.pid);
      expect(readFileSync(`/proc/${helper}/cmdline`, 'utf8')).toMatch(/perl\0-e\0/);
    }
    expect(procStat(grandchild)?.pgrp).toBe(spawns[2].pid);
    await request(service.url).get('/health/ready').expect(200);

    const sentAt = Date.now();
    expect(signalProcess(service.child.pid!, 'SIGTERM')).toBe(true);

    // While the ignore-sigterm server holds the shutdown open for KILL_GRACE_S, the service still answers: not ready.
    const readyStatus = await waitFor(
      async () => {
        try {
          const status = (await request(service.url).get('/health/ready').timeout(500)).status;
          return status === 503 ? status : undefined;
        } catch {
          return 'unreachable' as const; // already closed: nothing more to observe
        }
      },
      5000,
      { intervalMs: 20, description: 'readiness to turn 503' },
    );
    expect(readyStatus).toBe(503);
    const refused = await request(service.url).post('/spawn').send({}).timeout(1000);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBe(RETRY_AFTER_SHUTTING_DOWN_S);
    expect(refused.body.message).toMatch(/shutting down/);

    const exit = await service.exited;
    const took = Date.now() - sentAt;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(took).toBeGreaterThanOrEqual(KILL_GRACE_S * 1000 - 100); // it did wait for the stubborn one
    expect(took).toBeLessThan(KILL_GRACE_S * 1000 + 5000);

    // Nothing survives the service, checked by pid and by process group.
    await waitFor(
      () =>
        [...pids, grandchild].every((pid) => !isProcessAlive(pid)) && pids.every((pid) => !isProcessGroupAlive(pid)),
      1000,
      {
        description: () =>
          `every server and the grandchild to be gone: ${[...pids, grandchild].filter((p) => !isGone(p)).join(', ')} still alive`,
      },
    );
    const log = service.output.join('');
    expect(log).toMatch(/shutting down: stopping 3 spawn\(s\)/);
    expect(log).toMatch(new RegExp(`spawn ${spawns[1].id} exited with signal: SIGKILL`));
  });

  it('SIGTERM with no spawns: exits 0 promptly', async () => {
    const service = await startService();
    const sentAt = Date.now();
    signalProcess(service.child.pid!, 'SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - sentAt).toBeLessThan(3000);
  });
  it('SIGTERM while a POST /spawn is still waiting for ready: the client gets 503 with Retry-After, nothing is left', async () => {
    const service = await startService();
    const pending = postSpawn(service.url, { model: 'scsim:slow-ready:5000' }).then((r) => r);
    const listed = await waitFor(
      async () => {
        const spawns = (await request(service.url).get('/spawns')).body as SpawnView[];
        return spawns.length === 1 && spawns[0].pid !== undefined ? spawns[0] : undefined;
      },
      5000,
      { description: 'the pending spawn to be listed' },
    );
    cleanup.trackPid(listed.pid!, { group: true });
    signalProcess(service.child.pid!, 'SIGTERM');
    const response = await pending;
    expect(response.status).toBe(503);
    expect(Number(response.headers['retry-after'])).toBe(RETRY_AFTER_SHUTTING_DOWN_S);
    expect(response.body.message).toMatch(/shutting down/);
    expect(await service.exited).toEqual({ code: 0, signal: null });
    await waitFor(() => isGone(listed.pid!), 1000, { description: `spawn process ${listed.pid} to be gone` });
  });
});
