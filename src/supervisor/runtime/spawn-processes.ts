import { Inject, Injectable, Logger } from '@nestjs/common';
import { describeExit } from '@app/sc-protocol';
import { Clock, ProcessEnd, ProcessLauncher } from '../../adapters';
import { CAPACITY_SETTINGS, type CapacitySettings, TIMING_SETTINGS, type TimingSettings } from '../../config';
import { CpuPriority } from '../../cpu-priority';
import { PortAllocator, portShortage } from '../../ports';
import { disconnectEndReason, exitLogLine } from '../rules/spawn-exit';
import { redactArgs, type ServerCommand } from '../rules/sc-command';
import { ServerCommands } from './server-commands';
import { SecretRedactor } from './secret-redactor';
import { JournalKeeper } from './journal-keeper';
import { SpawnEvents } from './spawn-events';
import { SpawnLifecycle } from './spawn-lifecycle';
import { SpawnRecord, type SpawnOrigin, type SpawnSpec } from '../rules/spawn-record';
import { NoCapacityError } from '../rules/supervisor.errors';
import { SpawnRegistry } from './spawn-registry';
import type { SpawnRequest } from '../rules/spawn-record';

/** After SIGKILL at shutdown, how long to wait for the kernel to report the exits. */
const SHUTDOWN_KILL_WAIT_MS = 2000;
/**
 * How long the server of a connected viewer hears SIGTERM after the relay is told to close that viewer with its
 * reason (4002 "lifetime reached"...). The close goes to the relay process over IPC while the signal goes straight to
 * the server, whose own close (1001 "server shutting down") could reach the relay first and the viewer with it.
 */
export const VIEWER_CLOSE_LEAD_MS = 50;

/** The processes behind the spawns: starts them, signals their groups, follows their output and exits. */
@Injectable()
export class SpawnProcesses {
  private readonly logger = new Logger('Supervisor');
  private readonly exitListeners = new Set<() => void>();

  constructor(
    @Inject(CAPACITY_SETTINGS.token) private readonly capacity: CapacitySettings,
    @Inject(TIMING_SETTINGS.token) private readonly timing: TimingSettings,
    private readonly registry: SpawnRegistry,
    private readonly lifecycle: SpawnLifecycle,
    private readonly ports: PortAllocator,
    private readonly launcher: ProcessLauncher,
    private readonly clock: Clock,
    private readonly commands: ServerCommands,
    private readonly redactor: SecretRedactor,
    private readonly journal: JournalKeeper,
    private readonly events: SpawnEvents,
    private readonly priority: CpuPriority,
  ) {}

  /**
   * Leases a port and starts the server; the spawn is registered (taking the slot its caller reserved) whatever
   * happens once the port is leased. The port is released here too, when the process has exited: this class is
   * the port's one owner.
   */
  async start(request: SpawnRequest & { id: string; origin: SpawnOrigin }): Promise<SpawnRecord> {
    const wsPort = await this.ports.lease();
    if (wsPort === null) {
      const { portBase, portCount } = this.capacity;
      throw new NoCapacityError('ports', portShortage(this.ports.counts(), portBase, portCount));
    }
    if (this.registry.takesNoNewSpawns) {
      this.ports.release(wsPort);
      throw this.registry.shuttingDown ? NoCapacityError.shuttingDown() : NoCapacityError.draining();
    }
    // Chosen just before the spawn is registered, with no await in between: concurrent launches see each other's choice.
    const spec: SpawnSpec = { ...request, wsPort, gpuIndex: this.commands.gpuFor(request.rendererType) };
    let command: ServerCommand;
    try {
      command = this.commands.commandFor(spec);
    } catch (error) {
      // Nothing was registered yet: give the port back, or it would stay leased for ever.
      this.ports.release(spec.wsPort);
      throw error;
    }
    const record = new SpawnRecord(spec, this.clock.now());
    const entry = this.registry.addLive(record, { fromReservedSlot: true });
    // Launched first, logged and announced while the spawn helper forks it: neither is on the way to ready.
    const launching = settled(() =>
      this.launcher.launch(command, {
        onLine: (stream, line) => this.captureLine(record, stream, line),
        onProcessGone: () => (record.processGoneAt = this.clock.now()),
        onExit: (end) => this.handleExit(spec.id, end),
      }),
    );
    this.logger.log({
      spawnId: spec.id,
      port: spec.wsPort,
      renderer: spec.rendererType,
      msg: `spawn ${spec.id} starting on port ${spec.wsPort}: ${command.executable} ${redactArgs(command.args).join(' ')}`,
    });
    this.lifecycle.announce(record);
    let settle!: () => void;
    entry.launching = new Promise<void>((resolve) => (settle = resolve));
    try {
      entry.process = await launching;
    } catch (error) {
      // spawn() can throw synchronously (E2BIG, EPERM...): end the spawn as if it had failed to start, freeing its slot and port.
      this.handleExit(spec.id, {
        code: null,
        signal: null,
        error: error instanceof Error ? error : new Error(String(error)),
      });
      return record;
    } finally {
      entry.launching = undefined;
      // Resolved now, its waiters run after this turn: the pid and start time below are set by then.
      settle();
    }
    record.pid = entry.process.pid;
    // Its identity: a liveliness report is believed only while this pid is still this process (ConnectionOwner).
    record.pidStartTime = entry.process.startTime;
    this.journal.launched(record, command.args);
    // Stopped (or killed) while its process was being started: the signal it missed.
    if (record.sigkillSentAt !== undefined) entry.process.signalGroup('SIGKILL');
    else if (record.state === 'terminating') entry.process.signalGroup('SIGTERM');
    return record;
  }

