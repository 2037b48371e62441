import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { type ServerPlacement, SchedulingFiles } from '../adapters';
import {
  CgroupLayout,
  CpuPriorityMechanism,
  CpuPriorityPlan,
  V1_SERVER_SHARES,
  V2_SERVER_WEIGHT,
  withNextInstance,
} from './cpu-priority.policy';
import { CgroupLeftovers, type ReapedServers } from './cgroup-leftovers';
import { killCgroup } from './cgroup-kill';

/** How often, and how far apart, removing a group still busy with an exiting process is tried. */
const REMOVE_ATTEMPTS = 20;
const REMOVE_RETRY_MS = 50;
/** How often the service makes its own group again when another service removed it before it could move in. */
const JOIN_ATTEMPTS = 5;
/** How many names taken by groups left behind (by crashed services of the same pid) a start-up passes at most. */
const CLAIM_ATTEMPTS = 100;
/** How often, and how far apart, a dead service's groups still busy at start-up are tried again. */
const LEFTOVER_ATTEMPTS = 25;
const LEFTOVER_RETRY_MS = 200;

/** The spawn helper's own group among the servers' (a spawn id is a UUID, never this). */
const HELPER_GROUP = 'spawn-helper';

/**
 * Applies the CPU priority plan: sets the servers' cgroups up, tells each launch where its server goes (a group of
 * its own), kills what a server left in its group when it exits, removes the groups at shutdown. Built by
 * createCpuPriority (cpu-priority.module.ts), not by injection.
 */
