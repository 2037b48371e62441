/**
 * Issue 19, findings 1, 3 and 4, retried as a local attacker would: a second start on the same state folder,
 * a state folder prepared by someone else, a planted journal, the relay capability read from `ps`, and a
 * liveliness `disconnect` reported by another local process. Each must fail.
 */
import { spawn } from 'child_process';
import { get as httpGet } from 'http';
import { type AddressInfo, createServer, type Socket } from 'net';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import request from 'supertest';
import { NodeFileSystem } from '../src/adapters/file-system.adapter';
import { hashArgs } from '../src/adapters/process-identity';
import { KernelSocketTable } from '../src/adapters/socket-table.adapter';
import { ConnectionOwner } from '../src/liveliness/connection-owner.service';
import { findPeerSocket } from '../src/liveliness/tcp-table';
import { FakeProcessTable } from './fakes';
import { freePort } from './support/ports';
import { isProcessAlive, procStat, useCleanup, type Cleanup } from './support/processes';
import { FAST_TIMINGS, SERVICE_MAIN, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { getSpawn, postSpawn, procArgv, startTrackedApp, type SpawnView } from './support/spawner-e2e';
import { makeTempDir } from './support/temp';
import { connectViewer, ViewerRefusedError } from './support/viewer-client';
import { sleep, waitFor } from './support/wait';

const PORT_BASE = 27500;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE), PUBLIC_ENDPOINT: 'proxy' };
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** Runs the built service to its exit (it is expected to refuse to start), with its output. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SERVICE_MAIN], {
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** The lines a refused start printed (stderr), without the Node.js 24 launcher's note. */
const linesOf = (text: string) => text.split('\n').filter((line) => line !== '' && !line.includes('Node.js 24 LTS'));

/** A long-lived process leading its own group, with `--id <id>` in its argv (as a server's would be). */
function startImpostor(cleanup: Cleanup, id: string, options: { asNobody?: boolean } = {}): number {
  const argv = ['/bin/sh', '-c', 'sleep 600; :', 'impostor', '--id', id];
  const [file, args] = options.asNobody
    ? ['setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', '--', ...argv]]
    : [argv[0], argv.slice(1)];
  const child = spawn(file, args, { detached: true, stdio: 'ignore' });
  cleanup.trackPid(child.pid!, { group: true });
  return child.pid!;
}

/** Every process of a server's process group (the server and whatever it started). */
function groupPids(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => procStat(pid)?.pgrp === pgid);
}

/**
 * A listener on host:port as another user (nobody, when root) with ReuseAddr as any program has: prints `up`, or
 * `refused: <reason>`, and holds the port until killed.
 */
