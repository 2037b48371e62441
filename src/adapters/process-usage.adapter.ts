import { Injectable } from '@nestjs/common';
import { execFileSync } from 'child_process';
import { readdirSync, readFileSync } from 'fs';

/** CPU time and resident memory of one process group (the server and the processes it started). */
export interface GroupUsage {
  cpuSeconds: number;
  rssBytes: number;
}

/** Reads what process groups cost from the kernel. */
export abstract class ProcessUsage {
  /** The usage of each of these process groups (by group id); a group with no process left is absent. */
  abstract read(pgids: readonly number[]): Map<number, GroupUsage>;
}

/** Fields of /proc/<pid>/stat after the command name, counted from the state field (field 3 of proc(5)). */
const PGRP = 5 - 3;
const UTIME = 14 - 3;
const STIME = 15 - 3;
const RSS = 24 - 3;

/** Sums /proc/<pid>/stat over every process whose group is one asked for (utime + stime, rss pages). */
@Injectable()
export class ProcProcessUsage extends ProcessUsage {
  private readonly ticksPerSecond = systemValue('CLK_TCK', 100);
  private readonly pageBytes = systemValue('PAGESIZE', 4096);

  read(pgids: readonly number[]): Map<number, GroupUsage> {
    const usage = new Map<number, GroupUsage>();
    if (pgids.length === 0) return usage;
    const wanted = new Set(pgids);
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    } catch {
      return usage;
    }
    for (const pid of pids) {
      const fields = statFields(pid);
      if (!fields) continue;
      const pgrp = Number(fields[PGRP]);
      if (!wanted.has(pgrp)) continue;
      const total = usage.get(pgrp) ?? { cpuSeconds: 0, rssBytes: 0 };
      total.cpuSeconds += (Number(fields[UTIME]) + Number(fields[STIME])) / this.ticksPerSecond;
      total.rssBytes += Number(fields[RSS]) * this.pageBytes;
      usage.set(pgrp, total);
    }
    return usage;
  }
}

function statFields(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or parentheses: split after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process ended meanwhile
  }
}

function systemValue(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
    return value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}
