import { Injectable } from '@nestjs/common';
import { spawn } from 'child_process';
import { createInterface } from 'readline';
import { killGroup } from './process-table.adapter';

export interface LaunchCommand {
  executable: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
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
  launch(command: LaunchCommand, handlers: LaunchHandlers): LaunchedProcess {
    // detached: the child leads a new process group, so one signal to -pid reaches everything it started.
    const child = spawn(command.executable, command.args, {
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
}

/** How long to wait, after the process exited, for the rest of its output. */
const STDIO_DRAIN_MS = 500;
