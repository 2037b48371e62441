import type { Logger } from '@nestjs/common';
import * as path from 'path';
import type { SchedulingFiles } from '../adapters';
import { killCgroup } from './cgroup-kill';

/**
 * A group a crashed service left behind: `sc-spawner-<pid>-<n>` (v1) or `sc-spawner-<pid>-<n>-servers|service` (v2),
 * with `-ns<inode>` after `<n>` when its pid namespace was not the machine's first.
 */
const OWN_GROUP = /^sc-spawner-(\d+)-\d+(?:-ns(\d+))?(-servers|-service)?$/;

/** The servers of a dead run of this service, from its journal: their spawn ids, and the pids the reaper killed. */
export interface ReapedServers {
  ids: ReadonlySet<string>;
  pids: ReadonlySet<number>;
}

const NONE_REAPED: ReapedServers = { ids: new Set(), pids: new Set() };

/**
 * A group made less than this long ago is not removed: it may be one a service is still setting up, whose service
 * group it has made but not yet joined (empty, so it looks dead), with its servers' group made next. Under the
 * start-up retries' 5 s: a dead one that young is removed by a retry.
 */
export const NEW_GROUP_MS = 3_000;

/** Finds and removes the cgroups of services that are gone (a crash skips their shutdown). */
export class CgroupLeftovers {
  constructor(
    private readonly files: SchedulingFiles,
    private readonly pid: number,
    private readonly logger: Logger,
    private readonly version: 1 | 2,
    /** This service's pid namespace, when its groups' names carry one. */
    private readonly pidNamespace?: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Removes the empty groups of dead services in `parent`; returns the names of those still in use. */
  removeAll(parent: string): string[] {
    return this.files.list(parent).filter((name) => {
      const match = OWN_GROUP.exec(name);
      if (!match) return false;
      const [, owner, namespace] = match;
      // Its pid names a process of this pid namespace only when the group was made in this one; another's is kept
      // by remove() while its service is in it.
      if (Number(namespace ?? 0) === (this.pidNamespace ?? 0)) {
        if (Number(owner) === this.pid) return false;
        // Alive only if that pid is still in one of its groups: a pid the kernel has reused is another process.
        if (this.files.read(`/proc/${owner}/cgroup`)?.includes(`/sc-spawner-${owner}-`)) return false;
      }
      return !this.remove(parent, name);
    });
  }

  /**
   * Removes one dead service's group, its service group first: a live service sits in that one, even one whose pid
   * this process cannot see (another pid namespace sharing this cgroup tree), and keeps its other groups then.
   * What is left running in the groups of the servers `reaped` names (this service's own, by the spawn ids in its
   * journal) is SIGKILLed first; the reaper's own kills (its pids) are not counted again. Returns false when
   * something is still in use (its servers outlived it) or not ours to remove.
   */
  remove(parent: string, name: string, reaped: ReapedServers = NONE_REAPED): boolean {
    const prefix = name.replace(/-(servers|service)$/, '');
    const made = this.files.madeAt(`${parent}/${name}`);
    if (made !== undefined && this.now() - made < NEW_GROUP_MS) {
      this.removeTree(`${parent}/${name}`, reaped, false);
      return false;
    }
    if (this.tryRemove(prefix === name ? `${parent}/${name}/service` : `${parent}/${prefix}-service`)) return false;
    if (!this.removeTree(`${parent}/${name}`, reaped)) return false;
    this.logger.log(`removed ${parent}/${name}, left by a service that is gone`);
    return true;
  }

  /**
   * A group and the groups in it (v1: service and servers; the servers': one per server), innermost first; one
   * still busy keeps its parent, not its siblings. `removing` false: only the kills in the `reaped` servers' groups.
   */
  private removeTree(dir: string, reaped: ReapedServers, removing = true): boolean {
    let emptied = true;
    for (const inner of this.files.list(dir)) {
      if (!this.removeTree(`${dir}/${inner}`, reaped, removing)) emptied = false;
    }
    if (reaped.ids.has(path.basename(dir))) {
      const left = killCgroup(this.files, dir, this.version).filter((pid) => !reaped.pids.has(pid));
      if (left.length > 0)
        this.logger.warn(`killed ${left.length} process(es) left in ${dir} by a service that is gone`);
    }
    return removing && emptied && this.tryRemove(dir) === undefined;
  }

  /** The error, undefined once the group is gone. */
  private tryRemove(dir: string): unknown {
    try {
      this.files.removeDir(dir);
      return undefined;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : error;
    }
  }
}
