import { ProcessStat, ProcessTable } from '../../src/adapters/process-table.adapter';

/** One process of a fake /proc tree. */
export interface FakeProc {
  argv?: string[];
  uid?: number;
  pgrp?: number;
  startTime?: string;
  /** Its state (field 3 of /proc/<pid>/stat): 'S' unless given; 'Z' for a zombie (exited, not yet reaped). */
  state?: string;
  /** Inodes of the sockets it has open. */
  sockets?: string[];
}

/**
 * A /proc the test fills in: `procs` maps a pid to its process, `tcp` is the text of /proc/net/tcp{,6}.
 * Records the groups it was asked to kill (a killed leader disappears) and how often each part was read.
 * `commandLines` is kept for tests that only care about argv: a pid there runs as uid `defaultUid`, leads
 * its own group and started at `defaultStartTime`.
 */
export class FakeProcessTable extends ProcessTable {
  readonly procs = new Map<number, FakeProc>();
  readonly commandLines = new Map<number, string[]>();
  readonly killed: Array<[number, NodeJS.Signals]> = [];
  readonly killedPids: Array<[number, NodeJS.Signals]> = [];
  readonly reads = { pids: 0, tcp: 0, fds: 0 };
  tcp = '';
  defaultUid = 1000;
  defaultStartTime = '4242';

  private proc(pid: number): FakeProc | undefined {
    const proc = this.procs.get(pid);
    if (proc) return proc;
    const argv = this.commandLines.get(pid);
    return argv ? { argv, uid: this.defaultUid, pgrp: pid, startTime: this.defaultStartTime } : undefined;
  }

  commandLine(pid: number): string[] | undefined {
    return this.proc(pid)?.argv;
  }
  stat(pid: number): ProcessStat | undefined {
    const proc = this.proc(pid);
    if (!proc && this.commandLines.size === 0 && this.procs.size === 0) {
      // An empty table stands for "any launched pid runs": the supervisor's tests journal their fakes.
      return { state: 'S', pgrp: pid, startTime: this.defaultStartTime };
    }
    return proc
      ? { state: proc.state ?? 'S', pgrp: proc.pgrp ?? pid, startTime: proc.startTime ?? this.defaultStartTime }
      : undefined;
  }
  ownerUid(pid: number): number | undefined {
    const proc = this.proc(pid);
    return proc ? (proc.uid ?? this.defaultUid) : undefined;
  }
  pids(): number[] {
    this.reads.pids++;
    return [...new Set([...this.procs.keys(), ...this.commandLines.keys()])];
  }
  holdsSocket(pid: number, inode: string): boolean {
    this.reads.fds++;
    return (this.proc(pid)?.sockets ?? []).includes(inode);
  }
  tcpTable(): Promise<string> {
    this.reads.tcp++;
    return Promise.resolve(this.tcp);
  }
  killGroup(pgid: number, signal: NodeJS.Signals): boolean {
    this.killed.push([pgid, signal]);
    const members = [...this.procs].filter(([pid, proc]) => (proc.pgrp ?? pid) === pgid).map(([pid]) => pid);
    for (const pid of members) this.procs.delete(pid);
    return this.commandLines.delete(pgid) || members.length > 0;
  }
  /** One process: recorded in `killedPids`, and it disappears. */
  kill(pid: number, signal: NodeJS.Signals): boolean {
    this.killedPids.push([pid, signal]);
    return this.procs.delete(pid) || this.commandLines.delete(pid);
  }
}
