import type { CpuPriorityChoice } from '../config';
import type { SchedulingFacts } from './scheduling-detection';

export const CPU_PRIORITY_MECHANISMS = ['cgroup-v2', 'cgroup-v1', 'autogroup', 'nice', 'none'] as const;
export type CpuPriorityMechanism = (typeof CPU_PRIORITY_MECHANISMS)[number];

/** The lowest weights the kernels take: the servers' group against the service's 1024 (v1) or 100 (v2). */
export const V1_SERVER_SHARES = 2;
export const V2_SERVER_WEIGHT = 1;
/** The autogroup nice of each server session (the lowest: weight 15 against the service's 1024). */
export const SERVER_AUTOGROUP_NICE = 19;
const CPU_PERIOD_US = 100_000;

/** The cgroups the servers run in. */
export interface CgroupLayout {
  version: 1 | 2;
  /** The group the service was started in, where it returns at shutdown. */
  parent: string;
  /**
   * v1: the group of this service (at the parent's level it weighs as much as any other, like an autogroup),
   * holding the service's and the servers' groups; v2: the delegated parent itself holds them.
   */
  own?: string;
  /**
   * The servers' group: the parent of one group per server (named by its spawn id) and of the spawn helper's, so
   * whatever a server starts stays countable, and killable, after it left the server's process group.
   */
  servers: string;
  /** The service's own leaf: the servers rank below it, not below everything else on the machine. */
  service: string;
  /** v2: the controllers to enable for the parent's children. */
  controllers: string[];
  /** v2: each server's own group's cpu.max / memory.max values. */
  serverLimits?: { cpuMax?: string; memoryMax?: string };
  /** The pid namespace the groups' names carry (SchedulingFacts.pidNamespace). */
  pidNamespace?: number;
  /** The service's pid and its instance number `n`, which name the groups with the namespace. */
  pid: number;
  instance: number;
}

export interface CpuPriorityPlan {
  mechanism: CpuPriorityMechanism;
  /** One sentence for the start-up log and /api/status. */
  detail: string;
  cgroup?: CgroupLayout;
  /** Servers at this niceness (0: unchanged). */
  nice: number;
  /** autogroup: each server leads its own session, whose autogroup gets this nice. */
  autogroupNice?: number;
  /** Servers start through the perl wrapper (new process group without a new session, cgroup join, nice). */
  wrapper: boolean;
}

export interface PriorityWishes {
  choice: CpuPriorityChoice;
  nice: number;
  cpuMaxCores?: number;
  memoryMaxBytes?: number;
  /** The service's pid: names its cgroups, so several services on one machine keep apart. */
  pid: number;
  /** Which service of this process (tests run several in one): also in the names. */
  instance: number;
  /** perl (Debian's essential perl-base) is there to run the wrapper. */
  perl: boolean;
}

export type PriorityDecision = { plan: CpuPriorityPlan } | { problem: string };

/** What each mechanism needs, said as a reason it is not available here (undefined: available). */
function unavailability(
  facts: SchedulingFacts,
  wishes: PriorityWishes,
): Record<CpuPriorityMechanism, string | undefined> {
  const v2 = facts.v2;
  const noPerl = wishes.perl ? undefined : 'perl (perl-base) is not installed, which starts the servers';
  const v2Missing = !v2?.dir
    ? 'no cgroup v2 hierarchy holds this process'
    : !v2.writable
      ? `the cgroup v2 group ${v2.dir} is not delegated to this user (read-only or owned by another)`
      : !v2.controllers.includes('cpu')
        ? `the cpu controller is not enabled for ${v2.dir}`
        : wishes.memoryMaxBytes !== undefined && !v2.controllers.includes('memory')
          ? `the memory controller is not enabled for ${v2.dir}`
          : undefined;
  const v1 = facts.v1Cpu;
  const v1Missing = !v1?.dir
    ? 'no cgroup v1 cpu hierarchy is mounted'
    : !v1.writable
      ? `the cgroup v1 cpu group ${v1.dir} is not writable here (mounted read-only, or owned by another user)`
      : undefined;
  return {
    'cgroup-v2': noPerl ?? v2Missing,
    'cgroup-v1': noPerl ?? v1Missing,
    autogroup:
      noPerl ??
      (!facts.autogroup
        ? 'autogroup scheduling is off (/proc/sys/kernel/sched_autogroup_enabled)'
        : facts.autogroupBypassedBy
          ? `this process runs in the cpu cgroup ${facts.autogroupBypassedBy}, where the kernel does not apply autogroups`
          : undefined),
    nice: wishes.nice > 0 ? undefined : 'SC_NICE is 0',
    none: undefined,
  };
}

