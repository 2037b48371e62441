import { Injectable } from '@nestjs/common';
import { spawn } from 'child_process';
import { writeFileSync } from 'fs';
import { FileSystem } from './file-system.adapter';
import { readLines, throttleInput } from './line-reader';
import { readProcStat, signalServer, signalServerGroup } from './process-table.adapter';

export interface LaunchCommand {
  executable: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** How the server ranks below the service (see CpuPriority), inherited by everything it starts. */
  placement: ServerPlacement;
}

/** Where a server runs, for the CPU: applied by the wrapper before it execs the server, so nothing races its start. */
export interface ServerPlacement {
  /** Niceness to run at (1-19, lower CPU priority than the service); 0: unchanged. */
  nice: number;
  /** The server leads a session of its own, whose autogroup gets this nice; undefined: a process group, same session. */
  autogroupNice?: number;
  /** The cgroup.procs file the server writes its pid to (joins that cgroup) before it execs. */
  cgroupProcs?: string;
  /** perl, which runs the wrapper; undefined: the server leads a session of its own (setsid) under coreutils' nice. */
  wrapper?: string;
  /** The cgroup.procs file the spawn helper itself joins (it forks the servers): its work ranks with theirs. */
  helperCgroupProcs?: string;
}

/**
 * Every server's /proc/<pid>/oom_score_adj (inherited by what it starts): the kernel's OOM killer takes the largest
 * process, and a server that spread its memory over children each smaller than the service had it kill the service
 * (every session) and leave the server running. At 1000 a server goes first; raising it needs no privilege.
 */
export const SERVER_OOM_SCORE_ADJ = 1000;

/** Where coreutils' nice is looked for. */
export const NICE_CANDIDATES = ['/usr/bin/nice', '/bin/nice'];
/** Where perl (Debian's essential perl-base) is looked for. */
export const PERL_CANDIDATES = ['/usr/bin/perl', '/bin/perl'];

/**
 * The wrapper: a new process group (Node has no setpgid; detached would be setsid, a new session and so a new
 * autogroup, where nice ranks nothing) or, for the autogroup mechanism, a new session with its autogroup niced;
 * then the cgroup, the nice, and exec of the server in place (same pid, so the group kill reaches it).
 * Arguments: cgroup.procs file or '', autogroup nice or '', nice, then the command.
 */
export const WRAPPER_SCRIPT = [
  'my ($procs, $group_nice, $nice) = splice(@ARGV, 0, 3); my $f;',
  'if ($group_nice ne "") {',
  '  require POSIX; POSIX::setsid() or die "sc-spawner wrapper: setsid: $!\\n";',
  '  open($f, ">", "/proc/self/autogroup") && print($f $group_nice) && close($f)',
  '    or warn "sc-spawner wrapper: autogroup nice $group_nice not set: $!\\n";',
  '} else { setpgrp(0, 0) or die "sc-spawner wrapper: setpgrp: $!\\n"; }',
  'if ($procs ne "") {',
  '  open($f, ">", $procs) && print($f $$) && close($f) or die "sc-spawner wrapper: cannot join $procs: $!\\n";',
  '}',
  'if ($nice > 0) { setpriority(0, 0, $nice) or die "sc-spawner wrapper: setpriority $nice: $!\\n"; }',
  `open($f, ">", "/proc/self/oom_score_adj") && print($f ${SERVER_OOM_SCORE_ADJ}) && close($f)`,
  '  or warn "sc-spawner wrapper: oom_score_adj not set: $!\\n";',
  'exec { $ARGV[0] } @ARGV or die "sc-spawner wrapper: cannot start $ARGV[0]: $!\\n";',
].join('\n');

/** The program to start, its arguments, and whether Node makes it a session leader (only without the wrapper). */
export function startCommand(
  command: Pick<LaunchCommand, 'executable' | 'args' | 'placement'>,
  niceExecutable: string | undefined,
): { file: string; args: string[]; detached: boolean } {
  const { placement, executable, args } = command;
  if (placement.wrapper) {
    const options = [placement.cgroupProcs ?? '', placement.autogroupNice?.toString() ?? '', String(placement.nice)];
    return {
      file: placement.wrapper,
      args: ['-e', WRAPPER_SCRIPT, '--', ...options, executable, ...args],
      detached: false,
    };
  }
  if (placement.nice <= 0 || !niceExecutable) return { file: executable, args, detached: true };
  return { file: niceExecutable, args: ['-n', String(placement.nice), '--', executable, ...args], detached: true };
}

/** The nice executable of this machine, if any. */
export function findNice(files: FileSystem): string | undefined {
  return NICE_CANDIDATES.find((candidate) => files.isExecutableFile(candidate));
}

