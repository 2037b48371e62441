import { readdirSync, readlinkSync } from 'fs';
import { createServer, connect, type Server, type Socket } from 'net';
import { ProcProcessTable } from './process-table.adapter';

/** The inodes of this process's open sockets, as /proc shows them. */
function ownSocketInodes(): string[] {
  const inodes: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.push(match[1]);
    } catch {
      // the directory's own fd, closed once read
    }
  }
  return inodes;
}

describe('ProcProcessTable.holdsSocket', () => {
  let server: Server;
  let client: Socket;

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    client = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  });

  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('finds every socket a live process holds, old and new, and no other', () => {
    const table = new ProcProcessTable();
    const inodes = ownSocketInodes();
    expect(inodes.length).toBeGreaterThanOrEqual(2);
    for (const inode of inodes) expect(table.holdsSocket(process.pid, inode)).toBe(true);
    const absent = String(Math.max(...inodes.map(Number)) + 1_000_000);
    expect(table.holdsSocket(process.pid, absent)).toBe(false);
  });

  it('answers false for a process that is not there', () => {
    expect(new ProcProcessTable().holdsSocket(2 ** 22 + 1, '1')).toBe(false);
  });
});
