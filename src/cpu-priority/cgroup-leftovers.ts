import type { Logger } from '@nestjs/common';
import * as path from 'path';
import type { SchedulingFiles } from '../adapters/scheduling-files.adapter';
import { killGroup } from './cgroup-kill';

/** A group a crashed service left behind: `sc-spawner-<pid>-<n>` (v1) or `sc-spawner-<pid>-<n>-servers|service` (v2). */
const OWN_GROUP = /^sc-spawner-(\d+)-\d+(-servers|-service)?$/;

/** Finds and removes the cgroups of services that are gone (a crash skips their shutdown). */
export class CgroupLeftovers {
  constructor(
    private readonly files: SchedulingFiles,
    private readonly pid: number,
    private readonly logger: Logger,
    private readonly version: 1 | 2,
  ) {}

  /** Removes the empty groups of dead services in `parent`; returns the names of those still in use. */
  removeAll(parent: string): string[] {
    return this.files.list(parent).filter((name) => {
      const owner = OWN_GROUP.exec(name)?.[1];
      if (owner === undefined || Number(owner) === this.pid) return false;
      // Alive only if that pid is still in one of its groups: a pid the kernel has reused is another process.
      if (this.files.read(`/proc/${owner}/cgroup`)?.includes(`/sc-spawner-${owner}-`)) return false;
      return !this.remove(parent, name);
    });
  }

  /**
   * Removes one dead service's group, its service group first: a live service sits in that one, even one whose pid
   * this process cannot see (another pid namespace sharing this cgroup tree), and keeps its other groups then.
   * What is left running in the groups of the servers `killIn` names (this service's own, by the spawn ids in its
   * journal) is SIGKILLed first. Returns false when something is still in use (its servers outlived it) or not ours
   * to remove.
   */
  remove(parent: string, name: string, killIn: ReadonlySet<string> = new Set()): boolean {
    const prefix = name.replace(/-(servers|service)$/, '');
    if (this.tryRemove(prefix === name ? `${parent}/${name}/service` : `${parent}/${prefix}-service`)) return false;
    if (!this.removeTree(`${parent}/${name}`, killIn)) return false;
    this.logger.log(`removed ${parent}/${name}, left by a service that is gone`);
    return true;
  }

  /** A group and the groups in it (v1: service and servers; the servers': one per server), innermost first. */
  private removeTree(dir: string, killIn: ReadonlySet<string>): boolean {
    for (const inner of this.files.list(dir)) {
      if (!this.removeTree(`${dir}/${inner}`, killIn)) return false;
    }
    const killed = killIn.has(path.basename(dir)) ? killGroup(this.files, dir, this.version) : 0;
    if (killed > 0) this.logger.warn(`killed ${killed} process(es) left in ${dir} by a service that is gone`);
    return this.tryRemove(dir) === undefined;
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
