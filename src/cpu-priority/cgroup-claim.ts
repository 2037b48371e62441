import type { SchedulingFiles } from '../adapters/scheduling-files.adapter';

/** How many instance numbers are tried before the last is taken anyway (setUp then reports what the kernel says). */
const CLAIM_ATTEMPTS = 64;

/**
 * The first instance number from `from` whose service group (`serviceGroupOf`, undefined without a cgroup) no live
 * service holds. The groups are named by pid: two services with one pid (pid 1 of two containers on one cgroup
 * tree) would share one, and the first to stop would kill the other's servers with its own. Whether a process
 * holds the group is asked of the kernel by removing it, empty, which fails (EBUSY) while one is in it:
 * cgroup.procs does not list a process of another pid namespace. A dead service's group of that name (its pid
 * reused by this one) is taken over, as before.
 */
export function claimInstance(
  files: SchedulingFiles,
  from: number,
  serviceGroupOf: (instance: number) => string | undefined,
): number {
  for (let instance = from; instance < from + CLAIM_ATTEMPTS; instance++) {
    const group = serviceGroupOf(instance);
    if (group === undefined || !heldByAnother(files, group)) return instance;
  }
  return from + CLAIM_ATTEMPTS;
}

function heldByAnother(files: SchedulingFiles, group: string): boolean {
  try {
    files.removeDir(group);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EBUSY';
  }
}
