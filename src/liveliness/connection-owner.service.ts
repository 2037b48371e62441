import { Injectable } from '@nestjs/common';
import type { Socket } from 'net';
import { ProcessTable, SocketTable } from '../adapters';
import { findPeerSocket } from './tcp-table';

/**
 * Whether the TCP connection a request arrived on was opened by a process of a given process group: the
 * peer's socket (asked of the kernel by the connection's address pair, or found in /proc/net/tcp where the
 * kernel cannot be asked) is among the open files of a process of that group. A yes is kept for the connection: a
 * server's keep-alive connection carries all its reports, so /proc is walked once per connection, not per ping.
 */
@Injectable()
export class ConnectionOwner {
  private readonly answers = new WeakMap<Socket, Map<string, Promise<boolean>>>();

  constructor(
    private readonly processes: ProcessTable,
    private readonly sockets: SocketTable,
  ) {}

  /**
   * Whether `socket`'s peer is held by a process of the group led by the server `pgid`, started at
   * `leaderStartTime` (from /proc, as its launch recorded it).
   */
  openedByGroup(socket: Socket, pgid: number, leaderStartTime: string): Promise<boolean> {
    let known = this.answers.get(socket);
    if (!known) this.answers.set(socket, (known = new Map<string, Promise<boolean>>()));
    const server = `${pgid}/${leaderStartTime}`;
    let answer = known.get(server);
    if (answer === undefined) {
      answer = this.check(socket, pgid, leaderStartTime);
      known.set(server, answer);
      // Only a yes is kept: a no may come from a read that failed once (a process exiting, a full file table), and
      // the server's next report on this connection is checked again rather than refused for good.
      const forget = () => void known.delete(server);
      // (A failed check is its caller's error; this branch only forgets it, so no rejection goes unhandled here.)
      void answer.then((yes) => yes || forget(), forget);
    }
    return answer;
  }

  private async check(socket: Socket, pgid: number, leaderStartTime: string): Promise<boolean> {
    const { localAddress, localPort, remoteAddress, remotePort } = socket;
    if (!localAddress || !localPort || !remoteAddress || !remotePort) return false;
    const ours = { address: localAddress, port: localPort };
    const peer = { address: remoteAddress, port: remotePort };
    const found = await this.sockets.find(peer, ours);
    const peerSocket =
      found === 'unavailable'
        ? findPeerSocket(await this.processes.tcpTable(), ours, peer)
        : found === 'absent'
          ? undefined
          : found;
    // A socket another user than the server's owns is no server's: refused before any process's files are read (a
    // wrapper that drops privileges must exec the server, as setpriv does, for its socket to be the leader's user's).
    // Walking /proc costs the service ~45 ms with a few thousand processes, which any local user can start: their
    // forged reports, each refused, held its health checks for seconds and got its silent servers stopped.
    if (peerSocket === undefined || peerSocket.uid !== this.processes.ownerUid(pgid)) return false;
    const { inode } = peerSocket;
    // The leader (the server itself) usually holds it: look there before walking the whole process table.
    const held =
      this.holds(pgid, pgid, inode) ||
      this.processes.pids().some((pid) => pid !== pgid && this.holds(pid, pgid, inode));
    // Read after the files: the group is still the server's. Had the server and all its group ended meanwhile, its
    // pid could have been taken by another process leading a group of that number, whose files were then read.
    return held && this.processes.stat(pgid)?.startTime === leaderStartTime;
  }

  /** `pid` is in the group and holds the socket: the process whose files were read is the one whose group was. */
  private holds(pid: number, pgid: number, inode: string): boolean {
    const before = this.processes.stat(pid);
    if (before?.pgrp !== pgid || !this.processes.holdsSocket(pid, inode)) return false;
    // A pid freed and reused between the two reads has another start time.
    const after = this.processes.stat(pid);
    return after?.pgrp === pgid && after.startTime === before.startTime;
  }
}
