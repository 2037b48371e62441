import { Injectable } from '@nestjs/common';
import { spawn } from 'child_process';
import { createInterface } from 'readline';
import { FileSystem } from './file-system.adapter';
import { killGroup } from './process-table.adapter';

export interface LaunchCommand {
  executable: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Niceness to run at (1-19, lower CPU priority than the service), inherited by everything it starts; 0: unchanged. */
  nice: number;
}

/** Where coreutils' nice is looked for. */
export const NICE_CANDIDATES = ['/usr/bin/nice', '/bin/nice'];

/** The nice executable of this machine, if any. */
export function findNice(files: FileSystem): string | undefined {
  return NICE_CANDIDATES.find((candidate) => files.isExecutableFile(candidate));
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
  /** Signals the process's whole group; false when nothing in the group is left. */
  signalGroup(signal: NodeJS.Signals): boolean;
}

/** Starts Stream Cache Server processes. Behind an interface so supervision logic is tested with fakes. */
export abstract class ProcessLauncher {
  abstract launch(command: LaunchCommand, handlers: LaunchHandlers): LaunchedProcess;
}

@Injectable()
export class ChildProcessLauncher extends ProcessLauncher {
  private niceExecutable?: string;

  constructor(private readonly files: FileSystem) {
    super();
  }

  launch(command: LaunchCommand, handlers: LaunchHandlers): LaunchedProcess {
    // Checked first, so a server missing or not executable reads the same whether or not it runs under nice
    // (which would exit 126/127 instead); thrown, so the caller ends the spawn as one that could not start.
    const problem = this.files.executableProblem(command.executable);
    if (problem) {
      const code = problem === 'does not exist' ? 'ENOENT' : 'EACCES';
      throw Object.assign(new Error(`spawn ${command.executable} ${code}: ${problem}`), { code });
    }
    const [file, args] = this.withNice(command);
    // detached: the child leads a new process group, so one signal to -pid reaches everything it started.
    const child = spawn(file, args, {
      env: command.env,
      cwd: command.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => handlers.onLine(stream, line));
    }
    let ended = false;
    const end = (result: ProcessEnd) => {
      if (ended) return;
      ended = true;
      handlers.onExit(result);
    };
    child.once('exit', (code, signal) => {
      handlers.onProcessGone?.();
      // Nothing the server started may outlive it: kill what is left of its group. That also closes the
      // pipes a grandchild inherited, so 'close' (all output read) follows promptly.
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
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
    const pid = child.pid;
    return {
      pid,
      signalGroup: (signal) => pid !== undefined && killGroup(pid, signal),
    };
  }

  /**
   * Runs the server through `nice -n N`: nice lowers its own priority, then execs the server in place (same pid,
   * same process group), so the server starts at the lower priority and every thread and process it creates
   * inherits it. Renicing after spawn() (os.setPriority) would race the server's start-up: on Linux the nice
   * value is per thread, and threads or children created before the call would keep the service's priority.
   */
  private withNice(command: LaunchCommand): [string, string[]] {
    if (command.nice <= 0) return [command.executable, command.args];
    this.niceExecutable ??= findNice(this.files);
    // Start-up refuses SC_NICE > 0 without nice (see loadAppConfig); should it vanish later, run at normal priority.
    if (!this.niceExecutable) return [command.executable, command.args];
    return [this.niceExecutable, ['-n', String(command.nice), '--', command.executable, ...command.args]];
  }
}

/** How long to wait, after the process exited, for the rest of its output. */
const STDIO_DRAIN_MS = 500;
