import * as path from 'path';
import type { SchedulingReader } from '../adapters';

/** A cgroup this process is in, and where its folder is (when its hierarchy is mounted here). */
export interface CgroupPlace {
  /** The path /proc/self/cgroup gives (e.g. /system.slice/sc-spawner.service). */
  path: string;
  /** Its folder under the mount, or undefined when the hierarchy is not mounted (or mounted elsewhere in the tree). */
  dir?: string;
  /** This process may create child groups there and move processes into them. */
  writable: boolean;
}

/** How this machine schedules, as seen by this process at start-up. */
export interface SchedulingFacts {
  /** /proc/sys/kernel/sched_autogroup_enabled is 1: every session is its own scheduling group. */
  autogroup: boolean;
  /**
   * The cpu cgroup this process is scheduled in, when it is not the root one: the kernel applies autogroups only
   * to tasks of the root task group, so there sessions do not matter and nice ranks tasks directly.
   */
  autogroupBypassedBy?: string;
  /** CAP_SYS_ADMIN in the effective set: autogroup nice writes are not rate-limited. */
  capSysAdmin: boolean;
  /** The unified (v2) hierarchy, with the controllers enabled for this process's group. */
  v2?: CgroupPlace & { controllers: string[] };
  /** The v1 hierarchy with the cpu controller. */
  v1Cpu?: CgroupPlace;
  /**
   * The inode of this process's pid namespace when it is not the machine's first one (a container's): two
   * services with one pid, each in a namespace of its own, must not take one group name.
   */
  pidNamespace?: number;
}

/** The machine's first pid namespace (the kernel's PROC_PID_INIT_INO): its services name their groups by pid alone. */
const INITIAL_PID_NAMESPACE = 0xeffffffc;

interface Mount {
  root: string;
  point: string;
  fsType: string;
  superOptions: string[];
}

/** /proc/self/mountinfo: `id parent dev root point options [optional...] - fstype source superoptions`. */
export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [before, after] = line.split(' - ');
    if (!after) continue;
    const fields = before.split(' ');
    const [fsType, , superOptions = ''] = after.split(' ');
    mounts.push({
      root: unescape(fields[3]),
      point: unescape(fields[4]),
      fsType,
      superOptions: superOptions.split(','),
    });
  }
  return mounts;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** /proc/self/cgroup: `id:controllers:path`; the v2 line is `0::path`. */
export function parseProcCgroup(text: string): { v2?: string; byController: Map<string, string> } {
  const byController = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    if (match[1] === '0' && match[2] === '') v2 = match[3];
    else for (const controller of match[2].split(',')) byController.set(controller, match[3]);
  }
  return { v2, byController };
}

/** Where a cgroup path lies under a mount whose root is `mount.root` (a container often mounts only its own subtree). */
function folderOf(mount: Mount | undefined, cgroupPath: string): string | undefined {
  if (!mount) return undefined;
  const relative = path.posix.relative(mount.root, cgroupPath);
  if (relative.startsWith('..')) return undefined;
  return path.posix.join(mount.point, relative);
}

/** CapEff in /proc/self/status has bit 21 (CAP_SYS_ADMIN). */
function hasCapSysAdmin(status: string | undefined): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)/im.exec(status ?? '')?.[1];
  return hex !== undefined && (BigInt(`0x${hex}`) & (1n << 21n)) !== 0n;
}

/** Reads how this machine schedules this process; a pure function of the files `files` shows. */
export function detectScheduling(files: SchedulingReader): SchedulingFacts {
  const mounts = parseMountInfo(files.read('/proc/self/mountinfo') ?? '');
  const groups = parseProcCgroup(files.read('/proc/self/cgroup') ?? '');
  const facts: SchedulingFacts = {
    autogroup: files.read('/proc/sys/kernel/sched_autogroup_enabled')?.trim() === '1',
    capSysAdmin: hasCapSysAdmin(files.read('/proc/self/status')),
  };
  if (groups.v2 !== undefined) {
    const dir = folderOf(
      mounts.find((m) => m.fsType === 'cgroup2'),
      groups.v2,
    );
    const controllers = dir ? (files.read(`${dir}/cgroup.controllers`) ?? '').trim().split(/\s+/).filter(Boolean) : [];
    const writable =
      dir !== undefined &&
      ['', '/cgroup.procs', '/cgroup.subtree_control'].every((file) => files.isWritable(`${dir}${file}`));
    facts.v2 = { path: groups.v2, dir, writable, controllers };
  }
  const v1Path = groups.byController.get('cpu');
  if (v1Path !== undefined) {
    const dir = folderOf(
      mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes('cpu')),
      v1Path,
    );
    const writable = dir !== undefined && files.isWritable(dir) && files.isWritable(`${dir}/cgroup.procs`);
    facts.v1Cpu = { path: v1Path, dir, writable };
  }
  const pidNamespace = Number(/^pid:\[(\d+)\]$/.exec(files.readLink('/proc/self/ns/pid') ?? '')?.[1]);
  if (Number.isSafeInteger(pidNamespace) && pidNamespace > 0 && pidNamespace !== INITIAL_PID_NAMESPACE) {
    facts.pidNamespace = pidNamespace;
  }
  const bypass = nonRootCpuGroup(files, facts);
  if (bypass !== undefined) facts.autogroupBypassedBy = bypass;
  return facts;
}

/**
 * The cpu cgroup (not the root one) this process is scheduled in. v1: its cpu group. v2: the nearest of its group
 * and the groups above it with a cpu.weight file, which only groups the cpu controller is enabled for have and the
 * root never has; the walk goes up to the mount (in a container, often a group below the host's root).
 */
function nonRootCpuGroup(files: SchedulingReader, facts: SchedulingFacts): string | undefined {
  if (facts.v1Cpu) return facts.v1Cpu.path === '/' ? undefined : (facts.v1Cpu.dir ?? facts.v1Cpu.path);
  for (let dir = facts.v2?.dir; dir !== undefined && files.read(`${dir}/cgroup.controllers`) !== undefined;) {
    if (files.read(`${dir}/cpu.weight`) !== undefined) return dir;
    const parent = path.posix.dirname(dir);
    dir = parent === dir ? undefined : parent;
  }
  return undefined;
}
