import { FakeSchedulingFiles } from '../../test/fakes/scheduling-files.fake';
import { chooseCpuPriority, type CpuPriorityPlan, PriorityWishes, withNextInstance } from './cpu-priority.policy';
import { detectScheduling } from './scheduling-detection';

/** The files a kernel shows; each case below is one kind of machine. */
const CAP_ALL = 'CapEff:\t000001ffffffffff\n';
const CAP_NONE = 'CapEff:\t0000000000000000\n';

function hybridV1(writable: boolean, autogroup = '1', status = CAP_ALL) {
  return new FakeSchedulingFiles(
    {
      '/proc/sys/kernel/sched_autogroup_enabled': `${autogroup}\n`,
      '/proc/self/status': status,
      '/proc/self/cgroup': '4:memory:/x\n2:cpuacct:/\n1:cpu:/\n0::/\n',
      '/proc/self/mountinfo': [
        '30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu',
        '31 25 0:27 / /sys/fs/cgroup/cpuacct rw,relatime shared:10 - cgroup cgroup rw,cpuacct',
        '39 25 0:35 / /sys/fs/cgroup/unified rw,relatime shared:18 - cgroup2 cgroup2 rw',
      ].join('\n'),
      '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n',
    },
    writable ? ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/unified'] : [],
  );
}

/** A systemd machine: the service in its unit's group; with the cpu controller enabled there, the unit's groups have cpu.weight. */
function pureV2(delegated: boolean, controllers = 'cpu memory pids', status = CAP_NONE) {
  const dir = '/sys/fs/cgroup/system.slice/sc-spawner.service';
  const cpu = controllers.split(' ').includes('cpu');
  return new FakeSchedulingFiles(
    {
      '/proc/sys/kernel/sched_autogroup_enabled': '1\n',
      '/proc/self/status': status,
      '/proc/self/cgroup': '0::/system.slice/sc-spawner.service\n',
      '/proc/self/mountinfo': '35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n',
      '/sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n',
      '/sys/fs/cgroup/system.slice/cgroup.controllers': `${controllers}\n`,
      [`${dir}/cgroup.controllers`]: `${controllers}\n`,
      ...(cpu ? { '/sys/fs/cgroup/system.slice/cpu.weight': '100\n', [`${dir}/cpu.weight`]: '100\n' } : {}),
    },
    delegated ? [dir] : [],
  );
}

const WISHES: PriorityWishes = { choice: 'auto', nice: 10, pid: 4242, instance: 1, perl: true };
const choose = (files: FakeSchedulingFiles, wishes: Partial<PriorityWishes> = {}) =>
  chooseCpuPriority(detectScheduling(files), { ...WISHES, ...wishes });

