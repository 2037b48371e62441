import { Injectable } from '@nestjs/common';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'fs';
import { readFile } from 'fs/promises';

/** The fields of /proc/<pid>/stat the service relies on. */
export interface ProcessStat {
  /** State (field 3): R, S, D... Z for a zombie (exited, not yet reaped), X for dead. */
  state: string;
  /** Process group id (field 5). */
  pgrp: number;
  /** Start time in clock ticks after boot (field 22): with the pid, it names one process for the machine's uptime. */
  startTime: string;
}

/**
 * Reads the process table (/proc): other processes' command lines, identities, owners and open sockets, used to
 * recognise a server of ours before signalling it or believing its reports. Fakes under test/ replace it.
 */
export abstract class ProcessTable {
  /** The argv of a running process, or undefined when there is none (or it cannot be read). */
  abstract commandLine(pid: number): string[] | undefined;
  abstract stat(pid: number): ProcessStat | undefined;
  /** The real uid owning the process, or undefined when there is none. */
  abstract ownerUid(pid: number): number | undefined;
  /** Every pid in the table. */
  abstract pids(): number[];
  /** Whether a process has the socket of this inode open (one of its fds reads `socket:[inode]`); false when unreadable. */
  abstract holdsSocket(pid: number, inode: string): boolean;
  /**
   * The text of /proc/net/tcp and /proc/net/tcp6 (this network namespace's TCP sockets). Read off the event
   * loop: the kernel formats every socket of the machine, thousands during a burst of requests.
   */
  abstract tcpTable(): Promise<string>;
  abstract killGroup(pgid: number, signal: NodeJS.Signals): boolean;
  /** Signals one process; false when there is none (or it may not be signalled). */
  abstract kill(pid: number, signal: NodeJS.Signals): boolean;
}

@Injectable()
export class ProcProcessTable extends ProcessTable {
  commandLine(pid: number): string[] | undefined {
    try {
      const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return raw.length > 0 ? raw.replace(/\0$/, '').split('\0') : undefined;
    } catch {
      return undefined;
    }
  }

  stat(pid: number): ProcessStat | undefined {
    return readProcStat(pid);
  }

  ownerUid(pid: number): number | undefined {
    try {
      return statSync(`/proc/${pid}`).uid;
    } catch {
      return undefined;
    }
  }

  pids(): number[] {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  }

  holdsSocket(pid: number, inode: string): boolean {
    const dir = `/proc/${pid}/fd`;
    let fds: number[];
    try {
      fds = readdirSync(dir).map(Number);
    } catch {
      return false;
    }
    // Highest number first: usually the connection just opened (the kernel gives out the lowest free number, so not
    // always), which then takes one readlink instead of one per fd.
    fds.sort((a, b) => b - a);
    const wanted = `socket:[${inode}]`;
    for (const fd of fds) {
      try {
        if (readlinkSync(`${dir}/${fd}`) === wanted) return true;
      } catch {
        // closed meanwhile
      }
    }
    return false;
  }

  async tcpTable(): Promise<string> {
    const texts = await Promise.all(
      ['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFile(file, 'utf8').catch(() => '')),
    );
    return texts.join('\n');
  }

  killGroup(pgid: number, signal: NodeJS.Signals): boolean {
    return killGroup(pgid, signal);
  }

  kill(pid: number, signal: NodeJS.Signals): boolean {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** The pid's state, group and start time from /proc/<pid>/stat; undefined when it cannot be read (no such process). */
export function readProcStat(pid: number): ProcessStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Parses /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses, so fields count from its last ')'. */
export function parseProcStat(text: string): ProcessStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ')': field 3 (state) is at index 0, so field n is at index n - 3.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const pgrp = Number(fields[5 - 3]);
  const startTime = fields[22 - 3];
  if (!Number.isInteger(pgrp) || !startTime || !/^\d+$/.test(startTime)) return undefined;
  return { state: fields[0], pgrp, startTime };
}

/** Signals a whole process group; false when nothing in it is left (or it may not be signalled). */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Signals the group a server leads, unless its pid now names another process (another start time): the kernel
 * reuses a pid only once nothing holds it, not even as a group id, so that group is someone else's. A server's own
 * group is signalled while its leader runs or is a zombie (both hold the pid), or after it is gone while members
 * of its group live on (they hold it).
 */
export function signalServerGroup(pid: number, startTime: string | undefined, signal: NodeJS.Signals): boolean {
  return isStill(pid, startTime) && killGroup(pid, signal);
}

/**
 * Signals a server: the group it leads (as signalServerGroup), and the process itself (`signalItself`) when there
 * is no such group yet (before its setpgrp) or it runs outside it. A server that moved itself into another group of
 * its session (setpgid) while a child stayed in its own (alive, or a zombie it never reaped) made every signal to
 * its group succeed and reach only that child, and survived SIGKILL after SIGKILL. One read of /proc/<pid>/stat
 * decides both; nothing is signalled once the pid names another process.
 */
export function signalServer(
  pid: number,
  startTime: string | undefined,
  signal: NodeJS.Signals,
  signalItself: () => boolean,
): boolean {
  const stat = readProcStat(pid);
  if (startTime !== undefined && stat !== undefined && stat.startTime !== startTime) return false;
  const group = killGroup(pid, signal);
  // Gone (no stat): what is left of it is its group's members.
  if (group && (stat === undefined || stat.pgrp === pid)) return true;
  return signalItself() || group;
}

/** False when /proc shows another process under the pid than the one started at `startTime`. */
export function isStill(pid: number, startTime: string | undefined): boolean {
  const now = readProcStat(pid)?.startTime;
  return startTime === undefined || now === undefined || now === startTime;
}