export class CpuPriority implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('CpuPriority');
  /** Groups of dead services still in use at start-up (by servers that outlived them), and the timer retrying them. */
  private busyLeftovers: string[] = [];
  /** The servers of a dead run of this service that the reaper read in its journal (see reaped()). */
  private readonly reapedServers = { ids: new Set<string>(), pids: new Set<number>() } satisfies ReapedServers;
  private leftoverTimer?: NodeJS.Timeout;
  private readonly leftovers: CgroupLeftovers;
  /** The spawn ids whose groups this run made and has not removed yet: at shutdown, the only groups it kills in. */
  private readonly placed = new Set<string>();

  constructor(
    private current: CpuPriorityPlan,
    private readonly files: SchedulingFiles,
    private readonly perl: string | undefined,
    private readonly pid: number = process.pid,
  ) {
    const { version, pidNamespace } = current.cgroup ?? {};
    this.leftovers = new CgroupLeftovers(files, pid, this.logger, version ?? 1, pidNamespace);
  }

  /** The plan applied: once set up, its groups named for the instance number this service took (see claimGroups). */
  get plan(): CpuPriorityPlan {
    return this.current;
  }

  get mechanism(): CpuPriorityMechanism {
    return this.plan.mechanism;
  }

  status(): { mechanism: CpuPriorityMechanism; detail: string } {
    return { mechanism: this.plan.mechanism, detail: this.plan.detail };
  }

  /** Creates the servers' cgroups (throws, with the errno, when the kernel refuses). */
  setUp(): void {
    if (!this.plan.cgroup) return;
    this.busyLeftovers = this.leftovers.removeAll(this.plan.cgroup.parent);
    this.claimGroups();
    const cgroup = this.plan.cgroup;
    this.joinOwnGroup(cgroup);
    if (cgroup.version === 2) {
      this.files.write(`${cgroup.parent}/cgroup.subtree_control`, cgroup.controllers.map((c) => `+${c}`).join(' '));
    }
    this.files.makeDir(cgroup.servers);
    if (cgroup.version === 1) this.files.write(`${cgroup.servers}/cpu.shares`, String(V1_SERVER_SHARES));
    else this.files.write(`${cgroup.servers}/cpu.weight`, String(V2_SERVER_WEIGHT));
    if (cgroup.serverLimits) {
      this.files.write(`${cgroup.servers}/cgroup.subtree_control`, cgroup.controllers.map((c) => `+${c}`).join(' '));
    }
    // v2: a group that hands controllers to its children holds no process itself; v1: the same layout.
    this.files.makeDir(`${cgroup.servers}/${HELPER_GROUP}`);
  }

  /**
   * Makes this service's top groups (v1: its own; v2: the service's and the servers') where none exists. One of its
   * name that does is not its own: a crashed service whose pid the kernel has since reused left it, maybe with
   * servers still running in it, which this one's shutdown would kill. The service takes the next instance number
   * instead, and leaves that group to the leftovers' rules (removed once empty).
   */
  private claimGroups(): void {
    for (let attempt = 1; ; attempt++) {
      const cgroup = this.plan.cgroup!;
      const made: string[] = [];
      try {
        for (const dir of cgroup.own ? [cgroup.own] : [cgroup.service, cgroup.servers]) {
          this.files.makeNewDir(dir);
          made.push(dir);
        }
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= CLAIM_ATTEMPTS) throw error;
        for (const dir of made) this.tryRemove(dir);
        this.current = withNextInstance(this.current);
      }
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

  /**
   * How one server starts. With a cgroup mechanism, in a group of its own, created here and removed by released():
   * everything the server starts is born in it and stays there, whatever process group or session it moves to.
   */
  placementFor(spawnId: string): ServerPlacement {
    const { nice, autogroupNice, cgroup } = this.plan;
    const placement: ServerPlacement = { nice, autogroupNice, wrapper: this.plan.wrapper ? this.perl : undefined };
    if (!cgroup) return placement;
    const dir = `${cgroup.servers}/${spawnId}`;
    this.files.makeDir(dir);
    this.placed.add(spawnId);
    if (cgroup.serverLimits?.cpuMax) this.files.write(`${dir}/cpu.max`, cgroup.serverLimits.cpuMax);
    if (cgroup.serverLimits?.memoryMax) this.files.write(`${dir}/memory.max`, cgroup.serverLimits.memoryMax);
    return {
      ...placement,
      cgroupProcs: `${dir}/cgroup.procs`,
      helperCgroupProcs: `${cgroup.servers}/${HELPER_GROUP}/cgroup.procs`,
    };
  }

  /**
   * The server has exited: what it started and left behind (outside its process group, which the stop signals,
   * so still running) is killed, and its group goes. Left alone, such a process would hold its memory, its CPU
   * and maybe the session's port for as long as it liked.
   */
  released(spawnId: string): void {
    const cgroup = this.plan.cgroup;
    if (!cgroup) return;
    const dir = `${cgroup.servers}/${spawnId}`;
    this.killLeftovers(dir, spawnId);
    void this.remove(dir).then((gone) => {
      if (gone) this.placed.delete(spawnId);
    });
  }

  private killLeftovers(dir: string, spawnId: string): void {
    const killed = killCgroup(this.files, dir, this.plan.cgroup!.version).length;
    if (killed > 0) {
      this.logger.warn({
        spawnId,
        msg: `spawn ${spawnId}: ${killed} process(es) it started outlived it outside its process group; killed (SIGKILL)`,
      });
    }
  }

  /**
   * The orphan reaper (onModuleInit) read these spawns in this service's journal, left by a run that died, and
   * SIGKILLed those still running (their pids): what is left in their groups (started outside their process groups)
   * is killed now, before the journal that names them is emptied, and again with each retry. A dead run's groups of
   * other spawns (another deployment's, sharing this cgroup parent) are only removed once empty: their servers are
   * their own service's to stop when it starts again.
   */
  reaped(spawnIds: string[], killedPids: number[]): void {
    const parent = this.plan.cgroup?.parent;
    for (const id of spawnIds) this.reapedServers.ids.add(id);
    for (const pid of killedPids) this.reapedServers.pids.add(pid);
    if (parent === undefined) return;
    this.busyLeftovers = this.busyLeftovers.filter((name) => !this.leftovers.remove(parent, name, this.reapedServers));
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
      this.busyLeftovers = this.busyLeftovers.filter(
        (name) => !this.leftovers.remove(parent, name, this.reapedServers),
      );
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
    // A killed process still needs the CPU to exit; at the lowest weight on a busy machine that may take long:
    // it moves to the service's own group first, so it ends (and the groups can go) promptly. The helper moves
    // too; it ends when the launcher closes its input.
    for (const name of this.files.list(cgroup.servers)) {
      if (name !== HELPER_GROUP && !this.placed.has(name)) continue;
      const dir = `${cgroup.servers}/${name}`;
      if (name !== HELPER_GROUP) this.killLeftovers(dir, name);
      this.evacuate(dir, cgroup.service);
      await this.remove(dir);
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

  /** Removes a group, waiting a little while the last killed processes leave it (EBUSY); false when it stays. */
  private async remove(dir: string): Promise<boolean> {
    let error = this.tryRemove(dir);
    for (let attempt = 0; error?.code === 'EBUSY' && attempt < REMOVE_ATTEMPTS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, REMOVE_RETRY_MS));
      error = this.tryRemove(dir);
    }
    if (error) this.logger.warn(`could not remove the cgroup ${dir}: ${error.message}`);
    return error === undefined;
  }
}