/** Picks how the servers run below the service: the best mechanism available, or the one SC_CPU_PRIORITY names. */
export function chooseCpuPriority(facts: SchedulingFacts, wishes: PriorityWishes): PriorityDecision {
  const missing = unavailability(facts, wishes);
  const limits = wishes.cpuMaxCores !== undefined || wishes.memoryMaxBytes !== undefined;
  if (limits && missing['cgroup-v2']) {
    const names = [
      wishes.cpuMaxCores !== undefined ? 'SC_SERVER_CPU_MAX' : '',
      wishes.memoryMaxBytes !== undefined ? 'SC_SERVER_MEMORY_MAX' : '',
    ].filter(Boolean);
    return {
      problem: `${names.join(' and ')} ${names.length === 1 ? 'needs' : 'need'} a delegated cgroup v2 subtree (systemd Delegate=yes), but ${missing['cgroup-v2']}: unset ${names.join(' and ')}, or run the service where it owns its cgroup (see docs/cpu-priority.md)`,
    };
  }
  if (wishes.choice !== 'auto') {
    const why = missing[wishes.choice];
    if (why) return { problem: `SC_CPU_PRIORITY=${wishes.choice} cannot be used on this machine: ${why}` };
    return { plan: planFor(wishes.choice, facts, wishes) };
  }
  if (!wishes.perl) return { plan: withoutWrapper(facts, wishes) };
  const best = (['cgroup-v2', 'cgroup-v1', 'autogroup', 'nice', 'none'] as const).find(
    // Autogroup writes without CAP_SYS_ADMIN are rate-limited (one per 100 ms machine-wide): nice in the service's autogroup holds instead.
    (mechanism) => !missing[mechanism] && (mechanism !== 'autogroup' || facts.capSysAdmin),
  )!;
  return { plan: planFor(best, facts, wishes) };
}

/** Without perl, servers start as before: their own session (setsid) under coreutils' nice. */
function withoutWrapper(facts: SchedulingFacts, wishes: PriorityWishes): CpuPriorityPlan {
  const base = { nice: wishes.nice, wrapper: false };
  if (wishes.nice === 0) return { ...base, mechanism: 'none', detail: 'SC_NICE is 0 and perl is not installed' };
  if (autogroupsApply(facts)) {
    return {
      ...base,
      mechanism: 'none',
      detail: `servers at nice ${wishes.nice} in sessions of their own, where autogroup scheduling makes nice useless: install perl-base`,
    };
  }
  return { ...base, mechanism: 'nice', detail: `servers at nice ${wishes.nice} ${whyNiceRanks(facts)}` };
}

/** Autogroup scheduling is on and this process is in the root task group, where the kernel applies it. */
function autogroupsApply(facts: SchedulingFacts): boolean {
  return facts.autogroup && facts.autogroupBypassedBy === undefined;
}

/** Why nice ranks the servers below the service here (said in the plan's detail). */
function whyNiceRanks(facts: SchedulingFacts): string {
  if (autogroupsApply(facts)) return "in the service's autogroup (a process group of their own, no new session)";
  if (facts.autogroup) return `(autogroups do not apply in the service's cpu cgroup ${facts.autogroupBypassedBy})`;
  return '(autogroup scheduling is off)';
}

