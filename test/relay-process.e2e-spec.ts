/**
 * End to end, the relay process: a proxied viewer's tunnel runs in the service's relay process (its own heap and
 * event loop), not in the service; what it moves is still counted; when it dies its viewers are dropped, the next
 * viewer is served in the service, and shutting down does not wait on the dead process. Real processes throughout;
 * which process holds a connection is read from /proc (the socket's inode among its descriptors).
 */
import { execFileSync } from 'child_process';
import { readdirSync, readFileSync, readlinkSync } from 'fs';
import { connect as tcpConnect } from 'net';
import { WebSocket } from 'ws';
import { TunnelRunner } from '../src/proxy/tunnel-runner';
import { isProcessAlive, useCleanup } from './support/processes';
import { FAST_TIMINGS } from './support/spawner-app';
import {
  getSpawn,
  postSpawn,
  startTrackedApp,
  waitForProcessGone,
  waitForSpawnView,
  type TrackedApp,
} from './support/spawner-e2e';
import { connectViewer } from './support/viewer-client';
import { requireSystemBinary } from './support/system-packages';
import { sleep, waitFor, withTimeout } from './support/wait';

const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '22400' };

/** Inodes of the established TCP sockets whose remote (or local) end is `port` (IPv4 and IPv6 tables). */
function inodesTo(port: number, end: 'remote' | 'local' = 'remote'): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f.length > 9 && f[end === 'remote' ? 2 : 1].endsWith(`:${hex}`) && f[3] === '01')
      .map((f) => f[9]),
  );
}

function holdsSocket(pid: number, inode: string): boolean {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).some((fd) => {
    try {
      return readlinkSync(`${dir}/${fd}`) === `socket:[${inode}]`;
    } catch {
      return false;
    }
  });
}

async function spawnAndView(app: TrackedApp, cleanup: ReturnType<typeof useCleanup>) {
  const response = await postSpawn(app.url, {});
  expect(response.status).toBe(200);
  const spawn = response.body as { id: string; wsPort: number; proxyEndpoint: string; pid: number };
  const viewer = await connectViewer(spawn.proxyEndpoint, { cleanup });
  await viewer.next(); // the server's hello
  return { spawn, viewer };
}

