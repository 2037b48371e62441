import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ServerPlacement } from '../adapters/process-launcher.adapter';
import { SchedulingFiles } from '../adapters/scheduling-files.adapter';
import {
  CgroupLayout,
  CpuPriorityMechanism,
  CpuPriorityPlan,
  V1_SERVER_SHARES,
  V2_SERVER_WEIGHT,
} from './cpu-priority.policy';
import { CgroupLeftovers } from './cgroup-leftovers';

/** How often, and how far apart, removing a group still busy with an exiting process is tried. */
const REMOVE_ATTEMPTS = 20;
const REMOVE_RETRY_MS = 50;
/** How often the service makes its own group again when another service removed it before it could move in. */
const JOIN_ATTEMPTS = 5;
/** How often, and how far apart, a dead service's groups still busy at start-up are tried again. */
const LEFTOVER_ATTEMPTS = 25;
const LEFTOVER_RETRY_MS = 200;

/** With per-server groups (v2), the spawn helper's own leaf among them (a spawn id is a UUID, never this). */
const HELPER_GROUP = 'spawn-helper';

/**
 * Applies the CPU priority plan: sets the servers' cgroups up, tells each launch where its server goes, removes
 * them at shutdown. Built by createCpuPriority (cpu-priority.module.ts), not by injection.
 */
