import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AsyncResource } from 'async_hooks';
import { type ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { createServer, type Server } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { createInterface } from 'readline';
import { FileSystem } from './file-system.adapter';
import { makeOwnFolder, type OwnFolder, removeOwnFolder, removeStaleFolders } from './own-folder';
import {
  ChildProcessLauncher,
  type LaunchCommand,
  type LaunchedProcess,
  type LaunchHandlers,
  ProcessLauncher,
  type ServerPlacement,
} from './process-launcher.adapter';
import { HELPER_FOLDER_PREFIX, HELPER_SOCKET } from './spawn-helper.folder';
import { chooseHelperFolder, placeHelper } from './spawn-helper.placement';
import { launchRequest, PRCTL_SYSCALL, SPAWN_HELPER_SCRIPT } from './spawn-helper.protocol';
import { acceptLaunchOutput, answerLaunch, HelperLaunch } from './spawn-helper.launch';

/**
 * How long the helper gets to answer a launch with the pid it forked (a fork takes milliseconds). A helper that
 * does not is hung (stopped, starved): without this bound the spawn would keep its slot and port for ever.
 */
export const HELPER_ANSWER_TIMEOUT_MS = 10_000;
/**
 * How long after a helper that could not be started (out of file descriptors, its socket not bound) the next launch
 * tries again; until then servers start by spawn(), without the helper's kill of what they leave behind.
 */
export const HELPER_RETRY_MS = 10_000;

interface Helper {
  child: ChildProcess;
  server: Server;
  folder: OwnFolder;
  /** Its launches by request id, until their servers have exited (or the helper is gone). */
  launches: Map<string, HelperLaunch>;
}

/**
 * Starts servers through the spawn helper (see spawn-helper.protocol.ts) when their placement uses the wrapper
 * (perl); otherwise, or when the helper cannot be started, the way ChildProcessLauncher does.
 */
@Injectable()
export class SpawnHelperLauncher extends ProcessLauncher implements OnApplicationShutdown {
  private readonly logger = new Logger('SpawnHelper');
  private readonly direct: ChildProcessLauncher;
  private helper: Promise<Helper | undefined> | undefined;
  /** When a start failed for a passing cause (performance.now()): the launch retryMs later tries again. */
  private failedAt: number | undefined;
  private current: Helper | undefined;
  /** Every helper not yet closed: the current one and any replaced one still ending. */
  private readonly helpers = new Set<Helper>();
  /**
   * The context the helper starts in: the service's, not the request whose launch happens to start it. Its answers
   * (every server's exit, killed leftovers) would otherwise all be logged with that first request's id.
   * Servers started without it get the same.
   */
  private readonly serviceScope = new AsyncResource('SpawnHelper');

  constructor(
    files: FileSystem,
    private readonly answerTimeoutMs = HELPER_ANSWER_TIMEOUT_MS,
    /** Where the socket folders go (and stale ones are looked for), where no other user may swap them. */
    private readonly tempFolder = tmpdir(),
    /** Where they go otherwise: the state folder (SC_STATE_DIR), checked at start-up. */
    private readonly stateFolder?: string,
    private readonly retryMs = HELPER_RETRY_MS,
  ) {
    super();
    this.direct = new ChildProcessLauncher(files);
  }

  async launch(command: LaunchCommand, handlers: LaunchHandlers): Promise<LaunchedProcess> {
    const perl = command.placement.wrapper;
    if (!perl) return this.launchDirectly(command, handlers);
    this.direct.checkExecutable(command.executable);
    // Once the helper runs, the request is written before this returns: the fork starts while the caller goes on.
    const helper = this.current ?? (await this.startedHelper(perl, command.placement));
    if (!helper?.child.stdin?.writable) return this.launchDirectly(command, handlers);
    // Unguessable: a server (same user) could otherwise claim the output streams of the next one to start.
    const req = randomBytes(12).toString('hex');
    const request = launchRequest(req, command);
    const launch = new HelperLaunch(handlers, () => helper.launches.delete(req));
    helper.launches.set(req, launch);
    helper.child.stdin.write(request);
    let settled = false;
    // Timers run before pending I/O: after a stalled event loop, an answer already in the pipe is read first.
    const timer = setTimeout(
      () => setImmediate(() => settled || this.unanswered(helper, launch)),
      this.answerTimeoutMs,
    );
    const answered = () => {
      settled = true;
      clearTimeout(timer);
    };
    // The server execs on this go: a turn later, the caller has recorded its pid in the journal (written before
    // the event loop turns), so a service killed in between leaves no server its next start cannot reap.
    const go = () => setImmediate(() => helper.child.stdin?.writable && helper.child.stdin.write(`go ${req}\n`));
    launch.started.then(go, () => undefined);
    launch.started.then(answered, answered);
    return launch.started;
  }

  /** The helper, started by the first launch (and by the first after a failed start, once retryMs have passed). */
  private startedHelper(perl: string, placement: ServerPlacement): Promise<Helper | undefined> {
    const retry = this.failedAt !== undefined && performance.now() - this.failedAt >= this.retryMs;
    if (this.helper === undefined || retry) {
      this.failedAt = undefined;
      this.helper = this.serviceScope.runInAsyncScope(() => this.start(perl, placement));
    }
    return this.helper;
  }

  /** spawn(), its output and exit heard in the service's context as the helper's are. */
  private launchDirectly(command: LaunchCommand, handlers: LaunchHandlers): LaunchedProcess {
    return this.serviceScope.runInAsyncScope(() => this.direct.launch(command, handlers));
  }

  /** After the supervisor stopped every server (beforeApplicationShutdown): the helper ends with its stdin. */
  async onApplicationShutdown(): Promise<void> {
    await this.helper;
    // A replaced helper (killed) whose 'close' has not come yet is waited for too.
    await Promise.all([...this.helpers].map((helper) => this.end(helper)));
  }

  private async end(helper: Helper): Promise<void> {
    const { child } = helper;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
    this.closeHelper(helper);
  }

  private async start(perl: string, placement: ServerPlacement): Promise<Helper | undefined> {
    let folder: OwnFolder | undefined;
    let server: Server | undefined;
    let parent: string | undefined;
    try {
      parent = chooseHelperFolder(this.tempFolder, this.stateFolder, (note) => this.logger.warn(note));
      // Not waited for: in the shared temp folder, another user may have filled it with entries to go through.
      void removeStaleFolders(parent, HELPER_FOLDER_PREFIX, HELPER_SOCKET);
      // mkdtemp makes the folder 0700: only this user can reach the socket, so no one else can feed a server's log.
      folder = makeOwnFolder(parent, HELPER_FOLDER_PREFIX);
      const socketPath = join(folder.path, HELPER_SOCKET);
      const launches = new Map<string, HelperLaunch>();
      const listener = (server = createServer((socket) => acceptLaunchOutput(launches, socket)));
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(socketPath, () => resolve());
      });
      // A cgroup of its own per server finds what a server left wherever it went (CpuPriority); without one, the
      // helper adopts it as the servers' subreaper.
      const subreaper = placement.cgroupProcs ? '' : String(PRCTL_SYSCALL[process.arch] ?? '');
      const made: { helper?: Helper } = {};
      let gone = false;
      const end = (code: number | null, signal: NodeJS.Signals | null) => {
        if (gone) return;
        gone = true;
        if (made.helper) this.helperGone(made.helper, code, signal);
      };
      const child = spawn(perl, ['-e', SPAWN_HELPER_SCRIPT, '--', socketPath, subreaper], {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: {},
      });
      // At once: out of file descriptors (EMFILE), spawn() gives a child without stdio whose 'error' comes next tick,
      // and one thrown on the way here left it to crash the service.
      child.once('error', (error) => {
        this.logger.warn(`spawn helper: ${error.message}`);
        end(null, null);
      });
      if (!child.stdin || !child.stdout) throw new Error('it has no pipes (out of file descriptors?)');
      child.stdin.on('error', () => undefined);
      if (child.pid !== undefined) {
        const problem = placeHelper(child.pid, placement);
        if (problem) this.logger.warn(`spawn helper left in the service's CPU group: ${problem}`);
      }
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) =>
        answerLaunch(launches, line, (count) =>
          this.logger.warn(`spawn helper: killed ${count} process(es) left outside their servers' process groups`),
        ),
      );
      const helper = (made.helper = { child, server: listener, folder, launches });
      this.current = helper;
      this.helpers.add(helper);
      // 'close', not 'exit': its last answers are read first.
      child.once('close', end);
      return helper;
    } catch (error) {
      server?.close();
      try {
        if (folder) this.removeFolder(folder);
      } catch (removal) {
        // Out of file descriptors too: the next helper's start removes it (removeStaleFolders).
        this.logger.warn(`spawn helper's folder ${folder?.path} not removed: ${(removal as Error).message}`);
      }
      // No folder it may use is for good (the start-up log said so); anything later (EMFILE...) may pass.
      const passing = parent !== undefined;
      if (passing) this.failedAt = performance.now();
      const until = passing ? `, tried again in ${this.retryMs / 1000} s` : '';
      this.logger.warn(
        `spawn helper not started (${(error as Error).message}); servers start by spawn() instead${until}`,
      );
      return undefined;
    }
  }

  /** Only the folder it made: one put in its place meanwhile is someone else's, and left as it is. */
  private removeFolder(folder: OwnFolder): void {
    if (!removeOwnFolder(folder)) this.logger.warn(`spawn helper's folder ${folder.path} is not the one it made: left`);
  }

  /**
   * The helper did not answer a launch in time (stopped, starved): that launch fails now, and the helper is killed
   * and replaced at once. Its answers are still read until it is gone (helperGone): a pid that comes late is
   * killed. A child it forked but never announced does not exec (see spawn-helper.protocol.ts).
   */
  private unanswered(helper: Helper, launch: HelperLaunch): void {
    const seconds = this.answerTimeoutMs / 1000;
    this.logger.error(`spawn helper ${helper.child.pid} did not answer a launch within ${seconds} s: replacing it`);
    launch.abandon(new Error(`spawn helper did not answer within ${seconds} s`));
    if (this.current === helper) {
      this.current = undefined;
      this.helper = undefined;
    }
    helper.child.kill('SIGKILL');
  }

  /** The helper died (killed by someone): its servers can no longer be followed by their exits, so poll them. */
  private helperGone(helper: Helper, code: number | null, signal: NodeJS.Signals | null): void {
    this.closeHelper(helper);
    const launches = [...helper.launches.values()];
    const running = launches.filter((launch) => launch.running).length;
    if (running > 0)
      this.logger.error(`spawn helper exited (${signal ?? code}); following ${running} server(s) by polling`);
    for (const launch of launches) launch.orphaned();
  }

  private closeHelper(helper: Helper): void {
    this.helpers.delete(helper);
    if (this.current === helper) {
      this.current = undefined;
      this.helper = undefined;
    }
    helper.server.close();
    this.removeFolder(helper.folder);
  }
}
