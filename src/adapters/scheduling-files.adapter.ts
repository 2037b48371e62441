import { Injectable } from '@nestjs/common';
import * as fs from 'fs';

/** What the CPU priority detection reads: /proc and the cgroup trees. Read-only, so detection stays a pure function of it. */
export interface SchedulingReader {
  /** A file's text, or undefined when it cannot be read. */
  read(file: string): string | undefined;
  /** Whether this process may write `file` (or create entries in the folder `file`). */
  isWritable(file: string): boolean;
  /** The folders in a folder: a cgroup's child groups ([] when it cannot be read). */
  list(dir: string): string[];
  /** Where a symbolic link points (/proc/self/ns/pid: `pid:[<inode>]`), or undefined when it cannot be read. */
  readLink(link: string): string | undefined;
}

/**
 * /proc and the cgroup file systems: read for the detection, written to set the servers' cgroups up and remove them;
 * and the kill of what is left in a server's group.
 */
export abstract class SchedulingFiles implements SchedulingReader {
  abstract read(file: string): string | undefined;
  abstract isWritable(file: string): boolean;
  abstract list(dir: string): string[];
  abstract readLink(link: string): string | undefined;
  /** Throws (with the errno code) when the write is refused. */
  abstract write(file: string, text: string): void;
  /** Creates the cgroup folder; nothing when it exists. */
  abstract makeDir(dir: string): void;
  /** Creates the cgroup folder, its parent being there; throws EEXIST when it exists (another's, never to adopt). */
  abstract makeNewDir(dir: string): void;
  /** Removes an (empty) cgroup folder; throws when it cannot (EBUSY while a process is left in it). */
  abstract removeDir(dir: string): void;
  /** When a cgroup folder was made (ms since the epoch; its ctime), or undefined when it cannot be read. */
  abstract madeAt(dir: string): number | undefined;
  /** SIGKILL to one process; throws (with the errno code) when refused, ESRCH when it is gone. */
  abstract kill(pid: number): void;
}

@Injectable()
export class ProcSchedulingFiles extends SchedulingFiles {
  read(file: string): string | undefined {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  }

  isWritable(file: string): boolean {
    try {
      fs.accessSync(file, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  list(dir: string): string[] {
    try {
      // A cgroup folder holds its interface files too; only its child groups (folders) are wanted.
      return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name);
    } catch {
      return [];
    }
  }

  readLink(link: string): string | undefined {
    try {
      return fs.readlinkSync(link);
    } catch {
      return undefined;
    }
  }

  write(file: string, text: string): void {
    fs.writeFileSync(file, text);
  }

  makeDir(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
  }

  makeNewDir(dir: string): void {
    fs.mkdirSync(dir);
  }

  removeDir(dir: string): void {
    fs.rmdirSync(dir);
  }

  madeAt(dir: string): number | undefined {
    try {
      return fs.statSync(dir).ctimeMs;
    } catch {
      return undefined;
    }
  }

  kill(pid: number): void {
    process.kill(pid, 'SIGKILL');
  }
}