export class CpuPriority implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('CpuPriority');
  /** Groups of dead services still in use at start-up (by servers that outlived them), and the timer retrying them. */
  private busyLeftovers: string[] = [];
  private leftoverTimer?: NodeJS.Timeout;
  private readonly leftovers: CgroupLeftovers;

  constructor(
    readonly plan: CpuPriorityPlan,
    private readonly files: SchedulingFiles,
    private readonly perl: string | undefined,
    private readonly pid: number = process.pid,
  ) {
    this.leftovers = new CgroupLeftovers(files, pid, this.logger);
  }

  get mechanism(): CpuPriorityMechanism {
    return this.plan.mechanism;
  }

  status(): { mechanism: CpuPriorityMechanism; detail: string } {
    return { mechanism: this.plan.mechanism, detail: this.plan.detail };
  }

  /** Creates the servers' cgroups (throws, with the errno, when the kernel refuses). */
  setUp(): void {
    const cgroup = this.plan.cgroup;
    if (!cgroup) return;
    this.busyLeftovers = this.leftovers.removeAll(cgroup.parent);
    this.joinOwnGroup(cgroup);
    if (cgroup.version === 2) {
      this.files.write(`${cgroup.parent}/cgroup.subtree_control`, cgroup.controllers.map((c) => `+${c}`).join(' '));
    }
    this.files.makeDir(cgroup.servers);
    if (cgroup.version === 1) this.files.write(`${cgroup.servers}/cpu.shares`, String(V1_SERVER_SHARES));
    else this.files.write(`${cgroup.servers}/cpu.weight`, String(V2_SERVER_WEIGHT));
    if (cgroup.perServer) {
      this.files.write(`${cgroup.servers}/cgroup.subtree_control`, cgroup.controllers.map((c) => `+${c}`).join(' '));
      // v2: a group that hands controllers to its children holds no process itself: the helper gets a leaf.
      this.files.makeDir(`${cgroup.servers}/${HELPER_GROUP}`);
    }
  }

  /**
   * Makes the service's group and moves the service in. v2: a group whose children get controllers may hold no
   * process itself, so the service moves into a leaf first; only this process moves (another one left in the
   * parent makes the next write fail, EBUSY). Another service starting at the same instant can take the new group,
   * empty until this one is in it, for a dead service's leftover and remove it (the move then fails, ENOENT): it
   * is made again. Once this service is in it, the other leaves it alone.
   */
  private joinOwnGroup(cgroup: CgroupLayout): void {
    for (let attempt = 1; ; attempt++) {
      if (cgroup.own) this.files.makeDir(cgroup.own);
      this.files.makeDir(cgroup.service);
      try {
        this.files.write(`${cgroup.service}/cgroup.procs`, String(this.pid));
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= JOIN_ATTEMPTS) throw error;
      }
    }
  }

  /** How one server starts; with per-server limits its own group is created here (removed by released()). */
  placementFor(spawnId: string): ServerPlacement {
    const { nice, autogroupNice, cgroup } = this.plan;
    const placement: ServerPlacement = { nice, autogroupNice, wrapper: this.plan.wrapper ? this.perl : undefined };
    if (!cgroup) return placement;
    if (!cgroup.perServer) {
      const procs = `${cgroup.servers}/cgroup.procs`;
      return { ...placement, cgroupProcs: procs, helperCgroupProcs: procs };
    }
    const helperCgroupProcs = `${cgroup.servers}/${HELPER_GROUP}/cgroup.procs`;
    const dir = `${cgroup.servers}/${spawnId}`;
    this.files.makeDir(dir);
    if (cgroup.perServer.cpuMax) this.files.write(`${dir}/cpu.max`, cgroup.perServer.cpuMax);
    if (cgroup.perServer.memoryMax) this.files.write(`${dir}/memory.max`, cgroup.perServer.memoryMax);
    return { ...placement, cgroupProcs: `${dir}/cgroup.procs`, helperCgroupProcs };
  }

  /** The server has exited: its own group (per-server limits) goes. */
  released(spawnId: string): void {
    const cgroup = this.plan.cgroup;
    if (cgroup?.perServer) void this.remove(`${cgroup.servers}/${spawnId}`);
  }

  /**
   * The servers a crashed run of this service left still hold its groups at setUp(); the orphan reaper (onModuleInit)
   * has stopped them since: their groups go once they have exited.
   */
  onApplicationBootstrap(): void {
    const parent = this.plan.cgroup?.parent;
    if (parent === undefined || this.busyLeftovers.length === 0) return;
    let attempts = 0;
    const retry = () => {
      this.busyLeftovers = this.busyLeftovers.filter((name) => !this.leftovers.remove(parent, name));
      if (this.busyLeftovers.length > 0 && ++attempts < LEFTOVER_ATTEMPTS) {
        this.leftoverTimer = setTimeout(retry, LEFTOVER_RETRY_MS).unref();
      }
    };
    this.leftoverTimer = setTimeout(retry, LEFTOVER_RETRY_MS).unref();
  }

  /** After the supervisor stopped every server (beforeApplicationShutdown): the groups go, the service back where it was. */
  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.leftoverTimer);
    const cgroup = this.plan.cgroup;
    if (!cgroup) return;
    // A killed server still needs the CPU to exit; at the lowest weight on a busy machine that may take long:
    // what is left moves to the service's own group first, so it ends (and the groups can go) promptly.
    if (cgroup.perServer) {
      for (const name of this.files.list(cgroup.servers)) {
        this.evacuate(`${cgroup.servers}/${name}`, cgroup.service);
        await this.remove(`${cgroup.servers}/${name}`);
      }
    }
    this.evacuate(cgroup.servers, cgroup.service);
    await this.remove(cgroup.servers);
    try {
      if (cgroup.version === 2) {
        this.files.write(`${cgroup.parent}/cgroup.subtree_control`, cgroup.controllers.map((c) => `-${c}`).join(' '));
      }
      this.evacuate(cgroup.service, cgroup.parent);
    } catch (error) {
      this.logger.warn(`could not move the service back to ${cgroup.parent}: ${(error as Error).message}`);
    }
    await this.remove(cgroup.service);
    if (cgroup.own) await this.remove(cgroup.own);
  }

  private evacuate(from: string, to: string): void {
    for (const pid of (this.files.read(`${from}/cgroup.procs`) ?? '').split('\n').filter(Boolean)) {
      try {
        this.files.write(`${to}/cgroup.procs`, pid);
      } catch {
        // Gone meanwhile.
      }
    }
  }

  private tryRemove(dir: string): NodeJS.ErrnoException | undefined {
    try {
      this.files.removeDir(dir);
      return undefined;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : (error as NodeJS.ErrnoException);
    }
  }

  /** Removes a group, waiting a little while the last killed processes leave it (EBUSY). */
  private async remove(dir: string): Promise<void> {
    let error = this.tryRemove(dir);
    for (let attempt = 0; error?.code === 'EBUSY' && attempt < REMOVE_ATTEMPTS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, REMOVE_RETRY_MS));
      error = this.tryRemove(dir);
    }
    if (error) this.logger.warn(`could not remove the cgroup ${dir}: ${error.message}`);
  }
}
