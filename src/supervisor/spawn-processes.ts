import { Injectable, Logger } from '@nestjs/common';
import { describeExit, exitCodeMeaning } from '@app/sc-protocol';
import { Clock } from '../adapters/clock.adapter';
import { LivelinessEndpoint } from '../adapters/liveliness-endpoint.adapter';
import { LaunchCommand, ProcessEnd, ProcessLauncher } from '../adapters/process-launcher.adapter';
import { SpawnJournal } from '../adapters/spawn-journal.adapter';
import { AppConfig } from '../config/app-config';
import { CpuPriority } from '../cpu-priority/cpu-priority.service';
import { PortAllocator } from '../ports/port-allocator.service';
import { buildScCommand, redactArgs } from './sc-command';
import { SecretRedactor } from './secret-redactor';
import { SpawnLifecycle } from './spawn-lifecycle';
import { SpawnRecord, SpawnSpec } from './spawn-record';
import { SpawnRegistry } from './spawn-registry';
import { TimeoutAction } from './timeout-policy';

/** Why a spawn that reported disconnect ended, saying only what was observed (the proxy may not have seen a viewer). */
export function disconnectEndReason(record: SpawnRecord, end: ProcessEnd): string {
  const exit = end.code !== null ? `code ${end.code}` : `signal ${end.signal}`;
  return record.connectedAt !== undefined || record.viewerLeftAt !== undefined
    ? `the server reported disconnect after its viewer left, and exited (${exit})`
    : `the server reported disconnect and exited (${exit}); no viewer attached through the proxy`;
}

/** After SIGKILL at shutdown, how long to wait for the kernel to report the exits. */
const SHUTDOWN_KILL_WAIT_MS = 2000;

