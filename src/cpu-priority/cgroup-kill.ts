import type { SchedulingFiles } from '../adapters';

/** How often the group is read again for processes forked while the last ones were being killed (v1). */
const KILL_ROUNDS = 10;

/** The processes in a cgroup (its cgroup.procs; [] when it cannot be read). */
export function groupMembers(files: SchedulingFiles, dir: string): number[] {
  return (files.read(`${dir}/cgroup.procs`) ?? '').split('\n').filter(Boolean).map(Number);
}

/**
 * SIGKILLs every process in a server's cgroup, whatever process group or session it moved to; returns their pids.
 * v2 (Linux 5.14+): cgroup.kill, which no fork can outrun. Otherwise one by one, round after round: a process
 * forking meanwhile puts its child in this group too, and the next round finds it. A pid read here is a
 * member at that instant; for it to be another process's by the kill, it would have to exit and the kernel to hand
 * its pid out again in between, all the way round the pid space.
 */
export function killCgroup(files: SchedulingFiles, dir: string, version: 1 | 2): number[] {
  const found = groupMembers(files, dir);
  if (found.length === 0) return [];
  if (version === 2) {
    try {
      files.write(`${dir}/cgroup.kill`, '1');
      return found;
    } catch {
      // A kernel before cgroup.kill: one by one, below.
    }
  }
  const killed = new Set<number>();
  let members = found;
  for (let round = 0; members.length > 0 && round < KILL_ROUNDS; round++) {
    for (const pid of members) {
      killed.add(pid);
      try {
        files.kill(pid);
      } catch {
        // Gone meanwhile (ESRCH); a refusal (EPERM: it runs as another user now) leaves it, and its group, behind.
      }
    }
    // Killed but not exited yet, a process is still listed: only the ones not killed yet need another round.
    members = groupMembers(files, dir).filter((pid) => !killed.has(pid));
  }
  return [...killed];
}
