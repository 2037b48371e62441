import { FakeSchedulingFiles } from '../../test/fakes/scheduling-files.fake';
import { CpuPriorityPlan } from './cpu-priority.policy';
import { CpuPriority } from './cpu-priority.service';

const PERL = '/usr/bin/perl';
const V1: CpuPriorityPlan = {
  mechanism: 'cgroup-v1',
  detail: 'd',
  nice: 10,
  wrapper: true,
  cgroup: {
    version: 1,
    parent: '/cg/cpu',
    own: '/cg/cpu/sc-spawner-7-1',
    servers: '/cg/cpu/sc-spawner-7-1/servers',
    service: '/cg/cpu/sc-spawner-7-1/service',
    controllers: [],
  },
};
const PARENT = '/cg/sc.service';
const V2: CpuPriorityPlan = {
  mechanism: 'cgroup-v2',
  detail: 'd',
  nice: 10,
  wrapper: true,
  cgroup: {
    version: 2,
    parent: PARENT,
    servers: `${PARENT}/sc-spawner-7-1-servers`,
    service: `${PARENT}/sc-spawner-7-1-service`,
    controllers: ['cpu', 'memory'],
    perServer: { cpuMax: '150000 100000', memoryMax: '2147483648' },
  },
};

describe('CpuPriority', () => {
  it('cgroup v1: the service and a servers group at cpu.shares 2 in a group of its own; removed at shutdown, with leftovers of dead services', async () => {
    const files = new FakeSchedulingFiles(
      { '/proc/6/cgroup': '1:cpu:/sc-spawner-6-2/service\n', '/proc/8/cgroup': '1:cpu:/user.slice\n' },
      ['/cg/cpu'],
    );
    for (const dir of [
      '/cg/cpu/sc-spawner-5-1',
      '/cg/cpu/sc-spawner-5-1/servers',
      '/cg/cpu/sc-spawner-6-2',
      '/cg/cpu/sc-spawner-8-1',
      '/cg/cpu/other',
    ]) {
      files.dirs.add(dir);
    }
    const priority = new CpuPriority(V1, files, PERL, 7);
    priority.setUp();
    expect(files.writes).toEqual([
      ['/cg/cpu/sc-spawner-7-1/service/cgroup.procs', '7'],
      ['/cg/cpu/sc-spawner-7-1/servers/cpu.shares', '2'],
    ]);
    // sc-spawner-5-1's service is gone (no /proc/5); 6 still runs in its group; pid 8 is another process now (the
    // kernel reused the pid); "other" is not ours.
    expect([...files.dirs].sort()).toEqual([
      '/cg/cpu/other',
      '/cg/cpu/sc-spawner-6-2',
      '/cg/cpu/sc-spawner-7-1',
      '/cg/cpu/sc-spawner-7-1/servers',
      '/cg/cpu/sc-spawner-7-1/service',
    ]);
    expect(priority.placementFor('a')).toEqual({
      nice: 10,
      autogroupNice: undefined,
      wrapper: PERL,
      cgroupProcs: '/cg/cpu/sc-spawner-7-1/servers/cgroup.procs',
      // The spawn helper, which forks the servers, works in their group too.
      helperCgroupProcs: '/cg/cpu/sc-spawner-7-1/servers/cgroup.procs',
    });
    files.files.set('/cg/cpu/sc-spawner-7-1/servers/cgroup.procs', '99\n');
    files.writes.length = 0;
    await priority.onApplicationShutdown();
    // A server still exiting moves to the service's group, the service back to where it started.
    expect(files.writes).toEqual([
      ['/cg/cpu/sc-spawner-7-1/service/cgroup.procs', '99'],
      ['/cg/cpu/cgroup.procs', '99'],
    ]);
    expect([...files.dirs].sort()).toEqual(['/cg/cpu/other', '/cg/cpu/sc-spawner-6-2']);
  });

  it('cgroup v2: the service moves into a leaf, controllers go to the children, each server gets its limits', async () => {
    const files = new FakeSchedulingFiles({}, [PARENT]);
    const priority = new CpuPriority(V2, files, PERL, 7);
    priority.setUp();
    expect(files.writes).toEqual([
      [`${PARENT}/sc-spawner-7-1-service/cgroup.procs`, '7'],
      [`${PARENT}/cgroup.subtree_control`, '+cpu +memory'],
      [`${PARENT}/sc-spawner-7-1-servers/cpu.weight`, '1'],
      [`${PARENT}/sc-spawner-7-1-servers/cgroup.subtree_control`, '+cpu +memory'],
    ]);
    files.writes.length = 0;
    // The servers' group hands controllers on, so it may hold no process: the helper has a leaf of its own.
    expect(files.dirs.has(`${PARENT}/sc-spawner-7-1-servers/spawn-helper`)).toBe(true);
    const placement = priority.placementFor('s1');
    expect(placement.cgroupProcs).toBe(`${PARENT}/sc-spawner-7-1-servers/s1/cgroup.procs`);
    expect(placement.helperCgroupProcs).toBe(`${PARENT}/sc-spawner-7-1-servers/spawn-helper/cgroup.procs`);
    expect(files.writes).toEqual([
      [`${PARENT}/sc-spawner-7-1-servers/s1/cpu.max`, '150000 100000'],
      [`${PARENT}/sc-spawner-7-1-servers/s1/memory.max`, '2147483648'],
    ]);
    priority.released('s1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(files.dirs.has(`${PARENT}/sc-spawner-7-1-servers/s1`)).toBe(false);
    files.writes.length = 0;
    await priority.onApplicationShutdown();
    expect(files.writes).toEqual([
      [`${PARENT}/cgroup.subtree_control`, '-cpu -memory'],
      [`${PARENT}/cgroup.procs`, '7'],
    ]);
    expect(files.dirs.size).toBe(0);
  });

  it('a group still busy at shutdown is retried, then reported, never thrown', async () => {
    const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
    const priority = new CpuPriority(V1, files, PERL, 7);
    priority.setUp();
    files.failing.set('/cg/cpu/sc-spawner-7-1/servers', 'EBUSY');
    setTimeout(() => files.failing.delete('/cg/cpu/sc-spawner-7-1/servers'), 120);
    await priority.onApplicationShutdown();
    expect(files.dirs.has('/cg/cpu/sc-spawner-7-1')).toBe(false);
  });

  it('a live service whose pid is not seen here (another pid namespace on this cgroup tree) keeps its empty servers group', () => {
    for (const plan of [V1, V2]) {
      const parent = plan.cgroup!.parent;
      const files = new FakeSchedulingFiles({}, [parent]);
      // Pid 1 of a container: /proc/1 here is another process, outside any sc-spawner group.
      const [service, servers] =
        plan === V1
          ? [`${parent}/sc-spawner-1-1/service`, `${parent}/sc-spawner-1-1/servers`]
          : [`${parent}/sc-spawner-1-1-service`, `${parent}/sc-spawner-1-1-servers`];
      for (const dir of [service, servers]) files.dirs.add(dir);
      if (plan === V1) files.dirs.add(`${parent}/sc-spawner-1-1`);
      files.failing.set(service, 'EBUSY');
      new CpuPriority(plan, files, PERL, 7).setUp();
      expect(files.dirs.has(servers)).toBe(true);
      expect(files.dirs.has(service)).toBe(true);
    }
  });

  it("a dead service's group its orphaned servers still held at start-up goes once they have exited", async () => {
    const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
    for (const dir of ['/cg/cpu/sc-spawner-5-1', '/cg/cpu/sc-spawner-5-1/servers']) files.dirs.add(dir);
    files.failing.set('/cg/cpu/sc-spawner-5-1/servers', 'EBUSY');
    const priority = new CpuPriority(V1, files, PERL, 7);
    priority.setUp();
    expect(files.dirs.has('/cg/cpu/sc-spawner-5-1')).toBe(true);
    // The orphan reaper (onModuleInit) has stopped them: they exit a moment later.
    priority.onApplicationBootstrap();
    setTimeout(() => files.failing.delete('/cg/cpu/sc-spawner-5-1/servers'), 300);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect([...files.dirs].filter((dir) => dir.includes('sc-spawner-5-1'))).toEqual([]);
    await priority.onApplicationShutdown();
  });

  it('nice and autogroup: no cgroup, the placement says the rest', () => {
    const files = new FakeSchedulingFiles();
    const plan: CpuPriorityPlan = { mechanism: 'autogroup', detail: 'd', nice: 10, autogroupNice: 19, wrapper: true };
    const priority = new CpuPriority(plan, files, PERL, 7);
    priority.setUp();
    expect(priority.placementFor('x')).toEqual({ nice: 10, autogroupNice: 19, wrapper: PERL });
    expect(priority.status()).toEqual({ mechanism: 'autogroup', detail: 'd' });
    expect(files.writes).toEqual([]);
  });
  it("two services starting at the same instant: one taking the other's new, still empty group for a leftover and removing it does not keep the other out", () => {
    /** A cgroup tree where moving into a removed group fails as the kernel's does, and a move shows in /proc. */
    class Tree extends FakeSchedulingFiles {
      beforeFirstMove?: () => void;
      override write(file: string, text: string): void {
        if (file.endsWith('/cgroup.procs')) {
          const hook = this.beforeFirstMove;
          this.beforeFirstMove = undefined;
          hook?.();
          const group = file.slice(0, -'/cgroup.procs'.length);
          if (!this.dirs.has(group)) throw Object.assign(new Error(`ENOENT: write ${file}`), { code: 'ENOENT' });
          this.files.set(`/proc/${text}/cgroup`, `1:cpu:${group.slice('/cg/cpu'.length)}\n`);
        }
        super.write(file, text);
      }
    }
    const files = new Tree({}, ['/cg/cpu']);
    const other: CpuPriorityPlan = {
      ...V1,
      cgroup: {
        ...V1.cgroup!,
        own: '/cg/cpu/sc-spawner-9-1',
        servers: '/cg/cpu/sc-spawner-9-1/servers',
        service: '/cg/cpu/sc-spawner-9-1/service',
      },
    };
    // Service 9 starts between service 7 making its group and moving in: 7's group looks like a dead service's.
    files.beforeFirstMove = () => new CpuPriority(other, files, PERL, 9).setUp();
    new CpuPriority(V1, files, PERL, 7).setUp();
    expect(files.read('/proc/7/cgroup')).toBe('1:cpu:/sc-spawner-7-1/service\n');
    expect(files.read('/proc/9/cgroup')).toBe('1:cpu:/sc-spawner-9-1/service\n');
    expect([...files.dirs].filter((dir) => dir.endsWith('/servers')).sort()).toEqual([
      '/cg/cpu/sc-spawner-7-1/servers',
      '/cg/cpu/sc-spawner-9-1/servers',
    ]);
  });
});
