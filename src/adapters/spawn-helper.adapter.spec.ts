import { AsyncLocalStorage } from 'async_hooks';
import { type ChildProcessByStdio, execFileSync, spawn } from 'child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { createServer } from 'net';
import { createInterface } from 'readline';
import type { Readable, Writable } from 'stream';
import { basename, dirname, join } from 'path';
import { NodeFileSystem } from './file-system.adapter';
import { MAX_LINE_BYTES } from './line-reader';
import { readProcStat } from './process-table.adapter';
import { findPerl, type LaunchCommand, type ProcessEnd, type ServerPlacement } from './process-launcher.adapter';
import { SpawnHelperLauncher } from './spawn-helper.adapter';
import { launchRequest, parseHelperAnswer, PRCTL_SYSCALL, SPAWN_HELPER_SCRIPT } from './spawn-helper.protocol';
import { isProcessAlive } from '../../test/support/processes';
import { sleep, waitFor } from '../../test/support/wait';

/** Runs perl (argv[0]) with its stdout pipe shrunk to 4 KiB (F_SETPIPE_SZ), so that a reader that waits blocks it soon. */
const SHRINK_STDOUT = 'fcntl(STDOUT, 1031, 4096) or die "F_SETPIPE_SZ: $!"; exec { $ARGV[0] } @ARGV or die';

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** Field n (1-based, as proc(5) counts) of /proc/<pid>/stat. */
const statField = (pid: number, n: number) => {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return NaN; // the process ended between the listing and the read
  }
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3]);
};