describe('detectScheduling', () => {
  it('autogroup on, cgroup v1 cpu writable (this kind of machine, as root)', () => {
    expect(detectScheduling(hybridV1(true))).toEqual({
      autogroup: true,
      capSysAdmin: true,
      v1Cpu: { path: '/', dir: '/sys/fs/cgroup/cpu', writable: true },
      v2: { path: '/', dir: '/sys/fs/cgroup/unified', writable: true, controllers: ['hugetlb'] },
    });
  });

  it('autogroup off, cgroup v1 read-only (a container), no capabilities', () => {
    const facts = detectScheduling(hybridV1(false, '0', CAP_NONE));
    expect(facts).toMatchObject({ autogroup: false, capSysAdmin: false, v1Cpu: { writable: false } });
  });

  it('cgroup v2 delegated, and not delegated', () => {
    const dir = '/sys/fs/cgroup/system.slice/sc-spawner.service';
    expect(detectScheduling(pureV2(true)).v2).toEqual({
      path: '/system.slice/sc-spawner.service',
      dir,
      writable: true,
      controllers: ['cpu', 'memory', 'pids'],
    });
    expect(detectScheduling(pureV2(false)).v2).toMatchObject({ dir, writable: false });
    expect(detectScheduling(pureV2(false)).v1Cpu).toBeUndefined();
  });

  it('a container that mounts only its own subtree: the path is found under the mount root', () => {
    const files = new FakeSchedulingFiles({
      '/proc/self/cgroup': '0::/docker/abc\n',
      '/proc/self/mountinfo': '35 24 0:30 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n',
    });
    expect(detectScheduling(files).v2).toMatchObject({ dir: '/sys/fs/cgroup', writable: false });
  });

  it("autogroups apply only in the root cpu group: the service's own cpu cgroup (v1 or v2) is found", () => {
    expect(detectScheduling(hybridV1(true)).autogroupBypassedBy).toBeUndefined();
    const v1 = hybridV1(true);
    v1.files.set('/proc/self/cgroup', '1:cpu:/docker/abc\n0::/\n');
    expect(detectScheduling(v1).autogroupBypassedBy).toBe('/sys/fs/cgroup/cpu/docker/abc');
    expect(detectScheduling(pureV2(false)).autogroupBypassedBy).toBe('/sys/fs/cgroup/system.slice/sc-spawner.service');
    // The cpu controller enabled only above the service's group: the nearest group with cpu.weight schedules it.
    const above = pureV2(false, 'memory pids');
    above.files.set('/sys/fs/cgroup/system.slice/cpu.weight', '100\n');
    expect(detectScheduling(above).autogroupBypassedBy).toBe('/sys/fs/cgroup/system.slice');
    expect(detectScheduling(pureV2(false, 'memory pids')).autogroupBypassedBy).toBeUndefined();
    // A container whose mount is its own group: cpu.weight at the mount means a group below the host's root.
    const container = new FakeSchedulingFiles({
      '/proc/self/cgroup': '0::/\n',
      '/proc/self/mountinfo': '35 24 0:30 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n',
      '/sys/fs/cgroup/cgroup.controllers': 'cpu memory\n',
      '/sys/fs/cgroup/cpu.weight': '100\n',
    });
    expect(detectScheduling(container).autogroupBypassedBy).toBe('/sys/fs/cgroup');
  });

  it("the pid namespace: a container's is noted by its inode; the machine's first one, or an unreadable link, is not", () => {
    const files = hybridV1(true);
    files.links.set('/proc/self/ns/pid', 'pid:[4026532199]');
    expect(detectScheduling(files).pidNamespace).toBe(4026532199);
    for (const link of ['pid:[4026531836]', 'garbage', undefined]) {
      if (link === undefined) files.links.delete('/proc/self/ns/pid');
      else files.links.set('/proc/self/ns/pid', link);
      expect(detectScheduling(files)).not.toHaveProperty('pidNamespace');
    }
  });

  it('no /proc at all: nothing is assumed', () => {
    expect(detectScheduling(new FakeSchedulingFiles())).toEqual({ autogroup: false, capSysAdmin: false });
  });
});

