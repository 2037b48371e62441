import * as path from 'path';
import { SchedulingFiles } from '../../src/adapters/scheduling-files.adapter';

/** A /proc and cgroup tree in memory: files with their text, the subtrees this "process" may write, and every write made. */
export class FakeSchedulingFiles extends SchedulingFiles {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>();
  readonly writable = new Set<string>();
  readonly writes: Array<[string, string]> = [];
  /** Every pid killed, in order. */
  readonly killed: number[] = [];
  /** When folders were made (ms since the epoch); one not listed was made long ago. */
  readonly madeTimes = new Map<string, number>();
  /** Symbolic links and where they point. */
  readonly links = new Map<string, string>();
  /** Writes to these paths fail with this errno code. */
  readonly failing = new Map<string, string>();

  constructor(files: Record<string, string> = {}, writable: string[] = []) {
    super();
    for (const [file, text] of Object.entries(files)) this.files.set(file, text);
    for (const file of writable) this.writable.add(file);
  }

  read(file: string): string | undefined {
    return this.files.get(file);
  }

  readLink(link: string): string | undefined {
    return this.links.get(link);
  }

  /** `writable` names subtrees: a path in one of them may be written. */
  isWritable(file: string): boolean {
    return [...this.writable].some((root) => file === root || file.startsWith(`${root}/`));
  }

  list(dir: string): string[] {
    return [...this.dirs].filter((d) => path.dirname(d) === dir).map((d) => path.basename(d));
  }

  write(file: string, text: string): void {
    const code = this.failing.get(file);
    if (code) throw Object.assign(new Error(`${code}: write ${file}`), { code });
    if (!this.isWritable(file)) {
      throw Object.assign(new Error(`EACCES: write ${file}`), { code: 'EACCES' });
    }
    this.writes.push([file, text]);
    this.files.set(file, text);
  }

  makeDir(dir: string): void {
    if (!this.isWritable(dir)) {
      throw Object.assign(new Error(`EACCES: mkdir ${dir}`), { code: 'EACCES' });
    }
    this.dirs.add(dir);
  }

  makeNewDir(dir: string): void {
    if (this.dirs.has(dir)) throw Object.assign(new Error(`EEXIST: mkdir ${dir}`), { code: 'EEXIST' });
    this.makeDir(dir);
  }

  madeAt(dir: string): number | undefined {
    return this.madeTimes.get(dir);
  }

  removeDir(dir: string): void {
    const code = this.failing.get(dir);
    if (code) throw Object.assign(new Error(`${code}: rmdir ${dir}`), { code });
    if (!this.dirs.delete(dir)) throw Object.assign(new Error(`ENOENT: rmdir ${dir}`), { code: 'ENOENT' });
  }

  /** A killed process leaves every group's cgroup.procs at once (the kernel's takes a moment longer). */
  kill(pid: number): void {
    this.killed.push(pid);
    for (const [file, text] of this.files) {
      if (!file.endsWith('/cgroup.procs')) continue;
      this.files.set(
        file,
        text
          .split('\n')
          .filter((line) => line !== '' && line !== String(pid))
          .map((line) => `${line}\n`)
          .join(''),
      );
    }
  }
}

/** A machine with autogroup off, no cgroup hierarchy this process may use, and CAP_SYS_ADMIN: servers get plain nice. */
export function plainNiceMachine(): FakeSchedulingFiles {
  return new FakeSchedulingFiles({ '/proc/sys/kernel/sched_autogroup_enabled': '0\n' });
}