function planFor(mechanism: CpuPriorityMechanism, facts: SchedulingFacts, wishes: PriorityWishes): CpuPriorityPlan {
  const base = { mechanism, nice: wishes.nice, wrapper: wishes.perl };
  switch (mechanism) {
    case 'cgroup-v2':
    case 'cgroup-v1': {
      const cgroup =
        mechanism === 'cgroup-v1'
          ? v1Layout(facts.v1Cpu!.dir!, facts, wishes)
          : v2Layout(facts.v2!.dir!, facts, wishes);
      return { ...base, cgroup, detail: cgroupDetail(cgroup) };
    }
    case 'autogroup':
      return {
        ...base,
        autogroupNice: SERVER_AUTOGROUP_NICE,
        detail: `each server in a session of its own whose autogroup runs at nice ${SERVER_AUTOGROUP_NICE}${facts.capSysAdmin ? '' : ' (without CAP_SYS_ADMIN the kernel refuses a second autogroup write within 100 ms: servers started closer together keep nice 0)'}`,
      };
    case 'nice':
      return {
        ...base,
        detail: `servers at nice ${wishes.nice} ${whyNiceRanks(facts)}`,
      };
    case 'none':
      return { ...base, nice: 0, detail: "servers run at the service's own priority" };
  }
}

function v1Layout(parent: string, facts: SchedulingFacts, { pid, instance }: PriorityWishes): CgroupLayout {
  const naming = { parent, pid, instance, pidNamespace: facts.pidNamespace };
  return { version: 1, controllers: [], ...naming, ...groupPaths(1, naming) };
}

function v2Layout(parent: string, facts: SchedulingFacts, wishes: PriorityWishes): CgroupLayout {
  const naming = { parent, pid: wishes.pid, instance: wishes.instance, pidNamespace: facts.pidNamespace };
  const cpuMax =
    wishes.cpuMaxCores !== undefined ? `${Math.round(wishes.cpuMaxCores * CPU_PERIOD_US)} ${CPU_PERIOD_US}` : undefined;
  const memoryMax = wishes.memoryMaxBytes !== undefined ? String(wishes.memoryMaxBytes) : undefined;
  return {
    version: 2,
    controllers: memoryMax ? ['cpu', 'memory'] : ['cpu'],
    serverLimits: cpuMax || memoryMax ? { cpuMax, memoryMax } : undefined,
    ...naming,
    ...groupPaths(2, naming),
  };
}

/**
 * v1: a group of the service's own holding the service's and the servers'; v2: both side by side in the delegated
 * parent. Named by pid and pid namespace (a pid is unique in its namespace only), so unique on the machine.
 */
function groupPaths(
  version: 1 | 2,
  { parent, pid, instance, pidNamespace }: Pick<CgroupLayout, 'parent' | 'pid' | 'instance' | 'pidNamespace'>,
): Pick<CgroupLayout, 'own' | 'servers' | 'service'> {
  const name = `sc-spawner-${pid}-${instance}${pidNamespace ? `-ns${pidNamespace}` : ''}`;
  if (version === 2) return { servers: `${parent}/${name}-servers`, service: `${parent}/${name}-service` };
  const own = `${parent}/${name}`;
  return { own, servers: `${own}/servers`, service: `${own}/service` };
}

function cgroupDetail(cgroup: CgroupLayout): string {
  if (cgroup.version === 1) {
    return `servers in the cgroup v1 cpu group ${cgroup.servers} at cpu.shares ${V1_SERVER_SHARES}, the service in ${cgroup.service} at 1024`;
  }
  const { cpuMax, memoryMax } = cgroup.serverLimits ?? {};
  const limits = cgroup.serverLimits
    ? `; each server in its own group with${cpuMax ? ` cpu.max ${cpuMax}` : ''}${memoryMax ? ` memory.max ${memoryMax}` : ''}`
    : '';
  return `servers in the cgroup v2 group ${cgroup.servers} at cpu.weight ${V2_SERVER_WEIGHT}, the service in ${cgroup.service} at 100${limits}`;
}

/**
 * The plan with its groups named for the next instance number: a group of its name exists, which a service never
 * adopts (a crashed service of the same pid left it, maybe with servers still running there).
 */
export function withNextInstance(plan: CpuPriorityPlan): CpuPriorityPlan {
  const next = { ...plan.cgroup!, instance: plan.cgroup!.instance + 1 };
  const cgroup = { ...next, ...groupPaths(next.version, next) };
  return { ...plan, cgroup, detail: cgroupDetail(cgroup) };
}
