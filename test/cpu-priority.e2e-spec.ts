import { spawn } from 'child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'fs';
import * as path from 'path';
import { parsePrometheus, sampleValue } from './support/operable';
import { freePort } from './support/ports';
import { isProcessAlive, procStat, useCleanup } from './support/processes';
import { SIM_EXECUTABLE } from './support/simulator';
import { FAST_TIMINGS, REPO_ROOT, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { makeTempDir } from './support/temp';
import { sleep, waitFor } from './support/wait';

/** This file's WebSocket ports (see test/support/README.md). */
const PORT_BASE = 30000;
const V1_CPU = '/sys/fs/cgroup/cpu';

/** How the scheduler ranks a process, read from /proc and the cgroup tree only. */
interface CpuRank {
  /** Its cgroup v1 cpu group path ('' without a v1 cpu hierarchy). */
  cpuGroup: string;
  /** '' when it is in the root autogroup (a session never started by setsid, e.g. from PID 1): not a group at all. */
  autogroup: string;
  autogroupNice: number;
  nice: number;
  session: number;
}

function cpuRank(pid: number): CpuRank {
  const cpuGroup = /^\d+:(?:[^:]*,)?cpu(?:,[^:]*)?:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1] ?? '';
  const [autogroup, , autogroupNice] = readFileSync(`/proc/${pid}/autogroup`, 'utf8').trim().split(' ');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    cpuGroup,
    autogroup,
    autogroupNice: Number(autogroupNice),
    nice: Number(fields[16]),
    session: Number(fields[3]),
  };
}

/**
 * How a process weighs among the root cpu group's entities: an autogroup weighs by its nice; a task of the root
 * autogroup (no autogroup of its own) is an entity there itself and weighs by its own nice.
 */
function rootLevel(rank: CpuRank): { nice: number; label: string } {
  return rank.autogroup === ''
    ? { nice: rank.nice, label: `nice ${rank.nice} (root autogroup)` }
    : { nice: rank.autogroupNice, label: `autogroup nice ${rank.autogroupNice}` };
}

/** The cpu.shares of the group at this path (v1). */
function sharesOf(group: string): number {
  return Number(readFileSync(`${V1_CPU}${group}/cpu.shares`, 'utf8'));
}

/**
 * Where the scheduler puts the server below the service, or undefined when it does not: in another cpu group, a
 * group with fewer shares where their paths part (the scheduler weighs a group against its siblings only), else
 * (same group) a lower weight among the root group's entities (autogroups and the root autogroup's tasks), else
 * (same autogroup) a higher nice.
 */
function rankedBelowBy(server: CpuRank, service: CpuRank): string | undefined {
  if (server.cpuGroup !== service.cpuGroup) {
    const [ours, theirs] = [server.cpuGroup.split('/'), service.cpuGroup.split('/')];
    const parting = ours.findIndex((name, level) => name !== theirs[level]);
    // One group inside the other: its tasks weigh against the inner group by nice; not a layout the service makes.
    if (parting < 0 || parting >= theirs.length) return undefined;
    const [below, above] = [
      sharesOf(ours.slice(0, parting + 1).join('/')),
      sharesOf(theirs.slice(0, parting + 1).join('/')),
    ];
    return below < above ? `cpu.shares ${below} < ${above}` : undefined;
  }
  if (server.autogroup !== service.autogroup) {
    const [below, above] = [rootLevel(server), rootLevel(service)];
    return below.nice > above.nice ? `${below.label} > ${above.label}` : undefined;
  }
  return server.nice > service.nice ? `nice ${server.nice} > ${service.nice}` : undefined;
}

/** The service's spawn helper: its perl child whose script forks servers on `launch` requests. */
function spawnHelperOf(servicePid: number): number {
  const helpers = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && procStat(Number(entry))?.ppid === servicePid)
    .map(Number)
    .filter((pid) => {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[0].endsWith('perl') && argv.some((arg) => arg.includes('launch'));
    });
  expect(helpers).toHaveLength(1);
  return helpers[0];
}

async function servicePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 21000 || port > 30499) return port;
  }
}

jest.setTimeout(120_000);

