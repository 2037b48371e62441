import { spawn, type ChildProcess } from 'child_process';
import { randomUUID } from 'crypto';
import { resolve } from 'path';
import { toArgv, type ScServerOptions } from '@app/sc-protocol';
import { freePort } from './ports';
import { defaultCleanup, isProcessAlive, type Cleanup } from './processes';
import { waitFor, withTimeout } from './wait';

/** The built simulator's launcher, the same executable the built service runs. Needs `npm run build` first. */
export const SIM_EXECUTABLE = resolve(__dirname, '..', '..', 'dist', 'apps', 'sc-server-sim', 'bin', 'ts3d_sc_server');

export interface SimulatorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartSimulatorOptions {
  /** Added to the environment; an undefined value removes the variable. SCSIM_* variables are never inherited. */
  env?: Record<string, string | undefined>;
  /** Start it as the leader of a new process group (pgid = pid); cleanup then kills the whole group. */
  detached?: boolean;
  cwd?: string;
  cleanup?: Cleanup;
  /** Also print its output lines on this process's stderr (or set env SIM_ECHO=1). */
  echo?: boolean;
}

export interface SimulatorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Date.now() just before spawning. */
  readonly spawnedAt: number;
  readonly args: readonly string[];
  /** Output lines so far, without newlines. */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Pids announced by the spawn-grandchild fault (`grandchild pid <n>`); cleanup kills them too. */
  readonly grandchildPids: number[];
  /** Resolves once the process has exited and its output is read; never rejects. */
  readonly exited: Promise<SimulatorExit>;
  /** How it ended, once it has. */
  readonly exit: SimulatorExit | undefined;
  /** stdout and stderr lines, joined with newlines. */
  output(): string;
  /** Resolves with the first line (so far or to come) that contains `match` (a string) or matches it (a RegExp). */
  waitForLine(match: string | RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr' | 'both'): Promise<string>;
  /** Waits for the exit, rejecting after timeoutMs. */
  waitForExit(timeoutMs?: number): Promise<SimulatorExit>;
  /** Sends a signal to the process (or to its whole group with group: true). False if it had already exited. */
  kill(signal?: NodeJS.Signals, group?: boolean): boolean;
  isAlive(): boolean;
}

/**
 * Runs the simulator executable (SIM_EXECUTABLE) as a child process, capturing its output line by line.
 * `args` is either a ready argv or options turned into one with the protocol library's toArgv().
 * The process is killed (SIGKILL) at cleanup if still running, with its group if detached, and any
 * grandchild it announced.
 */
export function startSimulator(
  args: readonly string[] | ScServerOptions,
  options: StartSimulatorOptions = {},
): SimulatorProcess {
  const argv = Array.isArray(args) ? [...(args as readonly string[])] : toArgv(args as ScServerOptions);
  const cleanup = options.cleanup ?? defaultCleanup;
  const echo = options.echo ?? process.env.SIM_ECHO === '1';
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SCSIM_')) env[key] = value;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }

  const spawnedAt = Date.now();
  const child = spawn(SIM_EXECUTABLE, argv, {
    env,
    cwd: options.cwd,
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const grandchildPids: number[] = [];
  let exit: SimulatorExit | undefined;

  const collect = (stream: NodeJS.ReadableStream, lines: string[], name: string): Promise<void> => {
    let partial = '';
    const push = (line: string): void => {
      lines.push(line);
      if (echo) process.stderr.write(`[sim ${child.pid} ${name}] ${line}\n`);
      const grandchild = /grandchild pid (\d+)/.exec(line);
      if (grandchild && name === 'stdout') {
        const pid = Number(grandchild[1]);
        grandchildPids.push(pid);
        cleanup.trackPid(pid);
      }
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) push(part);
    });
    return new Promise((done) =>
      stream.once('close', () => {
        if (partial !== '') push(partial);
        done();
      }),
    );
  };
  const outputsRead = Promise.all([collect(child.stdout, stdout, 'stdout'), collect(child.stderr, stderr, 'stderr')]);

  const exited = new Promise<SimulatorExit>((resolveExit) => {
    child.once('error', (error) => {
      stderr.push(`spawn failed: ${error.message}`);
      exit ??= { code: null, signal: null };
      resolveExit(exit);
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Output is complete when both pipes close; if something inherited them and keeps them open, stop waiting.
      let timer: NodeJS.Timeout | undefined;
      const give = new Promise<void>((done) => {
        timer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          done();
        }, 2000);
      });
      void Promise.race([outputsRead, give]).then(() => {
        clearTimeout(timer);
        resolveExit(exit!);
      });
    });
  });
  cleanup.trackChild(child, { group: options.detached, exited });

  const waitForLine = (
    match: string | RegExp,
    timeoutMs = 5000,
    stream: 'stdout' | 'stderr' | 'both' = 'both',
  ): Promise<string> => {
    const find = (): string | undefined => {
      const lines = stream === 'stdout' ? stdout : stream === 'stderr' ? stderr : [...stdout, ...stderr];
      return lines.find((line) => (typeof match === 'string' ? line.includes(match) : match.test(line)));
    };
    return waitFor(find, timeoutMs, {
      intervalMs: 5,
      description: () =>
        `simulator ${child.pid} to print ${String(match)}; output so far:\n${[...stdout, ...stderr].join('\n')}`,
    });
  };

  return {
    child,
    pid: child.pid ?? -1,
    spawnedAt,
    args: argv,
    stdout,
    stderr,
    grandchildPids,
    exited,
    get exit() {
      return exit;
    },
    output: () => [...stdout, ...stderr].join('\n'),
    waitForLine,
    waitForExit: (timeoutMs = 5000) => withTimeout(exited, timeoutMs, `simulator ${child.pid} to exit`),
    kill: (signal: NodeJS.Signals = 'SIGTERM', group = false) => {
      if (exit !== undefined || child.pid === undefined) return false;
      try {
        process.kill(group ? -child.pid : child.pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    isAlive: () => exit === undefined && child.pid !== undefined && isProcessAlive(child.pid),
  };
}

/**
 * Options for a typical simulator: a fresh UUID id, a free port, a license key, and the given
 * liveliness endpoint; override anything with `overrides`.
 */
export async function simulatorOptions(
  overrides: ScServerOptions = {},
  livelinessEndpoint?: string,
): Promise<ScServerOptions> {
  return {
    id: randomUUID(),
    scPort: overrides.scPort ?? (await freePort()),
    ...(overrides.licenseFile === undefined ? { license: 'simulated-license-key' } : {}),
    ...(livelinessEndpoint !== undefined ? { livelinessEndpoint } : {}),
    ...overrides,
  };
}