describe('chooseCpuPriority', () => {
  it('cgroup v2 delegated: servers in a child group at cpu.weight 1, the service in a leaf of its own', () => {
    const decision = choose(pureV2(true));
    const dir = '/sys/fs/cgroup/system.slice/sc-spawner.service';
    expect(decision).toEqual({
      plan: expect.objectContaining({
        mechanism: 'cgroup-v2',
        wrapper: true,
        cgroup: {
          version: 2,
          parent: dir,
          servers: `${dir}/sc-spawner-4242-1-servers`,
          service: `${dir}/sc-spawner-4242-1-service`,
          controllers: ['cpu'],
          serverLimits: undefined,
          pid: 4242,
          instance: 1,
        },
      }),
    });
  });

  it('cgroup v2 delegated with per-server limits: cpu.max and memory.max', () => {
    const decision = choose(pureV2(true), { cpuMaxCores: 1.5, memoryMaxBytes: 2 * 1024 ** 3 });
    expect(decision).toMatchObject({
      plan: {
        cgroup: { controllers: ['cpu', 'memory'], serverLimits: { cpuMax: '150000 100000', memoryMax: '2147483648' } },
      },
    });
  });

  it("cgroup v2 not delegated, autogroup on, no CAP_SYS_ADMIN: nice in the service's autogroup", () => {
    expect(choose(pureV2(false, 'memory pids'))).toMatchObject({
      plan: {
        mechanism: 'nice',
        nice: 10,
        wrapper: true,
        detail: "servers at nice 10 in the service's autogroup (a process group of their own, no new session)",
      },
    });
  });

  it('the service in a cpu cgroup of its own: autogroups do not apply, nice ranks the servers directly', () => {
    const dir = '/sys/fs/cgroup/system.slice/sc-spawner.service';
    expect(choose(pureV2(false))).toMatchObject({
      plan: {
        mechanism: 'nice',
        detail: `servers at nice 10 (autogroups do not apply in the service's cpu cgroup ${dir})`,
      },
    });
    expect(choose(pureV2(false, 'cpu memory pids', CAP_ALL), { choice: 'autogroup' })).toEqual({
      problem: `SC_CPU_PRIORITY=autogroup cannot be used on this machine: this process runs in the cpu cgroup ${dir}, where the kernel does not apply autogroups`,
    });
    // Without perl the servers lead sessions of their own, which here costs nothing: nice holds.
    expect(choose(pureV2(false), { perl: false })).toMatchObject({ plan: { mechanism: 'nice', wrapper: false } });
  });

  it('limits where no delegated v2 subtree exists: refused with the reason', () => {
    expect(choose(pureV2(false), { cpuMaxCores: 1.5 })).toEqual({
      problem: expect.stringMatching(
        /^SC_SERVER_CPU_MAX needs a delegated cgroup v2 subtree \(systemd Delegate=yes\), but the cgroup v2 group \/sys\/fs\/cgroup\/system.slice\/sc-spawner.service is not delegated/,
      ),
    });
    expect(choose(pureV2(true, 'cpu pids'), { memoryMaxBytes: 1 << 30 })).toEqual({
      problem: expect.stringContaining('the memory controller is not enabled for'),
    });
    expect(choose(hybridV1(true), { memoryMaxBytes: 1 << 30 })).toEqual({
      problem: expect.stringContaining('SC_SERVER_MEMORY_MAX needs a delegated cgroup v2 subtree'),
    });
  });

  it("cgroup v1 cpu writable: a group named after the service holding its own and the servers' (at cpu.shares 2)", () => {
    expect(choose(hybridV1(true))).toMatchObject({
      plan: {
        mechanism: 'cgroup-v1',
        cgroup: {
          version: 1,
          parent: '/sys/fs/cgroup/cpu',
          own: '/sys/fs/cgroup/cpu/sc-spawner-4242-1',
          servers: '/sys/fs/cgroup/cpu/sc-spawner-4242-1/servers',
          service: '/sys/fs/cgroup/cpu/sc-spawner-4242-1/service',
        },
      },
    });
  });

  it("in a container's pid namespace the groups' names carry it: another with the same pid gets other groups", () => {
    const v1 = hybridV1(true);
    v1.links.set('/proc/self/ns/pid', 'pid:[4026532199]');
    expect(choose(v1, { pid: 1 })).toMatchObject({
      plan: {
        cgroup: {
          own: '/sys/fs/cgroup/cpu/sc-spawner-1-1-ns4026532199',
          servers: '/sys/fs/cgroup/cpu/sc-spawner-1-1-ns4026532199/servers',
          pidNamespace: 4026532199,
        },
      },
    });
    const v2 = pureV2(true);
    v2.links.set('/proc/self/ns/pid', 'pid:[4026532300]');
    const dir = '/sys/fs/cgroup/system.slice/sc-spawner.service';
    expect(choose(v2, { pid: 1 })).toMatchObject({
      plan: { cgroup: { service: `${dir}/sc-spawner-1-1-ns4026532300-service`, pidNamespace: 4026532300 } },
    });
  });

  it("a name taken (a crashed service's group of the same pid): the next instance number names every group and the detail", () => {
    const planOf = (decision: ReturnType<typeof choose>): CpuPriorityPlan => {
      if ('problem' in decision) throw new Error(decision.problem);
      return decision.plan;
    };
    const v1 = hybridV1(true);
    v1.links.set('/proc/self/ns/pid', 'pid:[4026532199]');
    const dir = '/sys/fs/cgroup/cpu/sc-spawner-2-2-ns4026532199';
    const next = withNextInstance(planOf(choose(v1, { pid: 2 })));
    expect(next.cgroup).toMatchObject({ own: dir, servers: `${dir}/servers`, service: `${dir}/service`, instance: 2 });
    expect(next.detail).toBe(
      `servers in the cgroup v1 cpu group ${dir}/servers at cpu.shares 2, the service in ${dir}/service at 1024`,
    );
    expect(withNextInstance(next).cgroup?.own).toBe('/sys/fs/cgroup/cpu/sc-spawner-2-3-ns4026532199');
    const unit = '/sys/fs/cgroup/system.slice/sc-spawner.service';
    const v2 = withNextInstance(planOf(choose(pureV2(true), { cpuMaxCores: 1.5 })));
    expect(v2.cgroup).toMatchObject({
      servers: `${unit}/sc-spawner-4242-2-servers`,
      service: `${unit}/sc-spawner-4242-2-service`,
      serverLimits: { cpuMax: '150000 100000' },
    });
    expect(v2.cgroup?.own).toBeUndefined();
    expect(v2.detail).toContain(`${unit}/sc-spawner-4242-2-servers at cpu.weight 1`);
    expect(v2.detail).toContain('with cpu.max 150000 100000');
  });

  it('autogroup on with CAP_SYS_ADMIN and no cgroup: the autogroup nice of each server session', () => {
    expect(choose(hybridV1(false))).toMatchObject({ plan: { mechanism: 'autogroup', autogroupNice: 19, nice: 10 } });
  });

  it('autogroup off and no cgroup: plain nice; SC_NICE=0: none', () => {
    expect(choose(hybridV1(false, '0'))).toMatchObject({
      plan: { mechanism: 'nice', detail: 'servers at nice 10 (autogroup scheduling is off)' },
    });
    expect(choose(hybridV1(false, '0'), { nice: 0 })).toMatchObject({ plan: { mechanism: 'none', nice: 0 } });
  });

  it('without perl: setsid and coreutils nice, which autogroup makes useless (said so)', () => {
    expect(choose(hybridV1(true), { perl: false })).toMatchObject({
      plan: { mechanism: 'none', wrapper: false, detail: expect.stringContaining('install perl-base') },
    });
    expect(choose(hybridV1(true, '0'), { perl: false })).toMatchObject({ plan: { mechanism: 'nice', wrapper: false } });
  });

  it('SC_CPU_PRIORITY names a mechanism: used when available, refused with the reason when not', () => {
    expect(choose(hybridV1(true), { choice: 'autogroup' })).toMatchObject({ plan: { mechanism: 'autogroup' } });
    expect(choose(hybridV1(true), { choice: 'nice' })).toMatchObject({ plan: { mechanism: 'nice' } });
    expect(choose(hybridV1(true), { choice: 'cgroup-v2' })).toEqual({
      problem:
        'SC_CPU_PRIORITY=cgroup-v2 cannot be used on this machine: the cpu controller is not enabled for /sys/fs/cgroup/unified',
    });
    expect(choose(hybridV1(false), { choice: 'cgroup-v1' })).toEqual({
      problem:
        'SC_CPU_PRIORITY=cgroup-v1 cannot be used on this machine: the cgroup v1 cpu group /sys/fs/cgroup/cpu is not writable here (mounted read-only, or owned by another user)',
    });
    expect(choose(pureV2(false), { choice: 'cgroup-v1' })).toEqual({
      problem: 'SC_CPU_PRIORITY=cgroup-v1 cannot be used on this machine: no cgroup v1 cpu hierarchy is mounted',
    });
    expect(choose(hybridV1(true, '0'), { choice: 'autogroup' })).toMatchObject({
      problem: expect.stringContaining('autogroup scheduling is off'),
    });
    expect(choose(hybridV1(true), { choice: 'nice', nice: 0 })).toMatchObject({
      problem: 'SC_CPU_PRIORITY=nice cannot be used on this machine: SC_NICE is 0',
    });
  });
});