function squat(cleanup: Cleanup, host: string, port: number): Promise<string> {
  const script =
    '$| = 1; use IO::Socket::IP; my $s = IO::Socket::IP->new(LocalHost => $ARGV[0], LocalPort => $ARGV[1], ' +
    'Listen => 5, ReuseAddr => 1, V6Only => 1) or do { print "refused: $!\\n"; exit 0 }; print "up\\n"; sleep 600';
  const argv = ['perl', '-e', script, host, String(port)];
  const child = isRoot
    ? spawn('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', '--', ...argv])
    : spawn(argv[0], argv.slice(1));
  cleanup.add(() => void child.kill('SIGKILL'), `the listener on ${host}:${port}`);
  return new Promise((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
}

/** GET /health over IPv6 loopback: the status, or the error's code. */
function overIpv6(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpGet({ host: '::1', port, path: '/health' }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('local trust boundaries (e2e, real processes)', () => {
  const cleanup = useCleanup();

  async function startService(stateDir: string, port?: number): Promise<ServiceProcess> {
    const service = await startServiceProcess(port ?? (await freePort()), { ...ENV, SC_STATE_DIR: stateDir });
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
    return service;
  }

  it("a second start on the same state folder or PORT exits 1 with one line naming the first's pid, and touches nothing", async () => {
    const stateDir = makeTempDir(cleanup, 'sc-state-');
    const first = await startService(stateDir);
    const spawned = await postSpawn(first.url, {});
    expect(spawned.status).toBe(200);
    const session = spawned.body as SpawnView;
    cleanup.trackPid(session.pid!, { group: true });
    const viewer = await connectViewer(session.proxyEndpoint, { cleanup });
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello' });
    const journal = readFileSync(path.join(stateDir, 'spawns.json'), 'utf8');

    const again = await runToExit({ ...ENV, PORT: String(first.port), SC_STATE_DIR: stateDir });
    expect(again.code).toBe(1);
    expect(linesOf(again.stderr)).toEqual([
      `sc-spawner: another instance (pid ${first.child.pid}) already runs with the state folder ${stateDir} (PORT ${first.port})`,
    ]);
    expect(again.stdout).toBe('');

    // Another state folder, the same PORT: refused before anything is read.
    const otherDir = makeTempDir(cleanup, 'sc-state-');
    const samePort = await runToExit({ ...ENV, PORT: String(first.port), SC_STATE_DIR: otherDir });
    expect(samePort.code).toBe(1);
    expect(linesOf(samePort.stderr)).toEqual([
      `sc-spawner: port ${first.port} on 127.0.0.1 is already in use by another program (PORT)`,
    ]);

    await sleep(500);
    expect(viewer.ws.readyState).toBe(viewer.ws.OPEN);
    expect(isProcessAlive(session.pid!)).toBe(true);
    expect((await getSpawn(first.url, session.id)).state).toBe('connected');
    expect(readFileSync(path.join(stateDir, 'spawns.json'), 'utf8')).toBe(journal);
    await viewer.close();
  });

  it('refuses a state folder someone else prepared or can swap: group-writable, a symlink, another user’s, or below one of theirs', async () => {
    const root = makeTempDir(cleanup, 'sc-state-root-');
    const cases: Array<[string, string]> = [];
    const writable = path.join(root, 'writable');
    mkdirSync(writable);
    chmodSync(writable, 0o770);
    cases.push([writable, 'is writable by group or others (mode 0770)']);
    const link = path.join(root, 'link');
    symlinkSync(makeTempDir(cleanup), link);
    cases.push([link, 'is a symbolic link']);
    if (isRoot) {
      const foreign = path.join(root, 'foreign');
      mkdirSync(foreign, { mode: 0o700 });
      chownSync(foreign, NOBODY, NOBODY);
      cases.push([foreign, `belongs to uid ${NOBODY}`]);
    }
    const shared = path.join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777); // world-writable, no sticky bit
    cases.push([
      path.join(shared, 'state'),
      `is below ${shared}, which is writable by group or others without the sticky bit (mode 777)`,
    ]);
    if (isRoot) {
      // Not writable by others, but its owner may rename the state folder away and put one of theirs in its place.
      const theirs = path.join(root, 'theirs');
      mkdirSync(theirs, { mode: 0o755 });
      chownSync(theirs, NOBODY, NOBODY);
      cases.push([path.join(theirs, 'state'), `is below ${theirs}, which belongs to uid ${NOBODY}`]);
    }

    for (const [dir, why] of cases) {
      const port = await freePort();
      const result = await runToExit({ ...ENV, PORT: String(port), SC_STATE_DIR: dir });
      expect({ dir, code: result.code }).toEqual({ dir, code: 1 });
      const lines = linesOf(result.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`state folder ${dir} ${why}`);
    }
    expect(readdirSync(writable)).toEqual([]);
  });

  it('a planted journal naming processes that are not provably ours gets none of them killed', async () => {
    const stateDir = makeTempDir(cleanup, 'sc-state-');
    // The shape the attacker used (an older journal), a forged entry with a wrong argument
    // fingerprint, and (as root) another user's process forged down to its start time and arguments.
    const legacy = startImpostor(cleanup, 'legacy-x');
    const forged = startImpostor(cleanup, 'forged-y');
    const foreign = isRoot ? startImpostor(cleanup, 'foreign-z', { asNobody: true }) : undefined;
    // Past setpriv's exec (its own argv has --id too, and until the exec its /proc entry is root's).
    const running = (pid: number) => procArgv(pid).includes('--id') && !procArgv(pid)[0].endsWith('setpriv');
    await waitFor(() => [legacy, forged, foreign].every((pid) => pid === undefined || running(pid)), 5000, {
      description: 'the impostors to run',
    });
    const entryOf = (pid: number, id: string, args: string[]) => ({
      id,
      pid,
      wsPort: PORT_BASE,
      startTime: readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[22 - 3],
      argsHash: hashArgs(args),
      argCount: args.length,
    });
    const entries = [entryOf(forged, 'forged-y', ['--id', 'forged-y', '--sc-port', String(PORT_BASE)])];
    if (foreign) entries.push(entryOf(foreign, 'foreign-z', procArgv(foreign).slice(1)));
    writeFileSync(path.join(stateDir, 'spawns.json'), JSON.stringify([{ id: 'legacy-x', pid: legacy, wsPort: 1 }]));
    const once = await startService(stateDir);
    expect(await once.stop()).toEqual({ code: 0, signal: null });
    writeFileSync(
      path.join(stateDir, 'spawns.json'),
      JSON.stringify({ writer: { pid: 999_999_999, startTime: '1' }, entries }),
    );
    const service = await startService(stateDir);
    expect(await postSpawn(service.url, {})).toMatchObject({ status: 200 });
    for (const pid of [legacy, forged, foreign]) if (pid !== undefined) expect(isProcessAlive(pid)).toBe(true);
    const output = service.output.join('');
    expect(output).toContain(`journal entry forged-y (pid ${forged}) left alone: its command line differs`);
    if (foreign)
      expect(output).toContain(`journal entry foreign-z (pid ${foreign}) left alone: owned by uid ${NOBODY}`);
  });

  it('the relay capability is in no server’s argv; /ws/<spawn id> joins nothing (404)', async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const views = [
      (await postSpawn(app.url, {})).body as SpawnView,
      (await postSpawn(app.url, { sessionToken: 'viewer-secret-1' })).body as SpawnView,
    ];
    const hoops = await request(app.url).post('/api/spawn').send({ class: 'csr_session' }).expect(200);
    const urls = [...views.flatMap((v) => [v.proxyEndpoint, v.links.ws]), hoops.body.endpoints.ws as string];
    const tokens = new Set(urls.map((url) => url.slice(url.lastIndexOf('/ws/') + 4)));
    expect(tokens.size).toBe(3);
    const pids = [...views.map((v) => v.pid!), (await getSpawn(app.url, hoops.body.serviceId as string)).pid!];
    for (const pid of pids.flatMap(groupPids)) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      for (const token of tokens) expect(cmdline).not.toContain(token);
    }
    expect(procArgv(views[0].pid!)).toEqual(expect.arrayContaining(['--id', views[0].id]));

    const byId = await connectViewer(`ws://127.0.0.1:${app.port}/ws/${views[0].id}`).catch((e: unknown) => e);
    expect(byId).toBeInstanceOf(ViewerRefusedError);
    expect((byId as ViewerRefusedError).status).toBe(404);
    const viewer = await connectViewer(views[0].proxyEndpoint, { cleanup });
    expect(await viewer.nextJson()).toMatchObject({ type: 'hello', id: views[0].id });
    await viewer.close();
  });

  it("a liveliness disconnect from another local process is refused (403) and the session lives on; the server's own reports count", async () => {
    const app = await startTrackedApp(cleanup, ENV);
    const session = (await postSpawn(app.url, {})).body as SpawnView;
    const viewer = await connectViewer(session.proxyEndpoint, { cleanup });
    await viewer.nextJson();
    await waitFor(async () => (await getSpawn(app.url, session.id)).state === 'connected', 5000, {
      description: 'the session to be connected',
    });
    for (const route of [`/liveliness/${session.id}`, `/api/spawns/${session.id}`]) {
      const refused = await request(app.url).post(`${route}?liveliness=disconnect`);
      expect({ route, status: refused.status }).toEqual({ route, status: 403 });
      expect(refused.body.message).toMatch(/accepted only from that server's own processes/);
      // The connection is closed with it: another try costs another connection (and its lookup).
      expect(refused.headers.connection).toBe('close');
    }
    const before = Date.parse((await getSpawn(app.url, session.id)).lastReportAt!);
    await waitFor(async () => Date.parse((await getSpawn(app.url, session.id)).lastReportAt!) > before, 5000, {
      description: "the server's own pings to be counted",
    });
    expect((await getSpawn(app.url, session.id)).state).toBe('connected');
    expect(viewer.ws.readyState).toBe(viewer.ws.OPEN);
    expect(isProcessAlive(session.pid!)).toBe(true);
    await viewer.close();
  });

  it("the kernel names the user of a reporter's socket: another user's is refused before any process's files are read", async () => {
    // As root the connection is opened by nobody; otherwise by this user (another one cannot be played then).
    const user = isRoot ? NOBODY : process.getuid!();
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise<void>((resolve) => listener.close(() => resolve())), 'listener');
    const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
    const connectScript = `use IO::Socket::INET; my $s = IO::Socket::INET->new("127.0.0.1:${(listener.address() as AddressInfo).port}") or die; sleep 30`;
    const argv = ['perl', '-e', connectScript];
    const client = isRoot
      ? spawn('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', '--', ...argv])
      : spawn(argv[0], argv.slice(1));
    cleanup.add(() => void client.kill('SIGKILL'), 'the connecting client');
    const socket = await accepted;
    cleanup.add(() => void socket.destroy(), 'the accepted socket');
    const ours = { address: socket.localAddress!, port: socket.localPort! };
    const peer = { address: socket.remoteAddress!, port: socket.remotePort! };

    const table = new KernelSocketTable(new NodeFileSystem());
    table.onApplicationBootstrap();
    cleanup.add(() => table.onApplicationShutdown(), 'the netlink co-process');
    const found = await waitFor(async () => {
      const answer = await table.find(peer, ours);
      return typeof answer === 'object' && answer;
    }, 5000);
    expect(found.uid).toBe(user);
    expect(findPeerSocket(readFileSync('/proc/net/tcp', 'utf8'), ours, peer)).toEqual(found);

    // A server of another user that holds that very socket (passed to it, say): refused all the same, on the
    // kernel's word alone, with no process's files read.
    const processes = new FakeProcessTable();
    const server = { uid: user === NOBODY ? 0 : user + 1, pgrp: 4242, startTime: '1', sockets: [found.inode] };
    processes.procs.set(4242, server);
    const owner = new ConnectionOwner(processes, table);
    expect(await owner.openedByGroup(socket, 4242, '1')).toBe(false);
    expect([processes.reads.pids, processes.reads.fds]).toEqual([0, 0]);
    // The same server as that user is believed: the check is the socket's owner, and then its files.
    server.uid = user;
    expect(await owner.openedByGroup(socket, 4242, '1')).toBe(true);
  });

  it('holds PORT on the other address family too: another user can take neither [::1] nor [::] of it', async () => {
    // Before start: a listener on [::1]:PORT would answer the clients that resolve localhost to ::1.
    const port = await freePort();
    expect(await squat(cleanup, '::1', port)).toBe('up');
    const refused = await runToExit({ ...ENV, PORT: String(port), SC_STATE_DIR: makeTempDir(cleanup, 'sc-state-') });
    expect(refused.code).toBe(1);
    expect(linesOf(refused.stderr)).toEqual([
      `sc-spawner: port ${port} on [::1] is already in use by another program (PORT), which would answer the ` +
        'clients that reach this port over IPv6: stop it, or set HOST to one address',
    ]);

    // Running on 127.0.0.1: [::1] of its port is the service's own, and answers as it does.
    const loopback = await startService(makeTempDir(cleanup, 'sc-state-'));
    expect(await squat(cleanup, '::1', loopback.port)).toMatch(/^refused: Address already in use/);
    expect(await overIpv6(loopback.port)).toBe(200);
    expect(loopback.output.join('')).toContain(`listening on http://127.0.0.1:${loopback.port} and its [::1] twin`);

    // Running on 0.0.0.0: [::] of its port, and after it stops, nothing of it is left held.
    const wildPort = await freePort();
    const wild = await startServiceProcess(wildPort, {
      ...ENV,
      HOST: '0.0.0.0',
      SC_STATE_DIR: makeTempDir(cleanup, 'sc-state-'),
    });
    cleanup.add(() => wild.stop(5000), `service process ${wild.child.pid}`);
    expect(await squat(cleanup, '::', wildPort)).toMatch(/^refused: Address already in use/);
    expect(await overIpv6(wildPort)).toBe(200);
    expect((await wild.stop(5000)).code).toBe(0);
    expect(await overIpv6(wildPort)).toBe('ECONNREFUSED');
    expect(await squat(cleanup, '::', wildPort)).toBe('up');
  });
});