/** The perl executable of this machine, if any. */
export function findPerl(files: FileSystem): string | undefined {
  return PERL_CANDIDATES.find((candidate) => files.isExecutableFile(candidate));
}

export interface ProcessEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES...). */
  error?: Error;
}

export interface LaunchHandlers {
  onLine(stream: 'stdout' | 'stderr', line: string): void;
  /** The process is gone; its last output may still be on the way (onExit follows once it is read). */
  onProcessGone?(): void;
  /** The process is gone and its output read (or given up on). */
  onExit(end: ProcessEnd): void;
}

export interface LaunchedProcess {
  readonly pid: number | undefined;
  /**
   * Its start time (field 22 of /proc/<pid>/stat), read before its exit could be reaped, so the pid was still its
   * own: with the pid, the process's identity. Undefined when it could not be read.
   */
  readonly startTime: string | undefined;
  /** Signals the process's whole group; false when nothing in the group is left. */
  signalGroup(signal: NodeJS.Signals): boolean;
}

/** Starts Stream Cache Server processes. Behind an interface so supervision logic is tested with fakes. */
export abstract class ProcessLauncher {
  abstract launch(command: LaunchCommand, handlers: LaunchHandlers): LaunchedProcess | Promise<LaunchedProcess>;
}

@Injectable()
export class ChildProcessLauncher extends ProcessLauncher {
  private niceExecutable?: string;

  constructor(private readonly files: FileSystem) {
    super();
  }

  /**
   * Checked first, so a server missing or not executable reads the same whether or not it runs under nice or the
   * wrapper (which would exit 126/127 instead); thrown, so the caller ends the spawn as one that could not start.
   */
  checkExecutable(executable: string): void {
    const problem = this.files.executableProblem(executable);
    if (problem) {
      const code = problem === 'does not exist' ? 'ENOENT' : 'EACCES';
      throw Object.assign(new Error(`spawn ${executable} ${code}: ${problem}`), { code });
    }
  }

  launch(command: LaunchCommand, handlers: LaunchHandlers): LaunchedProcess {
    this.checkExecutable(command.executable);
    this.niceExecutable ??= findNice(this.files);
    // The child leads a new process group (the wrapper's setpgrp, or detached: setsid), so one signal to -pid
    // reaches everything it started.
    const { file, args, detached } = startCommand(command, this.niceExecutable);
    const child = spawn(file, args, {
      env: command.env,
      cwd: command.cwd,
      detached,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      throttleInput(source);
      readLines(source, (line) => handlers.onLine(stream, line));
    }
    let ended = false;
    const end = (result: ProcessEnd) => {
      if (ended) return;
      ended = true;
      handlers.onExit(result);
    };
    const pid = child.pid;
    // Without the wrapper, set from here: what the server forks before this write keeps the service's score.
    if (pid !== undefined && !command.placement.wrapper) raiseOomScore(pid);
    // Read now: Node reaps a child on a later turn of the event loop, so the pid is still this child's.
    const startTime = pid === undefined ? undefined : readProcStat(pid)?.startTime;
    child.once('exit', (code, signal) => {
      handlers.onProcessGone?.();
      // Nothing the server started may outlive it: kill what is left of its group (unless its pid, reaped now,
      // names another process already). That also closes the pipes a grandchild inherited, so 'close' (all
      // output read) follows promptly.
      if (pid !== undefined) signalServerGroup(pid, startTime, 'SIGKILL');
      const timer = setTimeout(() => end({ code, signal }), STDIO_DRAIN_MS);
      child.once('close', () => {
        clearTimeout(timer);
        end({ code, signal });
      });
    });
    child.once('error', (error) => {
      // 'error' without a pid means spawn() itself failed and no 'exit' will follow.
      if (child.pid === undefined) end({ code: null, signal: null, error });
    });
    return {
      pid,
      startTime,
      // Until the wrapper's setpgrp has run there is no group -pid yet: the process itself (ours until its exit
      // is reported, so the pid cannot have been reused) takes the signal, and it has started nothing yet.
      signalGroup: (signal) =>
        pid !== undefined &&
        signalServer(
          pid,
          startTime,
          signal,
          () => child.exitCode === null && child.signalCode === null && child.kill(signal),
        ),
    };
  }
}

/** Best effort: a server that has already exited has no file left to write. */
function raiseOomScore(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(SERVER_OOM_SCORE_ADJ));
  } catch {
    // gone already, or /proc not writable (a sandbox): the server keeps the service's score
  }
}

/** How long to wait, after the process exited, for the rest of its output. */
const STDIO_DRAIN_MS = 500;