  /** A server just failed to bind `port`: true (and the port kept out of rotation) when another program holds it. */
  portTakenByAnother(port: number): Promise<boolean> {
    return this.ports.confirmBusy(port);
  }

  /** SIGTERM to the spawn's process group now; SIGKILL follows from the sweep after KILL_GRACE_S. Idempotent. */
  stop(id: string, reason: string): void {
    const entry = this.registry.liveEntry(id);
    if (!entry || entry.record.state === 'terminating') return;
    const viewing = entry.record.state === 'connected';
    entry.record.endReason ??= reason;
    entry.record.stopRequestedAt = this.clock.now();
    this.lifecycle.transition(entry, 'terminating', reason);
    // Before SIGTERM, so the viewer reads why from the relay rather than from the server going away.
    const close = entry.record.viewerClose;
    if (close) this.events.closeViewer({ id, ...close });
    if (!close || !viewing) return void entry.process?.signalGroup('SIGTERM');
    // The sweep's SIGKILL counts from stopRequestedAt, so the grace loses these milliseconds, not more.
    setTimeout(() => entry.process?.signalGroup('SIGTERM'), VIEWER_CLOSE_LEAD_MS).unref();
  }

  /** SIGKILL to the spawn's process group (it did not exit within the grace of SIGTERM, or the shutdown cannot wait). */
  kill(id: string, at: number = this.clock.now()): void {
    const entry = this.registry.liveEntry(id);
    if (!entry) return;
    entry.record.sigkillSentAt = at;
    entry.process?.signalGroup('SIGKILL');
  }

  /** Stops every child group (or those `which` selects), SIGKILLs what is left after the grace, and waits for the exits. */
  async stopAll(reason: string, which: (record: SpawnRecord) => boolean = () => true): Promise<void> {
    const selected = () => this.registry.liveEntries().filter((entry) => which(entry.record));
    if (selected().length === 0) return;
    this.logger.log(`shutting down: stopping ${selected().length} spawn(s)`);
    for (const { record } of selected()) this.stop(record.id, reason);
    const none = () => selected().length === 0;
    if (await this.waitUntil(none, this.timing.killGraceS * 1000)) return;
    for (const entry of selected()) {
      this.logger.warn({
        spawnId: entry.record.id,
        msg: `spawn ${entry.record.id} still running after ${this.timing.killGraceS} s; sending SIGKILL`,
      });
      this.kill(entry.record.id);
    }
    if (!(await this.waitUntil(none, SHUTDOWN_KILL_WAIT_MS))) {
      const ids = selected().map((e) => e.record.id);
      this.logger.error(`${ids.length} spawn(s) did not exit after SIGKILL: ${ids.join(', ')}`);
    }
  }

  /** Resolves true once the spawn's process has exited (its slot and port are free), false after timeoutMs. */
  waitForExit(id: string, timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.registry.liveEntry(id) === undefined, timeoutMs);
  }

  /** Resolves true as soon as `done()` holds after some exit (or at once), false after timeoutMs. */
  private waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.exitListeners.delete(check);
        resolve(result);
      };
      const check = () => {
        if (done()) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.exitListeners.add(check);
    });
  }

  private handleExit(id: string, end: ProcessEnd): void {
    const entry = this.registry.liveEntry(id);
    if (!entry) return;
    const record = entry.record;
    record.endedAt = this.clock.now();
    record.exitCode = end.code;
    record.signal = end.signal;
    const how = end.error ? `could not be started: ${end.error.message}` : describeExit(end.code, end.signal);
    this.logExit(record, end, how);
    if (record.state === 'starting') {
      // The reason reaches anonymous callers (the 502): the exit code and its meaning only; its output stays in the logs route.
      record.endReason = `the server exited before it was ready: ${how}; its output: GET /spawns/${record.id}/logs`;
      this.lifecycle.transition(entry, 'failed', record.endReason);
    } else {
      record.endReason ??=
        record.state === 'disconnected' ? disconnectEndReason(record, end) : `the server exited unexpectedly: ${how}`;
      this.lifecycle.transition(entry, 'exited', how);
    }
    this.registry.moveToEnded(id);
    this.priority.released(id);
    this.journal.exited(id);
    this.ports.release(record.spec.wsPort);
    for (const listener of [...this.exitListeners]) listener();
  }

  /** One line per exit: info when it ended as expected (code 0, or the signal it was stopped with), else warn. */
  private logExit(record: SpawnRecord, end: ProcessEnd, how: string): void {
    const fields = { spawnId: record.id, exitCode: end.code, signal: end.signal, state: record.state };
    if (end.error) {
      this.logger.error({ ...fields, msg: `spawn ${record.id} ${how}` });
      return;
    }
    const line = { ...fields, ...exitLogLine(record.id, end) };
    if (record.stopRequestedAt !== undefined || end.code === 0) this.logger.log(line);
    else this.logger.warn(line);
  }

  /** Read right after the fork: the start time is the child's from then on, whatever it execs. */
  private captureLine(record: SpawnRecord, stream: 'stdout' | 'stderr', raw: string): void {
    const line = this.redactor.redact(raw);
    record.logs.push({ at: this.clock.toDate(this.clock.now()).toISOString(), stream, line });
    this.logger.debug({ spawnId: record.id, stream, msg: `[${record.id}] ${stream}: ${line}` });
  }
}

/** What `launch` gives, as a promise: a synchronous throw becomes a rejection, handled by the `await`. */
function settled<T>(launch: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(launch());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
