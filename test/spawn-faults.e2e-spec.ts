/**
 * End to end: every fault the simulator can inject (model `scsim:<fault>`) gets the right HTTP
 * status or sweep action, and leaves no process behind, checked through the OS.
 */
import { readFileSync } from 'fs';
import { isLeased } from './fakes';
import request from 'supertest';
import { NodeFileSystem } from '../src/adapters/file-system.adapter';
import { ProcessLauncher } from '../src/adapters/process-launcher.adapter';
import { SpawnHelperLauncher } from '../src/adapters/spawn-helper.adapter';
import { PortAllocator } from '../src/ports/port-allocator.service';
import { isProcessAlive, isProcessGroupAlive, signalProcess, useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import {
  canBindPort,
  getSpawn,
  isGone,
  postSpawn,
  procStat,
  startTrackedApp,
  waitForGrandchildPid,
  waitForProcessGone,
  waitForSpawnState,
  type TrackedApp,
} from './support/spawner-e2e';
import { connectViewer } from './support/viewer-client';
import { waitFor } from './support/wait';

const PORT_BASE = 21400;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE) };
const READY_TIMEOUT_S = Number(FAST_TIMINGS.SPAWN_READY_TIMEOUT_S);
const KILL_GRACE_S = Number(FAST_TIMINGS.KILL_GRACE_S);
const PING_TIMEOUT_S = Number(FAST_TIMINGS.PING_TIMEOUT_S);

/** The one spawn the app knows of (for requests still in flight); waits until it has a pid. */
function onlySpawn(app: TrackedApp) {
  return waitFor(
    () => {
      const [record] = app.supervisor.list();
      return record?.pid !== undefined ? record : undefined;
    },
    3000,
    { description: 'the spawn to be started' },
  );
}

function statesOf(app: TrackedApp, id: string): string[] {
  return app.events.filter((e) => e.id === id).map((e) => e.state);
}

/** The port is back in the pool and nothing holds it. */
async function expectPortFree(app: TrackedApp, port: number): Promise<void> {
  expect(isLeased(app.app.get(PortAllocator), port)).toBe(false);
  expect(await canBindPort(port)).toBe(true);
}

