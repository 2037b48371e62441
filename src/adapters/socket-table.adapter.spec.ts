import { readdirSync, readFileSync, readlinkSync } from 'fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'net';
import { NodeFileSystem } from './file-system.adapter';
import { addressBytes, diagQueries, KernelSocketTable } from './socket-table.adapter';
import { findPeerSocketInode } from '../liveliness/tcp-table';

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

const tcpTable = () => ['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFileSync(file, 'utf8')).join('\n');

describe("KernelSocketTable (this machine's kernel, over netlink sock_diag)", () => {
  let table: KernelSocketTable;
  beforeEach(() => (table = new KernelSocketTable(new NodeFileSystem())));
  afterEach(() => table.onApplicationShutdown());

  it.each([
    ['IPv4', '127.0.0.1', '127.0.0.1'],
    ['IPv4 on a dual-stack listener (::ffff:127.0.0.1)', '::', '127.0.0.1'],
    ['IPv6', '::1', '::1'],
  ])('%s: finds the peer socket of an accepted connection, as /proc/net/tcp names it', async (_name, host, to) => {
    const link = await connection(host, to);
    try {
      const { accepted } = link;
      const ours = { address: accepted.localAddress!, port: accepted.localPort! };
      const peer = { address: accepted.remoteAddress!, port: accepted.remotePort! };
      const found = await table.find(peer, ours);
      expect(found).toEqual({ inode: expect.stringMatching(/^\d+$/) });
      const inode = (found as { inode: string }).inode;
      expect(inode).toBe(findPeerSocketInode(tcpTable(), ours, peer));
      expect(ownSocketInodes()).toContain(inode);
      // Our own end is another socket; a pair no socket has is absent.
      expect(await table.find(ours, peer)).not.toEqual(found);
      expect(await table.find({ ...peer, port: peer.port === 65535 ? 1 : peer.port + 1 }, ours)).toBe('absent');
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
    expect(await noPerl.find({ address: '127.0.0.1', port: 1000 }, { address: '127.0.0.1', port: 2000 })).toBe(
      'unavailable',
    );
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

  it('asks for an IPv4 pair as AF_INET first, then as IPv4-mapped AF_INET6; anything else as AF_INET6 only', () => {
    const v4 = diagQueries({ address: '127.0.0.1', port: 40000 }, { address: '::ffff:127.0.0.1', port: 11182 });
    expect(v4).toEqual([
      { family: 2, src: '7f000001' + '0'.repeat(24), sport: 40000, dst: '7f000001' + '0'.repeat(24), dport: 11182 },
      {
        family: 10,
        src: '00000000000000000000ffff7f000001',
        sport: 40000,
        dst: '00000000000000000000ffff7f000001',
        dport: 11182,
      },
    ]);
    expect(diagQueries({ address: '::1', port: 1 }, { address: '::1', port: 2 }).map((q) => q.family)).toEqual([10]);
    expect(diagQueries({ address: 'x', port: 1 }, { address: '::1', port: 2 })).toEqual([]);
    expect(diagQueries({ address: '::1', port: 0 }, { address: '::1', port: 2 })).toEqual([]);
  });
});