/** The real spawn helper (perl), with real processes. */
describe('SpawnHelperLauncher', () => {
  const perl = findPerl(new NodeFileSystem())!;
  let launcher: SpawnHelperLauncher;
  beforeEach(() => (launcher = new SpawnHelperLauncher(new NodeFileSystem())));
  afterEach(() => launcher.onApplicationShutdown());

  /** Replaces the test's launcher with one whose helper must answer a launch within `ms`. */
  async function answerTimeout(ms: number): Promise<void> {
    await launcher.onApplicationShutdown();
    launcher = new SpawnHelperLauncher(new NodeFileSystem(), ms);
  }

  /**
   * A helper's socket folder: its last argument is the socket in it. (Not found by listing the temp folder: other test
   * files' services come and go with folders of their own meanwhile.)
   */
  const helperFolder = (helper: number) => {
    const argv = readFileSync(`/proc/${helper}/cmdline`, 'utf8').split('\0');
    // perl -e <script> -- <socket> <prctl>
    const folder = dirname(argv[argv.indexOf('--') + 1]);
    expect(basename(folder)).toMatch(/^sc-launch-/);
    return folder;
  };

  const helperChildren = () =>
    readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && statField(Number(entry), 4) === process.pid);

  interface Run {
    pid: number;
    startTime: string | undefined;
    lines: Array<[string, string]>;
    ended: Promise<ProcessEnd>;
    signalGroup(signal: NodeJS.Signals): boolean;
  }

  async function start(
    command: Omit<Partial<LaunchCommand>, 'placement'> & { placement?: Partial<ServerPlacement> },
  ): Promise<Run> {
    const lines: Array<[string, string]> = [];
    let resolveEnd!: (end: ProcessEnd) => void;
    const ended = new Promise<ProcessEnd>((resolve) => (resolveEnd = resolve));
    const launched = await launcher.launch(
      {
        executable: '/bin/sh',
        args: [],
        env: {},
        ...command,
        placement: { nice: 0, wrapper: perl, ...command.placement },
      },
      { onLine: (stream, line) => lines.push([stream, line]), onExit: resolveEnd },
    );
    return {
      pid: launched.pid!,
      startTime: launched.startTime,
      lines,
      ended,
      signalGroup: (signal) => launched.signalGroup(signal),
    };
  }

  async function execed(pid: number, argv0: string): Promise<void> {
    for (let i = 0; i < 400 && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(argv0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('runs the server in place with exactly its environment and folder, its output by stream, every line read before its exit', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    try {
      const script =
        'echo "env=$ONLY:$(env | wc -l):${SC_SPAWNER_LAUNCH:+launch} cwd=$(pwd)"; echo oops >&2; i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done; exit 3';
      const run = await start({ args: ['-c', script], env: { ONLY: 'a b=c', PATH: '/usr/bin:/bin' }, cwd: folder });
      const end = await run.ended;
      expect(end).toEqual({ code: 3, signal: null });
      // ONLY, PATH, sh's own PWD, and the launch the helper (their subreaper here: no cgroup) knows its server by.
      expect(run.lines[0]).toEqual(['stdout', `env=a b=c:4:launch cwd=${folder}`]);
      expect(run.lines).toContainEqual(['stderr', 'oops']);
      expect(run.lines.filter(([stream]) => stream === 'stdout')).toHaveLength(2001);
      expect(run.lines.at(-1)).toEqual(['stdout', 'line1999']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it.each([
    ['through the helper', perl],
    ['started by spawn() (no wrapper)', undefined],
  ])("a server's output and exit come in the service's context, not a request's (%s)", async (_name, wrapper) => {
    // nestjs-pino keeps each HTTP request's id this way: every server's exit was logged with the id of the request
    // whose launch started the helper.
    const requests = new AsyncLocalStorage<string>();
    const seen: Array<string | undefined> = [];
    const launchIn = (request: string) =>
      requests.run(request, async () => {
        let ended!: () => void;
        const exited = new Promise<void>((resolve) => (ended = resolve));
        const onLine = () => seen.push(requests.getStore());
        const onExit = () => {
          seen.push(requests.getStore());
          ended();
        };
        const command = { executable: '/bin/echo', args: ['hi'], env: {}, placement: { nice: 0, wrapper } };
        await launcher.launch(command, { onLine, onExit });
        // The caller's own context is kept across the launch.
        expect(requests.getStore()).toBe(request);
        return exited;
      });
    await launchIn('the first request');
    await launchIn('another request');
    expect(seen).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("a process group of its own in the service's session, at the nice asked for; the group takes the signal", async () => {
    const run = await start({ executable: '/bin/sleep', args: ['30'], placement: { nice: 7 } });
    await execed(run.pid, '/bin/sleep');
    expect(statField(run.pid, 5)).toBe(run.pid); // pgid
    expect(statField(run.pid, 6)).toBe(statField(process.pid, 6)); // same session
    expect(statField(run.pid, 19)).toBe(Math.max(7, statField(process.pid, 19)));
    expect(run.signalGroup('SIGTERM')).toBe(true);
    expect(await run.ended).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('gives the start time of the process it forked, read before the process could be reaped', async () => {
    const run = await start({ executable: '/bin/sleep', args: ['30'] });
    expect(run.startTime).toMatch(/^\d+$/);
    expect(Number(run.startTime)).toBe(statField(run.pid, 22));
    // A process that ends at once: its start time was read all the same (its pid could not be reused meanwhile).
    const quick = await start({ executable: '/bin/true' });
    expect(quick.startTime).toMatch(/^\d+$/);
    expect(await quick.ended).toEqual({ code: 0, signal: null });
    run.signalGroup('SIGKILL');
    await run.ended;
  });

  it('the autogroup mechanism: a session of its own', async () => {
    const run = await start({ executable: '/bin/sleep', args: ['30'], placement: { autogroupNice: 19 } });
    await execed(run.pid, '/bin/sleep');
    expect(statField(run.pid, 6)).toBe(run.pid);
    run.signalGroup('SIGKILL');
    expect((await run.ended).signal).toBe('SIGKILL');
  });

  it('joins the cgroup (its own pid in cgroup.procs) before it execs; one it cannot join stops it with the reason', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const procs = join(folder, 'cgroup.procs');
    writeFileSync(procs, '');
    try {
      const joined = await start({ args: ['-c', 'exit 0'], placement: { cgroupProcs: procs } });
      expect(await joined.ended).toEqual({ code: 0, signal: null });
      expect(readFileSync(procs, 'utf8')).toBe(String(joined.pid));
      const refused = await start({ args: ['-c', 'exit 0'], placement: { cgroupProcs: '/no/such/cgroup.procs' } });
      expect((await refused.ended).code).toBe(127);
      expect(refused.lines).toEqual([
        ['stderr', 'sc-spawner wrapper: cannot join /no/such/cgroup.procs: No such file or directory'],
      ]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('the helper itself joins the group and takes the nice it is given, before it forks anything', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const helperProcs = join(folder, 'helper.procs');
    writeFileSync(helperProcs, '');
    try {
      const run = await start({ args: ['-c', 'exit 0'], placement: { nice: 6, helperCgroupProcs: helperProcs } });
      expect(await run.ended).toEqual({ code: 0, signal: null });
      const helper = Number(readFileSync(helperProcs, 'utf8'));
      expect(helper).not.toBe(run.pid);
      expect(statField(helper, 4)).toBe(process.pid); // the service's child
      expect(readFileSync(`/proc/${helper}/cmdline`, 'utf8').split('\0')[0]).toBe(perl);
      expect(statField(helper, 19)).toBe(Math.max(6, statField(process.pid, 19)));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('a helper group it cannot join leaves the helper where it is; servers still start', async () => {
    const run = await start({ args: ['-c', 'exit 0'], placement: { helperCgroupProcs: '/no/such/helper.procs' } });
    expect(await run.ended).toEqual({ code: 0, signal: null });
  });

  it('keeps servers started together apart, and refuses a missing executable as spawn() would', async () => {
    const runs = await Promise.all(
      [1, 2, 3, 4].map((n) => start({ args: ['-c', `for i in 1 2 3; do echo server${n}; done`] })),
    );
    await Promise.all(runs.map((run) => run.ended));
    runs.forEach((run, i) => expect(run.lines).toEqual(Array(3).fill(['stdout', `server${i + 1}`])));
    await expect(start({ executable: '/no/such/server' })).rejects.toThrow(/ENOENT: does not exist/);
  });

  it('follows a server by polling when the helper is killed, and ends the helper, its socket and its folder at shutdown', async () => {
    const run = await start({ executable: '/bin/sleep', args: ['30'] });
    const [helper] = helperChildren().map(Number);
    const folder = helperFolder(helper);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    process.kill(helper, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(run.pid, 'SIGKILL');
    expect(await run.ended).toEqual({ code: null, signal: null });
    expect(existsSync(folder)).toBe(false); // gone with its helper
    const again = await start({ args: ['-c', 'echo again'] }); // a new helper
    expect(await again.ended).toEqual({ code: 0, signal: null });
    const newFolder = helperFolder(Number(helperChildren()[0]));
    await launcher.onApplicationShutdown();
    expect(helperChildren()).toEqual([]);
    expect(existsSync(newFolder)).toBe(false);
  });

  it('kills a helper that does not answer a launch in time: that launch fails, the next starts a new helper', async () => {
    await answerTimeout(2000);
    const running = await start({ executable: '/bin/sleep', args: ['30'] });
    const [helper] = helperChildren().map(Number);
    process.kill(helper, 'SIGSTOP'); // hung: alive, reads nothing, answers nothing
    const asked = Date.now();
    await expect(start({ args: ['-c', 'exit 0'] })).rejects.toThrow('spawn helper did not answer within 2 s');
    expect(Date.now() - asked).toBeLessThan(5000);
    // Gone (SIGKILL works on a stopped process); the server it had started is still followed, by polling.
    for (let i = 0; i < 200 && helperChildren().map(Number).includes(helper); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(helperChildren().map(Number)).not.toContain(helper);
    const again = await start({ args: ['-c', 'echo again'] });
    expect(await again.ended).toEqual({ code: 0, signal: null });
    expect(again.lines).toEqual([['stdout', 'again']]);
    process.kill(running.pid, 'SIGKILL');
    expect(await running.ended).toEqual({ code: null, signal: null });
  });

  it('a stalled event loop is not a helper that does not answer: its answer, already there, is read first', async () => {
    await answerTimeout(300);
    const first = await start({ args: ['-c', 'exit 0'] });
    await first.ended;
    const [helper] = helperChildren().map(Number);
    const pending = start({ args: ['-c', 'echo served'] }); // written to the running helper before this returns
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 800); // the loop stalls past the answer timeout
    const run = await pending;
    expect(await run.ended).toEqual({ code: 0, signal: null });
    expect(run.lines).toEqual([['stdout', 'served']]);
    expect(helperChildren().map(Number)).toEqual([helper]); // the same helper, not killed
  });

  it('a pid the helper announces after its launch was given up on is killed, and its launch reports no exit', async () => {
    await answerTimeout(500);
    const folder = mkdtempSync(join(tmpdir(), 'sc-late-helper-'));
    const latePidFile = join(folder, 'late.pid');
    const announcerPidFile = join(folder, 'announcer.pid');
    // A helper that reads the launch and does not answer it in time; its child (holding its stdout) announces a
    // server once the helper is gone, i.e. after the launch failed and the helper was killed: what a helper starved
    // past the timeout would do. ($PPID is the helper: the child waits for it to be killed and reaped.)
    const fakePerl = join(folder, 'perl');
    const announce = [
      'while kill -0 $PPID 2>/dev/null; do sleep 0.05; done',
      'setsid sleep 60 & p=$!; echo "$p" > "$1"',
      'echo "pid $2 $p $(cut -d" " -f22 /proc/$p/stat)"',
    ].join('; ');
    writeFileSync(
      fakePerl,
      [
        '#!/bin/sh',
        'read verb req rest',
        `sh -c '${announce}' announcer "${latePidFile}" "$req" &`,
        `echo $! > "${announcerPidFile}"`,
        'exec sleep 30',
        '',
      ].join('\n'),
      { mode: 0o700 },
    );
    const onExit = jest.fn();
    const pidIn = (file: string) => Number(readText(file));
    try {
      const launch = launcher.launch(
        { executable: '/bin/sh', args: ['-c', 'exit 0'], env: {}, placement: { nice: 0, wrapper: fakePerl } },
        { onLine: () => undefined, onExit },
      );
      await expect(launch).rejects.toThrow('spawn helper did not answer within 0.5 s');
      await waitFor(() => readText(latePidFile).endsWith('\n'), 5000, { description: 'the late announcement' });
      await waitFor(() => !isProcessAlive(pidIn(latePidFile)), 3000, { description: 'the late server to be killed' });
      // The announcer holds the helper's stdout: once it has exited the helper is let go (its launches with it). A
      // launch that still followed its server would report the exit within 0.75 s (a 250 ms poll, a 500 ms drain).
      await waitFor(() => !isProcessAlive(pidIn(announcerPidFile)), 3000, { description: 'the announcer to exit' });
      await sleep(1500);
      expect(onExit).not.toHaveBeenCalled();
    } finally {
      for (const file of [announcerPidFile, latePidFile])
        if (pidIn(file) > 0 && isProcessAlive(pidIn(file))) process.kill(pidIn(file), 'SIGKILL');
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("removes the socket folder a killed service left (no one listens), and keeps a live one's", async () => {
    const stale = mkdtempSync(join(tmpdir(), 'sc-launch-'));
    // A socket bound by a process that then died without closing it, as a service killed by SIGKILL leaves it.
    execFileSync(perl, [
      '-MSocket',
      '-e',
      'socket(my $s, AF_UNIX, SOCK_STREAM, 0); bind($s, pack_sockaddr_un($ARGV[0])) or die; listen($s, 1); exit 0',
      join(stale, 'output.sock'),
    ]);
    const other = new SpawnHelperLauncher(new NodeFileSystem());
    try {
      const live = await start({ args: ['-c', 'exit 0'] });
      await live.ended;
      const liveFolder = helperFolder(Number(helperChildren()[0]));
      await new Promise<ProcessEnd>((resolve) => {
        void other.launch(
          { executable: '/bin/sh', args: ['-c', 'exit 0'], env: {}, placement: { nice: 0, wrapper: perl } },
          { onLine: () => undefined, onExit: resolve },
        );
      });
      await waitFor(() => !existsSync(stale), 5000, { description: 'the stale folder to be removed' });
      expect(existsSync(join(liveFolder, 'output.sock'))).toBe(true);
    } finally {
      await other.onApplicationShutdown();
      rmSync(stale, { recursive: true, force: true });
    }
  });

  describe("the socket folder's place: nowhere another user may swap it for one of theirs", () => {
    let root: string;
    beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'sc-place-'))));
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    /** A temp folder like TMPDIR on a shared folder: 0777 without the sticky bit (anyone may rename what is in it). */
    const sharedTemp = () => {
      const shared = join(root, 'shared');
      mkdirSync(shared);
      chmodSync(shared, 0o777);
      return shared;
    };

    async function useLauncher(tempFolder: string, stateFolder?: string): Promise<void> {
      await launcher.onApplicationShutdown();
      launcher = new SpawnHelperLauncher(new NodeFileSystem(), undefined, tempFolder, stateFolder);
    }

    it('goes in the state folder when the temp folder lets others rename what is in it', async () => {
      const shared = sharedTemp();
      const state = join(root, 'state');
      mkdirSync(state, { mode: 0o700 });
      await useLauncher(shared, state);
      const run = await start({ args: ['-c', 'echo out'] });
      expect(await run.ended).toEqual({ code: 0, signal: null });
      expect(run.lines).toEqual([['stdout', 'out']]);
      expect(dirname(helperFolder(Number(helperChildren()[0])))).toBe(state);
      expect(readdirSync(shared)).toEqual([]);
      await launcher.onApplicationShutdown();
      expect(readdirSync(state)).toEqual([]);
    });

    it('without a state folder, no helper: the server starts by spawn(), nothing goes in the temp folder', async () => {
      const shared = sharedTemp();
      await useLauncher(shared);
      const run = await start({ args: ['-c', 'echo out'] });
      expect(await run.ended).toEqual({ code: 0, signal: null });
      expect(run.lines).toEqual([['stdout', 'out']]);
      expect(readdirSync(shared)).toEqual([]);
    });

    it('at shutdown removes only the folder it made, not one put in its place', async () => {
      const run = await start({ args: ['-c', 'exit 0'] });
      await run.ended;
      const folder = helperFolder(Number(helperChildren()[0]));
      const moved = `${folder}-moved`;
      renameSync(folder, moved);
      try {
        mkdirSync(folder);
        writeFileSync(join(folder, 'theirs'), '');
        await launcher.onApplicationShutdown();
        expect(existsSync(join(folder, 'theirs'))).toBe(true);
      } finally {
        rmSync(folder, { recursive: true, force: true });
        rmSync(moved, { recursive: true, force: true });
      }
    });
  });

  it('launches without waiting for the temp folder to be gone through (another user may have filled it)', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'sc-flood-'));
    // 2,000 folders as killed services leave them (a socket nobody listens on): each is probed, then removed.
    execFileSync(perl, [
      '-MSocket',
      '-e',
      'for my $i (1 .. $ARGV[1]) { my $d = "$ARGV[0]/sc-launch-flood$i"; mkdir($d) or die;' +
        ' socket(my $s, AF_UNIX, SOCK_STREAM, 0); bind($s, pack_sockaddr_un("$d/output.sock")) or die; close($s) }',
      temp,
      '2000',
    ]);
    const flood = () => readdirSync(temp).filter((name) => name.startsWith('sc-launch-flood')).length;
    const flooded = new SpawnHelperLauncher(new NodeFileSystem(), undefined, temp);
    try {
      let ended!: (end: ProcessEnd) => void;
      const end = new Promise<ProcessEnd>((resolve) => (ended = resolve));
      const command = { executable: '/bin/sh', args: ['-c', 'exit 0'], env: {}, placement: { nice: 0, wrapper: perl } };
      await flooded.launch(command, { onLine: () => undefined, onExit: ended });
      expect(flood()).toBeGreaterThan(0); // started while the clean-up goes on
      expect(await end).toEqual({ code: 0, signal: null });
      await waitFor(() => flood() === 0, 30_000, { description: 'the stale folders to be removed meanwhile' });
    } finally {
      await flooded.onApplicationShutdown();
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it("cuts a server's line that never ends instead of holding it (the service's memory is not the server's to fill)", async () => {
    const script = 'head -c 30000000 /dev/zero | tr "\\0" A; echo; echo after; printf "no newline" >&2';
    const run = await start({ args: ['-c', script], env: { PATH: '/usr/bin:/bin' } });
    expect(await run.ended).toEqual({ code: 0, signal: null });
    const cut = `${'A'.repeat(MAX_LINE_BYTES)} [line cut at ${MAX_LINE_BYTES} bytes]`;
    expect(run.lines.filter(([stream]) => stream === 'stdout')).toEqual([
      ['stdout', cut],
      ['stdout', 'after'],
    ]);
    expect(run.lines.filter(([stream]) => stream === 'stderr')).toEqual([['stderr', 'no newline']]);
  });

  it('a helper that cannot be started fails the launch (the service keeps running)', async () => {
    const end = await new Promise<ProcessEnd>((resolve, reject) => {
      launcher
        .launch(
          { executable: '/bin/sh', args: ['-c', 'exit 0'], env: {}, placement: { nice: 0, wrapper: '/no/such/perl' } },
          { onLine: () => undefined, onExit: resolve },
        )
        .catch(reject);
    }).catch((error: Error) => ({ code: null, signal: null, error }));
    expect(end.code).not.toBe(0);
    expect(helperChildren()).toEqual([]);
  });

  it('a helper that cannot be started for want of file descriptors (EMFILE) fails the launch, no crash', async () => {
    // Every descriptor taken but a few: the socket folder's listener gets one, the helper's pipes do not. spawn() then
    // gives a child without stdio, whose 'error' came with nothing listening and crashed the service.
    const temp = mkdtempSync(join(tmpdir(), 'emfile-'));
    const taken: number[] = [];
    const ends: Array<ProcessEnd | Error> = [];
    try {
      for (;;) taken.push(openSync('/dev/null', 'r'));
    } catch {
      // EMFILE: the table is full
    }
    try {
      for (let spare = 1; spare <= 40; spare++) {
        closeSync(taken.pop()!);
        const tried = new SpawnHelperLauncher(new NodeFileSystem(), undefined, temp);
        ends.push(
          await new Promise<ProcessEnd>((resolve, reject) => {
            tried
              .launch(
                { executable: '/bin/true', args: [], env: {}, placement: { nice: 0, wrapper: perl } },
                { onLine: () => undefined, onExit: resolve },
              )
              .catch(reject);
          }).catch((error: Error) => error),
        );
        await tried.onApplicationShutdown();
      }
    } finally {
      for (const fd of taken) closeSync(fd);
      rmSync(temp, { recursive: true, force: true });
    }
    await sleep(100);
    expect(ends).toHaveLength(40);
  });

  it('a helper not started for a passing cause (EMFILE) is started again by a launch after retryMs', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'emfile-retry-'));
    const tried = new SpawnHelperLauncher(new NodeFileSystem(), undefined, temp, undefined, 1000);
    /** The parent of the server it launches: the helper, or this process when the server starts by spawn(). */
    const parentOfServer = () =>
      new Promise<number | Error>((resolve, reject) => {
        const lines: string[] = [];
        tried
          .launch(
            { executable: '/bin/sh', args: ['-c', 'echo $PPID'], env: {}, placement: { nice: 0, wrapper: perl } },
            { onLine: (_, line) => lines.push(line), onExit: () => resolve(Number(lines[0])) },
          )
          .catch(reject);
      }).catch((error: Error) => error);
    const taken: number[] = [];
    try {
      try {
        for (;;) taken.push(openSync('/dev/null', 'r'));
      } catch {
        // EMFILE: the table is full, so the helper's socket cannot be made (nor the server's pipes)
      }
      const starved = await parentOfServer();
      for (const fd of taken.splice(0)) closeSync(fd);
      // No server ran: the launch failed (an Error, or an exit without its line).
      expect(typeof starved === 'number' && starved > 0).toBe(false);
      // Within retryMs: no new try, the server starts by spawn().
      expect(await parentOfServer()).toBe(process.pid);
      await sleep(1000);
      const parent = await parentOfServer();
      expect(parent).not.toBe(process.pid);
      expect(readFileSync(`/proc/${parent as number}/cmdline`, 'utf8').split('\0')[0]).toBe(perl);
    } finally {
      for (const fd of taken) closeSync(fd);
      await tried.onApplicationShutdown();
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it('without the wrapper, starts the server with spawn() (a session of its own under nice)', async () => {
    const lines: string[] = [];
    const end = await new Promise<ProcessEnd>((resolve) => {
      void launcher.launch(
        { executable: '/bin/sh', args: ['-c', 'echo direct'], env: {}, placement: { nice: 0 } },
        { onLine: (_, line) => lines.push(line), onExit: resolve },
      );
    });
    expect(end).toEqual({ code: 0, signal: null });
    expect(lines).toEqual(['direct']);
  });
});

/** Answers each pid line with its go, as the service does once it has recorded the pid. */
function goOnPid(helper: ChildProcessByStdio<Writable, Readable, null>): void {
  createInterface({ input: helper.stdout }).on('line', (line) => {
    const answer = parseHelperAnswer(line);
    if (answer?.kind === 'pid' && helper.stdin.writable) helper.stdin.write(`go ${answer.req}\n`);
  });
}

describe('spawn helper protocol', () => {
  const perl = findPerl(new NodeFileSystem())!;

  it('encodes every field in hex, so spaces, newlines and any byte pass', () => {
    const line = launchRequest('r1', {
      executable: '/bin/x',
      args: ['a b', 'c\nd'],
      env: { K: 'v w', GONE: undefined },
      placement: { nice: 5, cgroupProcs: '/c', autogroupNice: 19 },
    });
    const [verb, req, ...fields] = line.trimEnd().split(' ');
    const text = fields.map((field) => Buffer.from(field, 'hex').toString());
    expect([verb, req]).toEqual(['launch', 'r1']);
    expect(text).toEqual(['', 'K=v w', '/bin/x\0a b\0c\nd', '/c', '19', '5']);
  });

  it('refuses a NUL in the command or environment, as spawn() does', () => {
    const command = { executable: '/bin/x', args: ['a\0b'], env: {}, placement: { nice: 0 } };
    expect(() => launchRequest('r1', command)).toThrow(/NUL/);
    expect(() => launchRequest('r1', { ...command, args: [], env: { K: 'v\0w' } })).toThrow(/NUL/);
  });

  it("kills what is left of a server's group before it reaps the server (and reports its exit)", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const socketPath = join(folder, 'output.sock');
    const outputs: string[] = [];
    const output = createServer((socket) => socket.on('data', (data: Buffer) => void outputs.push(data.toString())));
    await new Promise<void>((resolve) => output.listen(socketPath, resolve));
    const helper = spawn(perl, ['-e', SPAWN_HELPER_SCRIPT, '--', socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    goOnPid(helper);
    const answers = createInterface({ input: helper.stdout });
    const exitLine = new Promise<string>((resolve) =>
      answers.on('line', (line) => line.startsWith('exit ') && resolve(line)),
    );
    let leftBehind = 0;
    try {
      // The server starts a child of its own (in its group) and exits without waiting for it.
      const command = {
        executable: '/bin/sh',
        args: ['-c', 'sleep 30 & echo "left $!"'],
        env: {},
        placement: { nice: 0 },
      };
      helper.stdin.write(launchRequest('r1', command));
      expect(await exitLine).toBe('exit r1 0 -');
      leftBehind = await waitFor(() => Number(/left (\d+)/.exec(outputs.join(''))?.[1]), 3000, {
        description: "the server's output",
      });
      // Nothing else here kills it: only the helper can have.
      await waitFor(() => [undefined, 'Z'].includes(readProcStat(leftBehind)?.state), 1000, {
        description: 'the child it left behind to be killed',
      });
    } finally {
      if (leftBehind > 0 && isProcessAlive(leftBehind)) process.kill(leftBehind, 'SIGKILL');
      helper.stdin.end();
      await new Promise((resolve) => helper.once('exit', resolve));
      await new Promise((resolve) => output.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  const SUBREAPER = String(PRCTL_SYSCALL[process.arch]);

  /** A helper given `prctl` (its subreaper argument, '' for none), its servers' output read whole, its answers kept. */
  async function rawHelper(prctl: string) {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const socketPath = join(folder, 'output.sock');
    const outputs: string[] = [];
    const server = createServer((socket) => socket.on('data', (data: Buffer) => void outputs.push(data.toString())));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const helper = spawn(perl, ['-e', SPAWN_HELPER_SCRIPT, '--', socketPath, prctl], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    goOnPid(helper);
    const lines: string[] = [];
    createInterface({ input: helper.stdout }).on('line', (line) => lines.push(line));
    const exited = new Promise((resolve) => helper.once('exit', resolve));
    const close = async () => {
      helper.stdin.end();
      await exited;
      await new Promise((resolve) => server.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    };
    return { helper, lines, output: () => outputs.join(''), exited, close };
  }

  it.each([
    ['a subreaper (prctl given): kills what a server left in a session of its own, once adopted', true],
    ['not a subreaper (no prctl): what left the group is not its child, and outlives the server', false],
  ])('%s', async (_name, subreaper) => {
    const { helper, lines, output, close } = await rawHelper(subreaper ? SUBREAPER : '');
    let escaped = 0;
    let inGroup = 0;
    try {
      // The server starts one process in a session (and group) of its own and one in its own group, then exits.
      const command = {
        executable: '/bin/sh',
        args: ['-c', 'setsid sleep 30 & echo "escaped $!"; sleep 30 & echo "in group $!"; sleep 0.2'],
        env: {},
        placement: { nice: 0 },
      };
      helper.stdin.write(launchRequest('r1', command));
      [escaped, inGroup] = await waitFor(
        () => {
          const text = output();
          const pids = [/escaped (\d+)/.exec(text)?.[1], /in group (\d+)/.exec(text)?.[1]].map(Number);
          return pids.every((pid) => pid > 0) ? pids : undefined;
        },
        3000,
        { description: "the server's output" },
      );
      await waitFor(() => lines.includes('exit r1 0 -'), 3000, { description: 'the exit' });
      // The one in its group: killed with the group, as before, either way.
      await waitFor(() => !isProcessAlive(inGroup), 1000, { description: 'the group to be killed' });
      if (subreaper) {
        await waitFor(() => !isProcessAlive(escaped), 3000, { description: 'the escaped process to be killed' });
        // The line comes once the look is over: just after the kill.
        await waitFor(() => lines.includes('orphans 1'), 1000, { description: "the helper's count" });
      } else {
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(isProcessAlive(escaped)).toBe(true);
        expect(readFileSync(`/proc/${escaped}/stat`, 'utf8')).not.toMatch(new RegExp(`\\) \\w ${helper.pid} `));
      }
    } finally {
      for (const pid of [escaped, inGroup]) if (pid > 0 && isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
      await close();
    }
  });

  it('a subreaper: a daemon a server double-forked is kept while that server runs, killed once it has exited', async () => {
    const { helper, lines, output, close } = await rawHelper(SUBREAPER);
    let daemon = 0;
    try {
      // The subshell forks the daemon into a session of its own and exits: the daemon is the helper's at once, while
      // the server (the outer shell) runs on for 2.5 s.
      const command = {
        executable: '/bin/sh',
        args: ['-c', '( setsid sh -c \'echo "daemon $$"; exec sleep 30\' & ); sleep 2.5'],
        env: {},
        placement: { nice: 0 },
      };
      helper.stdin.write(launchRequest('r1', command));
      daemon = await waitFor(() => Number(/daemon (\d+)/.exec(output())?.[1]) || undefined, 3000, {
        description: "the daemon's pid",
      });
      // Past a reap pass (one a second while servers run): adopted, and kept.
      await sleep(1500);
      expect(readFileSync(`/proc/${daemon}/stat`, 'utf8')).toMatch(new RegExp(`\\) \\w ${helper.pid} `));
      expect(isProcessAlive(daemon)).toBe(true);
      expect(lines.filter((line) => line.startsWith('orphans'))).toEqual([]);
      await waitFor(() => lines.includes('exit r1 0 -'), 3000, { description: 'the exit' });
      await waitFor(() => !isProcessAlive(daemon), 2000, { description: 'the daemon to be killed' });
      await waitFor(() => lines.includes('orphans 1'), 1000, { description: "the helper's count" });
    } finally {
      if (daemon > 0 && isProcessAlive(daemon)) process.kill(daemon, 'SIGKILL');
      await close();
    }
  });

  it('a subreaper whose service is gone: follows what a killed server left down every level before it exits', async () => {
    const { helper, lines, output, exited, close } = await rawHelper(SUBREAPER);
    let deepest = 0;
    try {
      // Server -> a shell in a session of its own -> a shell -> sleep: each level becomes the helper's only once
      // the one above it has died.
      const command = {
        executable: '/bin/sh',
        args: ['-c', `setsid sh -c 'sh -c "sleep 30 & echo deep \\$!; wait"; :' & sleep 30`],
        env: {},
        placement: { nice: 0 },
      };
      helper.stdin.write(launchRequest('r1', command));
      deepest = await waitFor(() => Number(/deep (\d+)/.exec(output())?.[1]) || undefined, 3000, {
        description: 'the deepest pid',
      });
      const server = Number(lines.find((line) => line.startsWith('pid r1 '))!.split(' ')[2]);
      // The service is gone (its input ends); the next start kills the server's group.
      helper.stdin.end();
      process.kill(-server, 'SIGKILL');
      await waitFor(() => !isProcessAlive(deepest), 5000, { description: 'the deepest level to be killed' });
      await exited;
    } finally {
      if (deepest > 0 && isProcessAlive(deepest)) process.kill(deepest, 'SIGKILL');
      await close();
    }
  });

  // Perl handles a signal between two of its statements: a SIGCHLD that came just as the helper began to wait for
  // input was handled only once that wait ended, at the service's next line (29 exits of 63,000 in a stress).
  // Forced here: SIGCHLD is held while the server exits and let go within the statement that waits (its own timeout
  // kept), so its handler is pending as the wait begins.
  it('reports an exit whose SIGCHLD came just as it began to wait for input, with no further line from the service', async () => {
    const wait = /my \$ready = select\(\$readable, undef, undef, (.+)\);/;
    expect(SPAWN_HELPER_SCRIPT).toMatch(wait);
    const raced = SPAWN_HELPER_SCRIPT.replace(
      wait,
      'POSIX::sigprocmask(POSIX::SIG_BLOCK(), $chld); select(undef, undef, undef, 0.3); my $t = $1; ' +
        'my $ready = select($readable, undef, undef, (POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $chld), $t)[1]);',
    );
    const { line, afterMs } = await exitWithNoFurtherInput(raced);
    expect(line).toBe('exit r1 3 -');
    // Each wait ends after a second while servers run: two waits held 0.3 s each, then at most 1 s (2.2 s measured).
    expect(afterMs).toBeLessThan(6000);
  });

  it('finds an exit with no SIGCHLD handler at all, by its own look each second', async () => {
    const handler = '$SIG{CHLD} = \\&reap;';
    expect(SPAWN_HELPER_SCRIPT).toContain(handler);
    const { line } = await exitWithNoFurtherInput(SPAWN_HELPER_SCRIPT.replace(handler, ''));
    expect(line).toBe('exit r1 3 -');
  });

  /**
   * Runs `script` as the helper, starts a server that exits 3 at once, and writes nothing more once its go is sent:
   * its exit line (undefined if none came within 10 s), how long after the go, and the server reaped.
   */
  async function exitWithNoFurtherInput(script: string): Promise<{ line?: string; afterMs: number }> {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const socketPath = join(folder, 'output.sock');
    const output = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => output.listen(socketPath, resolve));
    const helper = spawn(perl, ['-e', script, '--', socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    let pid = 0;
    let goAt = 0;
    const exited = new Promise<string>((resolve) =>
      createInterface({ input: helper.stdout }).on('line', (line) => {
        const answer = parseHelperAnswer(line);
        if (answer?.kind === 'pid') {
          pid = answer.pid;
          goAt = Date.now();
          helper.stdin.write(`go ${answer.req}\n`);
        }
        if (answer?.kind === 'exit') resolve(line);
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    try {
      const command = { executable: '/bin/sh', args: ['-c', 'exit 3'], env: {}, placement: { nice: 0 } };
      helper.stdin.write(launchRequest('r1', command));
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 10_000)));
      const line = await Promise.race([exited, late]);
      const afterMs = Date.now() - goAt;
      if (line) expect(readProcStat(pid)).toBeUndefined(); // reaped, not left a zombie
      return { line, afterMs };
    } finally {
      clearTimeout(timer);
      helper.stdin.end();
      // One that never reaps would wait for its server for ever.
      const stuck = setTimeout(() => helper.kill('SIGKILL'), 3000);
      await new Promise((resolve) => helper.once('exit', resolve));
      clearTimeout(stuck);
      await new Promise((resolve) => output.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  }

  it('outlives its stdin until its servers have exited, so a server that exits after the service died leaves nothing', async () => {
    const { helper, lines, output, exited, close } = await rawHelper('');
    let server = 0;
    let leftBehind = 0;
    try {
      // The server starts a child of its own (in its group) and exits a moment later, without waiting for it.
      const command = {
        executable: '/bin/sh',
        args: ['-c', 'sleep 30 & echo "left $!"; sleep 1'],
        env: {},
        placement: { nice: 0 },
      };
      helper.stdin.write(launchRequest('r1', command));
      server = await waitFor(
        () => Number(lines.find((line) => line.startsWith('pid r1 '))?.split(' ')[2]) || undefined,
        3000,
        {
          description: "the server's pid",
        },
      );
      leftBehind = await waitFor(() => Number(/left (\d+)/.exec(output())?.[1]) || undefined, 3000, {
        description: "the server's output",
      });
      // The service is gone (as after a SIGKILL): the helper's stdin ends and nobody reads its answers any more.
      helper.stdin.end();
      helper.stdout.destroy();
      await waitFor(() => [undefined, 'Z'].includes(readProcStat(server)?.state), 5000, {
        description: 'the server to exit',
      });
      await waitFor(() => [undefined, 'Z'].includes(readProcStat(leftBehind)?.state), 2000, {
        description: 'the child it left behind to be killed',
      });
      await exited;
    } finally {
      for (const pid of [server, leftBehind]) if (pid > 0 && isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
      helper.kill('SIGKILL');
      await close();
    }
  });

  it('kills the group of every server, however many exit at once (one that exits while it reaps others too)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const socketPath = join(folder, 'output.sock');
    const go = join(folder, 'go');
    const outputs: string[] = [];
    const output = createServer((socket) => socket.on('data', (data: Buffer) => void outputs.push(data.toString())));
    await new Promise<void>((resolve) => output.listen(socketPath, resolve));
    const helper = spawn(perl, ['-e', SPAWN_HELPER_SCRIPT, '--', socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    goOnPid(helper);
    const count = 40;
    const exits: string[] = [];
    createInterface({ input: helper.stdout }).on('line', (line) => line.startsWith('exit ') && exits.push(line));
    const leftBehind = () => [...outputs.join('').matchAll(/left (\d+)/g)].map((match) => Number(match[1]));
    try {
      // Each server starts a child of its own (in its group), then all exit at the same moment.
      const command = {
        executable: '/bin/sh',
        args: ['-c', 'sleep 30 & echo "left $!"; while [ ! -e "$0" ]; do sleep 0.01; done', go],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        placement: { nice: 0 },
      };
      for (let i = 0; i < count; i++) helper.stdin.write(launchRequest(`r${i}`, command));
      await waitFor(() => leftBehind().length === count || undefined, 20_000, { description: 'every server to start' });
      writeFileSync(go, '');
      await waitFor(() => exits.length === count || undefined, 20_000, { description: 'every server to exit' });
      // The service (which kills each group again on the exit line) is left out here: only the helper can have.
      const alive = () => leftBehind().filter((pid) => !['Z', undefined].includes(readProcStat(pid)?.state));
      await waitFor(() => alive().length === 0 || undefined, 3000, {
        description: () => `the children the servers left behind to be killed (alive: ${alive().join(', ')})`,
      });
    } finally {
      for (const pid of leftBehind()) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
      helper.stdin.end();
      await new Promise((resolve) => helper.once('exit', resolve));
      await new Promise((resolve) => output.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('runs no server whose pid the service did not record (killed after the fork, before its go)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const socketPath = join(folder, 'output.sock');
    const marker = `sc-unrecorded-${process.pid}`;
    const output = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => output.listen(socketPath, resolve));
    const helper = spawn(perl, ['-e', SPAWN_HELPER_SCRIPT, '--', socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    const helperExited = new Promise((resolve) => helper.once('exit', resolve));
    const running = () =>
      readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && readText(`/proc/${pid}/cmdline`).includes(marker));
    try {
      const command = { executable: '/bin/sh', args: ['-c', 'sleep 30; :', marker], env: {}, placement: { nice: 0 } };
      helper.stdin.write(launchRequest('r1', command));
      const lines = createInterface({ input: helper.stdout });
      const pid = await new Promise<number>((resolve) =>
        lines.on('line', (line) => {
          const answer = parseHelperAnswer(line);
          if (answer?.kind === 'pid') resolve(answer.pid);
        }),
      );
      // The service is killed with the pid read but not yet recorded: no go comes, the helper's stdin ends.
      helper.stdin.end();
      await waitFor(() => [undefined, 'Z'].includes(readProcStat(pid)?.state), 3000, {
        description: 'the unrecorded child to exit',
      });
      await helperExited;
      expect(running()).toEqual([]);
    } finally {
      for (const pid of running()) process.kill(-Number(pid), 'SIGKILL');
      helper.kill('SIGKILL');
      await new Promise((resolve) => output.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('survives a launch it can no longer announce (the service was killed): that server never runs', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const socketPath = join(folder, 'output.sock');
    const go = join(folder, 'go');
    const marker = `sc-unannounced-${process.pid}-late`;
    const outputs: string[] = [];
    const output = createServer((socket) => socket.on('data', (data: Buffer) => void outputs.push(data.toString())));
    await new Promise<void>((resolve) => output.listen(socketPath, resolve));
    const helper = spawn(perl, ['-e', SPAWN_HELPER_SCRIPT, '--', socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    goOnPid(helper);
    const helperExited = new Promise((resolve) => helper.once('exit', resolve));
    const left = () => Number(/left (\d+)/.exec(outputs.join(''))?.[1] ?? 0);
    const late = () =>
      readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && readText(`/proc/${pid}/cmdline`).includes(marker));
    try {
      const first = {
        executable: '/bin/sh',
        args: ['-c', 'sleep 30 & echo "left $!"; while [ ! -e "$0" ]; do sleep 0.01; done', go],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        placement: { nice: 0 },
      };
      helper.stdin.write(launchRequest('r1', first));
      await waitFor(() => left() || undefined, 3000, { description: 'the first server to start' });
      // The service is killed with a launch still on its way: nobody reads the helper's answers any more.
      helper.stdout.destroy();
      const second = { executable: '/bin/sh', args: ['-c', 'sleep 30; :', marker], env: {}, placement: { nice: 0 } };
      helper.stdin.end(launchRequest('r2', second));
      await sleep(300);
      expect(helper.exitCode).toBeNull();
      expect(late()).toEqual([]);
      // The first server exits: the helper, still its parent, kills what it left behind.
      writeFileSync(go, '');
      await waitFor(() => [undefined, 'Z'].includes(readProcStat(left())?.state) || undefined, 3000, {
        description: 'the child the first server left behind to be killed',
      });
      await helperExited;
    } finally {
      if (left() > 0 && isProcessAlive(left())) process.kill(left(), 'SIGKILL');
      for (const pid of late()) process.kill(-Number(pid), 'SIGKILL');
      helper.kill('SIGKILL');
      await new Promise((resolve) => output.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('leaves a Ctrl-C, a hang-up or a group SIGTERM to the service, and its servers still stop on SIGTERM', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const socketPath = join(folder, 'output.sock');
    const output = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => output.listen(socketPath, resolve));
    // A group of its own stands for the service's: the signal a terminal's Ctrl-C sends to all of it.
    const helper = spawn(perl, ['-e', SPAWN_HELPER_SCRIPT, '--', socketPath], {
      stdio: ['pipe', 'pipe', 'inherit'],
      detached: true,
    });
    goOnPid(helper);
    const lines: string[] = [];
    createInterface({ input: helper.stdout }).on('line', (line) => void lines.push(line));
    const answer = (kind: string) =>
      waitFor(() => lines.map((line) => parseHelperAnswer(line)).find((parsed) => parsed?.kind === kind), 3000, {
        description: `a ${kind} answer`,
      });
    let server = 0;
    try {
      helper.stdin.write(
        launchRequest('r1', { executable: '/bin/sleep', args: ['30'], env: {}, placement: { nice: 0 } }),
      );
      server = ((await answer('pid')) as { pid: number }).pid;
      // Until its exec the child is still in the helper's group: the signals are for the group it left.
      await waitFor(() => readText(`/proc/${server}/comm`) === 'sleep\n', 3000, { description: 'the server to exec' });
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.kill(-helper.pid!, signal);
      await sleep(300);
      expect(helper.exitCode).toBeNull();
      expect(helper.signalCode).toBeNull();
      process.kill(server, 'SIGTERM');
      expect(await answer('exit')).toEqual({ kind: 'exit', req: 'r1', code: null, signal: 15 });
    } finally {
      if (server > 0 && isProcessAlive(server)) process.kill(server, 'SIGKILL');
      helper.kill('SIGKILL');
      await new Promise((resolve) => output.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('a helper killed between a fork and its announcement leaves no server it did not announce', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sc-helper-'));
    const socketPath = join(folder, 'output.sock');
    const answers = join(folder, 'answers');
    const output = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => output.listen(socketPath, resolve));
    const marker = `sc-unannounced-${process.pid}`;
    // The helper's stdout is a 4 KiB pipe that is read only 3 s later: after a few pid lines it blocks in the middle of
    // a launch, with a child forked and not yet announced. It is then killed, as a helper that stopped answering is.
    const helper = spawn(
      '/bin/sh',
      [
        '-c',
        '"$0" -e "$1" -- "$0" -e "$2" -- "$3" | { sleep 3; cat > "$4"; }',
        perl,
        SHRINK_STDOUT,
        SPAWN_HELPER_SCRIPT,
        socketPath,
        answers,
      ],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    const running = () =>
      readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
          } catch {
            return false;
          }
        })
        .map(Number);
    try {
      // Long request ids make long pid lines (each written whole, being under PIPE_BUF): a few fill the pipe.
      for (let i = 0; i < 40; i++) {
        const command = { executable: '/bin/sh', args: ['-c', 'sleep 30; :', marker], env: {}, placement: { nice: 0 } };
        helper.stdin.write(launchRequest(`r${i}-${'x'.repeat(1000)}`, command));
      }
      const pids = () =>
        readdirSync('/proc')
          .filter((entry) => /^\d+$/.test(entry))
          .map(Number);
      const perlHelper = await waitFor(
        () => pids().find((pid) => statField(pid, 4) === helper.pid && readText(`/proc/${pid}/comm`) === 'perl\n'),
        5000,
        { description: 'the helper to start' },
      );
      // Blocked writing to its full stdout (syscall 1, write): in the middle of a launch.
      await waitFor(() => readText(`/proc/${perlHelper}/syscall`).startsWith('1 '), 5000, {
        description: 'the helper to block on its stdout',
      });
      const forked = pids().filter((pid) => statField(pid, 4) === perlHelper);
      process.kill(perlHelper, 'SIGKILL');
      await new Promise<void>((resolve) => helper.once('exit', () => resolve()));
      const announced = readFileSync(answers, 'utf8')
        .split('\n')
        .map((line) => parseHelperAnswer(line))
        .flatMap((answer) => (answer?.kind === 'pid' ? [answer.pid] : []));
      expect(announced.length).toBeGreaterThan(0);
      expect(announced.length).toBeLessThan(40); // it did block
      expect(forked.filter((pid) => !announced.includes(pid)).length).toBeGreaterThan(0); // forked, never announced
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Every server still running is one the service was told of.
      expect(running().filter((pid) => !announced.includes(pid))).toEqual([]);
    } finally {
      for (const pid of running()) process.kill(-pid, 'SIGKILL'); // its group: the shell and its sleep
      helper.kill('SIGKILL');
      await new Promise((resolve) => output.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reads the answers and ignores anything else', () => {
    expect(parseHelperAnswer('pid r1 42 123456')).toStrictEqual({
      kind: 'pid',
      req: 'r1',
      pid: 42,
      startTime: '123456',
    });
    // The start time could not be read: the pid alone.
    expect(parseHelperAnswer('pid r1 42 ')).toStrictEqual({ kind: 'pid', req: 'r1', pid: 42, startTime: undefined });
    expect(parseHelperAnswer('pid r1 42 x')).toStrictEqual({ kind: 'pid', req: 'r1', pid: 42, startTime: undefined });
    expect(parseHelperAnswer('exit r1 3 -')).toEqual({ kind: 'exit', req: 'r1', code: 3, signal: null });
    expect(parseHelperAnswer('exit r1 - 9')).toEqual({ kind: 'exit', req: 'r1', code: null, signal: 9 });
    expect(parseHelperAnswer('fail r1 fork: no memory')).toEqual({
      kind: 'fail',
      req: 'r1',
      message: 'fork: no memory',
    });
    expect(parseHelperAnswer('pid r1 x')).toBeUndefined();
    expect(parseHelperAnswer('hello')).toBeUndefined();
  });
});
