import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { NodeFileSystem } from './file-system.adapter';
import { ChildProcessLauncher, findPerl, ProcessEnd, ServerPlacement } from './process-launcher.adapter';

/** The real launcher, with real processes. */
describe('ChildProcessLauncher', () => {
  const launcher = new ChildProcessLauncher(new NodeFileSystem());
  const niceOf = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const ownNice = niceOf(process.pid);

  /** Field n (1-based, as proc(5) counts) of /proc/<pid>/stat. */
  const statField = (pid: number, n: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3]);
  };
  const perl = findPerl(new NodeFileSystem());

  interface Seen {
    startTime: string | undefined;
    procStartTime: number;
    nice: number;
    argv0: string;
    pgid: number;
    sid: number;
    pid: number;
    autogroup: string;
    end: ProcessEnd;
  }

  async function run(placement: ServerPlacement): Promise<Seen> {
    let resolveEnd!: (end: ProcessEnd) => void;
    const ended = new Promise<ProcessEnd>((resolve) => (resolveEnd = resolve));
    const launched = launcher.launch(
      { executable: '/bin/sleep', args: ['30'], env: {}, placement },
      { onLine: () => undefined, onExit: resolveEnd },
    );
    const pid = launched.pid!;
    // The wrapper (or nice) execs the server in place: wait until the pid runs sleep itself.
    for (let i = 0; i < 400 && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/bin/sleep'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seen = {
      pid,
      startTime: launched.startTime,
      procStartTime: statField(pid, 22),
      argv0: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0],
      nice: niceOf(pid),
      pgid: statField(pid, 5),
      sid: statField(pid, 6),
      autogroup: readFileSync(`/proc/${pid}/autogroup`, 'utf8').trim(),
    };
    launched.signalGroup('SIGKILL');
    return { ...seen, end: await ended };
  }
  const ownSession = statField(process.pid, 6);

  it('without the wrapper: coreutils nice in a session of its own, in place (same pid), signalled as a group', async () => {
    const niced = await run({ nice: 7 });
    // Its identity as launched: the start time /proc gives the pid.
    expect(Number(niced.startTime)).toBe(niced.procStartTime);
    expect(niced).toMatchObject({ nice: Math.max(7, ownNice), argv0: '/bin/sleep', end: { signal: 'SIGKILL' } });
    expect(niced.sid).toBe(niced.pid);
    const plain = await run({ nice: 0 });
    expect(plain).toMatchObject({ nice: ownNice, argv0: '/bin/sleep' });
  });

  it("the wrapper: a process group of its own in the service's session (and autogroup), at the nice asked for", async () => {
    const seen = await run({ nice: 7, wrapper: perl });
    expect(seen).toMatchObject({ nice: Math.max(7, ownNice), argv0: '/bin/sleep', end: { signal: 'SIGKILL' } });
    expect(seen.pgid).toBe(seen.pid);
    expect(seen.sid).toBe(ownSession);
    expect(seen.autogroup).toBe(readFileSync('/proc/self/autogroup', 'utf8').trim());
  });

  it("the wrapper writes the server's own pid to the cgroup.procs file before it execs", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-launcher-'));
    const procs = join(dir, 'cgroup.procs');
    writeFileSync(procs, '');
    try {
      const seen = await run({ nice: 0, wrapper: perl, cgroupProcs: procs });
      expect(readFileSync(procs, 'utf8')).toBe(String(seen.pid));
      expect(seen.pgid).toBe(seen.pid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cgroup the wrapper cannot join stops the server from starting, with the reason on stderr', async () => {
    const lines: string[] = [];
    const end = await new Promise<ProcessEnd>((resolve) =>
      launcher.launch(
        {
          executable: '/bin/sleep',
          args: ['30'],
          env: {},
          placement: { nice: 0, wrapper: perl, cgroupProcs: '/no/such/cgroup/cgroup.procs' },
        },
        { onLine: (_, line) => lines.push(line), onExit: resolve },
      ),
    );
    expect(end.code).not.toBe(0);
    expect(lines.join('\n')).toMatch(/cannot join \/no\/such\/cgroup\/cgroup.procs: No such file or directory/);
  });

  it('the autogroup mechanism: a session of its own whose autogroup runs at the nice asked for', async () => {
    const seen = await run({ nice: 3, autogroupNice: 19, wrapper: perl });
    expect(seen.sid).toBe(seen.pid);
    // Without CAP_SYS_ADMIN, a write within 100 ms of another one anywhere on the machine is refused (EAGAIN).
    if (process.getuid?.() === 0) expect(seen.autogroup).toMatch(/ nice 19$/);
    expect(seen.nice).toBe(Math.max(3, ownNice));
  });

  it('refuses, as spawn() would, an executable that is missing or not executable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-launcher-'));
    const plain = join(dir, 'not-executable');
    writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
    const handlers = { onLine: () => undefined, onExit: () => undefined };
    expect(() =>
      launcher.launch({ executable: '/no/such/server', args: [], env: {}, placement: { nice: 5 } }, handlers),
    ).toThrow(/^spawn \/no\/such\/server ENOENT: does not exist$/);
    try {
      expect(() => launcher.launch({ executable: plain, args: [], env: {}, placement: { nice: 5 } }, handlers)).toThrow(
        /EACCES: is not executable by this user/,
      );
      expect(() => launcher.launch({ executable: dir, args: [], env: {}, placement: { nice: 0 } }, handlers)).toThrow(
        /EACCES: is not a regular file/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
