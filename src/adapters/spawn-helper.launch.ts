import type { Socket } from 'net';
import { constants } from 'os';
import { readLines, throttleInput } from './line-reader';
import type { LaunchedProcess, LaunchHandlers, ProcessEnd } from './process-launcher.adapter';
import { isStill, readProcStat, signalServer, signalServerGroup } from './process-table.adapter';
import { type HelperAnswer, parseHelperAnswer } from './spawn-helper.protocol';

/** How long to wait, after the process exited, for the rest of its output (as ChildProcessLauncher does). */
const OUTPUT_DRAIN_MS = 500;
/** With the helper gone, how often a server that may still run is looked for. */
const ORPHAN_POLL_MS = 250;

/** One server started through the spawn helper: its pid, its two output streams, its exit. */
export class HelperLaunch {
  readonly started: Promise<LaunchedProcess>;
  private pid: number | undefined;
  private startTime: string | undefined;
  /** Given up on (no answer in time): already failed, nothing more is reported. */
  private abandoned = false;
  private exitSeen = false;
  private ended = false;
  private opened = 0;
  private readonly streams = new Set<string>();
  private closed = 0;
  private end: ProcessEnd | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private resolveStarted!: (process: LaunchedProcess) => void;
  private rejectStarted!: (error: Error) => void;

  constructor(
    private readonly handlers: LaunchHandlers,
    private readonly forget: () => void,
  ) {
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
  }

  /** Its server runs, followed by this launch (not given up on, no exit seen). */
  get running(): boolean {
    return this.pid !== undefined && !this.abandoned && !this.exitSeen;
  }

  spawned(pid: number, startTime: string | undefined): void {
    this.pid = pid;
    this.startTime = startTime;
    if (this.abandoned) return this.killLate(pid, startTime);
    this.resolveStarted({
      pid,
      startTime,
      // Until the child's setpgrp has run there is no group -pid yet: the process itself takes the signal, and it
      // has started nothing yet; so does a server that left its group. Both only while the pid is still the
      // server's: once the helper is gone, nothing tells of its exit until the next poll, and its pid may be
      // reused meanwhile.
      signalGroup: (signal) => signalServer(pid, startTime, signal, () => !this.exitSeen && signalQuietly(pid, signal)),
    });
  }

  /** Nothing was started. */
  failed(error: Error): void {
    this.forget();
    this.rejectStarted(error);
  }

  /** Failed now; kept until the helper is gone, so that a pid announced late is killed rather than left running. */
  abandon(error: Error): void {
    this.abandoned = true;
    this.rejectStarted(error);
  }

  line(stream: 'stdout' | 'stderr', line: string): void {
    if (!this.abandoned) this.handlers.onLine(stream, line);
  }

  /** One connection per stream: false for a second one. */
  outputOpened(stream: 'stdout' | 'stderr'): boolean {
    if (this.streams.has(stream)) return false;
    this.streams.add(stream);
    this.opened++;
    return true;
  }

  outputClosed(): void {
    this.closed++;
    this.finishIfDrained();
  }

  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.abandoned) return this.forget();
    if (this.exitSeen) return;
    this.exitSeen = true;
    this.handlers.onProcessGone?.();
    // Nothing the server started may outlive it: kill what is left of its group (the helper did, before it reaped
    // the server; not after the orphan poll found its pid reused). That also closes the sockets a grandchild
    // inherited, so the output ends promptly.
    if (this.pid !== undefined) signalServerGroup(this.pid, this.startTime, 'SIGKILL');
    this.end = { code, signal };
    this.drainTimer = setTimeout(() => this.finish(), OUTPUT_DRAIN_MS);
    this.finishIfDrained();
  }

  /** The helper is gone: a launch without a pid failed; a running server is polled until it is gone. */
  orphaned(): void {
    if (this.abandoned) return this.forget();
    if (this.pid === undefined) return this.failed(new Error('spawn helper exited before the server started'));
    const poll = setInterval(() => {
      if (this.exitSeen || !stillRuns(this.pid!, this.startTime)) {
        clearInterval(poll);
        this.exited(null, null);
      }
    }, ORPHAN_POLL_MS);
  }

  /** The server of a launch already failed: nobody follows it, so it must not run. Its start time guards the pid. */
  private killLate(pid: number, startTime: string | undefined): void {
    if (!isStill(pid, startTime)) return; // the pid is another process's now
    if (!signalServerGroup(pid, startTime, 'SIGKILL')) signalQuietly(pid, 'SIGKILL');
  }

  private finishIfDrained(): void {
    if (this.exitSeen && this.opened === 2 && this.closed === 2) this.finish();
  }

  private finish(): void {
    if (this.ended || !this.end) return;
    this.ended = true;
    clearTimeout(this.drainTimer);
    this.forget();
    this.handlers.onExit(this.end);
  }
}

/**
 * Whether the process started as `pid` still runs, read from /proc rather than by kill(pid, 0): with the helper
 * gone, the server's parent is init or a subreaper, and until that reaps it an exited server is a zombie, which
 * kill(pid, 0) still finds (for ever, where nothing reaps: a service running as PID 1 without an init); and a pid
 * freed and reused is another's.
 */
function stillRuns(pid: number, startTime: string | undefined): boolean {
  const stat = readProcStat(pid);
  // No entry in /proc: gone, unless /proc cannot be read here at all; then the kernel is asked.
  if (!stat) return signalQuietly(pid, 0);
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

function signalQuietly(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** One line of the helper's stdout, for the launch it names. */
export function answerLaunch(
  launches: Map<string, HelperLaunch>,
  line: string,
  onOrphansKilled: (count: number) => void = () => undefined,
): void {
  const answer: HelperAnswer | undefined = parseHelperAnswer(line);
  if (answer?.kind === 'orphans') return onOrphansKilled(answer.killed);
  const launch = answer && launches.get(answer.req);
  if (!answer || !launch) return;
  if (answer.kind === 'pid') launch.spawned(answer.pid, answer.startTime);
  else if (answer.kind === 'fail') launch.failed(new Error(`spawn helper: ${answer.message}`));
  else launch.exited(answer.code, answer.signal === null ? null : signalName(answer.signal));
}

/** A server's stdout or stderr: its first line names the launch and the stream. */
export function acceptLaunchOutput(launches: Map<string, HelperLaunch>, socket: Socket): void {
  socket.on('error', () => undefined);
  throttleInput(socket);
  let launch: HelperLaunch | undefined;
  let stream: 'stdout' | 'stderr' | undefined;
  readLines(socket, (line) => {
    if (launch && stream) return launch.line(stream, line);
    if (socket.destroyed) return;
    const [req, name] = line.split(' ');
    const candidate = launches.get(req);
    if (!candidate || (name !== 'stdout' && name !== 'stderr') || !candidate.outputOpened(name))
      return socket.destroy();
    launch = candidate;
    stream = name;
  });
  socket.once('close', () => launch?.outputClosed());
}

function signalName(number: number): NodeJS.Signals | null {
  const entry = Object.entries(constants.signals).find(([, value]) => value === number);
  return (entry?.[0] as NodeJS.Signals | undefined) ?? null;
}
