/**
 * End to end with the built service as a real process: when it dies without its shutdown (SIGKILL, as an
 * OOM kill would), its servers live on; the next start finds them in its journal and stops them, grandchildren
 * included, so a crash leaks no process and no port for longer than a restart.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { freePort } from './support/ports';
import { isProcessAlive, isProcessGroupAlive, useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { canBindPort, grandchildPidsIn, postSpawn, waitForProcessGone, type SpawnView } from './support/spawner-e2e';
import { makeTempDir } from './support/temp';
import { waitFor } from './support/wait';

const PORT_BASE = 21800;

describe('restart after a crash (e2e, real process)', () => {
  const cleanup = useCleanup();

  async function startService(stateDir: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = await startServiceProcess(await freePort(), {
      ...FAST_TIMINGS,
      SC_PORT_BASE: String(PORT_BASE),
      SC_STATE_DIR: stateDir,
      SC_INITIAL_USE_DURATION_S: '120',
      ...env,
    });
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);
    return service;
  }

  it('stops the servers a killed service left running, grandchildren too, and frees their ports', async () => {
    const stateDir = makeTempDir(cleanup, 'sc-state-');
    const first = await startService(stateDir);
    const responses = await Promise.all([
      postSpawn(first.url, {}),
      postSpawn(first.url, { model: 'scsim:spawn-grandchild' }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const spawns = responses.map((r) => r.body as SpawnView);
    const pids = spawns.map((s) => s.pid!);
    for (const pid of pids) cleanup.trackPid(pid, { group: true });
    const grandchild = await waitFor(() => grandchildPidsIn(first.output.join('').split('\n'))[0], 5000, {
      description: 'the grandchild pid',
    });

    const journal = JSON.parse(readFileSync(path.join(stateDir, 'spawns.json'), 'utf8')) as {
      writer: { pid: number };
      entries: Array<{ id: string; pid: number; wsPort: number }>;
    };
    expect(journal.writer.pid).toBe(first.child.pid);
    expect(journal.entries.map((e) => [e.id, e.pid, e.wsPort]).sort()).toEqual(
      spawns.map((s) => [s.id, s.pid, s.wsPort]).sort(),
    );

    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // The crash left them running: this is what the restart has to clean up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const pid of [...pids, grandchild]) expect(isProcessAlive(pid)).toBe(true);
    for (const spawn of spawns) expect(await canBindPort(spawn.wsPort)).toBe(false);

    const second = await startService(stateDir);
    await Promise.all([...pids, grandchild].map((pid) => waitForProcessGone(pid, 5000)));
    for (const pid of pids) expect(isProcessGroupAlive(pid)).toBe(false);
    expect(second.output.join('')).toContain('left running by a previous run of this service');
    expect(existsSync(path.join(stateDir, 'spawns.json'))).toBe(false);
    for (const spawn of spawns)
      await waitFor(() => canBindPort(spawn.wsPort), 5000, { description: `port ${spawn.wsPort} to be free` });

    // The restarted service works, and a clean stop leaves an empty state folder.
    const again = await postSpawn(second.url, {});
    expect(again.status).toBe(200);
    expect(existsSync(path.join(stateDir, 'spawns.json'))).toBe(true);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(stateDir, 'spawns.json'))).toBe(false);
  });

  it('a server that exits while no service runs leaves no child behind: the spawn helper still kills its group', async () => {
    const stateDir = makeTempDir(cleanup, 'sc-state-');
    // Every server starts a child in its group and exits (code 1) 1.5 s after it is ready.
    const service = await startService(stateDir, {
      SC_CHILD_ENV: 'SCSIM_FAULT',
      SCSIM_FAULT: 'spawn-grandchild,crash-after:1500',
    });
    const response = await postSpawn(service.url, {});
    expect(response.status).toBe(200);
    const pid = (response.body as SpawnView).pid!;
    cleanup.trackPid(pid, { group: true });
    const grandchild = await waitFor(() => grandchildPidsIn(service.output.join('').split('\n'))[0], 5000, {
      description: 'the grandchild pid',
    });
    cleanup.trackPid(grandchild);

    service.child.kill('SIGKILL');
    await service.exited;
    expect(isProcessAlive(grandchild)).toBe(true);
    await waitForProcessGone(pid, 5000);
    await waitForProcessGone(grandchild, 2000);
    expect(isProcessGroupAlive(pid)).toBe(false);
  });
});