describe('relay process (e2e)', () => {
  const cleanup = useCleanup();

  /** A service whose relay process is up, and one viewer relayed by it. */
  async function startRelayed() {
    const app = await startTrackedApp(cleanup, ENV);
    const runner = app.app.get(TunnelRunner);
    const relayPid = await waitFor(() => runner.relayProcessPid, 5000, { description: 'the relay process to start' });
    return { app, runner, relayPid, first: await spawnAndView(app, cleanup) };
  }

  it("runs the tunnel in the relay process, not the service: its sockets are the relay process's; counts arrive", async () => {
    const {
      app,
      relayPid,
      first: { spawn, viewer },
    } = await startRelayed();
    expect(relayPid).not.toBe(process.pid);

    const [toServer] = inodesTo(spawn.wsPort);
    expect(toServer).toBeDefined();
    expect(holdsSocket(relayPid, toServer)).toBe(true);
    // The service closes its copy once the relay process acknowledged the descriptor.
    await waitFor(() => !holdsSocket(process.pid, toServer), 2000, { description: 'the service to let go of it' });
    const viewerSide = inodesTo(Number(new URL(app.url).port), 'local').filter((inode) => holdsSocket(relayPid, inode));
    expect(viewerSide).toHaveLength(1);

    await viewer.send(Buffer.alloc(10_000, 7));
    expect((await viewer.next()).data.length).toBe(10_000);
    const view = await waitForSpawnView(
      app.url,
      spawn.id,
      (v) => v.relay.toViewer.messages >= 2,
      'the relay process to report the echo',
    );
    expect(view).toMatchObject({ state: 'connected', relay: { toServer: { bytes: 10_000, messages: 1 } } });
    expect(await viewer.close(1000, 'done')).toEqual({ code: 1000, reason: 'done' });
  });

  it("leaves a terminal's Ctrl-C, Ctrl-\\, hang-up and a group SIGTERM to the service: its tunnels go on", async () => {
    const {
      relayPid,
      first: { viewer },
    } = await startRelayed();
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.kill(relayPid, signal);
    await sleep(300);
    expect(isProcessAlive(relayPid)).toBe(true);
    await viewer.send(Buffer.alloc(100, 1));
    expect((await viewer.next()).data.length).toBe(100);
  });

  it('probes a relayed viewer that falls silent (TCP keepalive): one whose network vanished is found out', async () => {
    const { app, relayPid } = await startRelayed();
    const servicePort = Number(new URL(app.url).port);
    const [viewerSide] = inodesTo(servicePort, 'local').filter((inode) => holdsSocket(relayPid, inode));
    expect(viewerSide).toBeDefined();
    const ss = requireSystemBinary('/usr/bin/ss', 'iproute2');
    const sockets = execFileSync(ss, ['-tneoH', 'state', 'established', `sport = :${servicePort}`], {
      encoding: 'utf8',
    });
    const line = sockets.split('\n').find((l) => l.includes(`ino:${viewerSide} `));
    expect(line).toMatch(/timer:\(keepalive,/);
  });

  it("a viewer's WebSocket handed to the relay process still counts against MAX_CONNECTIONS_PER_CLIENT until its tunnel closes", async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, MAX_CONNECTIONS_PER_CLIENT: '2' });
    const runner = app.app.get(TunnelRunner);
    await waitFor(() => runner.relayProcessPid, 5000, { description: 'the relay process to start' });
    // Another client than the service's own address (127.0.0.1, exempt): two viewers, at its cap.
    const client = '127.0.0.2';
    const viewers: WebSocket[] = [];
    for (const _ of [1, 2]) {
      const spawn = (await postSpawn(app.url, {})).body as { proxyEndpoint: string };
      const ws = new WebSocket(spawn.proxyEndpoint, { localAddress: client });
      cleanup.add(() => void ws.terminate(), 'test viewer');
      await withTimeout(new Promise((resolve) => ws.once('message', resolve)), 5000, 'the hello');
      viewers.push(ws);
    }
    await sleep(200); // the service has let go of its copies of the sockets by now
    /** A request from the client on a new connection: its answer, or '' when the connection is dropped unanswered. */
    const tryRequest = () =>
      withTimeout(
        new Promise<string>((resolve) => {
          let answer = '';
          const socket = tcpConnect({ port: app.port, host: '127.0.0.1', localAddress: client });
          socket.on('data', (chunk) => (answer += chunk.toString()));
          socket.on('error', () => undefined);
          socket.on('close', () => resolve(answer));
          socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        }),
        5000,
        'the request to be answered or dropped',
      );
    expect(await tryRequest()).toBe('');
    viewers[0].close(1000, 'done');
    await waitFor(async () => (await tryRequest()).startsWith('HTTP/1.1 200'), 5000, {
      description: 'the closed tunnel to free its place',
    });
  });

  it('when the relay process dies its viewers drop, the next viewer is served in the service, and shutdown does not wait on it', async () => {
    const { app, runner, relayPid, first } = await startRelayed();

    process.kill(relayPid, 'SIGKILL');
    await waitForProcessGone(relayPid);
    expect((await first.viewer.closed).code).toBe(1006);
    await waitFor(async () => (await getSpawn(app.url, first.spawn.id)).state === 'exited', 5000, {
      description: 'the dropped session to end',
    });
    expect(runner.relayProcessPid).toBeUndefined();

    const second = await spawnAndView(app, cleanup);
    const [toServer] = inodesTo(second.spawn.wsPort);
    expect(holdsSocket(process.pid, toServer)).toBe(true);
    await second.viewer.send('still relayed');
    expect((await second.viewer.next()).text).toBe('still relayed');

    const startedAt = Date.now();
    await app.close();
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect((await second.viewer.closed).code).toBe(1001);
  });

  it('a relay process that stops answering gets no new tunnels, and is killed: its viewers drop, the rest go on', async () => {
    const { app, runner, relayPid, first } = await startRelayed();

    // Stopped, it is alive but answers nothing: as a relay process stuck in a loop would be.
    process.kill(relayPid, 'SIGSTOP');
    const stoppedAt = Date.now();
    const firstDropped = first.viewer.closed.then((close) => ({ code: close.code, afterMs: Date.now() - stoppedAt }));
    await waitFor(() => runner.relayProcessPid === undefined, 4000, {
      description: 'the silent relay process to get no more tunnels',
    });
    const second = await spawnAndView(app, cleanup);
    const [toServer] = inodesTo(second.spawn.wsPort);
    expect(holdsSocket(process.pid, toServer)).toBe(true);
    await second.viewer.send('relayed by the service');
    expect((await second.viewer.next()).text).toBe('relayed by the service');

    // Killed once its oldest unanswered ping (sent up to a second before the stop) has waited 5 s; time the service
    // itself was late on its ticks is added, hence the margin above.
    const dropped = await firstDropped;
    expect(dropped.code).toBe(1006);
    expect(dropped.afterMs).toBeGreaterThanOrEqual(3900);
    expect(dropped.afterMs).toBeLessThan(10_000);
    await waitForProcessGone(relayPid);
    await waitFor(async () => (await getSpawn(app.url, first.spawn.id)).state === 'exited', 5000, {
      description: 'the dropped session to end',
    });
    await second.viewer.send('still here');
    expect((await second.viewer.next()).text).toBe('still here');
    expect(await second.viewer.close(1000, 'done')).toEqual({ code: 1000, reason: 'done' });
  });
});