/** The processes behind the spawns: starts them, signals their groups, follows their output and exits, keeps the journal. */
@Injectable()
export class SpawnProcesses {
  private readonly logger = new Logger('Supervisor');
  private readonly exitListeners = new Set<() => void>();

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SpawnRegistry,
    private readonly lifecycle: SpawnLifecycle,
    private readonly ports: PortAllocator,
    private readonly launcher: ProcessLauncher,
    private readonly clock: Clock,
    private readonly livelinessEndpoint: LivelinessEndpoint,
    private readonly redactor: SecretRedactor,
    private readonly journal: SpawnJournal,
    private readonly priority: CpuPriority,
  ) {}

  /** Starts the server for a spec whose port is leased; the spawn is registered whatever happens. */
  start(spec: SpawnSpec): SpawnRecord {
    let command: LaunchCommand;
    try {
      command = buildScCommand(this.config, spec, this.livelinessEndpoint.baseUrl());
      command.placement = this.priority.placementFor(spec.id);
    } catch (error) {
      // Nothing was registered yet: give the port back, or it would stay leased for ever.
      this.ports.release(spec.wsPort);
      throw error;
    }
    const record = new SpawnRecord(spec, this.clock.now());
    const entry = this.registry.addLive(record);
    this.logger.log({
      spawnId: spec.id,
      port: spec.wsPort,
      renderer: spec.rendererType,
      msg: `spawn ${spec.id} starting on port ${spec.wsPort}: ${command.executable} ${redactArgs(command.args).join(' ')}`,
    });
    this.lifecycle.announce(record);
    try {
      entry.process = this.launcher.launch(command, {
        onLine: (stream, line) => this.captureLine(record, stream, line),
        onProcessGone: () => (record.processGoneAt = this.clock.now()),
        onExit: (end) => this.handleExit(spec.id, end),
      });
    } catch (error) {
      // spawn() can throw synchronously (E2BIG, EPERM...): end the spawn as if it had failed to start, freeing its slot and port.
      this.handleExit(spec.id, {
        code: null,
        signal: null,
        error: error instanceof Error ? error : new Error(String(error)),
      });
      return record;
    }
    record.pid = entry.process.pid;
    this.saveJournal();
    return record;
  }

  /** SIGTERM to the spawn's process group now; SIGKILL follows from the sweep after KILL_GRACE_S. Idempotent. */
  stop(id: string, reason: string): void {
    const entry = this.registry.liveEntry(id);
    if (!entry || entry.record.state === 'terminating') return;
    entry.record.endReason ??= reason;
    entry.record.stopRequestedAt = this.clock.now();
    this.lifecycle.transition(entry, 'terminating', reason);
    entry.process?.signalGroup('SIGTERM');
  }

  /** Applies one decision of the timeout policy. */
  enforce(action: TimeoutAction, now: number): void {
    const entry = this.registry.liveEntry(action.id);
    if (!entry) return;
    const record = entry.record;
    switch (action.kind) {
      case 'time_out':
      case 'mark_unresponsive':
        record.endReason = action.reason;
        this.lifecycle.transition(entry, action.kind === 'time_out' ? 'timed_out' : 'unresponsive', action.reason);
        return this.stop(action.id, action.reason);
      case 'stop':
        return this.stop(action.id, action.reason);
      case 'kill':
        if (action.again) {
          this.logger.error({
            spawnId: record.id,
            msg: `spawn ${record.id} (pid ${record.pid}) survived SIGKILL for ${this.config.killGraceS} s; its port ${record.spec.wsPort} stays reserved until it exits`,
          });
        } else {
          this.logger.warn({
            spawnId: record.id,
            msg: `spawn ${record.id} ignored SIGTERM for ${this.config.killGraceS} s; sending SIGKILL to its process group`,
          });
        }
        record.sigkillSentAt = now;
        entry.process?.signalGroup('SIGKILL');
    }
  }

  /** Stops every child group (or those `which` selects), SIGKILLs what is left after the grace, and waits for the exits. */
  async stopAll(reason: string, which: (record: SpawnRecord) => boolean = () => true): Promise<void> {
    const selected = () => this.registry.liveEntries().filter((entry) => which(entry.record));
    if (selected().length === 0) return;
    this.logger.log(`shutting down: stopping ${selected().length} spawn(s)`);
    for (const { record } of selected()) this.stop(record.id, reason);
    const none = () => selected().length === 0;
    if (await this.waitUntil(none, this.config.killGraceS * 1000)) return;
    for (const entry of selected()) {
      this.logger.warn({
        spawnId: entry.record.id,
        msg: `spawn ${entry.record.id} still running after ${this.config.killGraceS} s; sending SIGKILL`,
      });
      entry.record.sigkillSentAt = this.clock.now();
      entry.process?.signalGroup('SIGKILL');
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
      const stderr = record.logs.last(5, 'stderr').map((l) => l.line);
      record.endReason = `the server exited before it was ready: ${how}${stderr.length ? `; last stderr: ${stderr.join(' | ')}` : ''}`;
      this.lifecycle.transition(entry, 'failed', record.endReason);
    } else {
      record.endReason ??=
        record.state === 'disconnected' ? disconnectEndReason(record, end) : `the server exited unexpectedly: ${how}`;
      this.lifecycle.transition(entry, 'exited', how);
    }
    this.registry.moveToEnded(id);
    this.priority.released(id);
    this.saveJournal();
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
    const expected = record.stopRequestedAt !== undefined || end.code === 0;
    const msg =
      end.code !== null
        ? `spawn ${record.id} exited with code: ${end.code} (${exitCodeMeaning(end.code)})`
        : `spawn ${record.id} exited with signal: ${end.signal}`;
    const meaning = end.code !== null ? exitCodeMeaning(end.code) : end.signal;
    if (expected) this.logger.log({ ...fields, exitMeaning: meaning, msg });
    else this.logger.warn({ ...fields, exitMeaning: meaning, msg });
  }

  private saveJournal(): void {
    const entries = this.registry
      .liveEntries()
      .filter(({ record }) => record.pid !== undefined)
      .map(({ record }) => ({ id: record.id, pid: record.pid!, wsPort: record.spec.wsPort }));
    this.journal.save(entries);
  }

  private captureLine(record: SpawnRecord, stream: 'stdout' | 'stderr', raw: string): void {
    const line = this.redactor.redact(raw);
    record.logs.push({ at: new Date(this.clock.now()).toISOString(), stream, line });
    this.logger.debug({ spawnId: record.id, stream, msg: `[${record.id}] ${stream}: ${line}` });
  }
}
