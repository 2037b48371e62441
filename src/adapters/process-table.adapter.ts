import { Injectable } from '@nestjs/common';
import { readFileSync } from 'fs';

/** Reads other processes' command lines; used to recognise a server from a previous run before signalling it. */
export abstract class ProcessTable {
  /** The argv of a running process, or undefined when there is none (or it cannot be read). */
  abstract commandLine(pid: number): string[] | undefined;
  abstract killGroup(pgid: number, signal: NodeJS.Signals): boolean;
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

  killGroup(pgid: number, signal: NodeJS.Signals): boolean {
    return killGroup(pgid, signal);
  }
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
