import type { ChildProcess } from 'child_process';
import { readFileSync, readdirSync } from 'fs';
import { waitFor, withTimeout } from './wait';

/**
 * Process state from /proc/<pid>/stat: the fields after the command name, which may itself contain
 * spaces and parentheses. Undefined when there is no such process (or no /proc).
 */
export function procStat(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}

function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

/** Whether `pid` is a live process. A zombie (exited, not yet reaped) counts as dead. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  return stat === undefined ? process.platform !== 'linux' : !isDeadState(stat.state);
}

/** Whether any live (non-zombie) process is in process group `pgid`. */
export function isProcessGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // no /proc: trust kill(0)
  }
  return entries.some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const stat = procStat(Number(entry));
    return stat !== undefined && stat.pgrp === pgid && !isDeadState(stat.state);
  });
}

/** Sends `signal` to pid (or to the process group -pid when group is true); false when there was nothing to signal. */
export function signalProcess(pid: number, signal: NodeJS.Signals, group = false): boolean {
  try {
    process.kill(group ? -pid : pid, signal);
    return true;
  } catch {
    return false;
  }
}

type CleanupTask = { label: string; run: () => unknown };

/**
 * Collects what a test started (processes, servers, sockets, temp dirs...) and undoes it all, last
 * first. Processes are killed with SIGKILL (their whole group when tracked as a group) and waited for.
 * Every task runs even if an earlier one fails; failures are thrown together at the end.
 */
export class Cleanup {
  private tasks: CleanupTask[] = [];

  /** Registers an undo step. */
  add(run: () => unknown, label = 'cleanup task'): void {
    this.tasks.push({ label, run });
  }

  /**
   * Kills `child` at cleanup if it still runs and waits for it to exit.
   * With group: true (a child spawned with detached: true) the whole process group is killed,
   * even when the child itself is gone, so no grandchild survives.
   */
  trackChild(child: ChildProcess, options: { group?: boolean; exited?: Promise<unknown> } = {}): void {
    const exited =
      options.exited ??
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
    this.add(async () => {
      const pid = child.pid;
      if (pid === undefined) return;
      if (options.group) signalProcess(pid, 'SIGKILL', true);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await withTimeout(exited, 5000, `process ${pid} to exit after SIGKILL`);
      if (options.group)
        await waitFor(() => !isProcessGroupAlive(pid), 5000, { description: `process group ${pid} to die` });
    }, `child process ${child.pid}`);
  }

  /** Kills a process we did not spawn ourselves (e.g. a grandchild) at cleanup and waits until it is dead. */
  trackPid(pid: number, options: { group?: boolean } = {}): void {
    this.add(async () => {
      signalProcess(pid, 'SIGKILL', options.group);
      const alive = options.group ? () => isProcessGroupAlive(pid) : () => isProcessAlive(pid);
      await waitFor(() => !alive(), 5000, { description: `process ${pid} to die after SIGKILL` });
    }, `pid ${pid}`);
  }

  get size(): number {
    return this.tasks.length;
  }

  /** Runs and forgets every registered step, last registered first. */
  async run(): Promise<void> {
    const tasks = this.tasks.reverse();
    this.tasks = [];
    const errors: unknown[] = [];
    for (const task of tasks) {
      try {
        await task.run();
      } catch (error) {
        errors.push(new Error(`${task.label}: ${(error as Error)?.message ?? String(error)}`));
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanup steps failed`);
  }
}

/** Where helpers register what they start when the caller passes no Cleanup; useCleanup() also runs it. */
export const defaultCleanup = new Cleanup();

/**
 * For Jest suites: a Cleanup that is run after each test (together with defaultCleanup).
 * Call it at the top of a describe block (or the file) and pass it to the helpers.
 */
export function useCleanup(): Cleanup {
  const cleanup = new Cleanup();
  afterEach(async () => {
    try {
      await cleanup.run();
    } finally {
      await defaultCleanup.run();
    }
  });
  return cleanup;
}

/** Runs fn with a fresh Cleanup and always runs the cleanup afterwards (for scripts such as benchmarks). */
export async function withCleanup<T>(fn: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup();
  try {
    return await fn(cleanup);
  } finally {
    await cleanup.run();
  }
}