describe('CPU priority: the servers run below the service (e2e, this machine)', () => {
  const cleanup = useCleanup();
  let nextPortBase = PORT_BASE;

  async function start(env: Record<string, string>, runUnder: string[] = []): Promise<ServiceProcess> {
    const state = makeTempDir(cleanup, 'sc-priority-');
    // The state folder must belong to the service's user and be private to it (issue 19): for setpriv, nobody's.
    if (runUnder.includes('--reuid=65534')) chownSync(state, 65534, 65534);
    chmodSync(state, 0o700);
    const service = await startServiceProcess(
      await servicePort(),
      {
        ...FAST_TIMINGS,
        // This file tests the mechanisms themselves: auto (the product's default) unless a test forces one.
        SC_CPU_PRIORITY: 'auto',
        SC_PORT_BASE: String(nextPortBase),
        SC_PORT_COUNT: '20',
        SC_STATE_DIR: state,
        // A server ranked below everything else boots slowly on a machine loaded by others.
        SPAWN_READY_TIMEOUT_S: '60',
        ...env,
      },
      { runUnder },
    );
    nextPortBase += 20;
    cleanup.add(() => service.stop(10_000), 'service process');
    return service;
  }

  /**
   * Starts a server and returns its pid once the wrapper has exec'd it (so it sits where it runs), without waiting
   * for it to be ready: ranked below everything on a machine loaded by others, it may take long to boot.
   */
  async function spawnServer(service: ServiceProcess): Promise<number> {
    const abort = new AbortController();
    const answer = fetch(`${service.url}/spawn`, {
      method: 'POST',
      body: '{}',
      headers: JSON_HEADERS,
      signal: abort.signal,
    }).catch(() => undefined);
    cleanup.add(async () => {
      abort.abort();
      await answer;
    }, 'POST /spawn');
    return waitFor(
      async () => {
        const spawns = (await (await fetch(`${service.url}/spawns`)).json()) as Array<{ pid?: number }>;
        const pid = spawns.find((spawn) => spawn.pid !== undefined)?.pid;
        if (pid === undefined) return undefined;
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv.some((arg) => arg.includes('perl')) ? undefined : pid;
      },
      60_000,
      { description: 'a server to be started', intervalMs: 50 },
    );
  }

  async function cpuPriority(service: ServiceProcess): Promise<{ mechanism: string; detail: string }> {
    const status = (await (await fetch(`${service.url}/api/status`)).json()) as {
      cpuPriority: { mechanism: string; detail: string };
    };
    const metrics = parsePrometheus(await (await fetch(`${service.url}/metrics`)).text());
    expect(sampleValue(metrics, 'sc_spawner_cpu_priority_info', { mechanism: status.cpuPriority.mechanism })).toBe(1);
    expect(service.output.join('')).toContain(`CPU priority: ${status.cpuPriority.mechanism}: `);
    return status.cpuPriority;
  }

  const v1Writable = existsSync(`${V1_CPU}/cgroup.procs`) && process.getuid?.() === 0;
  const autogroupOn = readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';

  it('auto: the best mechanism here; a live server is ranked below the service; its cgroup goes at shutdown', async () => {
    // What a killed service leaves (v1): its group, found and removed by the next start.
    const left = v1Writable ? `${V1_CPU}/sc-spawner-${await deadPid()}-1` : undefined;
    if (left) for (const dir of [left, `${left}/servers`, `${left}/service`]) mkdirSync(dir);
    cleanup.add(() => {
      if (left) for (const dir of [`${left}/servers`, `${left}/service`, left]) removedUnlessBusy(dir);
    }, 'a left group');
    const service = await start({});
    // Made just now, it could be a service's still being set up: removed by a retry once it is a few seconds old.
    if (left) await waitFor(() => !existsSync(left), 8000, { description: `${left} to be removed`, intervalMs: 100 });
    const priority = await cpuPriority(service);
    const pid = await spawnServer(service);
    const server = cpuRank(pid);
    const own = cpuRank(service.child.pid!);
    expect(rankedBelowBy(server, own)).toBeDefined();
    // The spawn helper forks the servers: its work (and each child's up to its exec) ranks with theirs.
    const helper = cpuRank(spawnHelperOf(service.child.pid!));
    expect(rankedBelowBy(helper, own)).toBeDefined();
    if (v1Writable) {
      expect(priority.mechanism).toBe('cgroup-v1');
      const spawnId = ((await (await fetch(`${service.url}/spawns`)).json()) as Array<{ id: string }>)[0].id;
      expect(helper.cpuGroup).toBe(`/sc-spawner-${service.child.pid}-1/servers/spawn-helper`);
      // A group of its own, among the servers' group at 2 shares.
      expect(server.cpuGroup).toBe(`/sc-spawner-${service.child.pid}-1/servers/${spawnId}`);
      expect(own.cpuGroup).toBe(`/sc-spawner-${service.child.pid}-1/service`);
      expect(rankedBelowBy(server, own)).toBe('cpu.shares 2 < 1024');
      expect(procStat(pid)?.pgrp).toBe(pid); // its own process group: the group kill still reaches all of it
      expect((await service.stop()).code).toBe(0);
      expect(existsSync(`${V1_CPU}/sc-spawner-${service.child.pid}-1`)).toBe(false);
    }
  });

  (v1Writable ? it : it.skip)(
    "a killed service's group, held by the server it left running, goes once the next start has stopped it",
    async () => {
      const state = makeTempDir(cleanup, 'sc-priority-crash-');
      chmodSync(state, 0o700);
      const escaping = escapingServer();
      const first = await start({
        SC_STATE_DIR: state,
        SC_EXECUTABLE: escaping.executable,
        SC_LICENSE: 'LIC-ESCAPE-1',
      });
      const server = await spawnServer(first);
      const escaped = await escaping.escapedFrom(server);
      cleanup.add(() => {
        // Stopped by the next start, as it should be: else killed here (its pid still a server's).
        if (procStat(server)?.pgrp === server && readFileSync(`/proc/${server}/cmdline`, 'utf8').includes('ts3d')) {
          process.kill(-server, 'SIGKILL');
        }
      }, 'the left server');
      const left = `${V1_CPU}/sc-spawner-${first.child.pid}-1`;
      cleanup.add(() => treeRemovedUnlessBusy(left), "the killed service's group");
      first.child.kill('SIGKILL');
      await first.exited;
      expect(existsSync(`${left}/servers`)).toBe(true);
      // Another deployment (its own state folder, so not this journal) starting meanwhile: it stops nothing there.
      const other = await start({});
      await sleep(1500);
      expect(isProcessAlive(server)).toBe(true);
      expect(isProcessAlive(escaped)).toBe(true);
      expect(other.output.join('')).not.toContain(`left in ${left}`);
      expect((await other.stop()).code).toBe(0);
      const next = await start({ SC_STATE_DIR: state, SC_EXECUTABLE: escaping.executable, SC_LICENSE: 'LIC-ESCAPE-1' });
      expect(next.output.join('')).toContain(`(pid ${server}, port `);
      await waitFor(() => !existsSync(left), 10_000, { description: `${left} to be removed`, intervalMs: 50 });
      // What the server started in a session of its own: not in the journal, not in the server's process group;
      // found in its cgroup and killed.
      expect(isProcessAlive(escaped)).toBe(false);
      expect(next.output.join('')).toContain(`killed 1 process(es) left in ${left}/servers/`);
    },
  );

  (v1Writable ? it : it.skip)(
    'a process a server started outside its process group (setsid) is killed when the server ends, and at shutdown',
    async () => {
      const escaping = escapingServer();
      const service = await start({ SC_EXECUTABLE: escaping.executable, SC_LICENSE: 'LIC-ESCAPE-1' });
      const pid = await spawnServer(service);
      const escaped = await escaping.escapedFrom(pid);
      // Out of reach of the stop's group signal: another session and process group, the same cgroup as its server.
      expect(procStat(escaped)?.pgrp).toBe(escaped);
      const spawnId = ((await (await fetch(`${service.url}/spawns`)).json()) as Array<{ id: string }>)[0].id;
      expect(cpuRank(escaped).cpuGroup).toBe(`/sc-spawner-${service.child.pid}-1/servers/${spawnId}`);
      expect((await fetch(`${service.url}/spawns/${spawnId}`, { method: 'DELETE' })).status).toBeLessThan(300);
      await waitFor(() => !isProcessAlive(escaped), 10_000, { description: 'the escaped process to be killed' });
      await waitFor(() => !existsSync(`${V1_CPU}/sc-spawner-${service.child.pid}-1/servers/${spawnId}`), 5000, {
        description: "the server's group to be removed",
      });
      expect(service.output.join('')).toContain(
        `spawn ${spawnId}: 1 process(es) it started outlived it outside its process group; killed (SIGKILL)`,
      );

      // At shutdown: the server is stopped, what it started outside its group killed, never moved out to run on.
      const next = await spawnServer(service);
      const escapedToo = await escaping.escapedFrom(next);
      expect((await service.stop()).code).toBe(0);
      expect(isProcessAlive(escapedToo)).toBe(false);
      expect(existsSync(`${V1_CPU}/sc-spawner-${service.child.pid}-1`)).toBe(false);
    },
  );

  (v1Writable ? it : it.skip)(
    "two services with one pid (in a pid namespace, and in one inside it) get groups of their own: one stopping kills none of the other's servers",
    async () => {
      // Each service is pid 2 of a pid namespace (under a shell, pid 1, that outlives it: a namespace ends with its
      // pid 1): the first's a container's, the second's a sandbox started in that container, whose processes the
      // first sees. One cgroup tree for both.
      const pidTwo = [
        ...['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'],
        ...['sh', '-c', '"$@"; echo "service exited $?"; exec sleep 120', 'sh'],
      ];
      const first = await start({}, pidTwo);
      cleanup.add(() => endNamespace(first), "the first service's namespace");
      const firstPid = serviceBelow(first.child.pid!);
      const second = await start({}, ['nsenter', `--target=${firstPid}`, '--pid', ...pidTwo]);
      cleanup.add(() => endNamespace(second), "the second service's namespace");
      const services = [first, second];
      // Each names its groups by its pid and its pid namespace.
      const groups = services.map((service) => {
        const namespace = /^pid:\[(\d+)\]$/.exec(readlinkSync(`/proc/${serviceBelow(service.child.pid!)}/ns/pid`))?.[1];
        expect(service.output.join('')).toContain(`${V1_CPU}/sc-spawner-2-1-ns${namespace}/servers `);
        return `sc-spawner-2-1-ns${namespace}`;
      });
      for (const group of groups) cleanup.add(() => treeRemovedUnlessBusy(`${V1_CPU}/${group}`), 'its group');
      // A server each, found (with the pid this machine knows it by) in its own cgroup.
      const servers = await Promise.all(
        services.map(async (service, index) => {
          const answer = await fetch(`${service.url}/spawn`, { method: 'POST', body: '{}', headers: JSON_HEADERS });
          expect(answer.status).toBe(200);
          const { id } = (await answer.json()) as { id: string };
          const procs = readFileSync(`${V1_CPU}/${groups[index]}/servers/${id}/cgroup.procs`, 'utf8');
          return { id, pid: Number(procs.trim().split('\n')[0]) };
        }),
      );
      for (const { pid } of servers) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('ts3d_sc_server');

      expect(await stopService(first)).toBe(0);
      expect(isProcessAlive(servers[0].pid)).toBe(false);
      // The other's server runs on, in its group, and its service still has it.
      expect(isProcessAlive(servers[1].pid)).toBe(true);
      expect(readFileSync(`${V1_CPU}/${groups[1]}/servers/${servers[1].id}/cgroup.procs`, 'utf8')).toContain(
        String(servers[1].pid),
      );
      const spawns = (await (await fetch(`${second.url}/spawns`)).json()) as Array<{ id: string; state: string }>;
      expect(spawns).toEqual([expect.objectContaining({ id: servers[1].id, state: 'ready' })]);
      expect(groups[0]).not.toBe(groups[1]);
      expect(existsSync(`${V1_CPU}/${groups[0]}`)).toBe(false);
      expect(await stopService(second)).toBe(0);
      expect(existsSync(`${V1_CPU}/${groups[1]}`)).toBe(false);
    },
  );

  (v1Writable ? it : it.skip)(
    "a killed service's group is never adopted by a new service the kernel gives its pid: the server it left outlives that one's shutdown",
    async () => {
      // The killed service is pid 2 of a pid namespace whose pid 1, a shell, outlives it (and holds the namespace).
      const first = await start({}, [
        ...['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'],
        ...['sh', '-c', '"$@"; echo "service exited $?"; exec sleep 120', 'sh'],
      ]);
      const firstPid = serviceBelow(first.child.pid!);
      const namespaceInit = procStat(firstPid)!.ppid;
      const namespace = /^pid:\[(\d+)\]$/.exec(readlinkSync(`/proc/${firstPid}/ns/pid`))?.[1];
      const [left, next] = [1, 2].map((n) => `${V1_CPU}/sc-spawner-2-${n}-ns${namespace}`);
      // Last registered, first run: the groups go once the namespace, and all that ran in it, is gone.
      for (const group of [left, next]) {
        cleanup.add(
          () => waitFor(() => treeRemovedUnlessBusy(group), 5000, { description: `${group} to be removed` }),
          'its group',
        );
      }
      cleanup.add(() => endNamespace(first), 'the namespace');
      const answer = await fetch(`${first.url}/spawn`, { method: 'POST', body: '{}', headers: JSON_HEADERS });
      expect(answer.status).toBe(200);
      const { id } = (await answer.json()) as { id: string };
      const procs = `${left}/servers/${id}/cgroup.procs`;
      const server = Number(readFileSync(procs, 'utf8').trim().split('\n')[0]);
      expect(readFileSync(`/proc/${server}/cmdline`, 'utf8')).toContain('ts3d_sc_server');
      process.kill(firstPid, 'SIGKILL');
      await waitFor(() => first.output.join('').includes('service exited 137'), 10_000, {
        description: 'the first service to be killed',
      });
      expect(isProcessAlive(server)).toBe(true);

      // The next process forked in the namespace gets pid 2 again: the new service, with the killed one's pid.
      const second = await start({}, [
        ...['nsenter', `--target=${namespaceInit}`, '--pid', '--mount'],
        ...['sh', '-c', 'echo 1 > /proc/sys/kernel/ns_last_pid && "$@"; echo "service exited $?"', 'sh'],
      ]);
      expect(readFileSync(`/proc/${serviceBelow(second.child.pid!)}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+2$/m);
      expect(await stopService(second)).toBe(0);
      expect(isProcessAlive(server)).toBe(true);
      expect(readFileSync(procs, 'utf8')).toContain(String(server));
      // It took the next name, and removed its groups at shutdown; the killed one's waits until it is empty.
      expect(second.output.join('')).toContain(`CPU priority: cgroup-v1: servers in the cgroup v1 cpu group ${next}/`);
      expect(existsSync(next)).toBe(false);
    },
  );

  it('without a cgroup (SC_CPU_PRIORITY=nice): the spawn helper, their subreaper, kills what a server left outside its group', async () => {
    const escaping = escapingServer();
    const service = await start({
      SC_CPU_PRIORITY: 'nice',
      SC_EXECUTABLE: escaping.executable,
      SC_LICENSE: 'LIC-ESCAPE-1',
    });
    expect((await cpuPriority(service)).mechanism).toBe('nice');
    const pid = await spawnServer(service);
    const escaped = await escaping.escapedFrom(pid);
    expect(procStat(escaped)?.pgrp).toBe(escaped);
    const spawnId = ((await (await fetch(`${service.url}/spawns`)).json()) as Array<{ id: string }>)[0].id;
    expect((await fetch(`${service.url}/spawns/${spawnId}`, { method: 'DELETE' })).status).toBeLessThan(300);
    await waitFor(() => !isProcessAlive(escaped), 10_000, { description: 'the escaped process to be killed' });
    await waitFor(
      () =>
        service.output
          .join('')
          .includes("spawn helper: killed 1 process(es) left outside their servers' process groups"),
      5000,
      { description: 'the log line' },
    );
  });

  /**
   * A server (the simulator behind a wrapper) that first starts a process in a session of its own (setsid: its own
   * process group too), which runs until killed; its pid is written to escaped-<server pid>.
   */
  function escapingServer(): { executable: string; escapedFrom(server: number): Promise<number> } {
    const dir = makeTempDir(cleanup, 'sc-priority-escape-');
    chmodSync(dir, 0o755);
    const executable = path.join(dir, 'ts3d_sc_server');
    writeFileSync(
      executable,
      [
        '#!/bin/sh',
        `setsid sh -c 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 600' "${dir}/escaped-$$" </dev/null >/dev/null 2>&1 &`,
        `exec ${SIM_EXECUTABLE} "$@"`,
      ].join('\n'),
    );
    chmodSync(executable, 0o755);
    const escapedFrom = async (server: number) => {
      const file = path.join(dir, `escaped-${server}`);
      const pid = await waitFor(() => (existsSync(file) ? Number(readFileSync(file, 'utf8')) : undefined), 10_000, {
        description: `the process server ${server} starts outside its group`,
        intervalMs: 20,
      });
      cleanup.add(() => {
        // Killed by the service, as it should be; else here (its pid still the escaped sleep's).
        if (isProcessAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep')) {
          process.kill(pid, 'SIGKILL');
        }
      }, 'the escaped process');
      return pid;
    };
    return { executable, escapedFrom };
  }

  (autogroupOn ? it : it.skip)(
    "SC_CPU_PRIORITY=nice: the server stays in the service's autogroup and session, at SC_NICE",
    async () => {
      const service = await start({ SC_CPU_PRIORITY: 'nice', SC_NICE: '12' });
      expect((await cpuPriority(service)).mechanism).toBe('nice');
      const pid = await spawnServer(service);
      const server = cpuRank(pid);
      const own = cpuRank(service.child.pid!);
      expect(server).toMatchObject({ autogroup: own.autogroup, session: own.session, cpuGroup: own.cpuGroup });
      expect(rankedBelowBy(server, own)).toBe(`nice ${Math.max(12, own.nice)} > ${own.nice}`);
      expect(rankedBelowBy(cpuRank(spawnHelperOf(service.child.pid!)), own)).toBe(
        `nice ${Math.max(12, own.nice)} > ${own.nice}`,
      );
      expect(procStat(pid)?.pgrp).toBe(pid);
    },
  );

  (autogroupOn && process.getuid?.() === 0 ? it : it.skip)(
    "SC_CPU_PRIORITY=autogroup: each server session's autogroup at nice 19",
    async () => {
      const service = await start({ SC_CPU_PRIORITY: 'autogroup' });
      expect((await cpuPriority(service)).mechanism).toBe('autogroup');
      const pid = await spawnServer(service);
      const server = cpuRank(pid);
      const own = cpuRank(service.child.pid!);
      expect(server.session).toBe(pid);
      expect(server.autogroup).not.toBe(own.autogroup);
      expect(rankedBelowBy(server, own)).toBe(`autogroup nice 19 > ${rootLevel(own).label}`);
    },
  );

  (process.getuid?.() === 0 ? it : it.skip)(
    "as an unprivileged user (setpriv to nobody): no cgroup to write, no CAP_SYS_ADMIN: nice in the service's autogroup",
    async () => {
      letOthersTraverse(REPO_ROOT, cleanup);
      const service = await start({}, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']);
      const priority = await cpuPriority(service);
      expect(priority.mechanism).toBe(autogroupOn ? 'nice' : 'nice');
      const pid = await spawnServer(service);
      const server = cpuRank(pid);
      // setpriv execs the service in place: the child's pid is the service's.
      const own = cpuRank(service.child.pid!);
      expect(readFileSync(`/proc/${service.child.pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\b/m);
      expect(server).toMatchObject({ autogroup: own.autogroup, session: own.session, cpuGroup: own.cpuGroup });
      expect(rankedBelowBy(server, own)).toBe(`nice ${Math.max(10, own.nice)} > ${own.nice}`);
    },
  );

  (v1Writable && autogroupOn ? it : it.skip)(
    'the service in a cpu cgroup of its own (v1): autogroups do not apply there; nice ranks the servers',
    async () => {
      const group = `${V1_CPU}/sc-priority-test-${process.pid}`;
      mkdirSync(group);
      // Removed once the service and its servers have left it (EBUSY until the last one has exited).
      cleanup.add(
        () => waitFor(() => removedUnlessBusy(group), 5000, { description: `${group} to be removed` }),
        `cgroup ${group}`,
      );
      // The shell moves itself into the group, then becomes the service: it starts there, as under a container.
      const intoGroup = ['sh', '-c', `echo $$ > ${group}/cgroup.procs && exec "$@"`, 'sh'];
      const refused = await start({ SC_CPU_PRIORITY: 'autogroup' }, intoGroup).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(refused?.message).toContain(
        `SC_CPU_PRIORITY=autogroup cannot be used on this machine: this process runs in the cpu cgroup ${group}, where the kernel does not apply autogroups`,
      );
      const service = await start({ SC_CPU_PRIORITY: 'nice', SC_NICE: '12' }, intoGroup);
      expect(await cpuPriority(service)).toEqual({
        mechanism: 'nice',
        detail: `servers at nice 12 (autogroups do not apply in the service's cpu cgroup ${group})`,
      });
      const pid = await spawnServer(service);
      const [server, own] = [cpuRank(pid), cpuRank(service.child.pid!)];
      expect(own.cpuGroup).toBe(group.slice(V1_CPU.length));
      expect(server.cpuGroup).toBe(own.cpuGroup);
      expect(rankedBelowBy(server, own)).toBe(`nice ${Math.max(12, own.nice)} > ${own.nice}`);
      expect((await service.stop()).code).toBe(0);
    },
  );

  it('SC_SERVER_CPU_MAX where no delegated cgroup v2 subtree exists: refused at start-up with the reason', async () => {
    const state = makeTempDir(cleanup, 'sc-priority-');
    const error = await startServiceProcess(await servicePort(), {
      SC_SERVER_CPU_MAX: '1.5',
      SC_STATE_DIR: state,
      SC_PORT_BASE: String(PORT_BASE + 400),
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(
      /\n {2}- SC_SERVER_CPU_MAX needs a delegated cgroup v2 subtree \(systemd Delegate=yes\), but .*: unset SC_SERVER_CPU_MAX/,
    );
  });
});

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The service's own process below the commands it runs under (unshare, nsenter), by the pid this machine knows. */
function serviceBelow(pid: number): number {
  for (let next = [pid]; next.length > 0;) {
    const found = next.find(
      (candidate) => readFileSync(`/proc/${candidate}/cmdline`, 'utf8').split('\0')[0] === process.execPath,
    );
    if (found !== undefined) return found;
    next = next.flatMap((parent) =>
      readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  }
  throw new Error(`no service below ${pid}`);
}

/** Stops a service that is pid 2 of its namespace (see pidTwo): its exit code, which the shell above it prints. */
async function stopService(service: ServiceProcess): Promise<number> {
  const exited = /service exited (\d+)/;
  if (!exited.test(service.output.join(''))) process.kill(serviceBelow(service.child.pid!), 'SIGTERM');
  const code = await waitFor(() => exited.exec(service.output.join(''))?.[1], 15_000, {
    description: 'the service to exit',
  });
  return Number(code);
}

/** Ends a pid namespace a test made: its pid 1 is killed (unshare --kill-child), and with it all that runs there. */
async function endNamespace(service: ServiceProcess): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
  await service.exited;
}

/** The pid of a process that has exited (no service runs under it). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** Removes a cgroup and the groups in it, innermost first; false when one is still busy. */
function treeRemovedUnlessBusy(dir: string): boolean {
  if (!existsSync(dir)) return true;
  const inner = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  return inner.every((entry) => treeRemovedUnlessBusy(path.join(dir, entry.name))) && removedUnlessBusy(dir);
}

function removedUnlessBusy(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY') return false;
    throw error;
  }
}

/**
 * The service run as nobody must reach the checkout (dist/, node_modules/): a clone in a private folder (mktemp -d
 * is 0700) would hide it. Each folder above it that others cannot traverse gets o+x for the test, restored after.
 */
function letOthersTraverse(folder: string, cleanup: ReturnType<typeof useCleanup>): void {
  for (let dir = folder; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if (mode & 0o001) continue;
    chmodSync(dir, mode | 0o001);
    cleanup.add(() => chmodSync(dir, mode), `mode of ${dir}`);
  }
}
