import { readdirSync, readFileSync, readlinkSync } from 'fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'net';
import { NodeFileSystem } from './file-system.adapter';
import { addressBytes, diagQuery, KernelSocketTable } from './socket-table.adapter';
import { findPeerSocket } from '../liveliness/tcp-table';
import { isProcessAlive } from '../../test/support/processes';
import { sleep, waitFor } from '../../test/support/wait';

/** A connection of this process to itself: the accepted end and the client's end. */
async function connection(
  host: string,
  connectTo: string,
): Promise<{ accepted: Socket; client: Socket; close(): Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect((server.address() as AddressInfo).port, connectTo);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const ours = await accepted;
  return {
    accepted: ours,
    client,
    close: async () => {
      client.destroy();
      ours.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function ownSocketInodes(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1] ?? []].flat();
    } catch {
      return [];
    }
  });
}

/** The pid of this process's netlink co-process (a perl child running the sock_diag script). */
function coProcessPid(): number {
  const pids = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('NETLINK_SOCK_DIAG');
      } catch {
        return false;
      }
    });
  if (pids.length !== 1) throw new Error(`expected one co-process, found ${pids.length}`);
  return Number(pids[0]);
}

const tcpTable = () => ['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFileSync(file, 'utf8')).join('\n');

/** Shorter than the service's 5 s, so the test waits it out in real time. */
const RESTART_DELAY_MS = 400;

describe("KernelSocketTable (this machine's kernel, over netlink sock_diag)", () => {
  let table: KernelSocketTable;
  /** Until its co-process has started, a lookup is 'unavailable' (the caller reads /proc meanwhile). */
  const coProcessUp = () =>
    waitFor(
      async () => (await table.find({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 })) === 'absent',
      5000,
      { description: 'the netlink co-process to answer' },
    );
  beforeEach(async () => {
    table = new KernelSocketTable(new NodeFileSystem(), RESTART_DELAY_MS);
    table.onApplicationBootstrap();
    await coProcessUp();
  });
  afterEach(() => table.onApplicationShutdown());

  it.each([
    ['IPv4', '127.0.0.1', '127.0.0.1'],
    ['IPv4 on a dual-stack listener (::ffff:127.0.0.1)', '::', '127.0.0.1'],
    ['an IPv6 client socket with IPv4-mapped ends', '::', '::ffff:127.0.0.1'],
    ['IPv6', '::1', '::1'],
  ])('%s: finds the peer socket of an accepted connection, as /proc/net/tcp names it', async (_name, host, to) => {
    const link = await connection(host, to);
    try {
      const { accepted } = link;
      const ours = { address: accepted.localAddress!, port: accepted.localPort! };
      const peer = { address: accepted.remoteAddress!, port: accepted.remotePort! };
      const found = await table.find(peer, ours);
      // Owned by this process's user, as /proc/net/tcp says too.
      expect(found).toEqual({ inode: expect.stringMatching(/^\d+$/), uid: process.getuid!() });
      const inode = (found as { inode: string }).inode;
      expect(findPeerSocket(tcpTable(), ours, peer)).toEqual(found);
      expect(ownSocketInodes()).toContain(inode);
      // Our own end is another socket; a pair no socket has is absent.
      const own = await table.find(ours, peer);
      expect(own).toEqual({ inode: expect.stringMatching(/^\d+$/), uid: process.getuid!() });
      expect((own as { inode: string }).inode).not.toBe(inode);
      expect(await table.find({ ...peer, port: peer.port === 65535 ? 1 : peer.port + 1 }, ours)).toBe('absent');
    } finally {
      await link.close();
    }
  });

  it("never answers with a listening socket on the asked end (the kernel's fallback for a pair it does not have)", async () => {
    // The attack: a report whose connection is gone by the time it is checked, from a local port a server listens on.
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as AddressInfo).port;
      expect(await table.find({ address: '127.0.0.1', port }, { address: '127.0.0.1', port: 11182 })).toBe('absent');
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  it('starts its co-process again after it was killed, meanwhile answering unavailable (the caller reads /proc)', async () => {
    const link = await connection('127.0.0.1', '127.0.0.1');
    try {
      const { accepted: a } = link;
      const ask = () =>
        table.find(
          { address: a.remoteAddress!, port: a.remotePort! },
          { address: a.localAddress!, port: a.localPort! },
        );
      expect(await ask()).toEqual({ inode: expect.any(String), uid: expect.any(Number) });
      const pid = coProcessPid();
      const diedAt = performance.now();
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !isProcessAlive(pid), 5000, { description: 'the co-process to die' });
      expect(await ask()).toBe('unavailable');
      expect(await ask()).toBe('unavailable'); // not yet: no sooner than the restart delay after it died
      await coProcessUp();
      expect(performance.now() - diedAt).toBeGreaterThanOrEqual(RESTART_DELAY_MS);
      expect(await ask()).toEqual({ inode: expect.any(String), uid: expect.any(Number) });
      expect(coProcessPid()).not.toBe(pid);
    } finally {
      await link.close();
    }
  });

  it('leaves a Ctrl-C, a hang-up or a group SIGTERM to the service: its co-process goes on answering', async () => {
    const link = await connection('127.0.0.1', '127.0.0.1');
    try {
      const { accepted: a } = link;
      const pid = coProcessPid();
      // What a terminal's Ctrl-C or hang-up, or a kill of the service's whole group, sends it (it shares that group).
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.kill(pid, signal);
      await sleep(200);
      expect(isProcessAlive(pid)).toBe(true);
      const peer = { address: a.remoteAddress!, port: a.remotePort! };
      expect(await table.find(peer, { address: a.localAddress!, port: a.localPort! })).toEqual({
        inode: expect.any(String),
        uid: expect.any(Number),
      });
    } finally {
      await link.close();
    }
  });

  it('answers many lookups in flight, each with its own socket', async () => {
    const links = await Promise.all(Array.from({ length: 8 }, () => connection('127.0.0.1', '127.0.0.1')));
    try {
      const answers = await Promise.all(
        links.map(({ accepted: a }) =>
          table.find(
            { address: a.remoteAddress!, port: a.remotePort! },
            { address: a.localAddress!, port: a.localPort! },
          ),
        ),
      );
      const inodes = answers.map((answer) => (answer as { inode: string }).inode);
      expect(new Set(inodes).size).toBe(8);
      for (const inode of inodes) expect(ownSocketInodes()).toContain(inode);
    } finally {
      await Promise.all(links.map((link) => link.close()));
    }
  });

  it("is 'unavailable' where there is no perl, so the caller reads /proc/net/tcp", async () => {
    const noPerl = new KernelSocketTable(
      Object.assign(new NodeFileSystem(), { executableProblem: () => 'does not exist' }),
    );
    noPerl.onApplicationBootstrap();
    // Long after a co-process would have answered (see coProcessUp), and for good.
    await sleep(300);
    for (let i = 0; i < 3; i++) {
      expect(await noPerl.find({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 })).toBe(
        'unavailable',
      );
    }
    await noPerl.onApplicationShutdown();
  });
});

describe('socket lookup questions', () => {
  it('reads addresses of both families as 16 bytes', () => {
    expect(addressBytes('127.0.0.1')).toBe('00000000000000000000ffff7f000001');
    expect(addressBytes('::ffff:127.0.0.1')).toBe('00000000000000000000ffff7f000001');
    expect(addressBytes('::1')).toBe('00000000000000000000000000000001');
    expect(addressBytes('fe80::1:2')).toBe('fe800000000000000000000000010002');
    expect(addressBytes('not an address')).toBeUndefined();
    expect(addressBytes('1::2::3')).toBeUndefined();
    expect(addressBytes('127.0.0.256')).toBeUndefined();
  });

  it('asks for an IPv4 pair (plain or IPv4-mapped) as AF_INET, anything else as AF_INET6', () => {
    expect(diagQuery({ address: '127.0.0.1', port: 40000 }, { address: '::ffff:127.0.0.1', port: 11182 })).toEqual({
      family: 2,
      src: '7f000001' + '0'.repeat(24),
      sport: 40000,
      dst: '7f000001' + '0'.repeat(24),
      dport: 11182,
    });
    expect(diagQuery({ address: '::1', port: 1 }, { address: '::1', port: 2 })?.family).toBe(10);
    expect(diagQuery({ address: '::ffff:127.0.0.1', port: 1 }, { address: '::1', port: 2 })?.family).toBe(10);
    expect(diagQuery({ address: 'x', port: 1 }, { address: '::1', port: 2 })).toBeUndefined();
    expect(diagQuery({ address: '::1', port: 0 }, { address: '::1', port: 2 })).toBeUndefined();
  });
});
