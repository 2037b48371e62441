import type { Socket } from 'net';
import { FakeProcessTable, FakeSocketTable } from '../../test/fakes';
import { ConnectionOwner } from './connection-owner.service';

describe('ConnectionOwner', () => {
  // A report arrived on 127.0.0.1:11182 from 127.0.0.1:40000; the peer's socket has inode 555.
  const socket = { localAddress: '127.0.0.1', localPort: 11182, remoteAddress: '127.0.0.1', remotePort: 40000 };
  const TCP = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   1: 0100007F:9C40 0100007F:2BAE 01 00000000:00000000 00:00000000 00000000  0 0 555 1 0 20 4 30 10 -1',
  ].join('\n');

  const STARTED = '4242'; // the server's start time as its launch read it (the fake table's default)

  function setup({ netlink = true } = {}) {
    const processes = new FakeProcessTable();
    const sockets = new FakeSocketTable();
    sockets.available = netlink;
    sockets.sockets.set('127.0.0.1:40000>127.0.0.1:11182', '555'); // the kernel's answer: same socket as in TCP
    processes.tcp = TCP;
    // The server (group leader), as uid 0, whose the sockets of TCP and of the fake kernel are.
    processes.procs.set(300, { argv: ['server'], uid: 0, pgrp: 300, sockets: ['9'] });
    processes.procs.set(301, { argv: ['helper'], pgrp: 300, sockets: [] });
    processes.procs.set(400, { argv: ['curl'], pgrp: 400, sockets: [] }); // another local user's client
    return { processes, sockets, owner: new ConnectionOwner(processes, sockets) };
  }

  describe.each([
    ['asking the kernel (netlink)', true],
    ['reading /proc/net/tcp where netlink is unavailable', false],
  ])('%s', (_how, netlink) => {
    it("accepts a connection the server's group holds, through its leader or any other member", async () => {
      const { processes, owner } = setup({ netlink });
      processes.procs.get(300)!.sockets = ['555'];
      expect(await owner.openedByGroup({ ...socket } as Socket, 300, STARTED)).toBe(true);
      processes.procs.get(300)!.sockets = [];
      processes.procs.get(301)!.sockets = ['555'];
      expect(await owner.openedByGroup({ ...socket } as Socket, 300, STARTED)).toBe(true);
      expect(processes.reads.tcp).toBe(netlink ? 0 : 2);
    });

    it('refuses a connection held by a process outside the group, or one it cannot find', async () => {
      const { processes, owner } = setup({ netlink });
      processes.procs.get(400)!.sockets = ['555'];
      expect(await owner.openedByGroup({ ...socket } as Socket, 300, STARTED)).toBe(false);
      expect(await owner.openedByGroup({ ...socket, remotePort: 40001 } as Socket, 300, STARTED)).toBe(false);
      // The kernel's "no such socket" is believed: /proc is read only where the kernel cannot be asked.
      expect(processes.reads.tcp).toBe(netlink ? 0 : 2);
    });

    it("refuses a socket of another user than the server's without reading any process's files", async () => {
      const { processes, owner } = setup({ netlink });
      processes.procs.get(300)!.sockets = ['555'];
      processes.procs.get(300)!.uid = 1000; // the socket is uid 0's: not the server's user
      expect(await owner.openedByGroup({ ...socket } as Socket, 300, STARTED)).toBe(false);
      expect([processes.reads.pids, processes.reads.fds]).toEqual([0, 0]);
    });
  });

  it("refuses when the group's leader is no longer the server: its pid was reused, before or during the check", async () => {
    const { processes, owner } = setup();
    // Another process now has the server's pid, leads a group of that number and holds the connection.
    processes.procs.set(300, { argv: ['intruder'], pgrp: 300, sockets: ['555'], startTime: '9999' });
    expect(await owner.openedByGroup({ ...socket } as Socket, 300, STARTED)).toBe(false);

    // The server is there when the check begins and its files are read, then ends; its pid is taken at once.
    const { processes: later, owner: laterOwner } = setup();
    later.procs.get(300)!.sockets = ['555'];
    const holdsSocket = later.holdsSocket.bind(later);
    later.holdsSocket = (pid, inode) => {
      const held = holdsSocket(pid, inode);
      later.procs.set(300, { argv: ['intruder'], pgrp: 300, sockets: ['555'], startTime: '9999' });
      return held;
    };
    expect(await laterOwner.openedByGroup({ ...socket } as Socket, 300, STARTED)).toBe(false);
  });

  it('refuses a group member whose pid was reused while its files were read', async () => {
    const { processes, owner } = setup();
    processes.procs.get(301)!.sockets = ['555'];
    const holdsSocket = processes.holdsSocket.bind(processes);
    processes.holdsSocket = (pid, inode) => {
      const held = holdsSocket(pid, inode);
      // The helper ends as its files are read; another process, moved into the group, gets its pid.
      if (pid === 301) processes.procs.set(301, { argv: ['intruder'], pgrp: 300, sockets: ['555'], startTime: '9999' });
      return held;
    };
    expect(await owner.openedByGroup({ ...socket } as Socket, 300, STARTED)).toBe(false);
  });

  it('does not keep a refusal: the next report on the connection is checked again', async () => {
    const { processes, sockets, owner } = setup();
    const keptAlive = { ...socket } as Socket;
    expect(await owner.openedByGroup(keptAlive, 300, STARTED)).toBe(false);
    processes.procs.get(300)!.sockets = ['555'];
    expect(await owner.openedByGroup(keptAlive, 300, STARTED)).toBe(true);
    expect(await owner.openedByGroup(keptAlive, 300, STARTED)).toBe(true);
    expect(sockets.lookups).toBe(2);
    // Another server on the same pid (not the one whose yes was kept) is checked on its own.
    expect(await owner.openedByGroup(keptAlive, 300, '5555')).toBe(false);
  });

  it("a lookup that fails is its caller's error, and forgotten: the next report is checked afresh", async () => {
    const { processes, sockets, owner } = setup();
    processes.procs.get(300)!.sockets = ['555'];
    const find = sockets.find.bind(sockets);
    sockets.find = () => Promise.reject(new Error('EMFILE'));
    const keptAlive = { ...socket } as Socket;
    await expect(owner.openedByGroup(keptAlive, 300, STARTED)).rejects.toThrow('EMFILE');
    sockets.find = find;
    expect(await owner.openedByGroup(keptAlive, 300, STARTED)).toBe(true);
  });

  it('looks a connection up once: later reports on a keep-alive connection are answered from memory', async () => {
    const { processes, sockets, owner } = setup();
    processes.procs.get(300)!.sockets = ['555'];
    const keptAlive = { ...socket } as Socket;
    for (let i = 0; i < 10; i++) expect(await owner.openedByGroup(keptAlive, 300, STARTED)).toBe(true);
    expect(sockets.lookups).toBe(1);
    expect(await owner.openedByGroup({ ...socket } as Socket, 300, STARTED)).toBe(true); // a new connection is checked again
    expect(sockets.lookups).toBe(2);
  });
});
