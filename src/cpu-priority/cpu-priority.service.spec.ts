import { FakeSchedulingFiles } from '../../test/fakes/scheduling-files.fake';
import { CpuPriorityPlan } from './cpu-priority.policy';
import { NEW_GROUP_MS } from './cgroup-leftovers';
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
    pid: 7,
    instance: 1,
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
    serverLimits: { cpuMax: '150000 100000', memoryMax: '2147483648' },
    pid: 7,
    instance: 1,
  },
};

describe('CpuPriority', () => {
  it('cgroup v1: the service and a servers group at cpu.shares 2 (one group per server in it) in a group of its own; removed at shutdown, with leftovers of dead services', async () => {
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
      '/cg/cpu/sc-spawner-7-1/servers/spawn-helper',
      '/cg/cpu/sc-spawner-7-1/service',
    ]);
    expect(priority.placementFor('a')).toEqual({
      nice: 10,
      autogroupNice: undefined,
      wrapper: PERL,
      cgroupProcs: '/cg/cpu/sc-spawner-7-1/servers/a/cgroup.procs',
      // The spawn helper, which forks the servers, works in their group too.
      helperCgroupProcs: '/cg/cpu/sc-spawner-7-1/servers/spawn-helper/cgroup.procs',
    });
    expect(files.dirs.has('/cg/cpu/sc-spawner-7-1/servers/a')).toBe(true);
    files.files.set('/cg/cpu/sc-spawner-7-1/servers/a/cgroup.procs', '99\n');
    files.files.set('/cg/cpu/sc-spawner-7-1/servers/spawn-helper/cgroup.procs', '98\n');
    files.writes.length = 0;
    await priority.onApplicationShutdown();
    // What is left of a server is killed (the helper is not: its launcher ends it), moved to the service's group to
    // exit promptly; the service goes back to where it started.
    expect(files.killed).toEqual([99]);
    expect(files.writes).toEqual([
      ['/cg/cpu/sc-spawner-7-1/service/cgroup.procs', '98'],
      ['/cg/cpu/cgroup.procs', '98'],
    ]);
    expect([...files.dirs].sort()).toEqual(['/cg/cpu/other', '/cg/cpu/sc-spawner-6-2']);
  });

  it('a server that exited: what it left running in its group is killed, then the group goes (v1: one by one)', async () => {
    const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
    const priority = new CpuPriority(V1, files, PERL, 7);
    priority.setUp();
    const group = '/cg/cpu/sc-spawner-7-1/servers/s1';
    priority.placementFor('s1');
    // 41 forks 42 while it is being killed: the second round finds 42.
    files.files.set(`${group}/cgroup.procs`, '41\n');
    const kill = files.kill.bind(files);
    files.kill = (pid) => {
      if (pid === 41) files.files.set(`${group}/cgroup.procs`, '41\n42\n');
      kill(pid);
    };
    priority.released('s1');
    expect(files.killed).toEqual([41, 42]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(files.dirs.has(group)).toBe(false);
    // Nothing left: nothing killed, the group goes all the same.
    priority.placementFor('s2');
    priority.released('s2');
    expect(files.killed).toEqual([41, 42]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(files.dirs.has('/cg/cpu/sc-spawner-7-1/servers/s2')).toBe(false);
    await priority.onApplicationShutdown();
  });

  it('v2: cgroup.kill ends what a server left; a kernel without it (refused) gets the one-by-one kill', async () => {
    for (const withKillFile of [true, false]) {
      const files = new FakeSchedulingFiles({}, [PARENT]);
      const priority = new CpuPriority(V2, files, PERL, 7);
      priority.setUp();
      const group = `${PARENT}/sc-spawner-7-1-servers/s1`;
      priority.placementFor('s1');
      files.files.set(`${group}/cgroup.procs`, '41\n');
      if (!withKillFile) files.failing.set(`${group}/cgroup.kill`, 'ENOENT');
      files.writes.length = 0;
      priority.released('s1');
      if (withKillFile) {
        expect(files.writes).toEqual([[`${group}/cgroup.kill`, '1']]);
        expect(files.killed).toEqual([]);
      } else {
        expect(files.killed).toEqual([41]);
      }
      files.files.delete(`${group}/cgroup.procs`);
      await priority.onApplicationShutdown();
      expect(files.dirs.size).toBe(0);
    }
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

  it('cgroup v2 without limits: no controller goes further down; each server still gets a group of its own', async () => {
    const files = new FakeSchedulingFiles({}, [PARENT]);
    const priority = new CpuPriority(
      { ...V2, cgroup: { ...V2.cgroup!, controllers: ['cpu'], serverLimits: undefined } },
      files,
      PERL,
      7,
    );
    priority.setUp();
    expect(files.writes).toEqual([
      [`${PARENT}/sc-spawner-7-1-service/cgroup.procs`, '7'],
      [`${PARENT}/cgroup.subtree_control`, '+cpu'],
      [`${PARENT}/sc-spawner-7-1-servers/cpu.weight`, '1'],
    ]);
    expect(priority.placementFor('s1')).toMatchObject({
      cgroupProcs: `${PARENT}/sc-spawner-7-1-servers/s1/cgroup.procs`,
      helperCgroupProcs: `${PARENT}/sc-spawner-7-1-servers/spawn-helper/cgroup.procs`,
    });
    await priority.onApplicationShutdown();
    expect(files.dirs.size).toBe(0);
  });

  it("a group of its name left by a crashed service of the same pid, its server still running there, is never adopted: the next instance number is taken, and the old server outlives this service's shutdown", async () => {
    const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
    const left = '/cg/cpu/sc-spawner-7-1';
    for (const dir of ['', '/service', '/servers', '/servers/old', '/servers/spawn-helper']) files.dirs.add(left + dir);
    files.files.set(`${left}/servers/old/cgroup.procs`, '70\n');
    files.files.set(`${left}/servers/spawn-helper/cgroup.procs`, '71\n');
    const priority = new CpuPriority(V1, files, PERL, 7);
    priority.setUp();
    const own = '/cg/cpu/sc-spawner-7-2';
    expect(files.writes).toEqual([
      [`${own}/service/cgroup.procs`, '7'],
      [`${own}/servers/cpu.shares`, '2'],
    ]);
    expect(priority.status().detail).toBe(
      `servers in the cgroup v1 cpu group ${own}/servers at cpu.shares 2, the service in ${own}/service at 1024`,
    );
    expect(priority.placementFor('a').cgroupProcs).toBe(`${own}/servers/a/cgroup.procs`);
    files.files.set(`${own}/servers/a/cgroup.procs`, '99\n');
    // A group in its servers' it did not place (none should be): nothing in it is killed.
    files.dirs.add(`${own}/servers/stray`);
    files.files.set(`${own}/servers/stray/cgroup.procs`, '80\n');
    await priority.onApplicationShutdown();
    expect(files.killed).toEqual([99]);
    expect(files.read(`${left}/servers/old/cgroup.procs`)).toBe('70\n');
    expect(files.read(`${left}/servers/spawn-helper/cgroup.procs`)).toBe('71\n');
    expect(files.read(`${own}/servers/stray/cgroup.procs`)).toBe('80\n');
    expect([...files.dirs].filter((dir) => dir.startsWith(left)).length).toBe(5);
    expect(files.dirs.has(`${own}/service`)).toBe(false);
  });

  it("v2: the crashed service's servers group left (its empty service group removed by another): the next instance number, the one made meanwhile undone", async () => {
    const files = new FakeSchedulingFiles({}, [PARENT]);
    const left = `${PARENT}/sc-spawner-7-1-servers`;
    for (const dir of [left, `${left}/old`]) files.dirs.add(dir);
    files.files.set(`${left}/old/cgroup.procs`, '70\n');
    const priority = new CpuPriority(V2, files, PERL, 7);
    priority.setUp();
    expect(priority.plan.cgroup).toMatchObject({
      servers: `${PARENT}/sc-spawner-7-2-servers`,
      service: `${PARENT}/sc-spawner-7-2-service`,
    });
    expect(files.dirs.has(`${PARENT}/sc-spawner-7-1-service`)).toBe(false);
    expect(files.read(`${PARENT}/sc-spawner-7-2-service/cgroup.procs`)).toBe('7');
    await priority.onApplicationShutdown();
    expect(files.killed).toEqual([]);
    expect([...files.dirs].sort()).toEqual([left, `${left}/old`]);
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

  it("another pid namespace's groups: its pid means nothing here, so a live one is kept (its service busy), a dead one goes; this namespace's own pid is skipped only in its own names", () => {
    const NS = 4026532199;
    const plan: CpuPriorityPlan = {
      ...V1,
      cgroup: {
        ...V1.cgroup!,
        own: `/cg/cpu/sc-spawner-1-1-ns${NS}`,
        servers: `/cg/cpu/sc-spawner-1-1-ns${NS}/servers`,
        service: `/cg/cpu/sc-spawner-1-1-ns${NS}/service`,
        pidNamespace: NS,
      },
    };
    // Pid 1 here is this service, which /proc/1/cgroup shows in its own group.
    const files = new FakeSchedulingFiles({ '/proc/1/cgroup': `1:cpu:/sc-spawner-1-1-ns${NS}/service\n` }, ['/cg/cpu']);
    const groups = {
      live: '/cg/cpu/sc-spawner-1-1-ns4026532300', // pid 1 of another container, running
      dead: '/cg/cpu/sc-spawner-1-1-ns4026532301', // pid 1 of a container gone (this one's predecessor, restarted)
      host: '/cg/cpu/sc-spawner-1-1', // "pid 1" of the machine's first namespace: not a service, so dead
    };
    for (const dir of Object.values(groups))
      for (const inner of ['', '/service', '/servers']) files.dirs.add(dir + inner);
    files.failing.set(`${groups.live}/service`, 'EBUSY');
    new CpuPriority(plan, files, PERL, 1).setUp();
    expect(files.dirs.has(groups.live)).toBe(true);
    expect(files.dirs.has(`${groups.live}/servers`)).toBe(true);
    expect(files.dirs.has(groups.dead)).toBe(false);
    expect(files.dirs.has(groups.host)).toBe(false);
    expect(files.dirs.has(`/cg/cpu/sc-spawner-1-1-ns${NS}/service`)).toBe(true);
  });

  it('a group made moments ago, empty, may be a service still setting it up: left alone at start-up, removed by a retry once older if still unused', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
      // Another container's service (its pid means nothing here) has made its group, not yet joined it.
      const starting = '/cg/cpu/sc-spawner-1-1-ns4026532300';
      for (const dir of [starting, `${starting}/service`, `${starting}/servers`]) files.dirs.add(dir);
      files.madeTimes.set(starting, Date.now() - 100);
      const priority = new CpuPriority(V1, files, PERL, 7);
      priority.setUp();
      expect(files.dirs.has(`${starting}/service`)).toBe(true);
      expect(files.dirs.has(`${starting}/servers`)).toBe(true);
      priority.onApplicationBootstrap();
      await jest.advanceTimersByTimeAsync(NEW_GROUP_MS - 500);
      expect(files.dirs.has(starting)).toBe(true);
      // Still unused past that: a dead service's, removed by the start-up's retries.
      await jest.advanceTimersByTimeAsync(1000);
      expect(files.dirs.has(starting)).toBe(false);
    } finally {
      jest.useRealTimers();
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

  it("a dead service's groups: after the reaper, what its servers left in their groups is killed, and the groups go", async () => {
    const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
    const left = '/cg/cpu/sc-spawner-5-1';
    // Another deployment's dead run (its journal is not this service's): its servers are left to it.
    const others = '/cg/cpu/sc-spawner-6-1';
    for (const dir of [left, `${left}/servers`, `${left}/servers/spawn-helper`, `${left}/servers/s1`]) {
      files.dirs.add(dir);
    }
    for (const dir of [others, `${others}/servers`, `${others}/servers/s9`]) files.dirs.add(dir);
    files.files.set(`${left}/servers/s1/cgroup.procs`, '51\n');
    files.files.set(`${others}/servers/s9/cgroup.procs`, '69\n');
    // Busy while 51 runs: the kernel refuses to remove a group with a process in it.
    const removeDir = files.removeDir.bind(files);
    files.removeDir = (dir) => {
      if (dir.endsWith('/servers/s1') || dir.endsWith('/servers/s9')) {
        if (!files.read(`${dir}/cgroup.procs`)) return removeDir(dir);
        throw Object.assign(new Error(`EBUSY: rmdir ${dir}`), { code: 'EBUSY' });
      }
      removeDir(dir);
    };
    const priority = new CpuPriority(V1, files, PERL, 7);
    priority.setUp();
    // Not at set-up: the reaper (onModuleInit) stops the servers it knows of first, as it always did.
    expect(files.killed).toEqual([]);
    expect(files.dirs.has(`${left}/servers/s1`)).toBe(true);
    expect(files.dirs.has(`${left}/servers/spawn-helper`)).toBe(false);
    // The reaper read s1 in this service's journal, and killed its server (50): what is left is killed at once.
    files.files.set(`${left}/servers/s1/cgroup.procs`, '50\n51\n');
    priority.reaped(['s1'], [50]);
    expect(files.killed).toEqual([50, 51]);
    priority.onApplicationBootstrap();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...files.dirs].filter((dir) => dir.startsWith(left))).toEqual([]);
    expect(files.dirs.has(`${others}/servers/s9`)).toBe(true);
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