describe('simulator fault modes (e2e)', () => {
  const cleanup = useCleanup();

  it(`never-ready: 504 within SPAWN_READY_TIMEOUT_S (${READY_TIMEOUT_S} s) plus a little, and the process is stopped`, async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const started = Date.now();
    const pending = postSpawn(app.url, { model: 'scsim:never-ready' }).then((r) => r);
    const record = await onlySpawn(app);
    expect(isProcessAlive(record.pid!)).toBe(true);

    const response = await pending;
    const elapsed = Date.now() - started;
    expect(response.status).toBe(504);
    expect(response.body.message).toContain(`did not report ready within ${READY_TIMEOUT_S} s`);
    expect(elapsed).toBeGreaterThanOrEqual(READY_TIMEOUT_S * 1000 - 50);
    expect(elapsed).toBeLessThan(READY_TIMEOUT_S * 1000 + 1000);

    await waitForProcessGone(record.pid!);
    const view = await waitForSpawnState(app.url, record.id, 'exited');
    expect(view.readyAt).toBeNull();
    expect(statesOf(app, record.id)).toEqual(['starting', 'timed_out', 'terminating', 'exited']);
    await expectPortFree(app, record.spec.wsPort);
  });

  it('exit-before-ready:6: 502 naming exit code 6 and "invalid license", promptly, nothing left', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const started = Date.now();
    const response = await postSpawn(app.url, { model: 'scsim:exit-before-ready:6' });
    expect(response.status).toBe(502);
    expect(Date.now() - started).toBeLessThan(READY_TIMEOUT_S * 1000);
    expect(response.body.message).toMatch(/exit code 6/);
    expect(response.body.message).toMatch(/invalid license/);
    // ... but not the server's output (an anonymous caller may read the 502): that is the logs route's.
    expect(response.body.message).not.toMatch(/fault exit-before-ready/);
    expect(response.body.message).toMatch(/its output: GET \/spawns\/[\w-]+\/logs/);

    const [record] = app.supervisor.list();
    await waitForProcessGone(record.pid!);
    const view = await waitForSpawnState(app.url, record.id, 'failed');
    expect(view).toMatchObject({ exitCode: 6, readyAt: null });
    expect(app.supervisor.logs(record.id).map((l) => l.line)).toEqual(
      expect.arrayContaining([expect.stringMatching(/fault exit-before-ready/)]),
    );
    expect(statesOf(app, record.id)).toEqual(['starting', 'failed']);
    await expectPortFree(app, record.spec.wsPort);
    // Not mistaken for a lost port race: it was not retried on another port.
    expect(app.knownPids()).toEqual([record.pid]);
  });

  it('exit-before-ready:3 with its port free: 502 after one launch (the port-race retry needs the port to be taken)', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, { model: 'scsim:exit-before-ready:3' });
    expect(response.status).toBe(502);
    expect(response.body.message).toMatch(/exit code 3 \(internal error\)/);
    expect(app.knownPids()).toHaveLength(1);
    await waitForProcessGone(app.knownPids()[0]);
  });

  it('slow-ready:500: 200 with startupMs >= 500', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const started = Date.now();
    const response = await postSpawn(app.url, { model: 'scsim:slow-ready:500' });
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(response.body.startupMs).toBeGreaterThanOrEqual(500);
    expect(response.body.state).toBe('ready');
    await request(app.url).delete(`/spawns/${response.body.id}`).expect(202);
    await waitForProcessGone(response.body.pid);
  });

  it('crash-after:300: the spawn later becomes exited with exit code 1, process gone, port freed', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, { model: 'scsim:crash-after:300' });
    expect(response.status).toBe(200);
    const { id, pid, wsPort } = response.body;
    await waitForProcessGone(pid);
    const view = await waitForSpawnState(app.url, id, 'exited');
    expect(view).toMatchObject({ exitCode: 1, signal: null });
    expect(view.endReason).toMatch(/exited unexpectedly: exit code 1 \(unexpected exit\)/);
    expect(statesOf(app, id)).toEqual(['starting', 'ready', 'exited']);
    await expectPortFree(app, wsPort);
  });

  it(`stop-pinging-after:300: marked unresponsive after PING_TIMEOUT_S (${PING_TIMEOUT_S} s), then killed, process gone`, async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, { model: 'scsim:stop-pinging-after:300' });
    expect(response.status).toBe(200);
    const { id, pid, wsPort } = response.body;
    const readyAt = Date.parse(response.body.readyAt);

    await waitFor(() => statesOf(app, id).includes('unresponsive'), 5000, {
      description: 'the spawn to be marked unresponsive',
    });
    const unresponsive = app.events.find((e) => e.id === id && e.state === 'unresponsive')!;
    // Silent from 300 ms after ready; unresponsive no sooner than PING_TIMEOUT_S after its last report.
    expect(Date.parse(unresponsive.at) - readyAt).toBeGreaterThanOrEqual(PING_TIMEOUT_S * 1000);
    await waitForProcessGone(pid);
    const view = await waitForSpawnState(app.url, id, 'exited');
    expect(view.endReason).toMatch(/no liveliness report for 1 s/);
    expect(statesOf(app, id)).toEqual(['starting', 'ready', 'unresponsive', 'terminating', 'exited']);
    await expectPortFree(app, wsPort);
  });

  it(`ignore-sigterm + DELETE: SIGKILL after KILL_GRACE_S (${KILL_GRACE_S} s), process gone`, async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, { model: 'scsim:ignore-sigterm' });
    expect(response.status).toBe(200);
    const { id, pid, wsPort } = response.body;

    const deletedAt = Date.now();
    await request(app.url).delete(`/spawns/${id}`).expect(202);
    // SIGTERM is ignored: still alive for the grace period.
    await waitFor(() => app.supervisor.logs(id).some((l) => l.line.includes('received SIGTERM: ignored')), 2000, {
      description: 'the simulator to log that it ignored SIGTERM',
    });
    expect(isProcessAlive(pid)).toBe(true);
    // A port returns to the pool only once its process has exited.
    expect(isLeased(app.app.get(PortAllocator), wsPort)).toBe(true);
    expect((await getSpawn(app.url, id)).state).toBe('terminating');

    await waitForProcessGone(pid, 5000);
    const goneAfter = Date.now() - deletedAt;
    expect(goneAfter).toBeGreaterThanOrEqual(KILL_GRACE_S * 1000 - 50);
    const view = await waitForSpawnState(app.url, id, 'exited');
    expect(view).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(view.endReason).toMatch(/DELETE/);
    await expectPortFree(app, wsPort);
  });

  it('spawn-grandchild + DELETE: the server and its grandchild are both gone, the process group is empty', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, { model: 'scsim:spawn-grandchild' });
    expect(response.status).toBe(200);
    const { id, pid } = response.body;
    const grandchild = await waitForGrandchildPid(app, id);
    expect(grandchild).not.toBe(pid);
    expect(isProcessAlive(grandchild)).toBe(true);
    expect(procStat(grandchild)).toMatchObject({ ppid: pid, pgrp: pid });

    await request(app.url).delete(`/spawns/${id}`).expect(202);
    await waitFor(() => !isProcessAlive(pid) && !isProcessAlive(grandchild) && !isProcessGroupAlive(pid), 5000, {
      description: () =>
        `sim ${pid} (alive ${isProcessAlive(pid)}) and grandchild ${grandchild} (alive ${isProcessAlive(grandchild)}) to be gone`,
    });
    await waitForSpawnState(app.url, id, 'exited');
  });

  it('spawn-grandchild + viewer leaves: the server exits on its own and its grandchild does not outlive it', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, { model: 'scsim:spawn-grandchild' });
    expect(response.status).toBe(200);
    const { id, pid, endpoint } = response.body;
    const grandchild = await waitForGrandchildPid(app, id);
    const viewer = await connectViewer(endpoint, { cleanup });
    await viewer.nextJson();
    await viewer.close();
    await waitForProcessGone(pid);
    await waitFor(() => !isProcessAlive(grandchild), 3000, { description: `grandchild ${grandchild} to be gone` });
    expect((await waitForSpawnState(app.url, id, 'exited')).exitCode).toBe(0);
    expect(isGone(pid)).toBe(true);
  });

  it('an unknown simulator fault makes the server exit 2 before ready: 502 naming the invalid argument', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, { model: 'scsim:no-such-fault' });
    expect(response.status).toBe(502);
    expect(response.body.message).toMatch(/exit code 2 \(invalid command line argument\)/);
    await waitForProcessGone(app.knownPids()[0]);
  });
  it('DELETE while the spawn is starting: the waiting POST /spawn gets 409 at once, the process is gone', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, SPAWN_READY_TIMEOUT_S: '30' });
    const pending = postSpawn(app.url, { model: 'scsim:never-ready' }).then((r) => r);
    const record = await onlySpawn(app);
    const deletedAt = Date.now();
    await request(app.url).delete(`/spawns/${record.id}`).expect(202);
    const response = await pending;
    expect(response.status).toBe(409);
    expect(response.body.message).toMatch(/stopped before it was ready.*DELETE/);
    expect(Date.now() - deletedAt).toBeLessThan(1000);
    await waitForProcessGone(record.pid!);
    await waitForSpawnState(app.url, record.id, 'exited');
    await expectPortFree(app, record.spec.wsPort);
  });

  it('a spawn helper that stops answering (SIGSTOP): the launch fails within its answer timeout, slot and port come back, a new helper serves the next', async () => {
    const app = await startTrackedApp(cleanup, ENV, (builder) =>
      builder
        .overrideProvider(ProcessLauncher)
        .useFactory({ factory: () => new SpawnHelperLauncher(new NodeFileSystem(), 2000) }),
    );
    const first = await postSpawn(app.url, {});
    expect(first.status).toBe(200);
    const helper = procStat(first.body.pid)!.ppid;
    expect(readFileSync(`/proc/${helper}/cmdline`, 'utf8')).toMatch(/perl\0-e\0/);
    signalProcess(helper, 'SIGSTOP');

    const started = Date.now();
    const hung = await postSpawn(app.url, {});
    expect(Date.now() - started).toBeLessThan(READY_TIMEOUT_S * 1000);
    expect(hung.status).toBe(502); // as any server that could not be started
    expect(hung.body.message).toMatch(/spawn helper did not answer within 2 s/);
    await waitFor(() => !isProcessAlive(helper), 5000, { description: 'the hung helper to be killed' });
    const capacity = app.supervisor.capacity();
    expect(capacity).toMatchObject({ activeSpawns: 1, ports: { leased: 1 } }); // only the first spawn's

    const next = await postSpawn(app.url, {});
    expect(next.status).toBe(200);
    expect(procStat(next.body.pid)!.ppid).not.toBe(helper);
    // The first server, started by the killed helper, is still followed: stopped, it is seen to exit.
    await request(app.url).delete(`/spawns/${first.body.id}`).expect(202);
    await waitForSpawnState(app.url, first.body.id, 'exited');
    await waitForProcessGone(first.body.pid);
  });

  it('a server killed from outside (SIGKILL) is seen as exited by signal, and its port is freed', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const response = await postSpawn(app.url, {});
    expect(response.status).toBe(200);
    const { id, pid, wsPort } = response.body;
    process.kill(pid, 'SIGKILL');
    await waitForProcessGone(pid);
    const view = await waitForSpawnState(app.url, id, 'exited');
    expect(view).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(view.endReason).toMatch(/exited unexpectedly: killed by signal SIGKILL/);
    await expectPortFree(app, wsPort);
    expect((await request(app.url).get('/health').expect(200)).body.details.spawner.activeSpawns).toBe(0);
  });
  it('a server that reports disconnect but keeps running is stopped after KILL_GRACE_S, and its port comes back', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    // The server itself reports disconnect (from its own connection: nobody else may), then stays up.
    const response = await postSpawn(app.url, { model: 'scsim:disconnect-after:200' });
    expect(response.status).toBe(200);
    const { id, pid, wsPort } = response.body;
    const disconnected = await waitForSpawnState(app.url, id, 'disconnected', 5000);
    const reportedAt = Date.parse(disconnected.lastReportAt!);
    expect(isProcessAlive(pid)).toBe(true);

    await waitForProcessGone(pid, 5000);
    expect(Date.now() - reportedAt).toBeGreaterThanOrEqual(KILL_GRACE_S * 1000 - 50);
    const view = await waitForSpawnState(app.url, id, 'exited');
    expect(view.exitCode).toBe(0); // SIGTERM was enough
    expect(statesOf(app, id)).toEqual(['starting', 'ready', 'disconnected', 'terminating', 'exited']);
    await expectPortFree(app, wsPort);
  });
});
